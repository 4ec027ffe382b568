"""Element embeddings of SchNet trained on Materials Project crystals (Fig. 7), with numbers.

SchNet starts every atom from a learned vector per element: row ``Z`` of
``model.representation.embedding.weight`` (``n_atom_basis`` numbers). The paper projects the embeddings
of the main-group elements onto their two leading principal components and reads off periodic-table
structure: elements of a group cluster, hydrogen lies apart from the alkali metals, and within a group
the elements are ordered from light to heavy. This module turns each reading into a number:

* :func:`embedding_pca` — PCA (scikit-learn, full SVD) of the embeddings of chosen elements; each
  component's sign is fixed so that its largest loading is positive, so the picture is the same on every
  machine and sklearn version.
* :func:`group_ordering` — within one group, the Spearman rank correlation between the period and the
  position along the group's own direction in the PC plane (the first principal axis of the group's
  points). The direction has no preferred sign, so ``|ρ|`` is what counts (1 = perfectly ordered).
* :func:`hydrogen_apart` — H's distance from the centroid of the other group-1 elements, relative to the
  largest distance of any of them from that centroid (> 1: H lies outside the alkali cluster).
* :func:`spread_ratio` — the paper's "groups 1–5 cluster, groups 6–8 slightly more scattered": the mean
  within-group spread in the PC plane of the paper's groups VI–VIII over that of groups I–V (the paper
  numbers the main groups I–VIII: :data:`PAPER_GROUPS` maps them to IUPAC 1, 2, 13–18).
* :func:`tiered_order` — the paper's tiered orders ("H – [Na, Li] – [K, Rb, Cs]", :data:`PAPER_TIERS`):
  are the tiers separated along the group's direction in the plane (order inside a tier free)?
* :func:`clustering_scores` — silhouette by group and nearest-neighbour group agreement, in any space
  (the PC plane, or the full embedding space), with :func:`chance_nn_agreement` and
  :func:`permutation_p`.

The random-initialisation baseline, the reference embeddings and Fig. 7 in one call live in
:mod:`~atomint_helpers.interpret.embedding_study`. :func:`initial_embeddings` rebuilds the very
initialisation a checkpoint started from (the training seed is stored in its provenance), and
:func:`random_embeddings` draws others exactly like it.

Elements absent from the training split never receive a gradient, so Adam leaves their rows exactly at
their initial values: :func:`trained_elements` finds the elements the model actually saw by comparing
with the rebuilt initialisation (and checks the rebuild on rows that can never be trained).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from .. import AtomintError
from ..data.elements import group_of, period_of, symbols

#: the paper numbers the main groups I–VIII (Fig. 7: "groups 1–5 …, groups 6–8 …"); their IUPAC groups
PAPER_GROUPS = {1: 1, 2: 2, 3: 13, 4: 14, 5: 15, 6: 16, 7: 17, 8: 18}
#: the paper's tiered orders within a main group (Fig. 7), as symbols: the tiers follow each other along the
#: group's direction, the order inside a tier is left open ("H – [Na, Li] – [K, Rb, Cs]")
PAPER_TIERS = {1: (("H",), ("Na", "Li"), ("K", "Rb", "Cs")), 5: (("N",), ("As", "P"), ("Sb", "Bi"))}
#: seeds of the untrained baseline embeddings: disjoint from the fold seeds (0, 1, 2, …) that training
#: uses, so no baseline draw is a checkpoint's own initialisation
RANDOM_SEEDS = range(1000, 1020)


# ------------------------------------------------------------------------------------------ embeddings
def embedding_matrix(model) -> np.ndarray:
    """All rows of a SchNet model's element embedding (row Z = atomic number Z), float64."""
    rep = getattr(model, "representation", None)
    if rep is None or not hasattr(rep, "embedding"):
        raise AtomintError("element embeddings exist for SchNet models only (this model has none)")
    return rep.embedding.weight.detach().cpu().double().numpy().copy()


def initial_embeddings(config: dict, seed: int) -> np.ndarray:
    """The embedding matrix a model built from ``config`` starts with when training seeds torch with
    ``seed`` (what :func:`atomint_helpers.training.train` does: ``torch.manual_seed(seed); build(config)``).
    The global torch RNG is left as it was."""
    import torch

    from ..models import build

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = build(config)
    return embedding_matrix(model)


def random_embeddings(max_z: int, dim: int, seed: int, std: float = 1.0) -> np.ndarray:
    """An untrained embedding drawn like SchNet's (``torch.nn.Embedding(max_z, dim)``: N(0, 1), times
    ``std``: the model config's ``embedding_std``)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        w = torch.nn.Embedding(int(max_z), int(dim)).weight
    return w.detach().double().numpy() * float(std)


def init_std(model) -> float:
    """The scale of a SchNet model's initial embeddings (its config's ``embedding_std``, default 1)."""
    return float(model.config.get("representation", {}).get("embedding_std") or 1.0)


def trained_elements(model, seed: int, config: dict | None = None) -> np.ndarray:
    """Atomic numbers whose embedding row moved away from its initial value during training (those that
    occurred in the training split). Raises if the initialisation cannot be rebuilt (checked on the rows
    no structure can ever contain: Z = 0 and atomic numbers outside the model's elements)."""
    config = config or model.config
    W, W0 = embedding_matrix(model), initial_embeddings(config, seed)
    if W.shape != W0.shape:
        raise AtomintError(f"embedding shapes differ: trained {W.shape}, rebuilt initial {W0.shape}")
    known = {int(z) for z in config["elements"]}
    never = [z for z in range(W.shape[0]) if z not in known]
    if never and not np.array_equal(W[never], W0[never]):
        raise AtomintError("the rebuilt initial embeddings do not match the untrainable rows of the checkpoint "
                           "(different seed or code version); cannot tell trained from untrained elements")
    moved = np.flatnonzero(np.any(W != W0, axis=1))
    return np.array([z for z in moved if z in known], dtype=np.int64)


# ------------------------------------------------------------------------------------------ PCA
@dataclass
class EmbeddingPCA:
    """PCA of element embeddings: ``coords`` [n, k] of the elements ``Z``; ``explained`` the fraction of
    variance per component; ``components`` [k, dim] and ``mean`` [dim] to project other embeddings."""

    Z: np.ndarray
    coords: np.ndarray
    explained: np.ndarray
    components: np.ndarray
    mean: np.ndarray

    @property
    def symbols(self) -> list[str]:
        return symbols(self.Z)

    @property
    def groups(self) -> np.ndarray:
        return np.array([group_of(z) or 0 for z in self.Z])

    @property
    def periods(self) -> np.ndarray:
        return np.array([period_of(z) for z in self.Z])

    @property
    def explained_percent(self) -> float:
        """Variance explained by all kept components together, in %."""
        return float(100.0 * self.explained.sum())

    def project(self, X: np.ndarray) -> np.ndarray:
        """Coordinates of other embedding vectors (rows of ``X``) on the same components."""
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.components.T

    def coord(self, z: int) -> np.ndarray:
        i = np.flatnonzero(self.Z == int(z))
        if len(i) == 0:
            raise AtomintError(f"element {symbols([z])[0]} is not in this PCA")
        return self.coords[i[0]]

    def frame(self):
        import pandas as pd

        df = pd.DataFrame({"Z": self.Z, "group": self.groups, "period": self.periods})
        for k in range(self.coords.shape[1]):
            df[f"PC{k + 1}"] = self.coords[:, k]
        df.index = pd.Index(self.symbols, name="element")
        return df


def embedding_pca(Z, X: np.ndarray, n_components: int = 2) -> EmbeddingPCA:
    """PCA of the embedding rows ``X`` [n, dim] of the elements ``Z`` (deterministic, see module docstring)."""
    from sklearn.decomposition import PCA

    Z = np.asarray(Z, dtype=np.int64)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) != len(Z):
        raise AtomintError(f"need one embedding row per element: {len(Z)} elements, X of shape {X.shape}")
    if len(Z) <= n_components:
        raise AtomintError(f"PCA with {n_components} components needs more than {n_components} elements, got {len(Z)}")
    pca = PCA(n_components=n_components, svd_solver="full").fit(X)
    comps = pca.components_.copy()
    signs = np.sign(comps[np.arange(len(comps)), np.argmax(np.abs(comps), axis=1)])
    comps *= signs[:, None]
    coords = (X - pca.mean_) @ comps.T
    return EmbeddingPCA(Z, coords, pca.explained_variance_ratio_.copy(), comps, pca.mean_.copy())


# ------------------------------------------------------------------------------------------ the paper's readings
def group_ordering(pca: EmbeddingPCA, group: int, exclude=(1,)) -> dict:
    """Light-to-heavy order within ``group`` in the PC plane: Spearman ρ between the period and the
    position along the group's first principal axis (hydrogen excluded by default: it is the subject of
    :func:`hydrogen_apart`). ``abs_rho`` = 1 means the elements lie in period order along the group's
    direction."""
    from scipy.stats import spearmanr

    sel = np.flatnonzero((pca.groups == group) & ~np.isin(pca.Z, list(exclude)))
    out = {"group": group, "elements": [pca.symbols[i] for i in sel], "n": len(sel)}
    if len(sel) < 3:
        return {**out, "rho": float("nan"), "abs_rho": float("nan"), "order": []}
    centred, axis = _group_axis(pca.coords[sel])
    pos = centred @ axis
    periods = pca.periods[sel]
    # ρ of a few ranks is a ratio of small integers; rounded so that e.g. one swapped pair of five (ρ = 0.9,
    # computed as 0.8999999999999998) meets the criterion ρ ≥ 0.9 as intended
    rho = round(float(spearmanr(periods, pos).statistic), 10)
    if rho < 0:  # orient the axis from light to heavy
        pos, rho = -pos, -rho
    order = [pca.symbols[sel[i]] for i in np.argsort(pos, kind="stable")]
    return {**out, "rho": rho, "abs_rho": abs(rho), "order": order}


def hydrogen_apart(pca: EmbeddingPCA) -> dict:
    """How far H lies from the other group-1 elements in the PC plane: ``ratio`` = |H − c| / max_k |A_k − c|
    with c the centroid of the alkali metals A_k present; ``nearest`` = the element closest to H."""
    alk = np.flatnonzero((pca.groups == 1) & (pca.Z != 1))
    if 1 not in pca.Z or len(alk) < 2:
        return {"ratio": float("nan"), "d_H": float("nan"), "d_alkali_max": float("nan"), "nearest": None,
                "n_alkali": len(alk)}
    c = pca.coords[alk].mean(0)
    d_alk = np.linalg.norm(pca.coords[alk] - c, axis=1)
    h = pca.coord(1)
    d_h = float(np.linalg.norm(h - c))
    others = np.flatnonzero(pca.Z != 1)
    nearest = others[np.argmin(np.linalg.norm(pca.coords[others] - h, axis=1))]
    return {"ratio": d_h / float(d_alk.max()), "d_H": d_h, "d_alkali_max": float(d_alk.max()),
            "nearest": pca.symbols[nearest], "n_alkali": len(alk)}


def _group_axis(P: np.ndarray):
    """Centred points and their first principal axis (the direction of a group in the plane)."""
    centred = P - P.mean(0)
    return centred, np.linalg.svd(centred, full_matrices=False)[2][0]


def group_spread(pca: EmbeddingPCA, exclude=(1,)) -> dict[int, float]:
    """Per IUPAC group, the mean distance of its elements from the group's centroid in the PC plane (PC
    units); groups with fewer than two elements are left out; hydrogen is excluded by default (it is the
    subject of :func:`hydrogen_apart`)."""
    keep = ~np.isin(pca.Z, list(exclude))
    out = {}
    for g in sorted(set(pca.groups[keep].tolist())):
        P = pca.coords[keep & (pca.groups == g), :2]
        if len(P) >= 2:
            out[int(g)] = float(np.linalg.norm(P - P.mean(0), axis=1).mean())
    return out


def spread_ratio(pca: EmbeddingPCA, first=(1, 2, 3, 4, 5), then=(6, 7, 8), exclude=(1,)) -> dict:
    """The paper's "groups 1–5 cluster, groups 6–8 slightly more scattered", as a number: the mean of
    :func:`group_spread` over the paper's groups ``then`` divided by that over ``first`` (paper numbering
    I–VIII, mapped to IUPAC groups by :data:`PAPER_GROUPS`; each group weighs the same). ``ratio`` > 1: the
    later groups are more scattered. Scale-free (both spreads are in PC units)."""
    spread = group_spread(pca, exclude)
    a = [spread[PAPER_GROUPS[g]] for g in first if PAPER_GROUPS[g] in spread]
    b = [spread[PAPER_GROUPS[g]] for g in then if PAPER_GROUPS[g] in spread]
    mean_a = float(np.mean(a)) if a else float("nan")
    mean_b = float(np.mean(b)) if b else float("nan")
    return {"spread_first": mean_a, "spread_then": mean_b, "ratio": mean_b / mean_a if a and b else float("nan"),
            "per_group": spread, "n_first": len(a), "n_then": len(b)}


def tiered_order(pca: EmbeddingPCA, tiers) -> dict:
    """Whether the tiers of symbols (e.g. ``(("H",), ("Na", "Li"), ("K", "Rb", "Cs"))``) follow each other
    along the group's direction in the PC plane: the first principal axis of all tier elements, oriented so
    that the first tier's centroid comes first. ``gaps`` [k] = min position in tier k+1 − max position in
    tier k, divided by the elements' extent along the axis; ``separated`` = all gaps > 0 (the order inside a
    tier is free). Elements not in the PCA (never seen in training) are listed in ``missing`` and make the
    result undecided (``separated`` None): the claim is about all of them."""
    have = dict(zip(pca.symbols, range(len(pca.Z))))
    missing = [s for t in tiers for s in t if s not in have]
    kept = [[have[s] for s in t if s in have] for t in tiers]
    out = {"tiers": [list(t) for t in tiers], "missing": missing, "order": [], "gaps": [], "separated": None,
           "min_gap": float("nan")}
    if missing:
        return out
    idx = np.concatenate(kept)
    centred, axis = _group_axis(pca.coords[idx, :2])
    pos = dict(zip(idx.tolist(), (centred @ axis).tolist()))
    if np.mean([pos[i] for i in kept[0]]) > np.mean([pos[i] for i in kept[-1]]):
        pos = {i: -v for i, v in pos.items()}
    extent = max(pos.values()) - min(pos.values())
    gaps = [(min(pos[i] for i in b) - max(pos[i] for i in a)) / extent for a, b in pairwise(kept)]
    order = [pca.symbols[i] for i in sorted(pos, key=pos.get)]
    return {**out, "order": order, "gaps": gaps, "separated": bool(min(gaps) > 0), "min_gap": float(min(gaps))}


# ------------------------------------------------------------------------------------------ clustering scores
def nn_group_agreement(X: np.ndarray, groups) -> float:
    """Fraction of elements whose nearest other element (Euclidean) belongs to the same group."""
    X = np.asarray(X, dtype=np.float64)
    groups = np.asarray(groups)
    d = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(np.mean(groups[np.argmin(d, axis=1)] == groups))


def clustering_scores(X: np.ndarray, groups) -> dict:
    """``silhouette`` (scikit-learn, Euclidean, labels = group; −1…1, > 0 means groups are compact and
    separated) and ``nn_agreement`` (:func:`nn_group_agreement`)."""
    from sklearn.metrics import silhouette_score

    groups = np.asarray(groups)
    return {"silhouette": float(silhouette_score(np.asarray(X, dtype=np.float64), groups, metric="euclidean")),
            "nn_agreement": nn_group_agreement(X, groups)}


def chance_nn_agreement(groups) -> float:
    """Expected nearest-neighbour agreement if group labels were unrelated to position: for a random
    neighbour, the probability of sharing the group (exact, no sampling)."""
    groups = np.asarray(groups)
    _, counts = np.unique(groups, return_counts=True)
    n = len(groups)
    return float(np.sum(counts * (counts - 1)) / (n * (n - 1)))


def permutation_p(X: np.ndarray, groups, n_perm: int = 2000, seed: int = 0) -> float:
    """One-sided permutation p-value of the nearest-neighbour group agreement (labels shuffled with a
    seeded generator; the +1 correction keeps p > 0)."""
    X = np.asarray(X, dtype=np.float64)
    groups = np.asarray(groups)
    d = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argmin(d, axis=1)
    obs = np.mean(groups[nn] == groups)
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_perm):
        g = groups[rng.permutation(len(groups))]
        hits += np.mean(g[nn] == g) >= obs
    return float((hits + 1) / (n_perm + 1))


# ------------------------------------------------------------------------------------------ checkpoints
def checkpoint_folder(models_dir, profile: str, fold: int = 0) -> Path:
    """``models_dir/schnet-mp-<profile>-fold<fold>``, or a one-line AtomintError naming it and how to train it."""
    from .. import store

    return store.find_checkpoint(models_dir, "schnet", "crystals", profile, fold)


def load_checkpoint(models_dir, profile: str, fold: int = 0):
    """(model, provenance) of the crystal checkpoint for ``profile``/``fold``."""
    from .. import store

    folder = checkpoint_folder(models_dir, profile, fold)
    model = store.load_model(folder)
    if model.config.get("target") != "crystals" or model.config.get("model") != "schnet":
        raise AtomintError(f"{folder} is not a SchNet crystal checkpoint (config: {json.dumps(model.config)[:120]})")
    return model, store.provenance(folder)


def pc1_values(model, pca: EmbeddingPCA, elements=None) -> dict[int, float]:
    """Every element's embedding projected onto the main-group PC1 (for the periodic-table heat map)."""
    W = embedding_matrix(model)
    Z = np.asarray(model.config["elements"] if elements is None else elements, dtype=np.int64)
    return {int(z): float(v) for z, v in zip(Z, pca.project(W[Z])[:, 0])}


# ------------------------------------------------------------------------------------------ second readings (#33)
def tiered_order_along(pca: EmbeddingPCA, tiers, component: int) -> dict:
    """Like :func:`tiered_order`, but along one principal component (0: PC1, the paper's "left to right";
    1: PC2, its "top to bottom") instead of the group's own axis; the component's sign is arbitrary, so it is
    oriented so that the first tier's centroid comes first. ``min_gap``: the smallest gap between
    consecutive tiers divided by the elements' extent along the component (> 0: every tier beyond the
    previous one); NaN if an element is missing."""
    have = dict(zip(pca.symbols, range(len(pca.Z))))
    missing = [s for t in tiers for s in t if s not in have]
    if missing:
        return {"min_gap": float("nan"), "missing": missing, "order": []}
    kept = [[have[s] for s in t] for t in tiers]
    pos = {i: float(pca.coords[i, component]) for t in kept for i in t}
    if np.mean([pos[i] for i in kept[0]]) > np.mean([pos[i] for i in kept[-1]]):
        pos = {i: -v for i, v in pos.items()}
    extent = (max(pos.values()) - min(pos.values())) or 1.0
    gaps = [(min(pos[i] for i in b) - max(pos[i] for i in a)) / extent for a, b in pairwise(kept)]
    return {"min_gap": float(min(gaps)), "missing": [], "order": [pca.symbols[i] for i in sorted(pos, key=pos.get)]}


def nn_agreement_gap(pca: EmbeddingPCA, first=(1, 2, 3, 4, 5), then=(6, 7, 8), exclude=(1,)) -> float:
    """The share of the elements of the paper's groups ``first`` whose nearest other element in the PC plane
    is of their own group, minus that share for the groups ``then`` (hydrogen left out, as in
    :func:`spread_ratio`). > 0: the early groups cluster more clearly. NaN if a side has no element."""
    keep = ~np.isin(pca.Z, list(exclude))
    X, g = pca.coords[keep, :2], pca.groups[keep]
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    same = g[np.argmin(d, axis=1)] == g
    a = np.isin(g, [PAPER_GROUPS[k] for k in first])
    b = np.isin(g, [PAPER_GROUPS[k] for k in then])
    if not a.any() or not b.any():
        return float("nan")
    return float(same[a].mean() - same[b].mean())


def hydrogen_gap(pca: EmbeddingPCA) -> float:
    """H's distance to its nearest alkali metal in the PC plane divided by the largest distance of an alkali
    metal to its nearest other alkali metal (> 1: H lies farther from the group than any member from the
    rest). NaN with fewer than two alkali metals or without H."""
    alk = np.flatnonzero((pca.groups == 1) & (pca.Z != 1))
    if 1 not in pca.Z or len(alk) < 2:
        return float("nan")
    P = pca.coords[alk, :2]
    d = np.linalg.norm(P[:, None] - P[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    d_h = np.linalg.norm(P - pca.coord(1)[:2], axis=1).min()
    return float(d_h / d.min(1).max())


#: the elements every Fig. 7 resample keeps (the subjects of the hydrogen, tier and order claims)
RESAMPLE_KEEP = (1, 3, 11, 19, 37, 55, 4, 12, 20, 38, 56, 7, 15, 33, 51, 83)


def element_resamples(Z, X, seeds=(0, 1, 2), share: float = 0.8, keep=RESAMPLE_KEEP) -> list[EmbeddingPCA]:
    """One PCA per seed of a random ``share`` of the elements ``Z`` (rows ``X``), always keeping the
    elements ``keep`` that are present: does a reading depend on which other elements span the plane?"""
    Z = np.asarray(Z, dtype=np.int64)
    X = np.asarray(X, dtype=np.float64)
    fixed = np.isin(Z, list(keep))
    out = []
    for s in seeds:
        rng = np.random.default_rng(s)
        free = np.flatnonzero(~fixed)
        chosen = rng.choice(free, size=int(round(share * len(free))), replace=False) if len(free) else free
        sel = np.sort(np.concatenate([np.flatnonzero(fixed), chosen]))
        out.append(embedding_pca(Z[sel], X[sel]))
    return out
