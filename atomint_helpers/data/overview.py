"""Small tables describing the data sets (pandas DataFrames), for the data chapter of the book.

All functions take a loaded :class:`~atomint_helpers.data.qm9.QM9` or
:class:`~atomint_helpers.data.crystals.Crystals` and compute everything from its arrays.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .qm9 import MAX_INDEX, N_MOLECULES_FULL, N_UNCHARACTERIZED, uncharacterized_indices


def chemical_symbol(z: int) -> str:
    from ase.data import chemical_symbols

    return chemical_symbols[int(z)]


def heavy_atoms(ds) -> np.ndarray:
    """Number of non-hydrogen atoms per molecule (or structure)."""
    Z = np.asarray(ds.arrays["Z"])
    offsets = _offsets(ds)
    return np.add.reduceat((Z > 1).astype(np.int64), offsets[:-1]) if len(Z) else np.zeros(0, np.int64)


def _offsets(ds) -> np.ndarray:
    if "offsets" in ds.arrays:
        return np.asarray(ds.arrays["offsets"], dtype=np.int64)
    return np.concatenate([[0], np.cumsum(np.asarray(ds.arrays["n_atoms"], dtype=np.int64))])


def element_table(Z: np.ndarray, offsets: np.ndarray, unit: str = "molecules") -> pd.DataFrame:
    """Per element: atoms of that element, their share of all atoms, and how many ``unit`` (molecules or
    structures) contain it at least once, with that share. Indexed by chemical symbol, ordered by Z."""
    Z = np.asarray(Z, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_items = len(offsets) - 1
    owner = np.repeat(np.arange(n_items), np.diff(offsets))
    elements, atoms = np.unique(Z, return_counts=True)
    pairs = np.unique(owner * 128 + Z)  # (item, element) present at least once
    containing = np.bincount(pairs % 128, minlength=128)[elements]
    df = pd.DataFrame({
        "Z": elements.astype(int),
        "atoms": atoms.astype(int),
        "% of atoms": np.round(100.0 * atoms / max(len(Z), 1), 2),
        unit: containing.astype(int),
        f"% of {unit}": np.round(100.0 * containing / max(n_items, 1), 2),
    }, index=pd.Index([chemical_symbol(z) for z in elements], name="element"))
    return df


def qm9_element_frequencies(ds) -> pd.DataFrame:
    return element_table(ds.arrays["Z"], _offsets(ds), "molecules")


def crystal_element_frequencies(cr) -> pd.DataFrame:
    return element_table(cr.arrays["Z"], _offsets(cr), "structures")


def qm9_counts(ds) -> pd.DataFrame:
    """Molecule and atom counts, the excluded molecules, elements and sizes (one row each)."""
    idx = np.asarray(ds.arrays["index"], dtype=np.int64)
    excluded = uncharacterized_indices()
    n_atoms = np.diff(_offsets(ds))
    heavy = heavy_atoms(ds)
    symbols = [chemical_symbol(z) for z in np.unique(ds.arrays["Z"])]
    rows = [
        ("molecules in this run", f"{len(ds):,}"),
        ("atoms in this run", f"{int(n_atoms.sum()):,}"),
        ("QM9 molecules in total (ids 1…133,885)", f"{MAX_INDEX:,}"),
        ("excluded: failed QM9's consistency check", f"{len(excluded):,}"),
        ("consistency-checked set (total − excluded)", f"{MAX_INDEX - len(excluded):,}"),
        ("excluded molecules present in this run", f"{int(np.isin(idx, excluded).sum()):,}"),
        ("share of the consistency-checked set in this run", f"{100.0 * len(ds) / N_MOLECULES_FULL:.1f} %"),
        ("elements", ", ".join(symbols)),
        ("atoms per molecule (min / median / max)",
         f"{int(n_atoms.min())} / {float(np.median(n_atoms)):g} / {int(n_atoms.max())}"),
        ("heavy (non-H) atoms per molecule (min / max)", f"{int(heavy.min())} / {int(heavy.max())}"),
    ]
    return _table(rows)


def _table(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["quantity", "value"]).set_index("quantity")
    df.index.name = None
    return df


def qm9_property_summary(ds) -> pd.DataFrame:
    """Mean, standard deviation, min, median and max of the atomization energy U0 − Σ atom references
    (kcal/mol), the dipole moment |μ| (Debye) and the number of atoms."""
    cols = {
        "atomization energy U0 (kcal/mol)": np.asarray(ds.atomization_energy("kcal/mol"), dtype=np.float64),
        "dipole moment |μ| (D)": np.asarray(ds.arrays["mu"], dtype=np.float64),
        "atoms per molecule": np.diff(_offsets(ds)).astype(np.float64),
    }
    return _summary(cols)


def _summary(cols: dict) -> pd.DataFrame:
    rows = {k: {"mean": v.mean(), "std": v.std(), "min": v.min(), "median": np.median(v), "max": v.max()}
            for k, v in cols.items()}
    return pd.DataFrame(rows).T.round(2)


def crystal_counts(cr) -> pd.DataFrame:
    n_atoms = np.asarray(cr.arrays["n_atoms"], dtype=np.int64)
    e = np.asarray(cr.arrays["e_form"], dtype=np.float64)
    rows = [
        ("structures in this run", f"{len(cr):,}"),
        ("atoms in this run", f"{int(n_atoms.sum()):,}"),
        ("elements", f"{len(cr.elements)}"),
        ("atoms per structure (min / median / max)",
         f"{int(n_atoms.min())} / {float(np.median(n_atoms)):g} / {int(n_atoms.max())}"),
        ("unphysical formation energies (< −5 eV/atom), dropped by clean()", f"{int((e < -5).sum())}"),
    ]
    return _table(rows)


def crystal_property_summary(cr) -> pd.DataFrame:
    return _summary({
        "formation energy (eV/atom)": np.asarray(cr.arrays["e_form"], dtype=np.float64),
        "atoms per structure": np.asarray(cr.arrays["n_atoms"], dtype=np.float64),
    })


__all__ = [
    "N_UNCHARACTERIZED", "chemical_symbol", "crystal_counts", "crystal_element_frequencies",
    "crystal_property_summary", "element_table", "heavy_atoms", "qm9_counts", "qm9_element_frequencies",
    "qm9_property_summary",
]
