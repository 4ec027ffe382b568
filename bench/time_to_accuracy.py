"""Time to accuracy of the committed SchNet ``cpu`` runs: the first epoch at which each run's validation MAE
reached 0.50 kcal/mol (energy) or 0.040 D (dipole), with the wall time its log recorded (on a shared
2-core machine: two runs side by side plus tests and book builds), and the same epochs priced on one
idle core in two ways: at the length of a real training epoch measured with the machine otherwise idle
(epochs of schnet-energy-cpu-fold2 during which the other training was paused; 100,000 training and 10,000
validation molecules, the save included), and from the training throughputs measured side by side in
bench/train_throughput.py on the embedded 2,000-molecule sample (atomint compiled vs schnetpack's stock
pipeline, 1 torch thread; bench/RESULTS.md). Reads logs only.

    python bench/time_to_accuracy.py [--models-dir models] [--pilots bench/pilots]
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

THRESHOLDS = {"energy": 0.50, "dipole": 0.040}
#: molecules/s on one torch thread, bench/train_throughput.py on an idle machine (bench/RESULTS.md)
THROUGHPUT = {"atomint (compiled)": 1010.0, "schnetpack stock": 142.0}
N_TRAIN = 100_000
#: epochs of a committed log that ran with the rest of the machine idle (the other training paused with
#: SIGSTOP from 2026-11-29 21:19:34 to 21:23:19 UTC; epoch 117 began 11 s before the pause, so it is left out)
IDLE_EPOCHS = ("schnet-energy-cpu-fold2", (118, 119))


def idle_epoch_s(models_dir: Path) -> float | None:
    """Mean wall time (s) of the :data:`IDLE_EPOCHS`, from the run's log (None if the log lacks them)."""
    run, epochs = IDLE_EPOCHS
    log = models_dir / run / "log.csv"
    if not log.is_file():
        return None
    wall = {int(r["epoch"]): float(r["wall_s"]) for r in csv.DictReader(open(log))}
    if not all(e in wall and e - 1 in wall for e in epochs):
        return None
    return sum(wall[e] - wall[e - 1] for e in epochs) / len(epochs)


def first_reaching(log: Path, threshold: float):
    rows = list(csv.DictReader(open(log)))
    for r in rows:
        if float(r["val_mae"]) <= threshold:
            return int(r["epoch"]), float(r["wall_s"]), len(rows)
    return None, None, len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--pilots", default="bench/pilots")
    args = ap.parse_args()
    logs = (sorted(Path(args.models_dir).glob("schnet-*-cpu-fold*/log.csv"))
            + sorted(Path(args.models_dir).glob("next/schnet-*-cpu-fold*/log.csv"))
            + sorted(Path(args.pilots).glob("*/log.csv")))
    epoch_s = idle_epoch_s(Path(args.models_dir))
    if epoch_s:
        run, epochs = IDLE_EPOCHS
        print(f"measured idle epoch: {epoch_s:.1f} s ({run}, epochs {', '.join(map(str, epochs))}), i.e. "
              f"{N_TRAIN / epoch_s:,.0f} training molecules/s with validation and save included\n")
    heads = ["run", "target", "epochs logged", "first epoch ≤ target", "logged wall (min)",
             "atomint, measured idle epochs (min)", *(f"{k}, idle core (min)" for k in THROUGHPUT)]
    print("| " + " | ".join(heads) + " |\n|" + "---|" * len(heads))
    for log in logs:
        run = ("next/" if log.parent.parent.name == "next" else "") + log.parent.name
        target = "energy" if "-energy-" in run else "dipole" if "-dipole-" in run else None
        if target is None:
            continue
        ep, wall, n = first_reaching(log, THRESHOLDS[target])
        est = [f"{ep * epoch_s / 60:.0f}" if ep and epoch_s else "—"]
        est += [f"{ep * N_TRAIN / v / 60:.0f}" if ep else "—" for v in THROUGHPUT.values()]
        print(f"| {run} | {THRESHOLDS[target]} {'kcal/mol' if target == 'energy' else 'D'} | {n} | "
              f"{ep or 'not yet'} | {f'{wall / 60:.0f}' if wall else '—'} | " + " | ".join(est) + " |")


if __name__ == "__main__":
    main()
