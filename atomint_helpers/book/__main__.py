"""``python -m atomint_helpers.book build|freeze``."""
import sys

from . import main

sys.exit(main())
