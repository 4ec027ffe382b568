"""Fig. 7 in one call, and what the learned element embeddings are compared with.

* Untrained embeddings — :func:`random_baseline` scores group clustering for embeddings drawn exactly as
  SchNet's initialisation (``torch.nn.Embedding``: N(0, 1) entries, times the model's ``embedding_std`` if
  set — the scores are scale-free, so the factor does not change them), for several seeds;
  :func:`learned_vs_random` sets the trained embeddings, the model's own start (rebuilt from the training
  seed) and the learned displacement ``W_trained − W_init`` beside them: "learned, not imposed" becomes a
  measured difference.
* Established element embeddings — :func:`reference_embedding` reads Magpie (scaled), mat2vec and MEGNet16
  from the data files the ``elementembeddings`` wheel ships (read directly: importing that package pulls in
  UMAP and numba and takes about a minute; no network). :func:`distance_correlation` is a Mantel-style test:
  the Spearman rank correlation between the two embeddings' pairwise Euclidean element distances on the
  shared elements, with a one-sided permutation p-value (element labels of one side shuffled).
* Element properties — :func:`element_properties` (``mendeleev``: Pauling electronegativity, Pyykkö's
  single-bond covalent radius in pm, period) and :func:`property_correlations`: Spearman ρ of PC1 and PC2
  with each of them over the elements of the PCA.
* :func:`fig7` — everything the chapter shows, as a :class:`Fig7`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from .. import AtomintError
from .embeddings import (
    PAPER_TIERS, RANDOM_SEEDS, EmbeddingPCA, chance_nn_agreement, clustering_scores, element_resamples,
    embedding_matrix, embedding_pca, group_ordering, hydrogen_apart, init_std, initial_embeddings, permutation_p,
    random_embeddings, spread_ratio, tiered_order, trained_elements)
from ..data.elements import group_of, main_group_elements, symbols

#: the established element embeddings compared with SchNet's: name -> file in elementembeddings' data
REFERENCES = {"Magpie (scaled)": "magpie_sc.json", "mat2vec": "mat2vec.csv", "MEGNet16": "megnet16.json"}
#: element properties correlated with PC1 and PC2: mendeleev column -> label (the radius is Pyykkö's
#: single-bond covalent radius in pm; rank correlations do not depend on the unit)
PROPERTIES = {"en_pauling": "Pauling electronegativity", "covalent_radius_pyykko": "covalent radius",
              "period": "period"}


# ------------------------------------------------------------------------------------------ random baseline
def random_baseline(Z, dim: int, max_z: int, seeds=RANDOM_SEEDS, std: float = 1.0):
    """Clustering scores of untrained embeddings (SchNet's N(0, 1) initialisation times ``std``), one row
    per seed."""
    import pandas as pd

    Z = np.asarray(Z, dtype=np.int64)
    groups = [group_of(z) for z in Z]
    rows = [{"seed": int(s), **clustering_scores(random_embeddings(max_z, dim, s, std)[Z], groups)} for s in seeds]
    return pd.DataFrame(rows).set_index("seed")


def learned_vs_random(model, Z, seed: int | None = None, seeds=RANDOM_SEEDS):
    """Group clustering of the trained embeddings of ``Z`` in the full embedding space, next to untrained
    ones: the model's own initialisation (if ``seed`` is given), the learned displacement W − W_init, and
    the mean / spread / maximum over ``seeds`` random initialisations. Returns (table, baseline)."""
    import pandas as pd

    Z = np.asarray(Z, dtype=np.int64)
    groups = [group_of(z) for z in Z]
    W = embedding_matrix(model)
    base = random_baseline(Z, W.shape[1], W.shape[0], seeds, init_std(model))
    rows = {"trained embeddings": clustering_scores(W[Z], groups)}
    if seed is not None:
        W0 = initial_embeddings(model.config, seed)
        rows["its own initialisation"] = clustering_scores(W0[Z], groups)
        rows["learned displacement (trained − init)"] = clustering_scores((W - W0)[Z], groups)
    rows[f"random init, mean of {len(base)} seeds"] = base.mean().to_dict()
    rows[f"random init, std of {len(base)} seeds"] = base.std(ddof=1).to_dict()
    rows[f"random init, max of {len(base)} seeds"] = base.max().to_dict()
    return pd.DataFrame(rows).T, base


# ------------------------------------------------------------------------------------------ references
def _reference_dir() -> Path:
    spec = find_spec("elementembeddings")
    if spec is None or not spec.submodule_search_locations:
        raise AtomintError("the reference element embeddings need the 'elementembeddings' package: "
                           "pip install -c constraints.txt elementembeddings (part of the book extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "element_representations"


def reference_embedding(name: str) -> dict[str, np.ndarray]:
    """One of :data:`REFERENCES` as {element symbol: vector}, read from the file the wheel ships."""
    if name not in REFERENCES:
        raise AtomintError(f"unknown reference embedding {name!r}; choose one of {list(REFERENCES)}")
    path = _reference_dir() / REFERENCES[name]
    if not path.is_file():
        raise AtomintError(f"{path} is missing: reinstall elementembeddings (pip install -c constraints.txt "
                           "elementembeddings)")
    if path.suffix == ".json":
        data = json.loads(path.read_text())
    else:
        import pandas as pd

        df = pd.read_csv(path).set_index("element")
        data = {str(k): v for k, v in zip(df.index, df.to_numpy(np.float64))}
    from ase.data import atomic_numbers

    return {k: np.asarray(v, dtype=np.float64) for k, v in data.items() if k in atomic_numbers and k != "X"}


def _pair_distances(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)


def distance_correlation(X: np.ndarray, Y: np.ndarray, n_perm: int = 999, seed: int = 0) -> dict:
    """Mantel-style comparison of two embeddings of the same elements (rows in the same order): ``rho`` the
    Spearman correlation between their pairwise Euclidean distances (each pair once); ``p`` the one-sided
    permutation p-value (rows of ``Y`` shuffled ``n_perm`` times with a seeded generator, +1 correction)."""
    from scipy.stats import rankdata

    n = len(X)
    if n != len(Y) or n < 4:
        raise AtomintError(f"need the same ≥ 4 elements in both embeddings, got {len(X)} and {len(Y)}")
    iu = np.triu_indices(n, 1)
    rx = rankdata(_pair_distances(X)[iu])
    ry = np.zeros((n, n))
    ry[iu] = rankdata(_pair_distances(Y)[iu])
    ry = ry + ry.T  # pair ranks as a symmetric matrix, so a shuffle of the elements is an index permutation
    rx = (rx - rx.mean()) / np.linalg.norm(rx - rx.mean())

    def corr(r):
        r = r - r.mean()
        return float(rx @ r / np.linalg.norm(r))

    obs = corr(ry[iu])
    rng = np.random.default_rng(seed)
    hits = sum(corr(ry[np.ix_(q, q)][iu]) >= obs for q in (rng.permutation(n) for _ in range(n_perm)))
    return {"rho": obs, "p": float((hits + 1) / (n_perm + 1)), "n": int(n)}


def reference_comparison(model, Z, seed: int | None = None, names=tuple(REFERENCES), n_perm: int = 999):
    """For each reference embedding: :func:`distance_correlation` of SchNet's trained embeddings of the
    elements ``Z`` that the reference also has, and (control, if ``seed`` is given) of the model's own
    initialisation on the same elements. One row per reference."""
    import pandas as pd

    W = embedding_matrix(model)
    W0 = initial_embeddings(model.config, seed) if seed is not None else None
    rows = []
    for name in names:
        ref = reference_embedding(name)
        shared = [int(z) for z, s in zip(Z, symbols(Z)) if s in ref]
        Y = np.stack([ref[s] for s in symbols(shared)])
        r = distance_correlation(W[shared], Y, n_perm)
        row = {"reference": name, "dimensions": Y.shape[1], "shared elements": r["n"], "rho": r["rho"], "p": r["p"]}
        if W0 is not None:
            row["rho, own initialisation"] = distance_correlation(W0[shared], Y, n_perm)["rho"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("reference")


# ------------------------------------------------------------------------------------------ element properties
def element_properties(Z):
    """:data:`PROPERTIES` of the elements ``Z`` (index: atomic number) from ``mendeleev`` (offline; NaN where
    it has no value, e.g. no Pauling electronegativity for He)."""
    try:
        from mendeleev.fetch import fetch_table
    except ImportError:
        raise AtomintError("element properties need the 'mendeleev' package: pip install -c constraints.txt "
                           "mendeleev (part of the book extra)") from None
    table = fetch_table("elements").set_index("atomic_number")
    return table.loc[np.asarray(Z, dtype=np.int64), list(PROPERTIES)].astype(np.float64)


def property_correlations(pca: EmbeddingPCA, props) -> object:
    """Spearman ρ (and its p-value) of PC1 and PC2 with each property column of ``props`` (index: atomic
    number) over the PCA's elements that have a value. One row per property."""
    import pandas as pd
    from scipy.stats import spearmanr

    rows = []
    for col in props.columns:
        v = props[col].reindex(pca.Z).to_numpy(np.float64)
        ok = np.isfinite(v)
        row = {"property": PROPERTIES.get(col, col), "elements": int(ok.sum())}
        for k in range(2):
            res = spearmanr(pca.coords[ok, k], v[ok])
            row[f"PC{k + 1} ρ"], row[f"PC{k + 1} p"] = float(res.statistic), float(res.pvalue)
        rows.append(row)
    return pd.DataFrame(rows).set_index("property")


# ------------------------------------------------------------------------------------------ Fig. 7 in one call
@dataclass
class Fig7:
    """Everything the Fig. 7 chapter shows: the PCA of the main-group embeddings the model saw in training,
    the paper's readings as numbers, the learned-vs-random clustering comparison, and the comparisons
    with established embeddings and element properties."""

    Z: np.ndarray                 # main-group elements in the PCA (seen in training)
    unseen: list                  # main-group elements of the model never seen in training (left out)
    pca: EmbeddingPCA
    ordering: dict                # group -> group_ordering(...)
    hydrogen: dict
    plane: dict                   # clustering in the PC plane: silhouette, nn_agreement, chance, p
    table: object                 # learned_vs_random table (DataFrame)
    baseline: object              # per-seed random scores (DataFrame)
    n_seeds: int
    random_explained: float = float("nan")  # mean PC1 + PC2 explained variance (%) of random embeddings
    spread: dict = field(default_factory=dict)          # spread_ratio without H (the rule) ...
    spread_with_h: dict = field(default_factory=dict)   # ... and with H counted in group I
    tiers: dict = field(default_factory=dict)           # paper group -> tiered_order(...)
    references: object = None     # reference_comparison (DataFrame)
    properties: object = None     # property_correlations (DataFrame)
    resamples: list = field(default_factory=list)       # PCAs of random 80 % element subsets (the "folds")

    @property
    def random_max(self) -> dict:
        return self.baseline.max().to_dict()

    @property
    def trained(self) -> dict:
        return self.table.loc["trained embeddings"].to_dict()


def fig7(model, seed: int, seeds=RANDOM_SEEDS, n_perm: int = 2000) -> Fig7:
    """Compute Fig. 7 and its numbers for a crystal checkpoint trained with torch seed ``seed``."""
    seen = trained_elements(model, seed)
    all_main = main_group_elements(model.config["elements"])
    Z = main_group_elements(seen)
    W = embedding_matrix(model)
    pca = embedding_pca(Z, W[Z])
    groups = pca.groups
    plane = {**clustering_scores(pca.coords, groups), "chance": chance_nn_agreement(groups),
             "p": permutation_p(pca.coords, groups, n_perm=n_perm, seed=0)}
    table, base = learned_vs_random(model, Z, seed=seed, seeds=seeds)
    rand_ev = [embedding_pca(Z, random_embeddings(W.shape[0], W.shape[1], s, init_std(model))[Z]).explained_percent
               for s in seeds]
    return Fig7(Z, symbols(sorted(set(all_main.tolist()) - set(Z.tolist()))), pca,
                {g: group_ordering(pca, g) for g in (1, 2, 15)}, hydrogen_apart(pca), plane, table, base,
                len(list(seeds)), float(np.mean(rand_ev)), spread_ratio(pca), spread_ratio(pca, exclude=()),
                {g: tiered_order(pca, t) for g, t in PAPER_TIERS.items()},
                reference_comparison(model, seen, seed), property_correlations(pca, element_properties(Z)),
                element_resamples(Z, W[Z]))
