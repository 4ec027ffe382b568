"""``models/INDEX.md``: the table of every checkpoint in a models folder, rewritten when a training run
stops (:func:`atomint_helpers.training.train`)."""
from __future__ import annotations

import os
from pathlib import Path

from .. import AtomintError
from ..io import atomic_write_bytes
from .files import CONFIG, PROVENANCE, list_checkpoints, read_json


def write_index(models_dir: str | os.PathLike = "models") -> Path:
    """``models/INDEX.md``: every checkpoint with its profile, training size, wall time and test metrics."""
    root = Path(models_dir)
    rows = ["| checkpoint | model | target | profile | fold | n_train | epochs | wall time | best val MAE | test MAE "
            "| test RMSE | status |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for folder in list_checkpoints(root):
        try:
            c, p = read_json(folder / CONFIG), read_json(folder / PROVENANCE)
        except AtomintError:
            continue
        t = p.get("metrics", {}).get("test", {})
        v = p.get("metrics", {}).get("val", {})
        unit = p.get("unit", "")
        val = f"{v['mae']:.4g} {unit}" if "mae" in v else "—"
        mae = f"{t['mae']:.4g} {unit}" if "mae" in t else "—"
        rmse = f"{t['rmse']:.4g} {unit}" if "rmse" in t else "—"
        rows.append(f"| `{folder.name}` | {c['model']} | {c['target']} | {p.get('profile', '?')} | {p.get('fold', '?')} "
                    f"| {p.get('n_train', '?'):,} | {p.get('epochs', '?')} | {p.get('wall_time_s', 0) / 60:.1f} min "
                    f"| {val} | {mae} | {rmse} | {p.get('status', '?')} |")
    text = ("# Committed checkpoints\n\nWritten by `atomint_helpers.store.write_index`. Test metrics are on the "
            "held-out test split of each run's fold: QM9 molecules for the `energy` (kcal/mol) and `dipole` "
            "(Debye) runs, Materials Project crystals for the `mp` runs (formation energy, eV/atom). A run "
            "still `training` has no test metrics yet; its best validation MAE so far is shown.\n\n"
            + "\n".join(rows) + "\n")
    path = root / "INDEX.md"
    atomic_write_bytes(path, text.encode())
    return path
