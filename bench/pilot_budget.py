"""Pilots of the wall-time budget recipe (issue 37: ``atomint train --budget-minutes M``).

Each pilot trains SchNet (the ``cpu`` architecture, 64×3) on the energy of fold 0 from scratch to a wall-time
budget of at most 30 minutes under one candidate recipe (:mod:`atomint_helpers.training.budget`), into a
scratch folder, so candidates are compared by **validation** MAE against wall time (never by test results:
the test MAE that every run records in its provenance is not read here). The batch is ``--batch-scale k``
times the profile's, with the peak learning rate scaled by √k (Adam). On idle cores, e.g. one pilot on both::

    python bench/pilot_budget.py --minutes 30 --peak-lr 1e-3 --warmup 0.05 --processes 2 --out /tmp/budget-pilots
    python bench/pilot_budget.py --minutes 30 --peak-lr 2e-3 --batch-scale 2 --processes 2 --out /tmp/budget-pilots
    python bench/pilot_budget.py --plot --out /tmp/budget-pilots    # val MAE against wall time, every pilot

The declared pilots and the rule that chooses among them are in
:mod:`atomint_helpers.training.budget_pilots`: ``--plan N`` runs pilot ``N`` of that plan (0-based; its
settings replace ``--peak-lr``, ``--batch-scale``, ``--minutes`` and ``--processes``), ``--choose`` prints the
chosen pilot of those finished in ``--out``.

Each pilot's ``log.csv`` (per epoch: wall time, learning rate, validation MAE) is its curve; one line per
finished pilot goes to ``<out>/pilots.csv`` (recipe, epochs, wall time, best validation MAE); ``--plot``
draws every pilot's curve into ``<out>/curves.png``. ``--profile quick`` runs the same on the embedded
sample for 30 seconds, ``--plan`` included (a smoke run of this script, not a pilot; ``--choose`` ignores it).
"""
from __future__ import annotations

import argparse
import csv
import fcntl
import math
import os
from pathlib import Path

from atomint_helpers import AtomintError, store, training
from atomint_helpers.training import budget, budget_pilots

SUMMARY = "pilots.csv"
#: the budget of a ``--profile quick`` smoke run (minutes), with or without ``--plan``
QUICK_MINUTES = 0.5
FIELDS = ["name", "profile", "processes", "minutes", "peak_lr", "warmup", "start_factor", "min_lr", "ema_decay",
          "batch_size", "epochs", "wall_s", "best_epoch", "best_val_mae"]


def recipe(args, batch_size: int) -> dict:
    """The budget recipe of a pilot: the batch ``batch_scale`` times the profile's ``batch_size``, the peak
    learning rate √k times ``--peak-lr``."""
    k = args.batch_scale
    if k < 1:
        raise AtomintError(f"--batch-scale must be a whole number ≥ 1, got {k}")
    return {"peak_lr": args.peak_lr * math.sqrt(k), "min_lr": args.min_lr, "warmup": args.warmup,
            "start_factor": args.start_factor, "ema_decay": args.ema, "batch_size": batch_size * k}


def pilot_name(r: dict, minutes: float, processes: int) -> str:
    return (f"schnet-energy-fold0-{minutes:g}min-lr{r['peak_lr']:.3g}-wu{r['warmup']:g}-b{r['batch_size']}"
            f"-ema{r['ema_decay']:g}-p{processes}")


def run_pilot(args) -> Path:
    if args.minutes is None:
        args.minutes = QUICK_MINUTES if args.profile == "quick" else budget_pilots.PILOT_MINUTES
    if not 0 < args.minutes <= 30:
        raise AtomintError(f"a pilot's --minutes must lie in (0, 30], got {args.minutes}")
    r = recipe(args, training.get_profile(args.profile).batch_size)
    name = pilot_name(r, args.minutes, args.processes)
    folder = training.train("schnet", "energy", 0, args.profile, models_dir=args.out, name=name,
                            threads=args.threads, processes=args.processes, progress=not args.quiet,
                            budget_minutes=args.minutes, overrides={"budget": r})
    log, prov = training.read_log(folder), store.provenance(folder)
    best = min(log, key=lambda row: row["val_mae"])
    row = {"name": name, "profile": args.profile, "processes": args.processes, "minutes": args.minutes, **r,
           "epochs": len(log), "wall_s": round(log[-1]["wall_s"], 1), "best_epoch": best["epoch"],
           "best_val_mae": round(best["val_mae"], 4)}
    upsert_row(Path(args.out) / SUMMARY, row, FIELDS)
    print(f"{name}: {len(log)} epochs in {log[-1]['wall_s'] / 60:.1f} min, best validation MAE "
          f"{best['val_mae']:.4f} kcal/mol at epoch {best['epoch']} ({prov['status']})")
    return folder


def read_rows(path: Path) -> list[dict]:
    """The rows of a summary CSV (empty if there is none yet)."""
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def upsert_row(path: Path, row: dict, fields: list[str]) -> None:
    """Put ``row`` into the summary CSV ``path`` in place of the row of the same ``name``, atomically; runs
    that end together (side by side) read and rewrite it one at a time."""
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = [x for x in read_rows(path) if x["name"] != row["name"]] + [row]
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, path)


def planned(args) -> None:
    """Replace the recipe arguments by pilot ``args.plan`` of the declared plan."""
    if not 0 <= args.plan < len(budget_pilots.PILOTS):
        raise AtomintError(f"--plan must lie in 0..{len(budget_pilots.PILOTS) - 1}, got {args.plan}")
    pilot = budget_pilots.PILOTS[args.plan]
    args.peak_lr, args.batch_scale, args.processes = pilot.peak_lr, pilot.batch_scale, budget_pilots.PILOT_PROCESSES
    if args.profile != "quick":  # a quick smoke of a planned pilot keeps its own (short) --minutes
        args.minutes = budget_pilots.PILOT_MINUTES


def choose(out: Path) -> str:
    """The chosen pilot among the declared pilots finished in ``out`` (``cpu`` profile, the plan's minutes and
    processes; declared rule: ``budget_pilots.choose``)."""
    rows = [r for r in read_rows(out / SUMMARY) if r["profile"] == "cpu" and int(r["processes"]) ==
            budget_pilots.PILOT_PROCESSES and float(r["minutes"]) == budget_pilots.PILOT_MINUTES]
    results = [budget_pilots.PilotResult(r["name"], float(r["peak_lr"]), int(r["batch_size"]),
                                         float(r["best_val_mae"])) for r in rows]
    best = budget_pilots.choose(results)
    return (f"chosen of {len(results)} pilots: {best.name} (peak lr {best.peak_lr:.3g}, batch {best.batch_size}, "
            f"best validation MAE {best.best_val_mae:.4f} kcal/mol)")


def plot(out: Path) -> Path:
    """Every pilot's validation MAE against wall time (minutes), log scale, into ``<out>/curves.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in read_rows(out / SUMMARY):
        log = training.read_log(out / row["name"])
        ax.plot([x["wall_s"] / 60 for x in log], [x["val_mae"] for x in log], marker=".", label=row["name"])
    ax.set(xlabel="training wall time (min)", ylabel="validation MAE (kcal/mol)", yscale="log",
           title="SchNet energy, fold 0: budget recipe pilots")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=120)
    return out / "curves.png"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="scratch folder for the pilot runs")
    ap.add_argument("--minutes", type=float, default=None,
                    help=f"the pilot's budget (≤ 30 min; default 30, with --profile quick {QUICK_MINUTES:g})")
    ap.add_argument("--peak-lr", type=float, default=budget.DEFAULT_RECIPE["peak_lr"],
                    help="peak learning rate at the profile's batch size (scaled by √k with --batch-scale k)")
    ap.add_argument("--min-lr", type=float, default=budget.DEFAULT_RECIPE["min_lr"])
    ap.add_argument("--warmup", type=float, default=budget.DEFAULT_RECIPE["warmup"], help="fraction of the budget")
    ap.add_argument("--start-factor", type=float, default=budget.DEFAULT_RECIPE["start_factor"])
    ap.add_argument("--ema", type=float, default=budget.DEFAULT_RECIPE["ema_decay"], help="weight-average decay per step")
    ap.add_argument("--batch-scale", type=int, default=1, help="global batch = k × the profile's")
    ap.add_argument("--processes", type=int, default=1, help="data-parallel processes (DDP)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process")
    ap.add_argument("--profile", default="cpu", choices=["cpu", "quick"], help="quick: a smoke run only")
    ap.add_argument("--plot", action="store_true", help="draw the pilots' curves in --out and exit")
    ap.add_argument("--plan", type=int, default=None, metavar="N",
                    help="run pilot N of the declared plan (atomint_helpers.training.budget_pilots.PILOTS)")
    ap.add_argument("--choose", action="store_true", help="print the chosen pilot of those in --out and exit")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    try:
        if args.plan is not None:
            planned(args)
        print(plot(Path(args.out)) if args.plot else choose(Path(args.out)) if args.choose else run_pilot(args))
    except AtomintError as e:
        raise SystemExit(f"pilot_budget: error: {e}") from None


if __name__ == "__main__":
    main()
