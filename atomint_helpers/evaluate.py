"""Evaluating committed checkpoints on their held-out QM9 test molecules; Table 1; ``atomint evaluate``.

A checkpoint's test molecules are the ``test`` ids of its stored split. With the full QM9 all of them
are evaluated; with the embedded sample only the sample molecules that fall into that test split (the
result says so through ``on_sample`` and ``n``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import AtomintError, store
from .data.batch import qm9_atoms_data
from .data.splits import load_split
from .training import UNITS, metrics, predict

#: Table 1 of Schütt et al. (2019): MAE / RMSE on QM9 with 100k training molecules.
PAPER_TABLE1 = {
    ("bp", "energy"): (0.77, 1.32),
    ("schnet", "energy"): (0.35, 0.94),
    ("bp", "dipole"): (0.073, 0.118),
    ("schnet", "dipole"): (0.025, 0.050),
}
#: Targets the cpu profile aims for (issue 'Training, model store and Table 1').
CPU_TARGET_MAE = {("bp", "energy"): 0.60, ("bp", "dipole"): 0.073,
                  ("schnet", "energy"): 0.70, ("schnet", "dipole"): 0.050}
MODEL_NAMES = {"bp": "Behler–Parrinello", "schnet": "SchNet"}


@dataclass
class Evaluation:
    folder: Path
    model: str
    target: str
    ids: np.ndarray
    prediction: np.ndarray
    reference: np.ndarray
    on_sample: bool
    provenance: dict

    @property
    def unit(self) -> str:
        return UNITS[self.target]

    @property
    def metrics(self) -> dict:
        return metrics(self.prediction, self.reference)


_DATA_CACHE: dict = {}


def _atoms_data(ds, cutoff):
    key = (id(ds), cutoff)
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = qm9_atoms_data(ds, cutoff=cutoff)
    return _DATA_CACHE[key]


def evaluate_checkpoint(folder, ds) -> Evaluation:
    """Predictions of a checkpoint on its test molecules present in ``ds``."""
    folder = Path(folder)
    model = store.load_model(folder)
    test_ids = load_split(folder / store.SPLIT)["test"]
    present = test_ids[ds.contains(test_ids)]
    if len(present) == 0:
        raise AtomintError(f"none of {folder.name}'s test molecules are in {ds.describe()}")
    data = _atoms_data(ds, model.cutoff)
    data.atom_features = None  # BP computes its symmetry functions for the test batches only
    rows = ds.rows(present)
    pred = predict(model, data, rows)
    ref = np.asarray(data.targets[model.target_key])[rows]
    return Evaluation(folder, model.config["model"], model.config["target"], present, pred, ref,
                      ds.is_sample or len(present) < len(test_ids), store.provenance(folder))


def find_checkpoint(models_dir, model: str, target: str, profile: str, fold: int = 0) -> Path:
    folder = Path(models_dir) / f"{model}-{target}-{profile}-fold{fold}"
    if not (folder / store.CONFIG).is_file():
        raise AtomintError(f"no checkpoint {folder.name} in {models_dir} (see models/INDEX.md, or train it: "
                           f"atomint train --model {model} --target {target} --profile {profile} --fold {fold})")
    return folder


def table1(models_dir, profile: str, ds, fold: int = 0):
    """Table 1 as a DataFrame: atomint's test MAE/RMSE beside the paper's, with n_train, profile, wall time.

    Returns ``(table, evaluations, missing)``; checkpoints not (yet) trained are listed in ``missing``
    instead of failing, unless none exists at all.
    """
    import pandas as pd

    rows, evals, missing = [], {}, []
    for target in ("energy", "dipole"):
        for model in ("bp", "schnet"):
            try:
                folder = find_checkpoint(models_dir, model, target, profile, fold)
            except AtomintError:
                missing.append(f"{model}-{target}-{profile}-fold{fold}")
                continue
            ev = evaluate_checkpoint(folder, ds)
            evals[(model, target)] = ev
            m, p = ev.metrics, ev.provenance
            paper_mae, paper_rmse = PAPER_TABLE1[(model, target)]
            rows.append({"target": target, "model": MODEL_NAMES[model], "unit": ev.unit,
                         "MAE": m["mae"], "RMSE": m["rmse"], "paper MAE": paper_mae, "paper RMSE": paper_rmse,
                         "MAE / paper": m["mae"] / paper_mae, "n test": m["n"],
                         "n train": p.get("n_train"), "profile": p.get("profile"), "epochs": p.get("epochs"),
                         "wall time (min)": p.get("wall_time_s", 0) / 60, "status": p.get("status")})
    if not rows:
        raise AtomintError(f"no {profile} checkpoints for fold {fold} in {models_dir}: missing {', '.join(missing)}")
    return pd.DataFrame(rows), evals, missing


def _cli_evaluate(args) -> int:
    from .data.qm9 import load_qm9

    ds = load_qm9(args.data_dir, quiet=True)
    print(ds.describe())
    for folder in args.checkpoints:
        ev = evaluate_checkpoint(folder, ds)
        m = ev.metrics
        rec = ev.provenance.get("metrics", {}).get("test", {})
        note = " (sample molecules of its test split only)" if ev.on_sample else ""
        print(f"{Path(folder).name}: MAE {m['mae']:.4f} {ev.unit}, RMSE {m['rmse']:.4f} on {m['n']:,} test molecules"
              f"{note}; recorded MAE {rec.get('mae', float('nan')):.4f}")
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate checkpoints on their held-out test molecules")
    p.add_argument("checkpoints", nargs="+", help="checkpoint folders (models/...)")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=_cli_evaluate)
