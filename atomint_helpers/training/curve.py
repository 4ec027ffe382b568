"""Learning curves: BP and SchNet energy models trained on 1,000, 3,000 and 10,000 molecules of each fold.

The paper explains SchNet's lower errors by its learned representation, "especially advantageous in the
chemical compound space setting with a large and diverse set of training molecules". Whether the advantage
grows with the training set is measured here: each fold's training set is subsampled (:data:`SIZES`, nested:
a smaller set lies inside every larger one of its fold), validated on 1,000 of the fold's validation
molecules and tested on the fold's full test set, the same 20,831 molecules as the committed 100k models.

The recipe (:data:`RECIPE`) is the ``cpu`` profile's architectures and first stage (Adam from 5e-4, batches
of 100, halved on a validation plateau of 6 epochs, early stopping after 20) for both models and every size, at
most :data:`MAX_EPOCHS` epochs of at least :data:`EPOCH` molecules each in whole passes over the set, so that
patience and cap mean about the same optimizer steps for every size; no second stage; BP's descriptors clipped to
their training range, as the quick profile's. Whether a run ended by early stopping (converged on its validation
set) or by the cap is recorded and shown. It was written
down before any curve run trained and corrected after the first run (BP on 1,000 molecules of fold 0), before any
other result: with patience counted in epochs of the subset and unclipped descriptors, that run stopped after 340
steps (patience was then counted in steps, and then, as saving after every 10-step epoch was too slow, in epochs of
at least 10,000 molecules). It is never changed by the curve's results. The committed 100k models trained
longer (BP 150 epochs, SchNet 300–400 with a weight-averaged cosine stage), so the curve's three sizes decide on
their own; the 100k point is a second reading.

    python -m atomint_helpers.training.curve --models bp --threads 1     # one lane per core
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .. import EXIT_INTERRUPTED, AtomintError
from ..store.curves import FOLDS, MODELS, SIZES, CurveRun, finished, runs

#: validation molecules per curve run (drawn from the fold's 10,000)
VAL = 1_000
BATCH = 100
#: molecules per epoch of every curve run, at least: whole passes over the set (10 over 1,000, 4 over 3,000, i.e.
#: 100 to 120 steps of 100), so the cpu profile's patiences (6 and 20 epochs) and the epoch cap mean about the
#: same number of optimizer steps for every size
EPOCH = 10_000
MAX_EPOCHS = 200
#: the curve's recipe: the cpu profile without its second stage, on the subset; BP's descriptors clipped to
#: their training range (as for the quick profile's 1,000 molecules: unclipped, a test atom outside the
#: range of a small training set extrapolates wildly)
RECIPE = {"extend": {}, "val_subset": VAL, "batch_size": BATCH, "epoch_molecules": EPOCH}


def overrides(run: CurveRun) -> dict:
    """The profile fields a curve run replaces: :data:`RECIPE`, its subset, BP's descriptors clipped."""
    from .profiles import get_profile

    out = {**RECIPE, "train_subset": run.n_train}
    if run.model == "bp":
        out["bp"] = {**get_profile("cpu").bp, "clip_features": True}
    return out


def train_arguments(run: CurveRun, models_dir="models", data_dir=None, threads: int | None = 1,
                    progress: bool = True) -> dict:
    """The keyword arguments of :func:`~atomint_helpers.training.train` (and of
    :meth:`~atomint_helpers.training.RunSpec.build`) that train one curve run."""
    return dict(model_name=run.model, target="energy", fold=run.fold, profile="cpu",
                models_dir=run.folder(models_dir).parent, data_dir=data_dir, max_epochs=MAX_EPOCHS, threads=threads,
                progress=progress, name=run.name, overrides=overrides(run))


def train_point(run: CurveRun, models_dir="models", data_dir=None, threads: int | None = 1,
                progress: bool = True) -> Path:
    """Train (or resume) one curve run; a finished one is left as it is."""
    from .run import train

    folder = run.folder(models_dir)
    if finished(folder):
        return folder
    return train(**train_arguments(run, models_dir, data_dir, threads, progress))


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
        return e.code
    except KeyboardInterrupt:
        print("atomint: interrupted; run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
