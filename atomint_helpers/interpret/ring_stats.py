"""How far the ring ranking of Fig. 3 can be trusted: fold-to-fold stability and scores relative to carbon.

* :func:`top_stability` — per model: the mean Jaccard overlap of the folds' top-ten molecules, the mean
  Spearman rank correlation of all ring scores between folds, and how many of the top ten lie inside the
  fold noise (their fold-mean score is less than one fold standard deviation more negative than the
  score of the first ring outside the list, so another fold could swap them out).
* :func:`relative_scores` — the ring score minus six times the model's mean carbon energy (kcal/mol):
  what the six ring carbons carry beyond an average carbon of that model, so that a global per-element
  offset between BP and SchNet does not decide which model "puts more energy on the ring carbons".
* :func:`fold_differences` — BP's minus SchNet's mean ring score, fold by fold.
"""
from __future__ import annotations

import itertools
from typing import Mapping

import numpy as np

from .rings import top_rings, top_overlap


def top_stability(scored, folds, n: int = 10) -> dict:
    """``jaccard`` (mean over fold pairs, 1 = same molecules), ``spearman`` (mean over fold pairs, all
    rings), ``in_noise`` (how many of the top ``n`` are within one fold std of the (n+1)-th molecule's
    score) and ``n`` for one model's :func:`~atomint_helpers.interpret.rings.scores_by_fold` table."""
    from scipy.stats import spearmanr

    folds = sorted(folds)
    out = {"n": n, "jaccard": float("nan"), "spearman": float("nan"), "in_noise": 0, "folds": len(folds)}
    if len(folds) >= 2 and len(scored) > 2:
        out["jaccard"] = top_overlap(scored, folds, n)
        rho = [spearmanr(scored[f"fold{a}"], scored[f"fold{b}"])[0] for a, b in itertools.combinations(folds, 2)]
        out["spearman"] = float(np.mean(rho))
    ranked = top_rings(scored, n + 1)
    if len(ranked) > n and "std" in ranked and ranked["std"].notna().all():
        edge = float(ranked["score"].iloc[n])
        top = ranked.iloc[:n]
        out["in_noise"] = int(((edge - top["score"]) < top["std"]).sum())
    return out


def mean_carbon_energy(frame, column: str = "atomic_energy") -> float:
    """The mean latent energy (kcal/mol) of the carbons of one latent-terms table."""
    return float(frame.loc[frame["symbol"] == "C", column].mean())


def relative_scores(scored, frames_by_fold: Mapping[int, object], column: str = "atomic_energy"):
    """``scored`` with ``rel_fold<k>`` = ``fold<k>`` − 6 × that fold's mean carbon energy over the
    table's atoms, and their mean ``rel_score`` (kcal/mol)."""
    out = scored.copy()
    cols = []
    for k in sorted(frames_by_fold):
        out[f"rel_fold{k}"] = out[f"fold{k}"] - 6 * mean_carbon_energy(frames_by_fold[k], column)
        cols.append(f"rel_fold{k}")
    out["rel_score"] = out[cols].mean(axis=1)
    return out


def fold_differences(scored: Mapping[str, object], column: str = "fold{k}") -> dict:
    """``{fold: mean BP score − mean SchNet score}`` (kcal/mol) over the folds both models have;
    ``column`` names the per-fold score column (``fold{k}`` or ``rel_fold{k}``)."""
    def folds(df):
        return {int(c[len(column.format(k="")):]) for c in df.columns
                if c.startswith(column.format(k="")) and c[len(column.format(k="")):].isdigit()}

    common = sorted(folds(scored["bp"]) & folds(scored["schnet"]))
    return {k: float(scored["bp"][column.format(k=k)].mean() - scored["schnet"][column.format(k=k)].mean())
            for k in common}


# ------------------------------------------------------------------------------------------ substituents
#: what a ring carbon carries outside the ring, one class per neighbour atom (see :func:`substituents`)
SUBSTITUENTS = ("H", "F", "donor", "alkyne", "conjugated", "other")


def _neighbour_class(atom) -> str:
    """The class of an atom bonded to a ring carbon from outside the ring: ``H``; ``F``; ``donor`` (O or N
    carrying hydrogen: OH, NH, NH2); ``alkyne`` (a carbon in a C≡C); ``conjugated`` (any other atom with a
    double, triple or aromatic bond: C=C, C=O, C≡N, a fused aromatic ring); ``other`` (saturated)."""
    z = atom.GetAtomicNum()
    if z == 1:
        return "H"
    if z == 9:
        return "F"
    if z in (7, 8) and atom.GetTotalNumHs(includeNeighbors=True) > 0:
        return "donor"
    orders = [b.GetBondTypeAsDouble() for b in atom.GetBonds()]
    if z == 6 and any(b.GetBondTypeAsDouble() == 3.0 and b.GetOtherAtom(atom).GetAtomicNum() == 6
                      for b in atom.GetBonds()):
        return "alkyne"
    if any(o > 1.0 for o in orders) or atom.GetIsAromatic():
        return "conjugated"
    return "other"


def substituent_counts(mol, ring_atoms_mol) -> dict:
    """``{class: count}`` over the atoms bonded to the ring's carbons from outside the ring (hydrogens
    counted one by one, implicit or explicit), in the mol's numbering."""
    ring = {int(a) for a in ring_atoms_mol}
    out = dict.fromkeys(SUBSTITUENTS, 0)
    for a in ring:
        atom = mol.GetAtomWithIdx(a)
        out["H"] += atom.GetNumImplicitHs() + atom.GetNumExplicitHs()
        for nb in atom.GetNeighbors():
            if nb.GetIdx() not in ring:
                out[_neighbour_class(nb)] += 1
    return out


def substituents(rings, ds):
    """``rings`` with one column ``n_<class>`` per :data:`SUBSTITUENTS` class: how many atoms of that class
    the six ring carbons carry outside the ring (the same RDKit graph as the ring perception)."""
    from .rings import RING_COLUMNS, molecule_graph

    out = rings.copy()
    counts = []
    Z_all, R_all = ds.arrays["Z"], ds.arrays["R"]
    for _, r in rings.iterrows():
        s = ds.atom_slice(int(r["row"]))
        mol, xyz_of, _ = molecule_graph(Z_all[s], R_all[s], r.get("smiles") or None)
        mol_of = {int(x): k for k, x in enumerate(xyz_of)}
        counts.append(substituent_counts(mol, [mol_of[int(r[c])] for c in RING_COLUMNS]))
    for c in SUBSTITUENTS:
        out[f"n_{c}"] = np.array([k[c] for k in counts], dtype=np.int64)
    return out


def substituent_shift(table, score: str, cls: str, min_rings: int = 20) -> float:
    """The shift of the ring score (kcal/mol) per ``cls`` substituent in place of a hydrogen: the
    least-squares coefficient of ``n_<cls>`` in ``score ~ 1 + Σ n_<class>`` over the rows of ``table``, every
    class but ``H`` a regressor (so each coefficient compares the class with a hydrogen on the same ring
    carbon, the other substituents held fixed). NaN with fewer than ``min_rings`` rings carrying ``cls``."""
    others = [c for c in SUBSTITUENTS if c != "H"]
    if int((table[f"n_{cls}"] > 0).sum()) < min_rings:
        return float("nan")
    X = np.column_stack([np.ones(len(table))] + [table[f"n_{c}"].to_numpy(float) for c in others])
    keep = np.ptp(X, axis=0) > 0
    keep[0] = True
    coef, *_ = np.linalg.lstsq(X[:, keep], table[score].to_numpy(float), rcond=None)
    names = ["1"] + [c for c, k in zip(others, keep[1:]) if k]
    return float(coef[names.index(cls)]) if cls in names else float("nan")


def median_shift(table, score: str, cls: str, min_rings: int = 20) -> float:
    """The median ring score (kcal/mol) of the rings carrying at least one ``cls`` substituent minus that of
    the rings carrying none (NaN with fewer than ``min_rings`` on either side)."""
    has = table[f"n_{cls}"].to_numpy() > 0
    if has.sum() < min_rings or (~has).sum() < min_rings:
        return float("nan")
    s = table[score].to_numpy(float)
    return float(np.median(s[has]) - np.median(s[~has]))


def enrichment_p(k: int, n: int, base: float) -> float:
    """The chance of at least ``k`` of ``n`` molecules carrying a motif whose share among comparable
    molecules is ``base`` (binomial upper tail): small when a top list carries the motif more often than
    chance would. 1 for ``k`` = 0; NaN without a list or a base rate."""
    from scipy.stats import binom

    if n <= 0 or not np.isfinite(base):
        return float("nan")
    return float(binom.sf(k - 1, n, base)) if k > 0 else 1.0
