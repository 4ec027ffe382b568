"""The element table: periods, IUPAC groups and positions in the periodic table (no data files)."""
from __future__ import annotations

import numpy as np

from .. import AtomintError

#: the main groups (IUPAC numbering); hydrogen is counted in group 1
MAIN_GROUPS = (1, 2, 13, 14, 15, 16, 17, 18)
GROUP_NAMES = {1: "1 (H, alkali metals)", 2: "2 (alkaline earths)", 13: "13 (boron group)",
               14: "14 (carbon group)", 15: "15 (pnictogens)", 16: "16 (chalcogens)", 17: "17 (halogens)",
               18: "18 (noble gases)"}
_PERIOD_ENDS = (2, 10, 18, 36, 54, 86, 118)
#: QM9's elements, as atomic numbers and symbols: the one list every QM9 model, check and table uses
QM9_ELEMENTS = (1, 6, 7, 8, 9)
QM9_SYMBOLS = ("H", "C", "N", "O", "F")


def period_of(z: int) -> int:
    """Period (row) of element ``z`` (1–7)."""
    z = int(z)
    if not 1 <= z <= 118:
        raise AtomintError(f"no element with atomic number {z}")
    return next(i + 1 for i, end in enumerate(_PERIOD_ENDS) if z <= end)


def group_of(z: int) -> int | None:
    """IUPAC group (1–18) of element ``z``; ``None`` for the lanthanides and actinides (f block,
    La–Lu and Ac–Lr)."""
    z, p = int(z), period_of(z)
    if p == 1:
        return 1 if z == 1 else 18
    start = _PERIOD_ENDS[p - 2] + 1
    k = z - start
    if p in (2, 3):
        return k + 1 if k < 2 else k + 11
    if p in (4, 5):
        return k + 1
    if k < 2:
        return k + 1
    if k < 17:  # La…Lu / Ac…Lr
        return None
    return k - 14 + 1


def main_group_elements(elements) -> np.ndarray:
    """The elements (atomic numbers, sorted) of groups 1, 2, 13–18 among ``elements``."""
    return np.array(sorted(int(z) for z in elements if group_of(z) in MAIN_GROUPS), dtype=np.int64)


def symbols(Z) -> list[str]:
    from ase.data import chemical_symbols

    return [chemical_symbols[int(z)] for z in Z]


def periodic_position(z: int) -> tuple[int, int]:
    """(row, column) of element ``z`` in an 18-column periodic table; lanthanides and actinides go to
    rows 8 and 9 (row 7 is left empty as a gap)."""
    z = int(z)
    if z == 1:
        return 0, 0
    if z == 2:
        return 0, 17
    for start, row in ((3, 1), (11, 2)):
        if start <= z < start + 2:
            return row, z - start
        if start + 2 <= z < start + 8:
            return row, z - (start + 2) + 12
    if 19 <= z <= 36:
        return 3, z - 19
    if 37 <= z <= 54:
        return 4, z - 37
    if z in (55, 56):
        return 5, z - 55
    if 57 <= z <= 71:
        return 8, z - 57 + 2
    if 72 <= z <= 86:
        return 5, z - 72 + 3
    if z in (87, 88):
        return 6, z - 87
    if 89 <= z <= 103:
        return 9, z - 89 + 2
    if 104 <= z <= 118:
        return 6, z - 104 + 3
    raise ValueError(f"no periodic-table position for Z={z}")
