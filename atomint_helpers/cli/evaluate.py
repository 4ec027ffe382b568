"""``atomint evaluate``: a checkpoint's test errors on its held-out molecules (QM9) or crystals (Materials
Project, the crystal model of Fig. 7), beside the recorded ones.

A checkpoint trained on the embedded sample (profile ``quick``) is scored on the sample, where its whole
test split is; any other on the full data. A checkpoint is a folder or a name (``schnet-energy-quick``:
every fold, ``schnet-mp-cpu-fold0``: one run) found as ``atomint models`` lists. ``--json FILE`` (``-``: standard output) writes one object per checkpoint:
checkpoint, model, target, fold, n test, MAE, RMSE, unit, recorded MAE, whether only sample data was used.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .. import AtomintError, store
from .output import add_json_option, emit_json, say

#: relative difference between a re-evaluated and the recorded test MAE beyond which evaluate warns: float32
#: summation order across machines moves a MAE by ~1e-6 relative; a changed model or data moves it far more
MAE_TOLERANCE = 1e-4
#: the targets atomint evaluate scores: QM9 energy and dipole, Materials Project formation energy
TARGETS = ("energy", "dipole", "crystals")


def _folders(specs, models_dir) -> list[Path]:
    folders = [f for s in specs for f in store.resolve_folders(s, models_dir)]
    for folder in folders:
        target = store.read_json(folder / store.CONFIG).get("target")
        if target not in TARGETS:
            raise AtomintError(f"{folder} predicts {target!r}; atomint evaluate scores checkpoints of the targets "
                               f"{', '.join(TARGETS)}")
    return folders


def _qm9_of(folder: Path, args, read: dict):
    """The QM9 a checkpoint is scored on: the embedded sample for one trained on it (its whole test split is
    there), else the full QM9 (``--data-dir``, ``ATOMINT_DATA``, the cache; the sample when none is found)."""
    from ..data.qm9 import load_qm9, load_sample

    key = "sample" if store.provenance(folder).get("data", {}).get("source") == "sample" else "qm9"
    if key not in read:
        read[key] = load_sample() if key == "sample" else load_qm9(args.data_dir, quiet=True)
        say(args, read[key].describe(with_path=True))
    return read[key]


def _cli_evaluate(args) -> int:
    from ..interpret.evaluation import evaluate_checkpoint, evaluate_crystal_checkpoint

    folders = _folders(args.checkpoints, args.models_dir)
    qm9: dict = {}  # the data sets read so far: the embedded sample, the full QM9
    rows = []
    for folder in folders:
        if store.read_json(folder / store.CONFIG)["target"] == "crystals":
            ev = evaluate_crystal_checkpoint(folder, args.data_dir)
            what = "test crystals"
        else:
            ev = evaluate_checkpoint(folder, _qm9_of(folder, args, qm9))
            what = "test molecules"
        m = ev.metrics
        rec = ev.provenance.get("metrics", {}).get("test", {})
        note = f" (sample data: {m['n']:,} of its test split only)" if ev.on_sample else ""
        say(args, f"{folder.name}: MAE {m['mae']:.4f} {ev.unit}, RMSE {m['rmse']:.4f} on {m['n']:,} {what}{note}; "
                  f"recorded MAE {rec.get('mae', float('nan')):.4f}")
        if "mae" in rec and not ev.on_sample and abs(m["mae"] - rec["mae"]) > MAE_TOLERANCE * rec["mae"]:
            print(f"atomint: warning: {folder.name}: the test MAE differs from the recorded one by "
                  f"{abs(m['mae'] - rec['mae']) / rec['mae']:.1e} (relative), more than float noise: the "
                  f"weights, config or data changed since training", file=sys.stderr)
        rows.append({"checkpoint": folder.name, "folder": str(folder), "model": ev.model, "target": ev.target,
                     "profile": ev.provenance.get("profile"), "fold": ev.provenance.get("fold"), "n_test": m["n"],
                     "mae": m["mae"], "rmse": m["rmse"], "unit": ev.unit, "recorded_mae": rec.get("mae"),
                     "recorded_n_test": rec.get("n"), "sample_only": bool(ev.on_sample)})
    emit_json(args, {"checkpoints": rows})
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate checkpoints on their held-out test molecules or crystals",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT|NAME",
                   help="checkpoint folders (models/schnet-energy-cpu-fold0) or names (schnet-energy-cpu: every "
                        "fold; see `atomint models`)")
    p.add_argument("--models-dir", default=None, metavar="DIR",
                   help="where names are looked up (default: $ATOMINT_MODELS, ./models, the repository's models/)")
    p.add_argument("--data-dir", default=None, metavar="DIR",
                   help="folder with qm9/qm9.npz and mp/mp.npz (default: ATOMINT_DATA, the cache, the embedded "
                        "sample)")
    add_json_option(p, "the scores (one object per checkpoint)")
    p.set_defaults(func=_cli_evaluate)
