import sys

from .. import InterruptExits

with InterruptExits():  # Ctrl-C while the command's modules (torch, RDKit) import: one line, exit 130
    from . import main

sys.exit(main())
