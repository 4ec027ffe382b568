"""Extensions: more training for a finished run, as one declared recipe applied the same way to every fold.

A finished ``cpu`` SchNet run ends its stage-2 cosine at ``min_lr``. An extension copies the run folder into
``<models>/next/`` (the committed checkpoint stays what the book reads until the extension is adopted) and
continues it there with a warm restart: a further cosine cycle from ``lr`` down to ``min_lr`` over
``epochs`` more epochs, the weight average carried on. The recipe is fixed here before any extended run
is seen and is the same for every fold; it is never chosen by test-set results.

:func:`adopt` moves the finished extended runs over their committed folders, all folds of an extension
together or none (the book compares folds, so a set is never half extended), whatever their test MAE.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import AtomintError, MissingError, store
from ..io import atomic_write_json, folder_lock

#: where extended runs train until they are adopted (moved over the committed folder)
NEXT = "next"


@dataclass(frozen=True)
class Extension:
    """A warm restart after a finished run: ``epochs`` more epochs, cosine from ``lr`` to the profile's
    ``min_lr``."""

    name: str
    model: str
    profile: str
    epochs: int
    lr: float
    why: str


#: ``cycle2``: for SchNet energy on the cpu profile, 100 more epochs (300 → 400) from a peak of 1e-4, half
#: stage 2's 2e-4 peak, so that the restart leaves the basin it ended in only gently; 100 epochs because the
#: power law of the finished folds 1 and 2 put 0.40 kcal/mol at about 369 and 386 epochs of one schedule.
EXTENSIONS = {
    "cycle2": Extension("cycle2", "schnet", "cpu", epochs=100, lr=1e-4,
                        why="a second cosine cycle after stage 2 (300 → 400 epochs, peak 1e-4)"),
}


def get_extension(name: str) -> Extension:
    if name not in EXTENSIONS:
        raise AtomintError(f"unknown extension {name!r}; accepted: {', '.join(EXTENSIONS)}")
    return EXTENSIONS[name]


@dataclass(frozen=True)
class Plan:
    """Where an extended run trains and what it is told: ``train(..., models_dir=folder.parent,
    name=folder.name, overrides=overrides, max_epochs=max_epochs)``."""

    folder: Path
    overrides: dict
    max_epochs: int


def plan(source: Path, ext: Extension) -> Plan:
    """Copy the finished run ``source`` into ``<models>/next/<name>`` once (a kill leaves nothing or all of
    it; an existing copy is an extension under way and is continued) and plan its extra cycle: the source's
    own stage-2 settings with a warm restart at the epoch it had finished."""
    folder = _copy(Path(source), ext)
    prov = store.read_json(folder / store.PROVENANCE)
    stage2 = prov.get("profile_settings", {}).get("extend", {}).get(ext.model)
    if not stage2:
        raise AtomintError(f"{Path(source).name} has no second stage to extend (its profile has no cosine stage)")
    cycles = [list(c) for c in stage2.get("cycles", ())]
    under_way = prov["profile_settings"].get("extension") == ext.name  # the copy has trained already
    base = int(cycles[-1][0]) if under_way else int(prov["epochs"])
    if not under_way:
        cycles.append([base, float(ext.lr)])
    return Plan(folder, {"extend": {ext.model: {**stage2, "cycles": cycles}}, "extension": ext.name},
                base + ext.epochs)


#: the committed folder set aside while its extension moves in (``<models>/.<name>.replaced``)
REPLACED = ".{}.replaced"


def extended_runs(models_dir: str | os.PathLike, ext: Extension) -> list[Path]:
    """The runs in ``<models_dir>/next/`` under way or finished with ``ext`` (a copy not yet trained counts:
    it is an extension planned), with the committed folds of the same runs (``<run>-fold<K>`` beside them in
    ``models_dir``) that have no copy in ``next/`` yet and were not adopted already, sorted by name."""
    root = Path(models_dir)
    runs = []
    for folder in store.list_checkpoints(root / NEXT):
        prov = store.read_json(folder / store.PROVENANCE)
        if (prov.get("profile_settings", {}).get("extension") or ext.name) == ext.name \
                and prov.get("model") == ext.model and prov.get("profile") == ext.profile:
            runs.append(folder)
    families = {re.sub(r"-fold\d+$", "", f.name) for f in runs}
    missing = [root / NEXT / f.name for fam in families for f in store.list_checkpoints(root)
               if re.fullmatch(rf"{re.escape(fam)}-fold\d+", f.name) and not (root / NEXT / f.name).is_dir()
               and not _extended_with(f, ext)]
    return sorted(runs + missing)


def _extended_with(folder: Path, ext: Extension) -> bool:
    """Whether the committed ``folder`` is an adopted run of ``ext``."""
    return store.read_json(folder / store.PROVENANCE).get("profile_settings", {}).get("extension") == ext.name


def adopt(models_dir: str | os.PathLike, ext: Extension) -> list[Path]:
    """Move every run extended with ``ext`` from ``<models_dir>/next/`` over the committed folder of its name,
    and rewrite ``INDEX.md``; returns the adopted folders. Each adopted provenance records the run it replaced
    (:data:`~atomint_helpers.store.EXTENDED_FROM`: epochs, weights' sha256, validation and test metrics).
    All or none: each run must have finished its extra cycle (``stopped: max_epochs`` at the planned epoch,
    test metrics recorded) and load with its weights and config verified, else nothing moves and the error
    names the run. ``next/INDEX.md`` is rewritten (removed with ``next/`` once it is empty). A kill between
    the two renames of a folder is finished by the next call (the committed folder waits in
    ``.<name>.replaced`` until its successor is in place)."""
    root = Path(models_dir)
    completed = _finish_interrupted(root)
    runs = extended_runs(root, ext)
    if not runs and completed:
        _write_indexes(root)
        return completed
    if not runs:
        raise MissingError(f"no run extended with {ext.name!r} in {root / NEXT}; extend one first: atomint train "
                           f"... --extend {ext.name}")
    for folder in runs:
        _check_finished(folder, ext)
    for folder in runs:
        dest, aside = root / folder.name, root / REPLACED.format(folder.name)
        with folder_lock(folder, "adoption"):
            if dest.exists():
                with folder_lock(dest, "adoption"):
                    _record_source(folder, dest)
                    dest.rename(aside)
            folder.rename(dest)
        shutil.rmtree(aside, ignore_errors=True)
    _write_indexes(root)
    return sorted(completed + [root / f.name for f in runs])


def _write_indexes(root: Path) -> None:
    """``INDEX.md`` of the committed folders, and of ``next/`` while it holds runs (an emptied ``next/`` goes)."""
    store.write_index(root)
    nxt = root / NEXT
    if store.list_checkpoints(nxt):
        store.write_index(nxt)
    elif nxt.is_dir():
        (nxt / "INDEX.md").unlink(missing_ok=True)
        if not any(nxt.iterdir()):
            nxt.rmdir()


def _record_source(folder: Path, source: Path) -> None:
    """Write into ``folder``'s provenance what the committed ``source`` it replaces was: epochs, weights' sha256
    and its validation and test metrics (the book reads the extension's gain from it; git keeps the rest)."""
    prov, old = store.read_json(folder / store.PROVENANCE), store.read_json(source / store.PROVENANCE)
    if store.EXTENDED_FROM in prov:
        return
    prov[store.EXTENDED_FROM] = {"epochs": old.get("epochs"), "weights_sha256": old.get("weights_sha256"),
                           "metrics": {k: old.get("metrics", {}).get(k, {}) for k in ("val", "test")}}
    with store.saving(folder) as save:
        atomic_write_json(save.dir / store.PROVENANCE, prov)


def _check_finished(folder: Path, ext: Extension) -> None:
    if not folder.is_dir():
        raise AtomintError(f"{folder.name} has not been extended with {ext.name!r}; extend every fold before "
                           f"adopting (atomint train ... --fold K --extend {ext.name})")
    prov = store.read_json(folder / store.PROVENANCE)
    settings = prov.get("profile_settings", {})
    cycles = settings.get("extend", {}).get(ext.model, {}).get("cycles", [])
    planned = int(cycles[-1][0]) + ext.epochs if cycles and settings.get("extension") == ext.name else None
    status = str(prov.get("status", ""))
    if not status.startswith("stopped: max_epochs") or prov.get("epochs") != planned:
        raise AtomintError(f"{folder.name} has not finished extension {ext.name!r} (epoch {prov.get('epochs')} of "
                           f"{planned or '?'}, {status or 'no status'}); resume it with atomint train ... --extend "
                           f"{ext.name}, then adopt")
    if "mae" not in prov.get("metrics", {}).get("test", {}):
        raise AtomintError(f"{folder.name} has no test metrics; evaluate it (atomint evaluate) before adopting")
    store.load_model(folder)  # weights and config verified against provenance


def _finish_interrupted(root: Path) -> list[Path]:
    """Complete adoptions killed between setting a committed folder aside and moving its successor in; returns
    the folders it moved in."""
    moved = []
    for aside in root.glob(REPLACED.format("*")):
        name = aside.name[1:-len(".replaced")]
        dest, new = root / name, root / NEXT / name
        if not dest.exists() and new.is_dir():
            new.rename(dest)
            moved.append(dest)
        if dest.exists():
            shutil.rmtree(aside, ignore_errors=True)
    return moved


def _copy(source: Path, ext: Extension) -> Path:
    prov_path = source / store.PROVENANCE
    if not prov_path.is_file():
        raise AtomintError(f"{source} is not a checkpoint folder (no {store.PROVENANCE}); "
                           f"pass a finished run, e.g. models/schnet-energy-cpu-fold1")
    prov = store.read_json(prov_path)
    if prov.get("model") != ext.model or prov.get("profile") != ext.profile:
        raise AtomintError(f"extension {ext.name!r} is for {ext.model} runs of the {ext.profile} profile; "
                           f"{source.name} is a {prov.get('model')} run of the {prov.get('profile')} profile")
    dest = source.parent / NEXT / source.name
    if (dest / store.PROVENANCE).is_file():
        return dest
    if not str(prov.get("status", "")).startswith("stopped: max_epochs"):
        raise AtomintError(f"{source.name} has not finished its schedule ({prov.get('status')}); "
                           f"an extension continues a finished run")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.copy")
    with folder_lock(source, "extension copy"):
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(".*"))
            tmp.rename(dest)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise AtomintError(f"cannot copy {source} to {dest}: {e.strerror}") from None
    return dest
