"""Reading a user's molecules from xyz files, strictly, with errors that say what is wrong and where.

Accepts the plain xyz format (atom count, comment line, ``symbol x y z`` lines in Å; several frames
one after another) and QM9's own ``dsgdb9nsd_NNNNNN.xyz`` files: the property line ``gdb <index> …``,
atom lines with a fifth column (the Mulliken charge), Fortran exponents such as ``1.2*^-6``, and after
the atoms three more lines — harmonic frequencies, SMILES (GDB-17 and relaxed) and InChI — which are
read into ``atoms.info`` (``qm9_index``, ``smiles``, ``inchi``) rather than taken for the next molecule.
Atomic numbers may stand in place of symbols.
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
        k += 2 + n
        if _is_qm9_trailer(comment, lines, k):
            head = comment.split()
            if len(head) > 1 and head[1].isdigit():
                at.info["qm9_index"] = int(head[1])
            at.info["smiles"] = lines[k + 1].split()[0]
            at.info["inchi"] = lines[k + 2].split()[0]
            k += 3
        frames.append(at)
    if not frames:
        raise AtomintError(f"{name}: no molecule found (empty xyz file)")
    return frames


def _is_number(token: str) -> bool:
    try:
        float(token.replace("*^", "e"))
    except ValueError:
        return False
    return True


def _is_qm9_trailer(comment: str, lines: list[str], k: int) -> bool:
    """Whether ``lines[k:k + 3]`` are the frequency, SMILES and InChI lines that end a molecule in QM9's
    extended xyz format (whose property line, ``comment``, starts with ``gdb``)."""
    head = comment.split()
    if not head or head[0] != "gdb" or k + 2 >= len(lines):
        return False
    freqs, smiles, inchi = lines[k].split(), lines[k + 1].split(), lines[k + 2].split()
    return (all(_is_number(t) for t in freqs) and len(smiles) >= 1 and len(inchi) >= 1
            and inchi[0].startswith("InChI="))


def read_xyz(path: str | os.PathLike) -> list:
    """Frames of an xyz file; a clear error for a missing, empty or malformed file."""
    path = Path(path)
    if path.is_dir():
        raise AtomintError(f"{path} is a folder, but an xyz file is expected")
    if not path.is_file():
        raise AtomintError(f"xyz file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AtomintError(f"{path}: not a text file (xyz expected)") from None
    except OSError as e:
        raise AtomintError(f"cannot read {path}: {e.strerror or e}") from None
    return parse_xyz(text, str(path))


def check_molecule(atoms, name: str = "molecule", min_distance: float = 0.1, allow_outside: bool | None = None,
                   elements=None) -> list[str]:
    """Refuse structures a model cannot judge, before any model sees them: :func:`screen_molecule`, then every
    refusal as one line. ``allow_outside`` (default: ``atoms.info['allow_outside']``, set by a tool whose user
    asked for it) turns the refusals into the returned warnings; the size budget is refused either way.
    Returns the findings' messages."""
    from .applicability import ALLOW_KEY

    allow = bool(atoms.info.get(ALLOW_KEY, False)) if allow_outside is None else bool(allow_outside)
    return screen_molecule(atoms, name, min_distance, elements).enforce(allow)


def screen_molecule(atoms, name: str = "molecule", min_distance: float = 0.1, elements=None):
    """The findings on a structure, before any model sees it: atoms on top of each other (closer than
    ``min_distance`` Å: wrong units or a duplicated line) end in one line at once; everything else is the
    :class:`~atomint_helpers.data.applicability.Applicability` of
    :func:`~atomint_helpers.data.applicability.check_applicability`, for the caller to enforce
    (``.enforce(allow_outside)``) and to mark its outputs by (``.inside``)."""
    from .applicability import MAX_COORDINATE, check_applicability

    if len(atoms) == 0:
        raise AtomintError(f"{name}: no atoms")
    pos = np.asarray(atoms.positions, dtype=np.float64)
    if 1 < len(atoms) <= 5_000 and np.isfinite(pos).all() and np.abs(pos).max() <= MAX_COORDINATE:
        from scipy.spatial import cKDTree

        close = cKDTree(pos).query_pairs(min_distance, output_type="ndarray")
        if len(close):
            d = float(np.min(np.linalg.norm(pos[close[:, 0]] - pos[close[:, 1]], axis=1)))
            raise AtomintError(f"{name}: two atoms are {d:.3f} Å apart — not a molecular geometry "
                               f"(are the coordinates in Å?)")
    return check_applicability(atoms, name, elements=elements)
