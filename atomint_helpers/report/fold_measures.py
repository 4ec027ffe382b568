"""Measurements of latent-term distributions fold by fold and fold pair by fold pair, as the claims registry
takes them (:class:`~.registry.Measurement`): spreads per element, W1 distances between folds and between
models (scale-free W1/IQR or absolute W1), and one value per fold or per fold pair with its label. Shared
by the chapters whose claims compare distributions across folds (Fig. 2, Fig. 4)."""
from __future__ import annotations

import itertools

import numpy as np

from ..interpret.atom_terms import FIG_ELEMENTS
from ..interpret.latent_stats import fold_distance, values_of
from .registry import Measurement


def spread_by_element(df, column, stat: str) -> dict:
    """Per element of :data:`FIG_ELEMENTS`: the IQR or standard deviation of one fold's latent terms."""
    out = {}
    for e in FIG_ELEMENTS:
        v = values_of(df, e, column)
        if len(v) < 2:
            out[e] = np.nan
        else:
            out[e] = float(np.subtract(*np.percentile(v, [75, 25]))) if stat == "IQR" else float(np.std(v, ddof=1))
    return out


def max_ratio(a: dict, b: dict) -> float:
    r = [a[e] / b[e] for e in a if np.isfinite(a[e]) and np.isfinite(b[e]) and b[e] > 0]
    return float(max(r)) if r else np.nan


def fold_pairs(study, m) -> list[tuple[int, int]]:
    return list(itertools.combinations(sorted(study.frames[m]), 2))


def pair_label(p) -> str:
    return f"folds {p[0]}–{p[1]}"


def element_w1(study, m, pair, e, absolute: bool) -> float:
    a, b = (values_of(study.frames[m][k], e, study.column) for k in pair)
    return fold_distance(a, b, pooled_spread=1.0 if absolute else "iqr")


def fold_w1(study, m, pair, absolute: bool) -> float:
    """Mean over H, C, N, O of the W1 (absolute, kcal/mol) or W1/IQR between the two folds of ``pair``."""
    d = [element_w1(study, m, pair, e, absolute) for e in FIG_ELEMENTS]
    d = [x for x in d if np.isfinite(x)]
    return float(np.mean(d)) if d else np.nan


def model_w1(study, fold_bp, fold_sn, absolute: bool) -> float:
    """Mean over H, C, N, O of the W1 (absolute) or W1/IQR between BP's fold and SchNet's fold."""
    d = [fold_distance(values_of(study.frames["bp"][fold_bp], e, study.column),
                       values_of(study.frames["schnet"][fold_sn], e, study.column),
                       pooled_spread=1.0 if absolute else "iqr") for e in FIG_ELEMENTS]
    d = [x for x in d if np.isfinite(x)]
    return float(np.mean(d)) if d else np.nan


def common_folds(study) -> list[int]:
    return sorted(set(study.frames.get("bp", {})) & set(study.frames.get("schnet", {})))


def per_fold(fn, folds, label="fold") -> Measurement:
    vals = tuple(fn(k) for k in folds)
    finite = [v for v in vals if v is not None and np.isfinite(v)]
    return Measurement(float(np.mean(finite)) if finite else np.nan, vals, tuple(f"{label} {k}" for k in folds))


def per_pair(fn, pairs) -> Measurement:
    vals = tuple(fn(p) for p in pairs)
    finite = [v for v in vals if np.isfinite(v)]
    return Measurement(float(np.mean(finite)) if finite else np.nan, vals, tuple(pair_label(p) for p in pairs))


def variation_ratio(study, m, element: str, absolute: bool) -> Measurement:
    """``element``'s fold-to-fold W1 divided by the larger of H's and C's, per fold pair; pooled: the same
    ratio of the means over pairs."""
    pairs = fold_pairs(study, m)

    def ratio(ps) -> float:
        d = {e: np.nanmean([element_w1(study, m, p, e, absolute) for p in ps]) for e in (element, "H", "C")}
        den = max(d["H"], d["C"])
        return float(d[element] / den) if den > 0 else np.nan

    return Measurement(ratio(pairs), tuple(ratio([p]) for p in pairs), tuple(pair_label(p) for p in pairs))
