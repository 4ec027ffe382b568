"""Covalent bonds from a geometry: the number of bonded neighbours of every atom.

Used to group atoms by their environment (terminal N of a nitrile has one neighbour, an amine N three):
by the charges chapter, and by training, which logs per epoch how often a dipole model's latent charges
have the Mulliken sign in each (element, neighbours) group.
"""
from __future__ import annotations

import numpy as np

from .batch import molecule_pairs
from .qm9 import ranges


#: bonds from the geometry: atoms i and j are bonded when |r_i − r_j| ≤ COV_FACTOR (r_cov,i + r_cov,j),
#: with ase's covalent radii; 1.3 is the factor of RDKit's ``rdDetermineBonds.DetermineConnectivity``
COV_FACTOR = 1.3


def bonded_pairs(ds, rows=None) -> tuple[np.ndarray, np.ndarray, int]:
    """``(i, j, n_atoms)``: every covalent bond of the molecules ``rows`` of ``ds`` (default: all) in both
    directions, as atom positions in the order of :func:`latent_terms` (the atoms of ``rows``,
    concatenated). Bonds from the geometry (see :data:`COV_FACTOR`): the candidate pairs come from
    :func:`~atomint_helpers.data.batch.molecule_pairs` (vectorized, no per-molecule Python) within the
    longest bond any two present elements can form."""
    from ase.data import covalent_radii

    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    rows = np.arange(len(off) - 1) if rows is None else np.asarray(rows, dtype=np.int64)
    n = off[rows + 1] - off[rows]
    atoms = ranges(off[rows], n)
    if not len(atoms):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0
    R = np.asarray(ds.arrays["R"], dtype=np.float64)[atoms]
    rc = covalent_radii[np.asarray(ds.arrays["Z"])[atoms]]  # Å
    longest = float(np.nextafter(COV_FACTOR * 2 * rc.max(), np.inf))  # molecule_pairs keeps d < cutoff
    pairs = molecule_pairs(R, np.concatenate([[0], np.cumsum(n)]), longest)
    i, j = pairs.idx_i.astype(np.int64), pairs.idx_j.astype(np.int64)
    bonded = np.linalg.norm(R[i] - R[j], axis=1) <= COV_FACTOR * (rc[i] + rc[j])
    return i[bonded], j[bonded], len(atoms)


def neighbour_counts(ds, rows=None) -> np.ndarray:
    """Number of covalently bonded neighbours of every atom of the molecules ``rows`` of ``ds`` (default:
    all), in the atom order of :func:`latent_terms` (bonds: :func:`bonded_pairs`)."""
    i, _, n = bonded_pairs(ds, rows)
    return np.bincount(i, minlength=n)


def hydrogen_counts(ds, rows=None) -> np.ndarray:
    """Number of bonded hydrogens of every atom of the molecules ``rows`` of ``ds`` (same order)."""
    i, j, n = bonded_pairs(ds, rows)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    rows = np.arange(len(off) - 1) if rows is None else np.asarray(rows, dtype=np.int64)
    Z = np.asarray(ds.arrays["Z"])[ranges(off[rows], off[rows + 1] - off[rows])]
    return np.bincount(i, weights=(Z[j] == 1).astype(np.int64), minlength=n).astype(np.int64)


def mulliken_sign_groups(charges, mulliken, Z, neighbours, min_abs: float = 0.1, min_atoms: int = 20,
                         reference=None):
    """Share of atoms whose charge has the sign of their Mulliken charge, per (element Z, neighbours) group.

    ``charges``, ``mulliken`` (e), ``Z`` and ``neighbours`` are per-atom arrays of one length. Only atoms with
    |Mulliken| ≥ ``min_abs`` count, and only groups with at least ``min_atoms`` of them are returned, as
    a list of ``(Z, neighbours, atoms, agree)`` sorted by ``agree`` (worst group first). ``reference``
    (per-atom charges, e.g. Gasteiger's) judges the sign against another reference on the same atoms."""
    q, m = np.asarray(charges, dtype=np.float64), np.asarray(mulliken, dtype=np.float64)
    Z, nb = np.asarray(Z, dtype=np.int64), np.asarray(neighbours, dtype=np.int64)
    ref = m if reference is None else np.asarray(reference, dtype=np.float64)
    if not (len(q) == len(m) == len(Z) == len(nb) == len(ref)):
        raise ValueError(f"per-atom arrays of different lengths: {len(q)}, {len(m)}, {len(Z)}, {len(nb)}, "
                         f"{len(ref)}")
    sel = (np.abs(m) >= min_abs) & np.isfinite(ref)  # a reference without a value for an atom skips it
    agree = (np.sign(q) == np.sign(ref))[sel]
    key = Z[sel] * 100 + nb[sel]
    out = []
    for k in np.unique(key):
        g = key == k
        if g.sum() >= min_atoms:
            out.append((int(k // 100), int(k % 100), int(g.sum()), float(agree[g].mean())))
    return sorted(out, key=lambda t: (t[3], t[0], t[1]))
