"""Extensions: more training for a finished run, as one declared recipe applied the same way to every fold.

A finished ``cpu`` SchNet run ends its stage-2 cosine at ``min_lr``. An extension copies the run folder into
``<models>/next/`` (the committed checkpoint stays what the book reads until the extension is adopted) and
continues it there with a warm restart: a further cosine cycle from ``lr`` down to ``min_lr`` over
``epochs`` more epochs, the weight average carried on. The recipe is fixed here before any extended run
is seen and is the same for every fold; it is never chosen by test-set results.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import AtomintError, store
from ..io import folder_lock

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
