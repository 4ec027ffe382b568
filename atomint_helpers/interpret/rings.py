"""Six-membered carbon rings in QM9 and the atomic energies the models give their carbons (Fig. 3).
Computation only: :mod:`atomint_helpers.depict` draws the rings.

Ring perception (RDKit)
-----------------------
QM9 stores each molecule's GDB-17 SMILES next to its relaxed geometry. In the converted data the heavy
atoms of the SMILES appear in the same order as the heavy atoms of the xyz file for almost every
molecule (checked on the embedded sample: 1,987 of 2,000; the exceptions are zwitterions whose
hydrogens sit between heavy atoms and charged groups). atomint does not rely on that: for every
molecule it maps SMILES atom *k* to the *k*-th heavy atom of the geometry and **accepts the map only if
the elements agree and every SMILES bond is a bond in the geometry** (distance below 1.2 × the sum of
the covalent radii). Otherwise the bonds are determined from the geometry itself with
``rdkit.Chem.rdDetermineBonds`` on an xyz block (which keeps the xyz atom order); the ``bonds_from``
column says which way each molecule went.

A ring is one of RDKit's smallest set of smallest rings with exactly six atoms, all carbon (aromatic or
not). Its **score** under a model is the sum of the six carbons' latent atomic energies (kcal/mol); the
most negative score is the most stable ring.

Substituent motifs (per molecule, RDKit SMARTS): ``F`` ``[F]``; ``alkyne`` ``C#C``; ``OH`` ``[OX2;H1]``;
``NH`` ``[#7;!H0]`` (a nitrogen carrying hydrogen); ``fused_O5`` — a five-membered ring that contains an
oxygen and shares at least two atoms with the scored carbon ring (ring information, not SMARTS).
"""
from __future__ import annotations


import numpy as np

from .. import AtomintError
from ..io import atomic_path

MOTIFS = {"F": "[F]", "alkyne": "C#C", "OH": "[OX2;H1]", "NH": "[#7;!H0]"}
MOTIF_LABELS = {"F": "F", "alkyne": "C≡C", "OH": "OH", "NH": "NH", "fused_O5": "fused O-5-ring"}
MOTIF_COLUMNS = (*MOTIFS, "fused_O5")
BOND_TOLERANCE = 1.2
RING_COLUMNS = ("a0", "a1", "a2", "a3", "a4", "a5")
_CACHE_VERSION = "rings-v1"


def _chem():
    try:
        from rdkit import Chem, RDLogger
    except ImportError:  # pragma: no cover
        raise AtomintError("ring perception needs RDKit: pip install rdkit") from None
    RDLogger.DisableLog("rdApp.*")
    return Chem


def _xyz_block(Z, R) -> str:
    from ase.data import chemical_symbols

    return f"{len(Z)}\n\n" + "\n".join(f"{chemical_symbols[int(z)]} {x:.6f} {y:.6f} {w:.6f}"
                                        for z, (x, y, w) in zip(Z, R))


def _geometry_mol(Z, R):
    """An RDKit molecule with bonds from the geometry, atoms in xyz order (bond orders if RDKit can
    assign them for a neutral molecule, else single bonds)."""
    Chem = _chem()
    from rdkit.Chem import rdDetermineBonds

    mol = Chem.MolFromXYZBlock(_xyz_block(Z, R))
    if mol is None:
        raise AtomintError("RDKit could not read the geometry")
    rdDetermineBonds.DetermineConnectivity(mol)
    try:
        work = Chem.Mol(mol)
        rdDetermineBonds.DetermineBondOrders(work, charge=0)
        Chem.SanitizeMol(work)
        mol = work
    except Exception:
        mol.UpdatePropertyCache(strict=False)
        Chem.GetSymmSSSR(mol)
    return mol


def molecule_graph(Z, R, smiles: str | None):
    """``(mol, xyz_of_mol_atom, bonds_from)``: an RDKit molecule of the QM9 molecule and, for each of its
    atoms, the atom's index in the xyz order. SMILES bonds when the atom map checks out, else geometry."""
    Chem = _chem()
    Z = np.asarray(Z, dtype=np.int64)
    R = np.asarray(R, dtype=np.float64)
    heavy = np.flatnonzero(Z > 1)
    if smiles:
        mol = Chem.MolFromSmiles(smiles)
        if mol is not None and mol.GetNumAtoms() == len(heavy):
            zs = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
            if np.array_equal(zs, Z[heavy]):
                ok = True
                if mol.GetNumBonds():
                    b = np.array([(x.GetBeginAtomIdx(), x.GetEndAtomIdx()) for x in mol.GetBonds()])
                    pt = Chem.GetPeriodicTable()
                    rc = np.array([pt.GetRcovalent(int(z)) for z in zs])
                    d = np.linalg.norm(R[heavy[b[:, 0]]] - R[heavy[b[:, 1]]], axis=1)
                    ok = bool(np.all(d < BOND_TOLERANCE * (rc[b[:, 0]] + rc[b[:, 1]])))
                if ok:
                    return mol, heavy, "smiles"
    return _geometry_mol(Z, R), np.arange(len(Z)), "geometry"


_PATTERNS: dict = {}


def _patterns():
    if not _PATTERNS:
        Chem = _chem()
        _PATTERNS.update({k: Chem.MolFromSmarts(v) for k, v in MOTIFS.items()})
    return _PATTERNS


def motif_flags(mol, ring_atoms_mol) -> dict:
    """Which motifs the molecule has (see module docstring); ``ring_atoms_mol`` in the mol's numbering."""
    flags = {k: bool(mol.HasSubstructMatch(p)) for k, p in _patterns().items()}
    ring = set(int(a) for a in ring_atoms_mol)
    fused = False
    for r in mol.GetRingInfo().AtomRings():
        if len(r) == 5 and any(mol.GetAtomWithIdx(a).GetAtomicNum() == 8 for a in r) and len(ring & set(r)) >= 2:
            fused = True
            break
    flags["fused_O5"] = fused
    return flags


def six_carbon_rings(mol) -> list[tuple[int, ...]]:
    """The mol's rings (SSSR) of exactly six atoms that are all carbon, in the mol's numbering."""
    out = []
    for r in mol.GetRingInfo().AtomRings():
        if len(r) == 6 and all(mol.GetAtomWithIdx(a).GetAtomicNum() == 6 for a in r):
            out.append(tuple(int(a) for a in r))
    return out


def find_rings(ds, rows=None):
    """Every 6-membered all-carbon ring of the chosen molecules of a QM9 data set, one row per ring.

    Columns: ``molecule`` (QM9 index), ``row``, ``a0``…``a5`` (ring atoms, index within the molecule in
    xyz order), ``aromatic``, ``bonds_from`` (``smiles`` or ``geometry``), ``smiles`` (GDB-17) and the
    motif flags of :data:`MOTIF_COLUMNS`. Only molecules with at least six carbons are parsed."""
    import pandas as pd

    Z_all = np.asarray(ds.arrays["Z"], dtype=np.int64)
    R_all = ds.arrays["R"]
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    rows = np.arange(len(ds)) if rows is None else np.asarray(rows, dtype=np.int64)
    n_carbon = np.add.reduceat((Z_all == 6).astype(np.int64), off[:-1])
    n_carbon[np.diff(off) == 0] = 0
    candidates = rows[n_carbon[rows] >= 6]
    try:
        smiles = ds.smiles
    except AtomintError:
        smiles = None
    rec = []
    for row in candidates:
        a, b = off[row], off[row + 1]
        smi = str(smiles[row]) if smiles is not None else None
        mol, xyz_of, source = molecule_graph(Z_all[a:b], R_all[a:b], smi)
        for ring in six_carbon_rings(mol):
            atoms = sorted(int(xyz_of[k]) for k in ring)
            aromatic = all(mol.GetAtomWithIdx(k).GetIsAromatic() for k in ring)
            rec.append((int(ds.arrays["index"][row]), int(row), *atoms, aromatic, source, smi or "",
                        *motif_flags(mol, ring).values()))
    cols = ["molecule", "row", *RING_COLUMNS, "aromatic", "bonds_from", "smiles", *MOTIF_COLUMNS]
    df = pd.DataFrame.from_records(rec, columns=cols)
    return df.astype({"molecule": np.int64, "row": np.int64, **{c: np.int32 for c in RING_COLUMNS},
                      "aromatic": bool, **{c: bool for c in MOTIF_COLUMNS}})


def rings_cached(ds):
    """:func:`find_rings` over all of ``ds``, cached in ``$ATOMINT_CACHE/rings`` by the data's sha256."""
    import pandas as pd
    from ..data.paths import cache_dir

    if not ds.sha256:
        return find_rings(ds)
    path = cache_dir() / "rings" / f"{_CACHE_VERSION}-{ds.sha256[:16]}-{len(ds)}.csv.gz"
    if path.is_file():
        try:
            return pd.read_csv(path, keep_default_na=False).astype(
                {c: np.int32 for c in RING_COLUMNS} | {c: bool for c in MOTIF_COLUMNS} | {"aromatic": bool})
        except Exception:  # a broken cache entry is recomputed, never trusted
            pass
    df = find_rings(ds)
    with atomic_path(path, ".csv.gz") as tmp:
        df.to_csv(tmp, index=False)
    return df


# ------------------------------------------------------------------------------------------ scores
def _global_atoms(ds, rings) -> np.ndarray:
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    return off[rings["row"].to_numpy()][:, None] + rings[list(RING_COLUMNS)].to_numpy(dtype=np.int64)


def ring_scores(rings, terms, ds, column: str = "atomic_energy") -> np.ndarray:
    """Σ of the six ring carbons' latent atomic energies per ring (kcal/mol). ``terms`` (from
    :func:`atomint_helpers.interpret.atom_terms.checkpoint_terms`) must cover the rings' molecules."""
    from .atom_terms import per_atom_array

    if len(rings) == 0:
        return np.zeros(0)
    v = per_atom_array(terms, ds, column)[_global_atoms(ds, rings)]
    if np.isnan(v).any():
        raise AtomintError(f"the latent terms lack {int(np.isnan(v).any(axis=1).sum()):,} of the rings' molecules")
    return v.sum(axis=1)


def ring_rows(rings) -> np.ndarray:
    """The (sorted, unique) data rows of the molecules that have a ring."""
    return np.unique(rings["row"].to_numpy()).astype(np.int64)


def scores_by_fold(rings, frames_by_fold, ds, column: str = "atomic_energy"):
    """One score column per fold (``fold0`` …), their mean ``score`` (what the ranking uses) and ``std``,
    the standard deviation over the folds (kcal/mol; NaN with one fold)."""
    out = rings.copy()
    cols = []
    for k in sorted(frames_by_fold):
        out[f"fold{k}"] = ring_scores(rings, frames_by_fold[k], ds, column)
        cols.append(f"fold{k}")
    out["score"] = out[cols].mean(axis=1) if cols else np.nan
    out["std"] = out[cols].std(axis=1, ddof=1) if len(cols) > 1 else np.nan
    return out


def top_rings(scored, n: int = 10, by: str = "score"):
    """The ``n`` most stable rings (most negative ``by``), at most one ring per molecule."""
    s = scored.sort_values([by, "molecule"], kind="mergesort")
    return s.drop_duplicates("molecule", keep="first").head(n).reset_index(drop=True)


def top_overlap(scored, folds, n: int = 10) -> float:
    """Mean Jaccard overlap of the top-``n`` molecules between every pair of folds (1 = same molecules)."""
    import itertools

    tops = {k: set(top_rings(scored, n, by=f"fold{k}")["molecule"]) for k in folds}
    pairs = list(itertools.combinations(sorted(tops), 2))
    if not pairs:
        return float("nan")
    return float(np.mean([len(tops[a] & tops[b]) / len(tops[a] | tops[b]) for a, b in pairs]))


def motif_counts(top) -> dict:
    """How many of the ``top`` molecules carry each motif."""
    return {m: int(top[m].sum()) for m in MOTIF_COLUMNS}


def motif_table(tops: dict, baseline=None):
    """Motif counts per model's top list (and, with ``baseline``, the share among all ring molecules)."""
    import pandas as pd

    t = pd.DataFrame({name: motif_counts(top) for name, top in tops.items()})
    t.index = [MOTIF_LABELS[m] for m in t.index]
    if baseline is not None and len(baseline):
        per_mol = baseline.drop_duplicates("molecule")
        t["% of all ring molecules"] = [round(100 * float(per_mol[m].mean()), 1) for m in MOTIF_COLUMNS]
    return t


# ------------------------------------------------------------------------------------------ for drawing
def ring_molecules(top, ds) -> list[tuple]:
    """Each ``top`` ring's molecule as :func:`atomint_helpers.depict.draw_rings` draws it: ``(mol, ring)``, the
    RDKit molecule without its hydrogens (bonds as :func:`molecule_graph` finds them) and the six ring atoms
    in that molecule's numbering."""
    Chem = _chem()
    out = []
    for _, r in top.iterrows():
        s = ds.atom_slice(int(r["row"]))
        mol, xyz_of, _ = molecule_graph(ds.arrays["Z"][s], ds.arrays["R"][s], r.get("smiles") or None)
        mol_of = {int(x): k for k, x in enumerate(xyz_of)}
        ring = [mol_of[int(r[c])] for c in RING_COLUMNS]
        if any(a.GetAtomicNum() == 1 for a in mol.GetAtoms()):
            for a in mol.GetAtoms():
                a.SetIntProp("keep", a.GetIdx())
            mol = Chem.RemoveHs(mol, sanitize=False)
            new = {a.GetIntProp("keep"): a.GetIdx() for a in mol.GetAtoms()}
            ring = [new[a] for a in ring]
        out.append((mol, ring))
    return out


def describe_top(top, ds, score_cols=("score",)):
    """A display table of the top rings: QM9 id, SMILES, score(s), motifs present."""
    import pandas as pd

    motifs = top[list(MOTIF_COLUMNS)]
    rows = pd.DataFrame({"QM9 id": top["molecule"].to_numpy(), "SMILES (GDB-17)": top["smiles"].to_numpy()})
    for c in score_cols:
        rows[c] = top[c].round(2).to_numpy()
    if "std" in top and top["std"].notna().any():
        rows["fold std"] = [f"{x:.2f}" if np.isfinite(x) else "—" for x in top["std"].to_numpy(float)]
    rows["aromatic"] = np.where(top["aromatic"].to_numpy(), "yes", "no")
    rows["motifs"] = [", ".join(MOTIF_LABELS[m] for m, x in zip(MOTIF_COLUMNS, f) if x) or "—"
                      for f in motifs.to_numpy()]
    rows.index = pd.RangeIndex(1, len(rows) + 1, name="rank")
    return rows


def ring_counts(rings, ds):
    """How many molecules were searched and what was found (a one-column table of counts)."""
    import pandas as pd

    Z = np.asarray(ds.arrays["Z"], dtype=np.int64)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    n_carbon = np.add.reduceat((Z == 6).astype(np.int64), off[:-1])
    per_mol = rings.drop_duplicates("molecule")
    t = {
        "molecules in the data": len(ds),
        "molecules with ≥ 6 carbons (parsed)": int((n_carbon >= 6).sum()),
        "molecules with a 6-membered carbon ring": len(per_mol),
        "6-membered carbon rings": len(rings),
        "aromatic rings": int(rings["aromatic"].sum()),
        "rings with bonds from the SMILES": int((rings["bonds_from"] == "smiles").sum()),
        "rings with bonds from the geometry": int((rings["bonds_from"] == "geometry").sum()),
    }
    return pd.DataFrame({"count": pd.Series(t)})


def score_columns(scored) -> list[str]:
    """``score`` (the fold mean) and the per-fold score columns of a :func:`scores_by_fold` table."""
    return ["score", *[c for c in scored.columns if c.startswith("fold") and c[4:].isdigit()]]
