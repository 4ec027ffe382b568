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

import errno
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

from .. import AtomintError

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
    if e.errno == errno.EROFS:
        return AtomintError(f"{head}: the file system is read-only; choose a folder you can write to")
    return AtomintError(f"{head}: {e.strerror or e}")


@contextmanager
def writing(path: str | os.PathLike, action: str = "write"):
    """Turn an ``OSError`` raised inside the block into :func:`fs_error` (``AtomintError`` passes through)."""
    try:
        yield
    except AtomintError:
        raise
    except OSError as e:
        raise fs_error(e, path, action) from None


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
_TMP_RE = re.compile(r"(.+)\.tmp(\d+)")
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
