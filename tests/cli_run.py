"""Running ``atomint`` as a user does, for the tests of its errors: a subprocess and the one-line rule."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT):
    """``python -m atomint_helpers.cli *args`` in ``cwd``, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "atomint_helpers.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def one_line_error(p, *words):
    """The run ended as a usage or input error: exit 2, one stderr line starting ``atomint: error:``, no
    traceback, every one of ``words`` in it."""
    err = p.stderr.strip()
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "\n" not in err and err.startswith("atomint: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
