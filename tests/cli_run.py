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


def one_line_error(p, *words, code: int):
    """The run ended as an error of the kind ``code`` says (2 usage, 3 bad input, 4 missing data or model):
    that exit status, one stderr line starting ``atomint: error:``, no traceback, every one of ``words`` in it."""
    err = p.stderr.strip()
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "\n" not in err and err.startswith("atomint: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
