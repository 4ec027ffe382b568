"""Machine-readable output of the commands: ``--json FILE`` (``-``: standard output)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from .. import AtomintError

#: the value of ``--json`` that means standard output
STDOUT = "-"


def _plain(x):
    """``x`` with numpy scalars and arrays as Python numbers and lists, non-finite floats as ``None`` (JSON
    has no NaN)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "tolist"):  # numpy arrays and scalars
        return _plain(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def add_json_option(p, what: str) -> None:
    p.add_argument("--json", metavar="FILE", default=None,
                   help=f"also write {what} as JSON to FILE; '-' writes only the JSON to standard output "
                        f"(the text report is then left out)")


def report_stream(args):
    """Where the human-readable report goes: standard output, or nowhere when the JSON goes there."""
    return None if getattr(args, "json", None) == STDOUT else sys.stdout


def say(args, *lines: str) -> None:
    """Print report lines unless the JSON goes to standard output."""
    stream = report_stream(args)
    if stream is not None:
        for line in lines:
            print(line, file=stream)


def write_json(obj, dest: str) -> Path | None:
    """Write ``obj`` as JSON (2-space indent, keys in order) to ``dest``, atomically; to standard output
    for ``-``. Returns the file written, or None for standard output."""
    from ..io import atomic_write_text, writing

    text = json.dumps(_plain(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if dest == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    path = Path(dest)
    if path.is_dir():
        raise AtomintError(f"--json {path}: it is a folder; give a file name (or '-' for standard output)")
    if not path.parent.is_dir():
        raise AtomintError(f"--json {path}: folder {path.parent} does not exist; create it or choose another place")
    with writing(path):
        atomic_write_text(path, text)
    return path


def emit_json(args, obj) -> None:
    """``--json``: write ``obj`` where ``args.json`` says (nothing without it) and report the file written."""
    if args.json:
        path = write_json(obj, args.json)
        if path is not None:
            say(args, f"wrote {path}")
