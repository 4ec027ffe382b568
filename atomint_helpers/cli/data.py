"""``atomint data info|fetch|convert``: which data atomint finds, downloading and converting QM9 and crystals."""
from __future__ import annotations

from .. import MissingError
from ..data import fetch
from ..data.crystals import load_crystals
from ..data.qm9 import load_qm9, qm9pack_cache


def _data_info(args) -> int:
    ds = load_qm9(args.dir, quiet=True)
    print(ds.describe(with_path=True))
    print(f"  sha256 {ds.sha256}")
    cr = load_crystals(args.dir, quiet=True)
    print(cr.describe(with_path=True))
    return 0


def _data_fetch(args) -> int:
    progress = False if args.quiet else None  # a bar on stderr when it is a terminal
    if args.crystals:
        path = fetch.fetch_crystals(args.url or fetch.MP_URL, args.dir, args.sha256, progress=progress)
    else:
        path = fetch.fetch_qm9(args.url or fetch.QM9_URL, args.dir, args.sha256, progress=progress)
    print(path)
    return 0


def _data_convert(args) -> int:
    path = qm9pack_cache(convert_if_missing=True, out_dir=args.dir)
    if path is None:
        raise MissingError("qm9pack==1.0.3 is not installed; `pip install qm9pack==1.0.3` first")
    print(path)
    return 0


def add_cli(sub) -> None:
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
    f.add_argument("--quiet", action="store_true",
                   help="no download progress bar (it is shown on stderr only when that is a terminal)")
    f.set_defaults(func=_data_fetch)
    c = s.add_parser("convert", help="convert the installed qm9pack package into the cache (done automatically)")
    c.add_argument("--dir", help="output folder (default: the cache)")
    c.set_defaults(func=_data_convert)
