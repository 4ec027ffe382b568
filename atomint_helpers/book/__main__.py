"""``python -m atomint_helpers.book build|freeze``."""
import sys

try:  # Ctrl-C while the book's modules are still importing: one line, like everywhere else
    from . import main
except KeyboardInterrupt:
    print("atomint book: interrupted; the last good book and results are kept", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
