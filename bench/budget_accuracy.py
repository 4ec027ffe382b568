"""Time to accuracy of the wall-time budget recipe (issue 37): how long ``atomint train --budget-minutes M``
takes from scratch to 0.50 kcal/mol (energy) or 0.040 D (dipole) **validation** MAE.

Each run trains SchNet (the ``cpu`` architecture, 64×3, 100,000 training and 10,000 validation molecules of
the fold) from scratch under the chosen recipe (:data:`atomint_helpers.training.budget.DEFAULT_RECIPE`,
chosen by the pilots of ``bench/pilot_budget.py``) to a budget of ``--minutes``, with ``--processes``
data-parallel processes of one torch thread each, into a scratch folder. The budget is the time the issue
allows (60 min on two processes, 100 min on one), so the schedule ends at that limit, and the time to
accuracy is the training wall time of the first epoch whose validation MAE is at or below the target (from
the run's log). One line per finished run goes to ``<out>/accuracy.csv``: the epochs, the first epoch's
seconds (SchNet's blocks compile in it) and the mean of the others, the epoch and minutes at which the target
was reached (blank if not), the seconds outside the epochs (start-up and the final test evaluation), the last
and best validation MAE, and the 1-minute load average before and after the run (the run's own processes
raise it to about their number). The test MAE that every run records is not read here.

    python bench/budget_accuracy.py --target energy --fold 0 --processes 2 --minutes 60 --out /tmp/accuracy
    python bench/budget_accuracy.py --target dipole --fold 0 --processes 1 --minutes 100 --out /tmp/accuracy
    python bench/budget_accuracy.py --table /tmp/accuracy [DIR ...]   # the Markdown table of bench/RESULTS.md

``--profile quick`` runs the same on the embedded sample for ``--minutes`` (a smoke run of this script).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

from atomint_helpers import store, training
from atomint_helpers.properties import TARGETS
from pilot_budget import read_rows, upsert_row
from time_to_accuracy import THRESHOLDS, first_reaching

SUMMARY = "accuracy.csv"
FIELDS = ["name", "profile", "target", "fold", "processes", "minutes", "peak_lr", "batch_size", "epochs",
          "first_epoch_s", "epoch_s", "reached_epoch", "reached_min", "outside_epochs_s", "last_val_mae",
          "best_val_mae", "load_before", "load_after", "started_utc", "cpu"]


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``; the platform's word elsewhere): timings of different
    machines are never compared with each other, so every row names its own."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0]} × {len(names)}" if names else platform.processor() or platform.machine()


def run_name(target: str, fold: int, minutes: float, processes: int) -> str:
    return f"schnet-{target}-fold{fold}-{minutes:g}min-p{processes}"


def epoch_seconds(log: list[dict]) -> tuple[float, float | None]:
    """The first epoch's wall time (s; SchNet's interaction blocks compile in it) and the mean of the others."""
    walls = [0.0] + [row["wall_s"] for row in log]
    steps = [b - a for a, b in zip(walls, walls[1:])]
    return steps[0], (sum(steps[1:]) / len(steps[1:]) if len(steps) > 1 else None)


def run(args) -> dict:
    name = run_name(args.target, args.fold, args.minutes, args.processes)
    load_before, started = os.getloadavg()[0], dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    folder = training.train("schnet", args.target, args.fold, args.profile, models_dir=args.out, name=name,
                            processes=args.processes, threads=1, progress=not args.quiet,
                            budget_minutes=args.minutes)
    total_s = time.monotonic() - t0
    log = training.read_log(folder)
    settings = store.provenance(folder)["profile_settings"]["budget"]
    first_s, epoch_s = epoch_seconds(log)
    hit_epoch, hit_s, _ = first_reaching(folder / store.LOG, THRESHOLDS[args.target])
    row = {"name": name, "profile": args.profile, "target": args.target, "fold": args.fold,
           "processes": args.processes, "minutes": args.minutes,
           "peak_lr": settings["peak_lr"], "batch_size": settings["batch_size"],
           "epochs": len(log), "first_epoch_s": round(first_s, 1),
           "epoch_s": round(epoch_s, 1) if epoch_s else "",
           "reached_epoch": hit_epoch or "", "reached_min": round(hit_s / 60, 1) if hit_epoch else "",
           "outside_epochs_s": round(total_s - log[-1]["wall_s"], 1),
           "last_val_mae": round(log[-1]["val_mae"], 4), "best_val_mae": round(min(r["val_mae"] for r in log), 4),
           "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
           "started_utc": started.strftime("%Y-%m-%d %H:%M"), "cpu": cpu_model()}
    upsert_row(Path(args.out) / SUMMARY, row, FIELDS)
    return row


def table(outs: list[Path]) -> str:
    """The finished runs of the folders ``outs`` as a Markdown table (minutes to the target, epochs, per-epoch
    seconds), machine by machine."""
    heads = ["machine", "target", "fold", "processes", "budget (min)", "epochs", "s per epoch (first; others)",
             "first epoch at the target", "minutes to the target", "s outside the epochs", "last validation MAE"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    rows = [r for out in outs for r in read_rows(out / SUMMARY)]
    for r in sorted(rows, key=lambda r: (r.get("cpu") or "", r["target"] != "energy", int(r["processes"]) == 1,
                                         int(r["fold"]))):
        goal = f"{THRESHOLDS[r['target']]:g} {TARGETS[r['target']].unit}"
        to = f"{float(r['reached_min']):.1f}" if r["reached_min"] else f"not reached in {float(r['minutes']):g}"
        lines.append(f"| {r.get('cpu') or 'not recorded'} | {r['target']} (≤ {goal}) | {r['fold']} | {r['processes']} | {float(r['minutes']):g} | "
                     f"{r['epochs']} | {r['first_epoch_s']}; {r['epoch_s']} | {r['reached_epoch'] or '—'} | {to} | "
                     f"{float(r['outside_epochs_s']):.0f} | "
                     f"{float(r['last_val_mae']):.4g} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="scratch folder for the runs")
    ap.add_argument("--target", choices=list(THRESHOLDS), default="energy")
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--processes", type=int, default=2, help="data-parallel processes, one torch thread each")
    ap.add_argument("--minutes", type=float, default=None,
                    help="the budget (default 60 with two or more processes, 100 with one)")
    ap.add_argument("--profile", default="cpu", choices=["cpu", "quick"], help="quick: a smoke run only")
    ap.add_argument("--table", nargs="+", metavar="DIR",
                    help="print the table of the finished runs in these folders (one per machine) and exit")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.table:
        print(table([Path(d) for d in args.table]))
        return
    if not args.out:
        ap.error("--out DIR is required for a run (the scratch folder of its checkpoints and accuracy.csv)")
    out = Path(args.out)
    if args.minutes is None:
        args.minutes = 60.0 if args.processes > 1 else 100.0
    out.mkdir(parents=True, exist_ok=True)
    r = run(args)
    to = f"reached at epoch {r['reached_epoch']} after {r['reached_min']} min" if r["reached_epoch"] else "not reached"
    print(f"{r['name']}: {r['epochs']} epochs, target {to}; last validation MAE {r['last_val_mae']} "
          f"{TARGETS[args.target].unit}")


if __name__ == "__main__":
    main()
