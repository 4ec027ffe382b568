"""Where atomint looks for data and keeps its caches.

* ``ATOMINT_DATA``: a folder holding ``qm9/qm9.npz`` and ``mp/mp.npz`` (or the files directly).
* ``ATOMINT_CACHE``: where converted data and precomputed neighbour pairs go
  (default ``$XDG_CACHE_HOME/atomint`` or ``~/.cache/atomint``).
"""
from __future__ import annotations

import os
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def data_root() -> Path | None:
    env = os.environ.get("ATOMINT_DATA", "").strip()
    return Path(env).expanduser() if env else None


def cache_dir() -> Path:
    env = os.environ.get("ATOMINT_CACHE", "").strip()
    if env:
        root = Path(env).expanduser()
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "atomint"
    root.mkdir(parents=True, exist_ok=True)
    return root


def find_file(root: Path, name: str, sub: str) -> Path | None:
    """``root/sub/name`` or ``root/name`` (or ``root`` itself if it is that file)."""
    root = Path(root)
    if root.is_file():
        return root
    for p in (root / sub / name, root / name):
        if p.is_file():
            return p
    return None
