"""Where atomint looks for data and keeps its caches, and the file-system chores of writing there.

* ``ATOMINT_DATA``: a folder holding ``qm9/qm9.npz`` and ``mp/mp.npz`` (or the files directly).
* ``ATOMINT_CACHE``: where converted data and precomputed neighbour pairs go
  (default ``$XDG_CACHE_HOME/atomint`` or ``~/.cache/atomint``).

Writers name their temporary files after the final name and their process id (``qm9.npz.tmp<pid>``,
``<archive>.pid<pid>@<host>.<random>.part``, work folders ``.fetch-<pid>@<host>-<random>``), so that a
later run can remove what a killed run left behind (:func:`remove_stale_temporaries`) without touching
the temporaries of a writer that is still running. File-system failures while writing become a one-line
:class:`~atomint_helpers.AtomintError` naming the path and the problem (:func:`fs_error`).
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import AtomintError
from ..io import writing

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def data_root() -> Path | None:
    env = os.environ.get("ATOMINT_DATA", "").strip()
    return Path(env).expanduser() if env else None


def cache_dir(create: bool = True) -> Path:
    """atomint's cache folder (``$ATOMINT_CACHE``, else ``$XDG_CACHE_HOME/atomint`` or ``~/.cache/atomint``),
    created unless ``create`` is false."""
    env = os.environ.get("ATOMINT_CACHE", "").strip()
    if env:
        root = Path(env).expanduser()
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache") / "atomint"
    if create:
        what = "the cache folder" + (" (ATOMINT_CACHE)" if env else "")
        ensure_dir(root, f"create {what}")
    return root


def find_file(root: Path, name: str, sub: str) -> Path | None:
    """``root/sub/name`` or ``root/name`` (or ``root`` itself if it is that file, or another ``.npz``).

    A ``root`` that is some other file (an xyz file, say) is refused with a one-line error: a folder is
    expected there."""
    root = Path(root)
    if root.is_file():
        if root.name == name or root.suffix == ".npz":
            return root
        raise AtomintError(f"{root} is a file, but a folder is expected (one holding {sub}/{name} or {name})")
    for p in (root / sub / name, root / name):
        if p.is_file():
            return p
    return None


def ensure_dir(path: str | os.PathLike, action: str = "create the folder") -> Path:
    """``mkdir -p path`` with a one-line error for a file in the way, a read-only parent, ..."""
    path = Path(path)
    if path.is_dir():
        return path
    with writing(path, action):
        path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_targets(folder: str | os.PathLike, names) -> Path:
    """Create ``folder`` and refuse up front (before any slow work) when one of the files ``names`` that will
    be written into it is a folder."""
    folder = ensure_dir(folder)
    for name in names:
        p = folder / name
        if p.is_dir():
            raise AtomintError(f"cannot write {p}: it is a folder, but a file is expected there; move the folder "
                               f"away or choose another place")
    return folder
