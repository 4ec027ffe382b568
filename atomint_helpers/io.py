"""Safe files: atomic writes, sha256, and the clean-up of temporaries left by killed writers.

Every file atomint writes goes through :func:`atomic_path`: the content is written to a temporary
``.<name>.tmp<pid><suffix>`` in the target folder and renamed over the target only when complete, so a
reader sees the old file or the new one, never half of one. A failed write removes its temporary; one
left by a killed process is removed by :func:`remove_stale_temporaries` on the next run. Writers of other
temporaries (partial downloads, fetch work folders) name them after their process id and machine too, so
that a later run removes what a killed run left without touching those of a writer still running. File-system
errors (read-only folder, a file where a folder is expected, …) become one-line
:class:`~atomint_helpers.AtomintError` messages naming the path.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from . import AtomintError


#: folders this process may not write into, with who it is (``read_only``)
_READ_ONLY: list[tuple[Path, str]] = []


def read_only(folder: str | os.PathLike, who: str) -> None:
    """From now on, a write of this process inside ``folder`` (through :func:`atomic_path` or
    :func:`writing`) is an error naming ``who``: the helper processes of a data-parallel run read the run
    folder, and only rank 0 writes it."""
    _READ_ONLY.append((Path(folder).absolute(), who))


def _check_writable(path: Path) -> None:
    p = Path(path).absolute()
    for folder, who in _READ_ONLY:
        if p == folder or folder in p.parents:
            raise AtomintError(f"{who} may not write {p}: only the process that holds the run folder's lock "
                               f"(rank 0) writes there")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success rename it to ``path``, on failure delete it.
    ``suffix`` keeps an extension some writers insist on (``np.savez`` appends ``.npz`` otherwise)."""
    path = Path(path)
    _check_writable(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{suffix}")
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except AtomintError:
        raise
    except OSError as e:
        raise fs_error(e, path) from None
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
    """``torch.save`` atomically. torch's zip writer reports a failed write (full disk, file-size limit) as
    a ``RuntimeError`` without an errno; the same bytes are then written from Python, which raises the
    ``OSError`` that says which (one line from :func:`fs_error`), or succeeds if the cause has passed."""
    import io as _io

    import torch

    with atomic_path(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError:
            buf = _io.BytesIO()
            torch.save(obj, buf)
            with open(tmp, "wb") as f:
                f.write(buf.getbuffer())
                f.flush()
                os.fsync(f.fileno())


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------------------------ file-system errors
def _file_in_the_way(path: Path) -> Path | None:
    """The first of ``path`` and its parents that exists but is not a folder."""
    for p in (path, *path.parents):
        if os.path.lexists(p):
            return None if p.is_dir() else p
    return None


def fs_error(e: OSError, path: str | os.PathLike, action: str = "write") -> AtomintError:
    """A one-line error for an ``OSError`` met while trying to ``action`` ``path`` (e.g. ``write``,
    ``create the folder``): what is wrong there and what to do."""
    path = Path(path)
    head = f"cannot {action} {path}"
    if isinstance(e, IsADirectoryError) and path.is_dir():
        return AtomintError(f"{head}: it is a folder, but a file is expected there; move the folder away "
                            f"or choose another place")
    if isinstance(e, (NotADirectoryError, FileExistsError)):
        blocker = _file_in_the_way(path)
        if blocker is not None:
            return AtomintError(f"{head}: {blocker} is a file, but a folder is expected there; choose a folder "
                                f"(or move the file away)")
    if isinstance(e, PermissionError):
        return AtomintError(f"{head}: permission denied (a read-only folder?); choose a folder you can write to")
    if e.errno == errno.ENOSPC:
        return AtomintError(f"{head}: no space left on the device; free some space or choose another folder")
    if e.errno == errno.EFBIG:
        return AtomintError(f"{head}: the file is larger than a file-size limit allows (ulimit -f, or the file "
                            f"system's limit); raise the limit or choose another folder")
    if e.errno == errno.EDQUOT:
        return AtomintError(f"{head}: the disk quota is exceeded; free some space or choose another folder")
    if e.errno == errno.EROFS:
        return AtomintError(f"{head}: the file system is read-only; choose a folder you can write to")
    return AtomintError(f"{head}: {e.strerror or e}")


@contextlib.contextmanager
def writing(path: str | os.PathLike, action: str = "write"):
    """Turn an ``OSError`` raised inside the block into :func:`fs_error` (``AtomintError`` passes through)."""
    _check_writable(Path(path))
    try:
        yield
    except AtomintError:
        raise
    except OSError as e:
        raise fs_error(e, path, action) from None


# ------------------------------------------------------------------------------------ stale temporaries
#: A temporary named by another machine (a cache on a shared file system) is removed only when it has not
#: changed for this long: whether its process still runs cannot be known from here.
FOREIGN_STALE_AFTER_S = 24 * 3600


def host_tag() -> str:
    """This machine's name as it appears in temporaries' names (letters, digits, ``.`` and ``_`` only)."""
    import socket

    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname() or "host")[:64] or "host"


def work_dir_prefix() -> str:
    """Prefix of a work folder made with ``tempfile.mkdtemp``: ``.fetch-<pid>@<host>-``."""
    return f".fetch-{os.getpid()}@{host_tag()}-"


def part_prefix(name: str) -> str:
    """Prefix of a partial download of ``name`` made with ``tempfile.mkstemp(suffix=".part")``."""
    return f"{name}.pid{os.getpid()}@{host_tag()}."


_WORK_RE = re.compile(r"\.fetch-(\d+)(?:@([A-Za-z0-9._]+))?-[A-Za-z0-9_]+")
_TMP_RE = re.compile(r"(.+?)\.tmp(\d+)(?:\.[A-Za-z0-9]+)*")
_PART_RE = re.compile(r"(.+)\.pid(\d+)(?:@([A-Za-z0-9._]+))?\.[A-Za-z0-9_]+\.part")


def temporary_owner(entry_name: str, names=None) -> tuple[int, str | None] | None:
    """``(pid, host)`` from the name of a temporary atomint writes — ``<name>.tmp<pid>``,
    ``<name>.pid<pid>@<host>.<random>.part``, ``.fetch-<pid>@<host>-<random>`` (host None when the name
    has none) — or None for any other name. With ``names``, only temporaries of those final names (and fetch
    work folders) count, so that a user's own files are never taken for temporaries."""
    m = _WORK_RE.fullmatch(entry_name)
    if m:
        return int(m.group(1)), m.group(2)
    m = _TMP_RE.fullmatch(entry_name)
    host = None
    if not m:
        m = _PART_RE.fullmatch(entry_name)
        if not m:
            return None
        host = m.group(3)
    base = m.group(1)
    if names is not None and base not in names and base.lstrip(".") not in names:
        return None
    return int(m.group(2)), host


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine); this process counts as running."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True


def _last_change(p: Path) -> float:
    t = p.lstat().st_mtime
    if p.is_dir() and not p.is_symlink():
        for sub in p.rglob("*"):
            try:
                t = max(t, sub.lstat().st_mtime)
            except OSError:
                pass
    return t


def is_stale(p: Path, names=None) -> bool:
    """Whether ``p`` is a temporary (see :func:`temporary_owner`) whose writer has gone: a process of this
    machine that no longer runs, or, for another machine's, untouched for :data:`FOREIGN_STALE_AFTER_S`."""
    import time

    owner = temporary_owner(p.name, names)
    if owner is None:
        return False
    pid, host = owner
    if host is None or host == host_tag():
        return not process_alive(pid)
    try:
        return time.time() - _last_change(p) > FOREIGN_STALE_AFTER_S
    except OSError:
        return False


def remove_stale_temporaries(folder: str | os.PathLike, names=None) -> list[Path]:
    """Delete the temporaries that killed writers left in ``folder`` (see :func:`is_stale`); the
    temporaries of running writers and every other file stay. Best effort: what cannot be removed stays.
    Returns what was removed."""
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:  # no folder (yet), or not readable: nothing to clean
        return removed
    for p in entries:
        if not is_stale(p, names):
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
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
        raise fs_error(e, path) from None
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
