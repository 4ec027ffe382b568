"""``python -m atomint_helpers.book build|freeze``."""
import sys

from .. import InterruptExits

with InterruptExits("atomint book: interrupted; the last good book and results are kept"):
    from . import main  # Ctrl-C while the book's modules import: one line, exit 130

sys.exit(main())
