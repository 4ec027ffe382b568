"""The charge sign of each dipole checkpoint, recorded and applied at load.

The sign itself is decided by the models' one convention (:func:`atomint_helpers.models.charge_sign.
mulliken_charge_sign`: positive correlation with QM9's Mulliken charges on fixed sample molecules). The
same weights always give the same sign, so it is decided once per machine and recorded in the cache folder
(``charge_signs.json``, keyed by the weights' sha256 and the number of reference molecules); a later load
reads the record. A record that cannot be read is decided again, never trusted.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import AtomintError
from ..io import atomic_write_text
from ..models.charge_sign import REFERENCE_MOLECULES, ChargeSign, mulliken_charge_sign

#: the record's file name in the cache folder
SIGNS_FILE = "charge_signs.json"


def signs_file() -> Path:
    """The record of charge signs: ``charge_signs.json`` in the cache folder."""
    from ..data.paths import cache_dir

    return cache_dir() / SIGNS_FILE


def record_key(weights_sha256: str) -> str:
    """The key of a checkpoint's weights in the record: their sha256 and the number of reference molecules
    (a change of the convention's molecules decides every sign again)."""
    return f"{weights_sha256}-{REFERENCE_MOLECULES}"


def recorded_charge_sign(weights_sha256: str) -> ChargeSign | None:
    """The sign recorded for these weights, or ``None`` (no record, or one that does not read as ±1 and a
    reason)."""
    try:
        hit = json.loads(signs_file().read_text()).get(record_key(weights_sha256))
    except (OSError, ValueError, AttributeError, AtomintError):
        return None
    if isinstance(hit, list) and len(hit) == 2 and hit[0] in (1, -1):
        return ChargeSign(int(hit[0]), str(hit[1]))
    return None


def record_charge_sign(weights_sha256: str, charge_sign: ChargeSign) -> None:
    """Record a sign under its weights (best effort: a read-only or unreadable cache only costs deciding the
    sign again at the next load)."""
    try:
        path = signs_file()
        known = json.loads(path.read_text()) if path.is_file() else {}
        known[record_key(weights_sha256)] = [charge_sign.sign, charge_sign.reason]
        atomic_write_text(path, json.dumps(known, indent=0) + "\n")
    except (OSError, ValueError, AttributeError, AtomintError):
        pass


def apply_charge_sign(model, weights_sha256: str) -> ChargeSign:
    """Give a loaded dipole ``model`` its checkpoint's charge sign: the recorded one, else the one the
    convention decides (then recorded). The dipole head applies it to every forward pass."""
    charge_sign = recorded_charge_sign(weights_sha256)
    if charge_sign is None:
        charge_sign = mulliken_charge_sign(model)
        record_charge_sign(weights_sha256, charge_sign)
    model.head.charge_sign = float(charge_sign.sign)
    return charge_sign
