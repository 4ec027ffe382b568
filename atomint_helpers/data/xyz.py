"""Reading a user's molecules from xyz files, strictly, with errors that say what is wrong and where.

Accepts the plain xyz format (atom count, comment line, ``symbol x y z`` lines in Å; several frames
one after another) and QM9's extended variant (extra columns such as Mulliken charges, Fortran
exponents ``1.2*^-6``). Atomic numbers may stand in place of symbols.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import AtomintError


def _symbol_to_z(token: str, where: str) -> int:
    from ase.data import atomic_numbers

    if token.isdigit():
        z = int(token)
        if 1 <= z <= 118:
            return z
    else:
        sym = token[:1].upper() + token[1:].lower()
        if sym in atomic_numbers and sym != "X":
            return atomic_numbers[sym]
    raise AtomintError(f"{where}: unknown element {token!r}")


def parse_xyz(text: str, name: str = "<xyz>") -> list:
    """All frames of an xyz text as ``ase.Atoms`` (positions in Å)."""
    from ase import Atoms

    lines = text.splitlines()
    frames, k = [], 0
    while k < len(lines):
        if not lines[k].strip():
            k += 1
            continue
        try:
            n = int(lines[k].split()[0])
            if n < 1:
                raise ValueError
        except (ValueError, IndexError):
            raise AtomintError(f"{name}, line {k + 1}: expected the number of atoms, got {lines[k]!r}") from None
        comment = lines[k + 1] if k + 1 < len(lines) else ""
        Z, R = [], []
        for ln in range(k + 2, k + 2 + n):
            if ln >= len(lines):
                raise AtomintError(f"{name}, line {ln + 1}: {n} atoms announced but the file ends after "
                                   f"{ln - k - 2} atom lines")
            t = lines[ln].split()
            where = f"{name}, line {ln + 1}"
            if len(t) < 4:
                raise AtomintError(f"{where}: expected 'symbol x y z', got {lines[ln]!r}")
            Z.append(_symbol_to_z(t[0], where))
            try:
                R.append([float(v.replace("*^", "e")) for v in t[1:4]])
            except ValueError:
                raise AtomintError(f"{where}: coordinates are not numbers: {lines[ln]!r}") from None
        pos = np.array(R, dtype=np.float64)
        if not np.isfinite(pos).all():
            raise AtomintError(f"{name}, frame at line {k + 1}: non-finite coordinates")
        at = Atoms(numbers=Z, positions=pos)
        at.info["comment"] = comment
        frames.append(at)
        k += 2 + n
    if not frames:
        raise AtomintError(f"{name}: no molecule found (empty xyz file)")
    return frames


def read_xyz(path: str | os.PathLike) -> list:
    """Frames of an xyz file; a clear error for a missing, empty or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise AtomintError(f"xyz file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AtomintError(f"{path}: not a text file (xyz expected)") from None
    return parse_xyz(text, str(path))


def check_molecule(atoms, name: str = "molecule", min_distance: float = 0.1) -> None:
    """Refuse structures that are not molecules a model can read: no atoms, atoms on top of each other."""
    if len(atoms) == 0:
        raise AtomintError(f"{name}: no atoms")
    if len(atoms) > 1:
        from scipy.spatial.distance import pdist

        d = pdist(atoms.positions)
        if d.min() < min_distance:
            raise AtomintError(f"{name}: two atoms are {d.min():.3f} Å apart — not a molecular geometry "
                               f"(are the coordinates in Å?)")
