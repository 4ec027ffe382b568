"""A checkpoint save as one unit: a kill at any instant leaves the previous complete checkpoint or the new one.

A save writes every new file (``weights.pt``, ``provenance.json``, ``state.pt``, ``log.csv``, …) into the run's
``.staging/`` folder first, where no reader looks. It then commits in three steps, holding an exclusive
``flock`` on the run folder:

1. the **journal** ``.commit.json`` (the staged names and their sha256) is written atomically — the commit
   point: before it exists the save has not happened, after it the save has;
2. each staged file is renamed over its target (``os.replace``, atomic per file);
3. the journal is removed.

A save killed before step 1 leaves staged files only: :func:`recover` (run by the next writer, under the
run's folder lock) discards them, and readers never see them. A save killed during step 2 leaves the
journal: :func:`recover` rolls it forward (renames what is still staged, checks what was already renamed
against the journal's sha256), and until then :func:`reading` shows readers the new files (staged ones
where the journal names them), so every reader sees the new checkpoint whole. Readers hold a shared
``flock`` on the folder while they read, so a live writer never commits under them. The folder layout of
the committed checkpoints (ARCHITECTURE.md) does not change; only the two hidden names are added.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from .. import AtomintError
from ..io import atomic_write_json, sha256_file, writing

STAGING = ".staging"
JOURNAL = ".commit.json"


@contextlib.contextmanager
def _folder_flock(folder: Path, exclusive: bool):
    """``flock`` on the folder itself (no lock file; works in read-only folders too). Without a folder
    (or one that cannot be opened) there is nothing to lock."""
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except OSError:  # a file system without flock on folders: the journal alone still orders the save
            pass
        yield
    finally:
        os.close(fd)  # releases the lock


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_journal(folder: Path) -> dict[str, str]:
    path = folder / JOURNAL
    try:
        files = json.loads(path.read_text())["files"]
        if not isinstance(files, dict):
            raise TypeError
        return files
    except (OSError, ValueError, KeyError, TypeError):
        raise AtomintError(f"{path} (the record of an interrupted checkpoint save) is unreadable: restore the "
                           f"folder from git or delete it and train again") from None


def _apply(folder: Path, files: dict[str, str]) -> None:
    """Steps 2 and 3 of a commit (also the roll-forward of an interrupted one)."""
    staging = folder / STAGING
    for name, sha in files.items():
        src = staging / name
        if src.is_file():
            os.replace(src, folder / name)
        elif not (folder / name).is_file() or sha256_file(folder / name) != sha:
            raise AtomintError(f"{folder}: the interrupted checkpoint save recorded in {JOURNAL} cannot be "
                               f"completed ({name} is neither staged nor the recorded file); restore the folder "
                               f"from git or delete it and train again")
    _fsync(folder)
    (folder / JOURNAL).unlink()
    shutil.rmtree(staging, ignore_errors=True)
    _fsync(folder)


def recover(folder: str | os.PathLike) -> str | None:
    """Finish or discard what a killed save left in ``folder``: ``"completed"`` (journal rolled forward),
    ``"discarded"`` (uncommitted staged files removed) or None (nothing to do). For writers only (a run
    holding its folder lock, the migration)."""
    folder = Path(folder)
    if not (folder / JOURNAL).exists() and not (folder / STAGING).exists():
        return None
    with writing(folder), _folder_flock(folder, exclusive=True):
        if (folder / JOURNAL).exists():
            _apply(folder, _read_journal(folder))
            return "completed"
        if (folder / STAGING).exists():
            shutil.rmtree(folder / STAGING)
            return "discarded"
    return None


class Save:
    """The files of one checkpoint save, staged in ``<folder>/.staging/`` until :meth:`commit`.

    Write each new file into :attr:`dir` under its final name (any atomic writer of this package does);
    :meth:`path` gives the file the commit will hold (the staged one, else the current one), e.g. the
    weights whose sha256 goes into the provenance."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        recover(self.folder)  # a save starts from a complete checkpoint
        self.dir = self.folder / STAGING
        with writing(self.dir, "create the folder"):
            self.dir.mkdir(parents=True, exist_ok=True)

    def staged(self) -> list[str]:
        return sorted(p.name for p in self.dir.iterdir() if p.is_file() and not p.name.startswith("."))

    def path(self, name: str) -> Path:
        s = self.dir / name
        return s if s.is_file() else self.folder / name

    def commit(self) -> list[str]:
        """Make the staged files the checkpoint's, all at once (see the module docstring)."""
        names = self.staged()
        with writing(self.folder):
            files = {}
            for n in names:
                _fsync(self.dir / n)
                files[n] = sha256_file(self.dir / n)
            if not files:
                shutil.rmtree(self.dir, ignore_errors=True)
                return []
            with _folder_flock(self.folder, exclusive=True):
                atomic_write_json(self.folder / JOURNAL, {"files": files})  # the commit point
                _apply(self.folder, files)
        return names

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def saving(folder: str | os.PathLike):
    """``with saving(folder) as save:`` write into ``save.dir``; committed as one unit when the block ends,
    discarded if it raises."""
    save = Save(folder)
    try:
        yield save
    except BaseException:
        save.discard()
        raise
    save.commit()


@contextlib.contextmanager
def reading(folder: str | os.PathLike):
    """``with reading(folder) as path:`` ``path(name)`` is the file to read for ``name``, all of one complete
    checkpoint: no live writer commits while the block runs, and the files of a save killed after its commit
    point are read from where they are staged (see the module docstring)."""
    folder = Path(folder)
    with _folder_flock(folder, exclusive=False):
        files = _read_journal(folder) if (folder / JOURNAL).exists() else {}

        def path(name: str) -> Path:
            s = folder / STAGING / name
            return s if name in files and s.is_file() else folder / name

        yield path
