"""The second training stage and what watches a run: a weight average, a cosine schedule, and the
per-epoch Mulliken sign log of dipole runs (``signs.csv``)."""
from __future__ import annotations

import contextlib
import math
import csv
import io
from pathlib import Path

import numpy as np
import torch

from .. import AtomintError
from ..data.batch import AtomsData
from ..io import atomic_write_bytes


class WeightAverage:
    """Exponential moving average of a model's trainable parameters, updated after every optimizer step
    (``shadow ← decay·shadow + (1 − decay)·weights``); :meth:`applied` swaps it in for validation and saving."""

    def __init__(self, model, decay: float, shadow: list | None = None):
        self.decay = float(decay)
        self.params = [p for p in model.parameters() if p.requires_grad]
        if shadow is not None and [tuple(t.shape) for t in shadow] != [tuple(p.shape) for p in self.params]:
            raise AtomintError("the weight average in state.pt does not fit this model; delete the run folder "
                               "to train from scratch")
        self.shadow = [p.detach().clone() for p in self.params] if shadow is None else [t.clone() for t in shadow]

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - self.decay)

    @contextlib.contextmanager
    def applied(self):
        backup = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            torch._foreach_copy_(self.params, self.shadow)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, backup)


def cosine_lr(ext: dict, epoch: int, max_epochs: int, min_lr: float) -> float:
    """Learning rate of the epoch after ``epoch`` completed ones in the second stage: a cosine from
    ``ext["lr"]`` at ``ext["from_epoch"]`` down to ``min_lr`` at the stage's end.

    ``ext["cycles"]`` (optional): later warm restarts, ``[[from_epoch, lr], …]`` in epoch order; each is a
    new cosine from its ``lr`` at its ``from_epoch``, and every cycle ends where the next begins (the last
    at ``max_epochs``), so the epochs before the first restart keep the schedule they were trained with."""
    starts = [(int(ext["from_epoch"]), float(ext["lr"]))] + [(int(e), float(lr)) for e, lr in ext.get("cycles", ())]
    if any(b[0] <= a[0] for a, b in zip(starts, starts[1:])):
        raise AtomintError(f"the stage-2 cycles must start at increasing epochs, got {[e for e, _ in starts]}")
    i = max([k for k, (e, _) in enumerate(starts) if e <= epoch], default=0)
    start, peak = starts[i]
    end = starts[i + 1][0] if i + 1 < len(starts) else max_epochs
    t = min(max((epoch - start) / max(end - start, 1), 0.0), 1.0)
    return min_lr + 0.5 * (peak - min_lr) * (1.0 + math.cos(math.pi * t))


SIGNS = "signs.csv"


class SignMonitor:
    """Per epoch, on up to ``n_molecules`` validation molecules: the share of atoms whose latent charge has
    the Mulliken sign, per element and number of bonded neighbours (``data.bonds.mulliken_sign_groups``),
    after fixing the global sign (|μ| cannot tell the two mirror solutions apart). A run settling in a
    mirror solution for one kind of atom (e.g. terminal N) shows up while it trains, in ``signs.csv``."""

    FIELDS = ["epoch", "element", "neighbours", "atoms", "agree"]

    def __init__(self, ds, data: AtomsData, val_rows, n_molecules: int = 3000):
        from ..data.qm9 import ranges
        from ..data.bonds import neighbour_counts

        self.rows = np.asarray(val_rows)[:n_molecules]
        off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
        atoms = ranges(off[self.rows], off[self.rows + 1] - off[self.rows])
        self.data = data
        self.mulliken = np.asarray(ds.arrays["mulliken"], dtype=np.float64)[atoms]
        self.Z = np.asarray(ds.arrays["Z"], dtype=np.int64)[atoms]
        self.nb = neighbour_counts(ds, self.rows)

    @torch.no_grad()
    def groups(self, model) -> list[tuple]:
        from ..data.bonds import mulliken_sign_groups

        q = np.concatenate([model(b)["partial_charges"].double().numpy() for b in self.data.batches(self.rows, 500)])
        sign = 1.0 if float(q @ self.mulliken) >= 0 else -1.0
        return mulliken_sign_groups(sign * q, self.mulliken, self.Z, self.nb)


def write_signs(folder: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SignMonitor.FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_bytes(folder / SIGNS, buf.getvalue().encode())


def read_signs(folder: Path) -> list[dict]:
    """``signs.csv`` of a dipole run: one row per epoch, element and neighbour count (empty if absent)."""
    p = Path(folder) / SIGNS
    if not p.is_file():
        return []
    with open(p, newline="") as f:
        return [{"epoch": int(r["epoch"]), "element": r["element"], "neighbours": int(r["neighbours"]),
                 "atoms": int(r["atoms"]), "agree": float(r["agree"])} for r in csv.DictReader(f)]
