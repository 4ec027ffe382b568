"""Per-epoch pieces of a run: predictions and metrics, the epoch log (``log.csv``)."""
from __future__ import annotations

import csv
import io
from pathlib import Path


from .. import store
from ..models.predict import metrics, predict  # noqa: F401  (re-exported)


LOG_FIELDS = ["epoch", "wall_s", "lr", "train_loss", "train_mae", "val_mae", "val_rmse"]


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
