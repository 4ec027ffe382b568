"""Safe files: atomic writes, sha256, and the clean-up of temporaries left by killed writers.

Every file atomint writes goes through :func:`atomic_path`: the content is written to a temporary
``.<name>.tmp<pid><suffix>`` in the target folder and renamed over the target only when complete, so a
reader sees the old file or the new one, never half of one. A failed write removes its temporary; one
left by a killed process is removed by :func:`remove_stale_temporaries` on the next run. File-system
errors (read-only folder, a file where a folder is expected, …) become one-line
:class:`~atomint_helpers.AtomintError` messages naming the path.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from . import AtomintError


def _fs_error(path: Path, e: OSError) -> AtomintError:
    what = {PermissionError: "permission denied (read-only?)", NotADirectoryError: "a file stands where a folder "
            "is expected", IsADirectoryError: "a folder stands where a file is expected",
            FileExistsError: "a file stands where a folder is expected"}.get(type(e), e.strerror or str(e))
    return AtomintError(f"cannot write {path}: {what}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on failure delete it.
    ``suffix`` keeps an extension some writers insist on (``np.savez`` appends ``.npz`` otherwise)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{suffix}")
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise _fs_error(path, e) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the ``.<name>.tmp<pid>…`` files a killed writer left in ``folder`` (those of processes that
    are no longer running); the real files are untouched, since writes only ever replace them whole."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp*"):
        pid = tmp.name.rsplit(".tmp", 1)[-1].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and process_alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


LOCK = ".lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "run"):
    """Hold an exclusive lock on ``folder`` (``fcntl.flock`` on ``<folder>/.lock``, which holds the pid) for
    the duration: a second process gets a one-line AtomintError naming the holder. The kernel releases the
    lock when its process ends, however it ends, so a killed run never leaves a stale lock behind."""
    import fcntl

    path = Path(folder) / LOCK
    try:
        f = open(path, "a+")
    except OSError as e:
        raise _fs_error(path, e) from None
    try:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise AtomintError(f"{folder} is in use by {holder} (a {what} writes there); wait for it to end or "
                               f"stop it, or choose another folder") from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()}")
        f.flush()
        yield
    finally:
        f.close()
