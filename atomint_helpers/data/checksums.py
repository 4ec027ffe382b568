"""sha256 of data files, with recorded checksums beside them (``<file>.sha256``)."""
from __future__ import annotations

import os
from pathlib import Path

from ..io import atomic_write_text


def checksum_path(path: str | os.PathLike) -> Path:
    return Path(str(path) + ".sha256")


def write_checksum(path: str | os.PathLike, digest: str) -> None:
    """Record ``digest`` in ``<path>.sha256`` (atomic write)."""
    atomic_write_text(checksum_path(path), f"{digest}  {Path(path).name}\n")


def recorded_checksum(path: str | os.PathLike) -> str | None:
    p = checksum_path(path)
    if not p.is_file():
        return None
    text = p.read_text().split()
    return text[0] if text else None
