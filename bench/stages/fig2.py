"""The Fig. 2 claims on earlier training stages of the committed energy runs -> bench/stages/fig2.json.

    ATOMINT_DATA=... python bench/stages/fig2.py [--only STAGE ...] [--check]

The same as ``bench/stages/run.py --chapter fig2`` (see there).
"""
from __future__ import annotations

import sys

from run import main

if __name__ == "__main__":
    from atomint_helpers import AtomintError

    try:
        sys.exit(main(["--chapter", "fig2", *sys.argv[1:]]))
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        sys.exit(2)
