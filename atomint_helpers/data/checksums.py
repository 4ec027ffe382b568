"""sha256 of data files, with recorded checksums beside them (``<file>.sha256``)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def checksum_path(path: str | os.PathLike) -> Path:
    return Path(str(path) + ".sha256")


def write_checksum(path: str | os.PathLike, digest: str) -> None:
    """Record ``digest`` in ``<path>.sha256`` (atomic write)."""
    p = checksum_path(path)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}")
    tmp.write_text(f"{digest}  {Path(path).name}\n")
    os.replace(tmp, p)


def recorded_checksum(path: str | os.PathLike) -> str | None:
    p = checksum_path(path)
    if not p.is_file():
        return None
    text = p.read_text().split()
    return text[0] if text else None
