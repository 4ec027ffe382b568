"""Per-epoch pieces of a run: the epoch's training rows, predictions and metrics, the epoch log (``log.csv``)."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .. import store


LOG_FIELDS = ["epoch", "wall_s", "lr", "train_loss", "train_mae", "val_mae", "val_rmse"]
#: a run's epoch ``e`` shuffles with the stream ``seed · SEED_STRIDE + e``: the stride exceeds any run's epoch
#: count, so two (seed, epoch) pairs never share a stream
SEED_STRIDE = 100_003


def write_log(folder: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LOG_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{r[k]:.6g}" if isinstance(r[k], float) else r[k]) for k in LOG_FIELDS})
    store.atomic_write_bytes(folder / store.LOG, buf.getvalue().encode())


def read_log(folder: Path) -> list[dict]:
    """The epoch log of a checkpoint folder, as its last complete save wrote it (empty if none)."""
    with store.reading(folder) as path:
        p = path(store.LOG)
        if not p.is_file():
            return []
        with open(p, newline="") as f:
            return [{k: (int(v) if k == "epoch" else float(v)) for k, v in r.items()} for r in csv.DictReader(f)]


def epoch_rows(rows: np.ndarray, seed: int, epoch: int, epoch_molecules: int | None = None) -> tuple[np.ndarray, dict]:
    """An epoch's training rows and how to batch them (``AtomsData.batch_rows`` keywords): the training set
    shuffled with the seed ``seed ·`` :data:`SEED_STRIDE` ``+ epoch`` (a distinct stream per run and epoch, so a
    resumed run draws what an uninterrupted one would); with ``epoch_molecules`` above the set's size, whole passes over
    it, each shuffled, to at least that many molecules."""
    stream = seed * SEED_STRIDE + epoch
    passes = math.ceil((epoch_molecules or 0) / len(rows))
    if passes <= 1:
        return rows, dict(shuffle=True, seed=stream)
    rng = np.random.default_rng(stream)
    return np.concatenate([rows[rng.permutation(len(rows))] for _ in range(passes)]), dict(shuffle=False)
