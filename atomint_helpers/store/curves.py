"""Learning-curve runs: their names, folders and finished test errors (``models/curve/``).

Each point is a BP or SchNet energy model trained on a nested random subset of one fold's 100,000 training
molecules (:data:`SIZES`) and tested on the fold's full test set; the recipe that trains them is
:mod:`atomint_helpers.training.curve`.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from .. import AtomintError
from .files import PROVENANCE, read_json

#: training-set sizes of the curve (molecules drawn from each fold's 100,000)
SIZES = (1_000, 3_000, 10_000)
FOLDS = (0, 1, 2)
MODELS = ("bp", "schnet")
#: where curve runs live, inside the models folder
FOLDER = "curve"


@dataclass(frozen=True)
class CurveRun:
    """One point of a learning curve: ``model`` trained on ``n_train`` molecules of ``fold``."""

    model: str
    n_train: int
    fold: int

    @property
    def name(self) -> str:
        return f"{self.model}-energy-cpu-n{self.n_train}-fold{self.fold}"

    def folder(self, models_dir="models") -> Path:
        return Path(models_dir) / FOLDER / self.name


@dataclass(frozen=True)
class CurvePoint:
    """A finished curve run's test errors (kcal/mol) on the fold's test set."""

    model: str
    n_train: int
    fold: int
    mae: float
    rmse: float
    n_test: int
    epochs: int
    #: ended by early stopping (its validation MAE had stopped improving), not by the epoch cap
    converged: bool
    #: training and validation MAE (kcal/mol) logged at the epoch whose weights were kept (the best
    #: validation MAE): their ratio near 1 says the model fits its training molecules no better than unseen ones
    train_mae: float = math.nan
    val_mae: float = math.nan
    #: how many times the learning rate was halved from the first epoch to the last (log2 of their ratio)
    lr_halvings: float = math.nan


def runs(models=MODELS, folds=FOLDS, sizes=SIZES) -> list[CurveRun]:
    return [CurveRun(m, n, f) for m in models for f in folds for n in sizes]


def finished(folder: Path) -> bool:
    """The run has stopped for good (not a time budget it could resume from)."""
    prov = Path(folder) / PROVENANCE
    if not prov.is_file():
        return False
    status = str(read_json(prov).get("status", ""))
    return status.startswith("stopped") and "resumable" not in status


def at_best_epoch(folder: Path, best_epoch: int | None) -> tuple[float, float, float]:
    """``(train MAE, validation MAE, learning-rate halvings)`` from the run's epoch log (``log.csv``): the MAEs
    of epoch ``best_epoch`` (the kept weights) and log2(first epoch's rate / last epoch's); NaN where the log or
    the epoch is missing."""
    log = Path(folder) / "log.csv"
    if not log.is_file():
        return math.nan, math.nan, math.nan
    with open(log, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return math.nan, math.nan, math.nan
    best = next((r for r in rows if best_epoch is not None and int(r["epoch"]) == int(best_epoch)), None)
    halvings = math.log2(float(rows[0]["lr"]) / float(rows[-1]["lr"]))
    if best is None:
        return math.nan, math.nan, halvings
    return float(best["train_mae"]), float(best["val_mae"]), halvings


def points(models_dir="models") -> list[CurvePoint]:
    """Every finished curve run's test errors, read from its provenance."""
    out = []
    for run in runs():
        folder = run.folder(models_dir)
        if not finished(folder):
            continue
        prov = read_json(folder / PROVENANCE)
        test = prov.get("metrics", {}).get("test", {})
        if prov.get("n_train") != run.n_train or not math.isfinite(float(test.get("mae", math.nan))):
            raise AtomintError(f"{folder} does not hold the curve run it is named after (n_train "
                               f"{prov.get('n_train')}, test {test}); delete it and train it again")
        train_mae, val_mae, halvings = at_best_epoch(folder, prov.get("best_epoch"))
        out.append(CurvePoint(run.model, run.n_train, run.fold, float(test["mae"]), float(test["rmse"]),
                              int(test["n"]), int(prov["epochs"]), str(prov["status"]).startswith("stopped: early"),
                              train_mae, val_mae, halvings))
    return out
