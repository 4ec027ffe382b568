"""The distances behind the Fig. 4 claims (:mod:`.charges`), one value per fold or pair of folds, as the claims
registry takes them (:class:`~.registry.Measurement`): KS distances between folds and between models, the
per-element BP-vs-SchNet distance, the scaled distances, and ratios of two such measures."""
from __future__ import annotations

import itertools

import numpy as np

from ..interpret.charges import ks_distance, scaled_distance, spread_scaled_distance
from ..interpret.atom_terms import FIG_ELEMENTS
from ..interpret.latent_stats import values_of
from .registry import Measurement


def mean_finite(values) -> float:
    v = [x for x in values if x is not None and np.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


def ratio_measure(num: dict, den: dict, label) -> Measurement:
    """Per key (a fold or a pair of folds) ``num / den``; pooled: the ratio of the means over the keys."""
    keys = [k for k in num if k in den]
    vals = tuple(num[k] / den[k] if den[k] else float("nan") for k in keys)
    d = mean_finite(den[k] for k in keys)
    return Measurement(mean_finite(num[k] for k in keys) / d if d else float("nan"), vals, tuple(label(k) for k in keys))


def divide(a: float, b: float) -> float:
    return float(a / b) if b and np.isfinite(b) else float("nan")


def fold_label(k) -> str:
    return f"fold {k}"


def element_distance(a, b, st, e, how: str) -> float:
    from ..interpret.latent_stats import fold_distance

    x, y = values_of(a, e, st.column), values_of(b, e, st.column)
    return ks_distance(x, y) if how == "KS" else fold_distance(x, y)


def pairs_of(st, m) -> list[tuple[int, int]]:
    return list(itertools.combinations(sorted(st.frames[m]), 2))


def fold_ks(st, m, pair) -> float:
    """Mean over H, C, N, O of the KS distance between the two folds of ``pair`` of model ``m``."""
    return mean_finite(element_distance(st.frames[m][pair[0]], st.frames[m][pair[1]], st, e, "KS") for e in FIG_ELEMENTS)


def model_by_element(st, k, how: str) -> dict:
    """Per element: the W1/IQR (``how="W1/IQR"``) or KS distance between BP's fold ``k`` and SchNet's."""
    return {e: element_distance(st.frames["bp"][k], st.frames["schnet"][k], st, e, how) for e in FIG_ELEMENTS}


def scaled_mean(st, a, b, how: str) -> float:
    fn = scaled_distance if how == "fitted factor" else spread_scaled_distance
    return mean_finite(fn(a, b, st.column)[1].values())


def h_c_over_n_o(d: dict) -> float:
    """The larger of H's and C's value divided by the smaller of N's and O's (NaN without a positive one)."""
    den = min(d["N"], d["O"])
    return float(max(d["H"], d["C"]) / den) if den > 0 else float("nan")
