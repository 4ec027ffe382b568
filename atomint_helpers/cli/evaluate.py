"""``atomint evaluate``: a checkpoint's test errors on its held-out molecules, beside the recorded ones."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import AtomintError, store

from ..data.qm9 import load_qm9
from ..interpret.evaluation import evaluate_checkpoint


#: relative difference between a re-evaluated and the recorded test MAE beyond which evaluate warns: float32
#: summation order across machines moves a MAE by ~1e-6 relative; a changed model or data moves it far more
MAE_TOLERANCE = 1e-4


def _cli_evaluate(args) -> int:
    for folder in args.checkpoints:
        target = store.read_json(Path(folder) / store.CONFIG).get("target") if Path(folder).is_dir() else None
        if target not in (None, "energy", "dipole"):
            raise AtomintError(f"{folder} predicts {target!r}; atomint evaluate scores QM9 checkpoints (targets "
                               f"energy and dipole); the crystal model's test error is in its provenance.json")
    ds = load_qm9(args.data_dir, quiet=True)
    print(ds.describe(with_path=True))
    for folder in args.checkpoints:
        ev = evaluate_checkpoint(folder, ds)
        m = ev.metrics
        rec = ev.provenance.get("metrics", {}).get("test", {})
        note = " (sample molecules of its test split only)" if ev.on_sample else ""
        print(f"{Path(folder).name}: MAE {m['mae']:.4f} {ev.unit}, RMSE {m['rmse']:.4f} on {m['n']:,} test molecules"
              f"{note}; recorded MAE {rec.get('mae', float('nan')):.4f}")
        if "mae" in rec and not ev.on_sample and abs(m["mae"] - rec["mae"]) > MAE_TOLERANCE * rec["mae"]:
            print(f"atomint: warning: {Path(folder).name}: the test MAE differs from the recorded one by "
                  f"{abs(m['mae'] - rec['mae']) / rec['mae']:.1e} (relative), more than float noise: the "
                  f"weights, config or data changed since training", file=sys.stderr)
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate checkpoints on their held-out test molecules")
    p.add_argument("checkpoints", nargs="+", help="checkpoint folders (models/...)")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=_cli_evaluate)
