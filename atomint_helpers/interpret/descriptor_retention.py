"""How much of a model's latent atomic energies its input descriptors already hold (§3.1: BP's latent
energies retain the patterns of its symmetry functions).

For one element at a time, the latent energy of an atom is predicted from that atom's atom-centred symmetry
functions (the BP checkpoint's own ACSF set, standardised), by two regressions scored out of sample
(5-fold cross-validated R²): a linear one (ridge, on descriptors clipped to the training atoms' range) and a
local one (the mean of the 10 nearest atoms in descriptor space). The same atoms and descriptors serve every model, so BP's and SchNet's scores compare
directly: a higher score means the latent energy is closer to a function of the fixed descriptors.
"""
from __future__ import annotations

import numpy as np

from .atom_terms import FIG_ELEMENTS

#: atoms per element (a seeded random subset) and the folds of the cross-validation
MAX_ATOMS = 3000
CV_FOLDS = 5
#: descriptor-space neighbours of the local regression
NEIGHBOURS = 10
RIDGE_ALPHA = 1.0


class TrainingRange:
    """Clips features to the range seen in fit (a scikit-learn transformer): an out-of-sample atom whose
    symmetry function lies beyond every training atom's is held at the edge, as BP's own ``clip_features``
    does, instead of scaling a rare feature (non-zero for a handful of atoms, its training spread tiny) into
    a prediction of any size."""

    def fit(self, X, y=None):
        X = np.asarray(X, float)
        self.low_, self.high_ = X.min(axis=0), X.max(axis=0)
        return self

    def transform(self, X):
        return np.clip(np.asarray(X, float), self.low_, self.high_)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


def atom_descriptors(bp_model, data, rows) -> np.ndarray:
    """The symmetry functions of every atom of the molecules ``rows`` of ``data`` (an ``AtomsData``), in
    the atom order of :func:`~atomint_helpers.interpret.atom_terms.latent_terms`: ``(atoms, features)``."""
    import torch

    rep = bp_model.representation
    parts = []
    with torch.no_grad():
        for chunk in np.array_split(np.asarray(rows), max(1, len(rows) // 500)):
            parts.append(rep.descriptors(data.batch(chunk)).numpy())
    return np.concatenate(parts) if parts else np.zeros((0, rep.acsf.n_features))


def retention_scores(values, features, symbols, elements=FIG_ELEMENTS, seed: int = 0) -> dict:
    """Per element: ``(linear R², neighbour R²)`` of the latent ``values`` predicted from ``features``
    (5-fold cross-validated; up to :data:`MAX_ATOMS` atoms of the element, chosen with ``seed``). NaN for
    an element with fewer than 50 atoms or no spread."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    values, features, symbols = np.asarray(values, float), np.asarray(features, float), np.asarray(symbols)
    out = {}
    for e in elements:
        idx = np.flatnonzero(symbols == e)
        if len(idx) > MAX_ATOMS:
            idx = np.sort(np.random.default_rng(seed).choice(idx, MAX_ATOMS, replace=False))
        y, X = values[idx], features[idx]
        if len(idx) < 50 or not np.std(y) > 0:
            out[e] = (np.nan, np.nan)
            continue
        keep = X.std(axis=0) > 0
        X = X[:, keep]
        cv = KFold(CV_FOLDS, shuffle=True, random_state=seed)
        lin = make_pipeline(TrainingRange(), StandardScaler(), Ridge(alpha=RIDGE_ALPHA))
        knn = make_pipeline(StandardScaler(), KNeighborsRegressor(NEIGHBOURS))
        out[e] = tuple(float(np.mean(cross_val_score(m, X, y, cv=cv, scoring="r2"))) for m in (lin, knn))
    return out


def study_retention(study, ds, n_molecules: int = 2000, seed: int = 0) -> dict:
    """``{fold: {model: {element: (linear R², neighbour R²)}}}`` for the energy study's folds that have both
    models, on the first ``n_molecules`` molecules of the study, with the descriptors of that fold's BP
    checkpoint."""
    from .. import store
    from .atom_terms import cached_qm9_data

    out = {}
    for k in sorted(set(study.frames.get("bp", {})) & set(study.frames.get("schnet", {}))):
        bp = store.load_model(study.fold_set.folders["bp"][k])
        frames = {m: study.frames[m][k] for m in ("bp", "schnet")}
        first = frames["bp"]["row"].drop_duplicates().to_numpy()[:n_molecules]
        feats = atom_descriptors(bp, cached_qm9_data(ds, bp.cutoff), first)
        out[k] = {}
        for m, df in frames.items():
            sel = df[df["row"].isin(first)]
            out[k][m] = retention_scores(sel[study.column].to_numpy(), feats, sel["symbol"].to_numpy(), seed=seed)
    return out
