"""Pilot of the second training stage of the ``cpu`` profile (issue: SchNet trained until it leads BP).

Copies a committed checkpoint (which has finished stage 1) into a scratch folder and continues it for
the same wall-clock budget under one candidate recipe, so candidates are compared by **validation** MAE
against wall time on the same fold (never by test results). One torch thread per pilot; run two side
by side on a 2-core machine::

    python bench/pilot_recipe.py --run schnet-energy-cpu-fold0 --lr 2e-4 --minutes 35 --out /tmp/pilots
    python bench/pilot_recipe.py --run schnet-energy-cpu-fold0 --lr 6e-5 --minutes 35 --out /tmp/pilots

Each pilot's ``log.csv`` (val MAE per epoch, wall time, learning rate) is what bench/RESULTS.md reports.
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from atomint_helpers import store, training


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="committed checkpoint folder name under --models-dir")
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--out", required=True, help="scratch folder for the pilot runs")
    ap.add_argument("--lr", type=float, required=True, help="stage-2 starting learning rate")
    ap.add_argument("--ema", type=float, default=0.999, help="weight-average decay per step")
    ap.add_argument("--until", type=int, default=300, help="epoch at which the cosine reaches min_lr")
    ap.add_argument("--minutes", type=float, required=True, help="stage-2 wall-clock budget of the pilot")
    args = ap.parse_args()

    src = Path(args.models_dir) / args.run
    prov = store.provenance(src)
    name = f"{args.run}-lr{args.lr:g}-ema{args.ema:g}"
    dst = Path(args.out) / name
    if not dst.exists():
        shutil.copytree(src, dst)
    model, target = prov["model"], prov["target"]
    ext = {model: {"from_epoch": int(prov["epochs"]), "lr": args.lr, "ema_decay": args.ema}}
    training.train(model, target, prov["fold"], prov["profile"], models_dir=args.out, name=name, threads=1,
                   max_epochs=args.until, max_minutes=prov["wall_time_s"] / 60 + args.minutes,
                   overrides={"extend": ext})


if __name__ == "__main__":
    main()
