"""How a model shares out the energy (Fig. 2): carbon environments, fold-to-fold conservation and outliers.

* :func:`eta_squared` — the between-group share of a variance (η² = SS_between / SS_total, 0…1): how much
  of the spread of carbon's latent energies its local environment explains. ``rank=True`` computes it on
  the ranks of the values (robust to BP's handful of extreme atoms, which would otherwise decide a
  variance by themselves).
* :func:`carbon_environments` — η² of carbon's atomic energies grouped by the number of bonded
  neighbours (4: sp3, 3: sp2, 2: sp; bonds from the geometry, :mod:`atomint_helpers.data.bonds`), per
  model and fold, with the group sizes and means (kcal/mol).
  A finer grouping, by neighbours *and* bonded hydrogens (CH3, CH2, CH, C, =CH2, =CH, =C, ≡CH, ≡C),
  gives ``eta2_fine`` / ``eta2_fine_rank``.
* :func:`pair_distances` / :func:`fold_outlier` — the W1/IQR distance of every pair of folds (mean over
  elements) and the fold, if any, whose pairs are at least :data:`OUTLIER_FACTOR` times as far apart as
  the pairs without it.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Mapping

import numpy as np

from ..data.bonds import hydrogen_counts, neighbour_counts
from .atom_terms import FIG_ELEMENTS, MODEL_LABELS, molecule_rows
from .latent_stats import fold_distance, values_of

#: a fold is an outlier when the mean distance of the fold pairs it is in is at least this factor times
#: the mean distance of the pairs without it (needs ≥ 3 folds)
OUTLIER_FACTOR = 2.0
#: carbon environments by number of bonded neighbours
CARBON_GROUPS = {4: "sp3 (4 neighbours)", 3: "sp2 (3 neighbours)", 2: "sp (2 neighbours)"}


def eta_squared(values, groups, rank: bool = False) -> float:
    """η² = Σ_g n_g (mean_g − mean)² / Σ_i (x_i − mean)²: the share of the variance of ``values`` that the
    group means explain (1: every group is a single value; 0: all groups have the same mean). NaN for
    fewer than two values or zero variance."""
    from scipy.stats import rankdata

    x = np.asarray(values, dtype=np.float64)
    g = np.asarray(groups)
    if len(x) < 2:
        return float("nan")
    if rank:
        x = rankdata(x)
    total = float(((x - x.mean()) ** 2).sum())
    if not total > 0:
        return float("nan")
    _, inv = np.unique(g, return_inverse=True)
    n = np.bincount(inv)
    means = np.bincount(inv, weights=x) / n
    return float((n * (means - x.mean()) ** 2).sum() / total)


def carbon_environments(frames: Mapping[str, Mapping[int, object]], ds, column: str = "atomic_energy"):
    """Per model and fold: η² (plain and on ranks) of carbon's latent energies grouped by number of bonded
    neighbours, and the number and mean energy (kcal/mol) of the atoms of each group. ``frames`` as
    ``Study.frames``; every table must cover whole molecules of ``ds`` in :func:`latent_terms` order."""
    import pandas as pd

    rows, counts = [], {}
    for m, by in frames.items():
        for k, df in by.items():
            key = tuple(molecule_rows(df))
            if key not in counts:
                counts[key] = (neighbour_counts(ds, np.asarray(key)), hydrogen_counts(ds, np.asarray(key)))
            carbon = df["symbol"].to_numpy() == "C"
            e, nb, nh = df[column].to_numpy()[carbon], counts[key][0][carbon], counts[key][1][carbon]
            fine = 10 * nb + nh
            row = {"model": MODEL_LABELS.get(m, m), "fold": k, "carbons": int(carbon.sum()),
                   "eta2": eta_squared(e, nb), "eta2_rank": eta_squared(e, nb, rank=True),
                   "eta2_fine": eta_squared(e, fine), "eta2_fine_rank": eta_squared(e, fine, rank=True)}
            for n, label in CARBON_GROUPS.items():
                sel = nb == n
                row[f"n {label}"] = int(sel.sum())
                row[f"mean {label}"] = float(e[sel].mean()) if sel.any() else float("nan")
            rows.append(row)
    return pd.DataFrame(rows)


def pair_distances(frames_by_fold: Mapping[int, object], elements: Iterable[str] = FIG_ELEMENTS,
                   column: str | None = None) -> dict:
    """``{(fold_a, fold_b): W1/IQR distance averaged over elements}`` for every pair of folds."""
    out = {}
    for a, b in itertools.combinations(sorted(frames_by_fold), 2):
        d = [fold_distance(values_of(frames_by_fold[a], e, column), values_of(frames_by_fold[b], e, column))
             for e in elements]
        d = [x for x in d if np.isfinite(x)]
        out[(a, b)] = float(np.mean(d)) if d else float("nan")
    return out


def fold_outlier(pairs: Mapping[tuple, float], factor: float = OUTLIER_FACTOR) -> tuple[int | None, float]:
    """``(fold, ratio)``: the fold whose pairs (from :func:`pair_distances`) are on average ``ratio`` times
    as far apart as the pairs without it, if ``ratio ≥ factor``; else ``(None, largest ratio)``. Needs
    at least three folds (``(None, nan)`` otherwise)."""
    folds = sorted({f for p in pairs for f in p})
    if len(folds) < 3:
        return None, float("nan")
    best, best_ratio = None, -np.inf
    for f in folds:
        with_f = [d for p, d in pairs.items() if f in p]
        without = [d for p, d in pairs.items() if f not in p]
        ratio = float(np.mean(with_f) / np.mean(without)) if np.mean(without) > 0 else float("inf")
        if ratio > best_ratio:
            best, best_ratio = f, ratio
    return (best if best_ratio >= factor else None), best_ratio


def without_fold(frames_by_fold: Mapping[int, object], fold: int | None) -> dict:
    """The folds except ``fold`` (all of them for ``None``)."""
    return {k: v for k, v in frames_by_fold.items() if k != fold}


def carbon_by_environment(frames: Mapping[str, Mapping[int, object]], ds, column: str = "atomic_energy") -> dict:
    """``{model: (carbon energies (kcal/mol), number of bonded neighbours per carbon)}`` of each model's
    lowest fold, for :func:`atomint_helpers.plots.carbon_environment_histograms`."""
    out = {}
    for m, by in frames.items():
        df = by[min(by)]
        nb = neighbour_counts(ds, molecule_rows(df))
        carbon = df["symbol"].to_numpy() == "C"
        out[m] = (df[column].to_numpy()[carbon], nb[carbon])
    return out


def element_shifts(study, elements: Iterable[str] = FIG_ELEMENTS):
    """The energy heads' per-element shifts b_Z against the latent energies (a design confound of Fig. 2:
    both models add the same least-squares shifts of their fold's training molecules to every atom).

    Per model, fold and element: ``shift`` b_Z (kcal/mol), the latent energies' ``mean`` and ``IQR``
    (kcal/mol), and ``offset`` = (mean − b_Z) / IQR: how far the network moved the element's atoms away
    from the shift they all start from, in units of the distribution's width."""
    import pandas as pd
    from ase.data import atomic_numbers

    from .. import store

    rows = []
    for m in study.models():
        for k, folder in sorted(study.fold_set.folders[m].items()):
            shift = store.load_model(folder).head.shift.detach().double().numpy()
            df = study.frames[m][k]
            for e in elements:
                v = df.loc[df["symbol"] == e, study.column].to_numpy()
                if len(v) < 2:
                    continue
                iqr = float(np.subtract(*np.percentile(v, [75, 25])))
                b = float(shift[atomic_numbers[e]])
                rows.append({"model": MODEL_LABELS.get(m, m), "fold": k, "element": e, "shift": b,
                             "mean": float(v.mean()), "IQR": iqr,
                             "offset": (float(v.mean()) - b) / iqr if iqr > 0 else np.nan})
    return pd.DataFrame(rows)
