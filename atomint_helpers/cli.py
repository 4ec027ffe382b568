"""The ``atomint`` command: ``atomint data|train|evaluate|explain``.

Errors in the user's input (missing data, bad files, unknown elements) are printed as one line
``atomint: error: …`` with exit status 2, never as a traceback.
"""
from __future__ import annotations

import argparse
import sys

from . import AtomintError


# ----------------------------------------------------------------------------------------------- data
def _data_info(args) -> int:
    from .data.crystals import load_crystals
    from .data.qm9 import load_qm9

    ds = load_qm9(args.dir, quiet=True)
    print(ds.describe())
    print(f"  sha256 {ds.sha256}")
    cr = load_crystals(args.dir, quiet=True)
    print(cr.describe())
    return 0


def _data_fetch(args) -> int:
    from .data import fetch

    if args.crystals:
        path = fetch.fetch_crystals(args.url or fetch.MP_URL, args.dir, args.sha256)
    else:
        path = fetch.fetch_qm9(args.url or fetch.QM9_URL, args.dir, args.sha256)
    print(path)
    return 0


def _data_convert(args) -> int:
    from .data.qm9 import qm9pack_cache

    path = qm9pack_cache(convert_if_missing=True, out_dir=args.dir)
    if path is None:
        raise AtomintError("qm9pack==1.0.3 is not installed; `pip install qm9pack==1.0.3` first")
    print(path)
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="QM9 and crystal data: info, fetch, convert")
    s = p.add_subparsers(dest="action", required=True)
    info = s.add_parser("info", help="which data atomint finds, with counts and checksums")
    info.add_argument("--dir", help="a folder holding qm9/qm9.npz (default: ATOMINT_DATA, cache, sample)")
    info.set_defaults(func=_data_info)
    f = s.add_parser("fetch", help="download the original archive, verify its checksum, convert")
    f.add_argument("--dir", help="where to write (default: atomint's cache folder, which load_qm9 reads)")
    f.add_argument("--url", help="source URL (file:// works); default: the publisher's archive")
    f.add_argument("--sha256", help="expected sha256 of the downloaded archive")
    f.add_argument("--crystals", action="store_true", help="the Materials Project crystal set instead of QM9")
    f.set_defaults(func=_data_fetch)
    c = s.add_parser("convert", help="convert the installed qm9pack package into the cache (done automatically)")
    c.add_argument("--dir", help="output folder (default: the cache)")
    c.set_defaults(func=_data_convert)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="atomint", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    _add_data(sub)
    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return ap


#: Functions ``f(subparsers)`` that add further commands (train, evaluate, explain); filled by modules.
_EXTRA_COMMANDS: list = []


def _register_optional_commands() -> None:
    import importlib

    for mod in ("training", "evaluate", "interpret.explain"):
        try:
            m = importlib.import_module(f"{__package__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(__package__):
                continue
            raise
        if hasattr(m, "add_cli") and m.add_cli not in _EXTRA_COMMANDS:
            _EXTRA_COMMANDS.append(m.add_cli)


def main(argv: list[str] | None = None) -> int:
    _register_optional_commands()
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("atomint: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
