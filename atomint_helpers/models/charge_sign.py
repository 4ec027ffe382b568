"""The sign of a dipole model's latent charges: the one convention, decided against QM9's Mulliken charges.

A dipole model is trained on |μ| only, which does not change when every charge changes sign: which of the
two mirror solutions a run ends in is chance. The convention: the sign under which the model's charges
correlate positively (Pearson r) with QM9's Mulliken charges over the first :data:`REFERENCE_MOLECULES`
molecules of the embedded QM9 sample, the same molecules for every model. The dipole head applies it
(``DipoleHead.charge_sign``: the charges and μ's direction flip, |μ| does not).

This module decides the sign (:func:`mulliken_charge_sign`); the checkpoint store records it per weights
file and applies it at load (:mod:`atomint_helpers.store.signs`), so every chapter and tool sees one sign
per checkpoint. Like the head's element statistics (:meth:`AtomisticModel.fit_statistics`), it is a
choice of the model fitted to reference data, made below the store so that every loader applies it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

#: molecules of the embedded QM9 sample (the first ones) on which a dipole model's charge sign is decided
REFERENCE_MOLECULES = 300


@dataclass(frozen=True)
class ChargeSign:
    """A dipole model's charge sign, +1 or −1, and why (the correlation it was decided by, or where it was
    read from)."""

    sign: int
    reason: str

    def __post_init__(self):
        if self.sign not in (1, -1):
            from .. import AtomintError

            raise AtomintError(f"a charge sign is +1 or -1, got {self.sign!r}")


@torch.no_grad()
def mulliken_charge_sign(model) -> ChargeSign:
    """Decide ``model``'s charge sign (a dipole :class:`~atomint_helpers.models.AtomisticModel`): +1 when its
    unflipped charges correlate non-negatively with QM9's Mulliken charges over the first
    :data:`REFERENCE_MOLECULES` sample molecules, else −1. The model is left as it was (the sign it applies
    is not changed here)."""
    from ..data.batch import qm9_atoms_data
    from ..data.qm9 import load_sample
    from . import require_target

    require_target(model, "dipole", "a charge sign")
    ds = load_sample()
    rows = np.arange(min(REFERENCE_MOLECULES, len(ds)))
    data = qm9_atoms_data(ds, cutoff=model.cutoff)
    applied = model.head.charge_sign
    model.head.charge_sign = 1.0  # the charges as trained
    try:
        q = torch.cat([model(b)["partial_charges"] for b in data.batches(rows, 100)]).double().numpy()
    finally:
        model.head.charge_sign = applied
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    mulliken = np.asarray(ds.arrays["mulliken"], dtype=np.float64)[off[rows[0]]:off[rows[-1] + 1]]
    r = float(np.corrcoef(q, mulliken)[0, 1]) if np.std(q) > 0 else 0.0
    sign = -1 if r < 0 else 1
    return ChargeSign(sign, f"Pearson r with Mulliken {r:+.2f} on the first {len(rows)} sample molecules"
                            + (": charges flipped" if sign < 0 else ""))
