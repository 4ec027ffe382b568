"""Evaluating committed checkpoints on their held-out QM9 test molecules (crystal checkpoints on their
Materials Project test crystals); Table 1; ``atomint evaluate``.

A checkpoint's test molecules are the ``test`` ids of its stored split. With the full QM9 all of them
are evaluated; with the embedded sample only the sample molecules that fall into that test split (the
result says so through ``on_sample``, True when part of the test split was missing, and ``n``); a
checkpoint trained on the sample finds all of them there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import AtomintError, store
from ..data.batch import qm9_atoms_data
from ..data.splits import load_split
from ..models.predict import metrics, predict
from ..properties import CPU_GOALS, TARGETS

UNITS = {k: t.unit for k, t in TARGETS.items()}

#: Table 1 of Schütt et al. (2019): MAE / RMSE on QM9 with 100k training molecules.
PAPER_TABLE1 = {
    ("bp", "energy"): (0.77, 1.32),
    ("schnet", "energy"): (0.35, 0.94),
    ("bp", "dipole"): (0.073, 0.118),
    ("schnet", "dipole"): (0.025, 0.050),
}
#: the cpu profile's goals (:data:`atomint_helpers.properties.CPU_GOALS`)
CPU_TARGET_MAE = CPU_GOALS
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
                      len(present) < len(test_ids), store.provenance(folder))


def evaluate_crystal_checkpoint(folder, data_dir=None) -> Evaluation:
    """Formation energies (eV/atom) of a crystal checkpoint on its held-out test crystals, from the cleaned
    Materials Project set it was trained on: the embedded sample for a checkpoint trained on it, otherwise
    the full set (``data_dir``, ``ATOMINT_DATA``, the cache) or, when only the sample is found, the sample
    crystals that fall into its test split (``on_sample``)."""
    from ..data import crystals
    from ..data.batch import crystal_atoms_data
    from ..data.paths import SAMPLE_DIR

    folder = Path(folder)
    model = store.load_model(folder)
    prov = store.provenance(folder)
    if prov.get("data", {}).get("source") == "sample":
        cr = crystals.read_npz(SAMPLE_DIR / "mp_sample.npz", "sample")
    else:
        cr = crystals.load_crystals(data_dir, quiet=True)
    cr = cr.clean()
    test_ids = load_split(folder / store.SPLIT)["test"]
    rows = cr.rows_of(test_ids)
    present = test_ids[rows >= 0]
    if len(present) == 0:
        raise AtomintError(f"none of {folder.name}'s test crystals are in {cr.describe()}")
    data = crystal_atoms_data(cr, cutoff=model.cutoff)
    pred = predict(model, data, rows[rows >= 0])
    ref = np.asarray(data.targets[model.target_key])[rows[rows >= 0]]
    return Evaluation(folder, model.config["model"], model.config["target"], present, pred, ref,
                      len(present) < len(test_ids), prov)


find_checkpoint = store.find_checkpoint


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
                missing.append(store.run_name(model, target, profile, fold))
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


def across_folds(models_dir, profile: str, folds) -> tuple:
    """The recorded test errors of every model on every fold, and their spread.

    Read from each checkpoint's ``provenance.json`` (``metrics.test``, written when its training finished,
    on its whole test split), so no weights are loaded. A fold still training has no test metrics yet and
    is listed with ``None`` and its status.

    Returns ``(per_fold, spread)``: one row per model, target and fold; and per model and target the
    number of finished folds, the mean, sample standard deviation (ddof = 1; ``NaN`` for one fold),
    smallest and largest test MAE, in kcal/mol (energy) or Debye (dipole).
    """
    import pandas as pd

    rows = []
    for target in ("energy", "dipole"):
        for model in ("bp", "schnet"):
            for fold in folds:
                try:
                    folder = find_checkpoint(models_dir, model, target, profile, fold)
                except AtomintError:
                    continue
                p = store.provenance(folder)
                test = p.get("metrics", {}).get("test")
                rows.append({"target": target, "model": MODEL_NAMES[model], "unit": UNITS[target],
                             "paper MAE": PAPER_TABLE1[(model, target)][0], "fold": fold,
                             "MAE": test["mae"] if test else None, "RMSE": test["rmse"] if test else None,
                             "n test": test["n"] if test else None, "epochs": p.get("epochs"),
                             "status": p.get("status")})
    if not rows:
        raise AtomintError(f"no {profile} checkpoints for folds {list(folds)} in {models_dir}")
    per_fold = pd.DataFrame(rows)
    done = per_fold.dropna(subset=["MAE"]).astype({"MAE": float})
    spread = (done.groupby(["target", "model", "unit", "paper MAE"], sort=False)["MAE"]
              .agg(folds="count", **{"mean MAE": "mean", "std MAE": "std", "min MAE": "min", "max MAE": "max"})
              .reset_index())
    return per_fold, spread


def schnet_better_on_folds(per_fold, target: str) -> tuple[list[int], list[int]]:
    """Folds on which both models of ``target`` have finished, and those among them on which SchNet's
    recorded test MAE is below BP's (the ordering of Table 1, fold by fold; same fold = same split)."""
    done = per_fold[(per_fold["target"] == target) & per_fold["MAE"].notna()]
    mae = done.pivot(index="fold", columns="model", values="MAE").dropna()
    both = [int(f) for f in mae.index] if {MODEL_NAMES["bp"], MODEL_NAMES["schnet"]} <= set(mae.columns) else []
    better = [f for f in both if mae.loc[f, MODEL_NAMES["schnet"]] < mae.loc[f, MODEL_NAMES["bp"]]]
    return both, better
