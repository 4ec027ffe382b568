"""Learning curves: BP and SchNet energy models trained on 1,000, 3,000 and 10,000 molecules of each fold.

The paper explains SchNet's lower errors by its learned representation, "especially advantageous in the
chemical compound space setting with a large and diverse set of training molecules". Whether the advantage
grows with the training set is measured here: each fold's training set is subsampled (:data:`SIZES`, nested:
a smaller set lies inside every larger one of its fold), validated on 1,000 of the fold's validation
molecules and tested on the fold's full test set, the same 20,831 molecules as the committed 100k models.

The recipe (:data:`RECIPE`) is the ``cpu`` profile's architectures and first stage (Adam from 5e-4, batches
of 100, halved on a validation plateau of 6 epochs, early stopping after 20) for both models and every size,
capped at :data:`MAX_STEPS` optimizer steps (200 epochs of 10,000 molecules, 2,000 of 1,000), so that a small
set is not cut short by an epoch count made for a large one; no second stage. Whether a run ended by early
stopping (converged on its validation set) or by the cap is recorded and shown. It was fixed
before any curve run was trained and is never changed by their results. The committed 100k models trained
longer (BP 150 epochs, SchNet 300 with a weight-averaged cosine stage), so the curve's three sizes decide on
their own; the 100k point is a second reading.

    python -m atomint_helpers.training.curve --models bp --threads 1     # one lane per core
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import AtomintError, store

#: training-set sizes of the curve (molecules drawn from each fold's 100,000)
SIZES = (1_000, 3_000, 10_000)
FOLDS = (0, 1, 2)
MODELS = ("bp", "schnet")
#: validation molecules per curve run (drawn from the fold's 10,000)
VAL = 1_000
#: optimizer steps a curve run may take at most (batches of the cpu profile's 100 molecules)
MAX_STEPS = 20_000
BATCH = 100
#: the curve's recipe: the cpu profile without its second stage, on the subset
RECIPE = {"extend": {}, "val_subset": VAL, "batch_size": BATCH}
#: where curve runs live, beside the committed models
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

    def overrides(self) -> dict:
        return {**RECIPE, "train_subset": self.n_train}

    @property
    def max_epochs(self) -> int:
        return math.ceil(MAX_STEPS / math.ceil(self.n_train / BATCH))


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
    #: ended by early stopping (its validation MAE had stopped improving), not by the step cap
    converged: bool


def runs(models=MODELS, folds=FOLDS, sizes=SIZES) -> list[CurveRun]:
    return [CurveRun(m, n, f) for m in models for f in folds for n in sizes]


def finished(folder: Path) -> bool:
    prov = folder / store.PROVENANCE
    if not prov.is_file():
        return False
    status = str(store.read_json(prov).get("status", ""))
    return status.startswith("stopped") and "resumable" not in status


def train_point(run: CurveRun, models_dir="models", data_dir=None, threads: int | None = 1,
                progress: bool = True) -> Path:
    """Train (or resume) one curve run; a finished one is left as it is."""
    from .run import train

    folder = run.folder(models_dir)
    if finished(folder):
        return folder
    return train(run.model, "energy", fold=run.fold, profile="cpu", models_dir=folder.parent, data_dir=data_dir,
                 max_epochs=run.max_epochs, threads=threads, progress=progress, name=run.name, overrides=run.overrides())


def points(models_dir="models") -> list[CurvePoint]:
    """Every finished curve run's test errors, read from its provenance."""
    out = []
    for run in runs():
        folder = run.folder(models_dir)
        if not finished(folder):
            continue
        prov = store.read_json(folder / store.PROVENANCE)
        test = prov.get("metrics", {}).get("test", {})
        if prov.get("n_train") != run.n_train or not math.isfinite(float(test.get("mae", math.nan))):
            raise AtomintError(f"{folder} does not hold the curve run it is named after (n_train "
                               f"{prov.get('n_train')}, test {test}); delete it and train it again")
        out.append(CurvePoint(run.model, run.n_train, run.fold, float(test["mae"]), float(test["rmse"]),
                              int(test["n"]), int(prov["epochs"]),
                              str(prov["status"]).startswith("stopped: early")))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m atomint_helpers.training.curve",
                                 description="train the learning-curve runs one after the other (resumable)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated: bp,schnet")
    ap.add_argument("--folds", default=",".join(map(str, FOLDS)), help="comma-separated fold numbers")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated training-set sizes")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads per run")
    a = ap.parse_args(argv)
    try:
        todo = runs(tuple(a.models.split(",")), tuple(int(f) for f in a.folds.split(",")),
                    tuple(int(n) for n in a.sizes.split(",")))
        for run in todo:
            if run.model not in MODELS or run.n_train not in SIZES or run.fold not in FOLDS:
                raise AtomintError(f"{run.name} is not a point of the declared curve ({MODELS}, sizes {SIZES}, "
                                   f"folds {FOLDS})")
        for run in todo:
            train_point(run, a.models_dir, a.data_dir, a.threads)
    except AtomintError as e:
        print(f"atomint: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("atomint: interrupted; run the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
