"""The runs a chapter shows: train the missing ones (or all, for the quick profile) and find them."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..store import PROVENANCE, run_name
from .loop import read_log
from .run import train

#: the four models of the paper, as ``model-target``
MODEL_TARGETS = ("bp-energy", "bp-dipole", "schnet-energy", "schnet-dipole")


def prepare(models, folds, *, profile: str, runs_dir: Path, retrain: bool, data_dir=None,
            fresh: bool = False) -> tuple[dict[str, Path], list[str]]:
    """Train (``retrain``) and find the checkpoints of ``models`` (``"bp-energy"``, ...) on ``folds``.

    ``fresh`` deletes ``runs_dir`` first (the quick profile's scratch folder, so its runs follow the current
    code). Returns ``(present, missing)``: run name → folder of the checkpoints found, and the names of
    those that are not there."""
    runs_dir = Path(runs_dir)
    wanted = [(*m.split("-"), f) for m in models for f in folds]
    if retrain:
        if fresh:
            shutil.rmtree(runs_dir, ignore_errors=True)
        for model, target, fold in wanted:
            train(model, target, fold=fold, profile=profile, models_dir=runs_dir, data_dir=data_dir, progress=False)
    found = {run_name(m, t, profile, f): runs_dir / run_name(m, t, profile, f) for m, t, f in wanted}
    present = {k: v for k, v in found.items() if (v / PROVENANCE).is_file()}
    return present, sorted(set(found) - set(present))


def read_pilots(pilot_dir: str | Path) -> dict[str, list[dict]]:
    """The recipe pilots' epoch logs (``bench/pilots/<run>-lr<lr>-ema<decay>/log.csv``), by folder name; empty
    when the folder is not there (an installed package without the repository's bench/)."""
    pilot_dir = Path(pilot_dir)
    if not pilot_dir.is_dir():
        return {}
    return {d.name: read_log(d) for d in sorted(pilot_dir.iterdir()) if (d / "log.csv").is_file()}
