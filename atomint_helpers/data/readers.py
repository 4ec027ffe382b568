"""Reading a user's structures from any molecule file: all of it, or a one-line refusal of what cannot be read.

:func:`read_molecules` dispatches on the extension:

* ``.xyz``: atomint's strict reader (:mod:`atomint_helpers.data.xyz`, QM9's own files included). A comment
  line with extended-xyz keys (``Lattice=``, ``pbc=``, ``Properties=``) is refused: the plain reader would
  drop the cell; rename the file to ``.extxyz``.
* ``.sdf``, ``.sd``, ``.mol``: RDKit, every record as one frame (hydrogens kept as written). Each record
  must have 3D coordinates and explicit hydrogens (a 2D drawing or implicit hydrogens are refused, naming
  the record); formal charges (``M  CHG``) go to ``atoms.info['formal_charges']`` and their sum to
  ``atoms.info['charge']``, unpaired electrons (``M  RAD``) to ``atoms.info['radical_electrons']``, so the
  applicability check sees them.
* anything else (``.extxyz``, ``.pdb``, ``.cif``, …): ASE's readers, every frame; cells and periodicity are
  kept (the applicability check refuses periodic structures).

Coordinates in Å throughout.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import AtomintError
from .xyz import read_xyz

SDF_SUFFIXES = (".sdf", ".sd", ".mol")
EXTXYZ_KEYS = ("lattice=", "pbc=", "properties=")


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0][:160] if str(e) else type(e).__name__


def read_sdf(path: Path) -> list:
    """Every record of an SDF / mol file as ``ase.Atoms`` (see the module docstring)."""
    from ase import Atoms

    from .. import require

    require("rdkit", "read SDF and mol files")
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    try:
        supplier = Chem.SDMolSupplier(str(path), removeHs=False, sanitize=False, strictParsing=False)
        records = list(supplier)
    except OSError as e:
        raise AtomintError(f"cannot read {path}: {e.strerror or e}") from None
    finally:
        RDLogger.EnableLog("rdApp.*")
    if not records:
        raise AtomintError(f"{path} holds no molecule record")
    frames = []
    for k, mol in enumerate(records, 1):
        where = f"{path}, record {k} of {len(records)}"
        if mol is None:
            raise AtomintError(f"{where}: RDKit cannot read this record (malformed counts or atom block)")
        if mol.GetNumAtoms() == 0:
            raise AtomintError(f"{where}: no atoms")
        mol.UpdatePropertyCache(strict=False)
        conf = mol.GetConformer() if mol.GetNumConformers() else None
        pos = np.asarray(conf.GetPositions(), dtype=np.float64) if conf is not None else None
        if pos is None or not conf.Is3D():  # RDKit: the header's 2D/3D flag, else whether any z differs from 0
            raise AtomintError(f"{where}: 2D coordinates (a drawing, not a geometry); give 3D coordinates in Å, "
                               f"e.g. from a geometry optimisation, or use --smiles to embed one")
        implicit = [a.GetIdx() for a in mol.GetAtoms() if a.GetNumImplicitHs() > 0]
        if implicit:
            raise AtomintError(f"{where}: {sum(mol.GetAtomWithIdx(i).GetNumImplicitHs() for i in implicit)} "
                               f"hydrogen atom(s) are implicit (no coordinates; on atoms {implicit[:6]}); give every "
                               f"hydrogen with 3D coordinates, or use --smiles to embed the molecule")
        at = Atoms(numbers=[a.GetAtomicNum() for a in mol.GetAtoms()], positions=pos)
        formal = [a.GetFormalCharge() for a in mol.GetAtoms()]
        at.info["formal_charges"] = formal
        at.info["charge"] = int(sum(formal))
        radicals = sum(a.GetNumRadicalElectrons() for a in mol.GetAtoms())
        if radicals:
            at.info["radical_electrons"] = int(radicals)
        if mol.HasProp("_Name") and mol.GetProp("_Name").strip():
            at.info["name"] = mol.GetProp("_Name").strip()
        frames.append(at)
    return frames


def read_molecules(path: str | os.PathLike) -> list:
    """Every structure of a molecule file as ``ase.Atoms`` (Å); one-line errors (see the module docstring)."""
    p = Path(path)
    if p.is_dir():
        raise AtomintError(f"{path} is a folder, but a molecule file is expected")
    if not p.is_file():
        raise AtomintError(f"{path} is not a file")
    suffix = p.suffix.lower()
    if suffix == ".xyz":
        frames = read_xyz(p)
        for k, at in enumerate(frames, 1):
            comment = str(at.info.get("comment", "")).lower()
            if any(key in comment for key in EXTXYZ_KEYS):
                raise AtomintError(f"{path}, frame {k}: the comment line holds extended-xyz keys (Lattice=, pbc=, "
                                   f"Properties=) that a plain .xyz reader would drop; rename the file to "
                                   f"{p.with_suffix('.extxyz').name}")
        return frames
    if suffix in SDF_SUFFIXES:
        return read_sdf(p)
    import ase.io

    try:
        frames = ase.io.read(p, index=":")
    except MemoryError:
        raise AtomintError(f"not enough memory to read {path}; split it into smaller files") from None
    except Exception as e:  # ase raises many kinds for unreadable input
        raise AtomintError(f"cannot read {path} as a molecule file ({_first_line(e)}); give a format ASE reads, "
                           f"e.g. .xyz, .extxyz, .sdf, .pdb, .cif") from None
    frames = frames if isinstance(frames, list) else [frames]
    if not frames:
        raise AtomintError(f"{path} holds no molecule")
    for at in frames:
        if "initial_charges" in at.arrays and np.any(at.arrays["initial_charges"]):
            q = np.asarray(at.arrays["initial_charges"], dtype=np.float64)
            if np.allclose(q, np.round(q)):  # integer charges are formal charges
                at.info.setdefault("formal_charges", [int(v) for v in np.round(q)])
                at.info.setdefault("charge", int(np.round(q.sum())))
    return frames
