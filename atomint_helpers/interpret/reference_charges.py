r"""Reference partial charges to judge the sign of latent charges by, and how well each reproduces |μ|.

QM9 gives one set of atomic charges, Mulliken's (B3LYP/6-31G(2df,p)). Mulliken's split of the electron
density shares every overlap population equally between the two atoms, whatever their
electronegativities, and depends strongly on the basis set; with polarization functions it often gives
carbons large charges that no bond polarity explains. A second, independent reference is the
**Gasteiger–Marsili** charge (partial equalization of orbital electronegativity; J. Gasteiger, M. Marsili,
*Tetrahedron* 36, 3219 (1980); RDKit's ``ComputeGasteigerCharges``). It gives every atom an orbital
electronegativity by element *and hybridisation* (for carbon sp > sp² > sp³), so an sp carbon bonded
to an sp³ carbon comes out slightly negative, where Mulliken makes it strongly positive.

* :func:`gasteiger_charges` — Gasteiger charges of every atom of the chosen molecules, in the atom order
  of :func:`~atomint_helpers.interpret.atom_terms.latent_terms` (bonds and bond orders from QM9's SMILES
  where its atom map checks out, else from the geometry: :func:`~.rings.molecule_graph`); cached on disk.
* :func:`add_gasteiger` — the same as a ``gasteiger`` column of every per-atom table of a charge study.
* :func:`mulliken_dipoles` — |μ| (Debye) of the Mulliken charges as point charges about the centre of
  mass, the dipole head's formula (:mod:`atomint_helpers.models.heads`): how well the reference
  reproduces the only charge observable QM9 gives.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

from .. import AtomintError
from ..data.bonds import bonded_pairs
from ..data.qm9 import ranges
from ..io import atomic_path
from .atom_terms import molecule_rows

if TYPE_CHECKING:
    from .latent_study import Study

_CACHE_VERSION = "gasteiger-v1"


def _rows(ds, rows) -> np.ndarray:
    n = len(np.asarray(ds.arrays["offsets"])) - 1
    return np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)


def _one_molecule(Z, R, smiles) -> tuple[np.ndarray, np.ndarray | None]:
    """``(q, h_of_heavy)``: Gasteiger charges (e) of one molecule in xyz order. When the bonds came from
    the SMILES (heavy atoms only), the hydrogens are NaN in ``q`` and ``h_of_heavy[k]`` is the charge of
    the hydrogens of heavy atom ``k``; else ``h_of_heavy`` is None."""
    from rdkit import Chem
    from rdkit.Chem import rdPartialCharges

    from .rings import molecule_graph

    mol, xyz_of, how = molecule_graph(Z, R, smiles)
    q = np.full(len(Z), np.nan)
    if how == "smiles":  # heavy atoms only: add the hydrogens, each carries the charge of its siblings
        mol = Chem.AddHs(mol)
    rdPartialCharges.ComputeGasteigerCharges(mol, throwOnParamFailure=True)
    charge = np.array([a.GetDoubleProp("_GasteigerCharge") for a in mol.GetAtoms()])
    if how != "smiles":
        q[xyz_of] = charge
        return q, None
    heavy = len(xyz_of)
    q[xyz_of] = charge[:heavy]
    h_of_heavy = np.full(heavy, np.nan)
    for a in mol.GetAtoms():
        if a.GetIdx() >= heavy:
            h_of_heavy[a.GetNeighbors()[0].GetIdx()] = charge[a.GetIdx()]
    return q, h_of_heavy  # the caller places the hydrogens by the geometry's bonds


def gasteiger_charges(ds, rows=None, *, cache: bool = True) -> np.ndarray:
    """Gasteiger charges (e) of the atoms of the molecules ``rows`` of ``ds`` (default: all), concatenated
    in the atom order of :func:`~atomint_helpers.interpret.atom_terms.latent_terms`. A hydrogen takes the
    charge RDKit gives the hydrogens of the heavy atom it is bonded to in the geometry (hydrogens on one
    atom are equivalent for Gasteiger). Cached in ``$ATOMINT_CACHE/reference`` by the data's sha256 and
    the rows. A few ms per molecule (2.8 ms on the embedded sample, one core)."""
    rows = _rows(ds, rows)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    n = off[rows + 1] - off[rows]
    path = None
    if cache and getattr(ds, "sha256", None):
        from ..data.paths import cache_dir

        which = hashlib.sha256(rows.tobytes()).hexdigest()[:12]
        path = cache_dir() / "reference" / f"{_CACHE_VERSION}-{ds.sha256[:16]}-{which}.npy"
        if path.is_file():
            try:
                out = np.load(path, allow_pickle=False)
                if len(out) == int(n.sum()):
                    return out
            except Exception:  # a broken cache entry is recomputed, never trusted
                pass
    try:
        smiles = ds.smiles
    except AtomintError:
        smiles = None
    Z_all, R_all = np.asarray(ds.arrays["Z"]), np.asarray(ds.arrays["R"], dtype=np.float64)
    i, j, _ = bonded_pairs(ds, rows)
    start = np.concatenate([[0], np.cumsum(n)])
    partner = np.full(int(n.sum()), -1, dtype=np.int64)  # for each hydrogen: the heavy atom it is bonded to
    atoms = ranges(off[rows], n)
    Zc = Z_all[atoms]
    hb = (Zc[i] == 1) & (Zc[j] > 1)
    partner[i[hb]] = j[hb]
    out = np.empty(int(n.sum()))
    for k, r in enumerate(rows):
        a, b = off[r], off[r + 1]
        smi = str(smiles[r]) if smiles is not None else None
        try:
            res = _one_molecule(Z_all[a:b], R_all[a:b], smi)
        except Exception as e:  # RDKit has no parameters for an atom type: say which molecule
            raise AtomintError(f"no Gasteiger charges for QM9 molecule at row {r} ({smi}): "
                               f"{type(e).__name__}: {e}") from None
        q, h_of_heavy = res
        if h_of_heavy is not None:  # heavy atom k of the SMILES is the k-th heavy atom of the geometry
            h = np.flatnonzero(np.isnan(q))
            heavy_rank = np.cumsum(Z_all[a:b] > 1) - 1
            p = partner[start[k] + h] - start[k]
            q[h] = np.where(p >= 0, h_of_heavy[heavy_rank[np.clip(p, 0, None)]], np.nan)
        out[start[k]:start[k + 1]] = q
    if path is not None:
        with atomic_path(path, ".npy") as tmp:
            np.save(tmp, out)
    return out


def add_gasteiger(st: "Study", ds) -> "Study":
    """Add a ``gasteiger`` column (e) to every per-atom table of the charge study ``st`` over the data
    ``ds`` (same molecules in every table, so the charges are computed once). Returns ``st``."""
    tables = [df for by in st.frames.values() for df in by.values()]
    if not tables:
        return st
    rows = molecule_rows(tables[0])
    q = gasteiger_charges(ds, rows)
    for df in tables:
        if len(df) != len(q) or not np.array_equal(molecule_rows(df), rows):
            raise AtomintError("the checkpoints of this study cover different molecules; compute their "
                               "Gasteiger charges one table at a time")
        df["gasteiger"] = q
    return st


def mulliken_dipoles(ds, rows=None) -> np.ndarray:
    """|μ| (Debye) of QM9's Mulliken charges as point charges, ``|Σ q_i (r_i − r_COM)|``, per molecule of
    ``rows`` (default: all). Mulliken charges sum to zero, so the origin does not matter; the centre of
    mass is used as by the dipole head."""
    from ase.data import atomic_masses
    from ase.units import Debye

    if "mulliken" not in ds.arrays:
        raise AtomintError("these data carry no Mulliken charges (QM9 has them; the crystals do not)")
    rows = _rows(ds, rows)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    n = off[rows + 1] - off[rows]
    atoms = ranges(off[rows], n)
    R = np.asarray(ds.arrays["R"], dtype=np.float64)[atoms]
    m = atomic_masses[np.asarray(ds.arrays["Z"])[atoms]]
    q = np.asarray(ds.arrays["mulliken"], dtype=np.float64)[atoms]
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    com = np.add.reduceat(m[:, None] * R, start, axis=0) / np.add.reduceat(m, start)[:, None]
    d = np.add.reduceat(q[:, None] * (R - np.repeat(com, n, axis=0)), start, axis=0)
    return np.linalg.norm(d, axis=1) / Debye
