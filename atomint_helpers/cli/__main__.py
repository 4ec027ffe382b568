import sys

try:  # Ctrl-C while the command's modules (torch, RDKit) are still importing: one line, like everywhere else
    from . import main
except KeyboardInterrupt:
    print("atomint: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
