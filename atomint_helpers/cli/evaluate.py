"""``atomint evaluate``: a checkpoint's test errors on its held-out molecules, beside the recorded ones."""
from __future__ import annotations

from pathlib import Path

from ..data.qm9 import load_qm9
from ..interpret.evaluation import evaluate_checkpoint


def _cli_evaluate(args) -> int:
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
