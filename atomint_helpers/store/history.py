"""Committed runs as they were at earlier commits: the stages of a run's training that git holds, and a
folder of one stage extracted into the cache, verified as today's loader verifies a checkpoint.

A run's folder ``models/<run>/`` was committed at many points of its training. :func:`stages` lists them
from ``git log -- models/<run>/provenance.json``, one :class:`Stage` per distinct epoch count (the newest
commit of that count, whose provenance is the most complete), ordered by epochs. :func:`extract` writes
one stage's files (``git show <commit>:models/<run>/<file>``, bytes) into
``<cache>/history/<commit12>/<run>/`` once: into a temporary folder first, where an older save passes
through the one migration step of :mod:`.migrate` (its weights verified against their recorded sha256, then
brought to the current format: config defaults written down, missing parameters added, hashes recomputed), then :func:`~atomint_helpers.store.load_model` verifies weights and
config against the provenance, and only then is the folder renamed into place (a folder already in the cache
passes through the same step, which leaves a current one untouched). A tampered blob never
reaches the cache. :func:`nearest` picks the stage nearest to an epoch count (ties: the earlier stage).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .. import AtomintError
from .files import PROVENANCE
from .loading import load_model

HISTORY = "history"
#: hidden names a checkpoint folder may hold (save journal, staging, lock): never extracted
_HIDDEN = (".",)


@dataclass(frozen=True)
class Stage:
    """One committed state of a run: ``epochs`` trained, best validation MAE (the run's unit, kcal/mol for
    energies), status and the weights' sha256 as its provenance at ``commit`` records them. The weights
    identify the stage: a later commit that only rewrote the folder's records (a migration) is the same
    stage under another commit."""

    run: str
    commit: str
    epochs: int
    val_mae: float | None
    status: str
    weights_sha256: str | None = None

    @property
    def label(self) -> str:
        return f"{self.run}@{self.commit[:12]} (epoch {self.epochs})"


def _git(repo_root, *args: str, binary: bool = False):
    try:
        r = subprocess.run(["git", "-C", str(repo_root), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise AtomintError("git is not installed: the history of committed runs needs it") from None
    if r.returncode != 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        raise AtomintError(f"git {' '.join(args[:2])} failed in {repo_root}: {msg[0] if msg else 'no message'}")
    return r.stdout if binary else r.stdout.decode()


def _provenance_at(repo_root, commit: str, run: str) -> dict | None:
    try:
        return json.loads(_git(repo_root, "show", f"{commit}:models/{run}/{PROVENANCE}"))
    except (AtomintError, ValueError):
        return None


def stages(run: str, repo_root) -> list[Stage]:
    """Every committed stage of ``models/<run>``: one per distinct epoch count (the newest commit of it),
    ordered by epochs. A one-line AtomintError when git has no history of that run."""
    if not (Path(repo_root) / ".git").exists():
        raise AtomintError(f"{repo_root} is not a git repository: the stages of committed runs come from its history")
    commits = _git(repo_root, "log", "--format=%H", "--", f"models/{run}/{PROVENANCE}").split()
    found: dict[int, Stage] = {}
    for commit in commits:  # newest first: the first commit seen of an epoch count is kept
        prov = _provenance_at(repo_root, commit, run)
        if not prov or not isinstance(prov.get("epochs"), int):
            continue
        val = prov.get("metrics", {}).get("val", {}).get("mae")
        found.setdefault(prov["epochs"], Stage(run, commit, prov["epochs"], None if val is None else float(val),
                                               str(prov.get("status", "?")), prov.get("weights_sha256")))
    if not found:
        raise AtomintError(f"no committed history of models/{run} in {repo_root} (see models/INDEX.md for the runs)")
    return [found[e] for e in sorted(found)]


def nearest(all_stages: list[Stage], epochs: int) -> Stage:
    """The stage whose epoch count is nearest to ``epochs`` (a tie goes to the earlier stage)."""
    if not all_stages:
        raise AtomintError("no stages to choose from")
    return min(all_stages, key=lambda s: (abs(s.epochs - epochs), s.epochs))


def history_cache(cache_root=None) -> Path:
    """``<cache>/history``: ``cache_root`` or atomint's cache folder (``ATOMINT_CACHE``)."""
    if cache_root is None:
        from ..data.paths import cache_dir

        cache_root = cache_dir()
    return Path(cache_root) / HISTORY


def extract(stage: Stage, repo_root, cache_root=None) -> Path:
    """The folder of ``stage`` in ``<cache>/history/<commit12>/<run>/``, written once (see the module
    docstring) and verified by :func:`~atomint_helpers.store.load_model` before it is put in place."""
    from .migrate import migrate_folder

    target = history_cache(cache_root) / stage.commit[:12] / stage.run
    if target.is_dir():  # verified when it was written; a folder cached by earlier code gets the current format
        migrate_folder(target)
        return target
    prefix = f"models/{stage.run}/"
    names = [n for n in _git(repo_root, "ls-tree", "-r", "--name-only", stage.commit, "--", prefix).splitlines()
             if n.startswith(prefix) and "/" not in n[len(prefix):] and not n[len(prefix):].startswith(_HIDDEN)]
    if not names:
        raise AtomintError(f"commit {stage.commit[:12]} has no folder models/{stage.run}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{stage.run}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for n in names:
            (tmp / n[len(prefix):]).write_bytes(_git(repo_root, "show", f"{stage.commit}:{n}", binary=True))
        try:
            migrate_folder(tmp)
        except AtomintError as e:
            raise AtomintError(f"{stage.label} cannot be verified: {str(e).replace(str(tmp), prefix.rstrip('/'))}") \
                from None
        (tmp / ".lock").unlink(missing_ok=True)
        try:
            load_model(tmp, orient=False)
        except AtomintError as e:
            raise AtomintError(f"{stage.label} refused: {str(e).replace(str(tmp), prefix.rstrip('/'))}") from None
        try:
            os.replace(tmp, target)
        except OSError:  # another process put the same stage in place first: its copy is as good
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
