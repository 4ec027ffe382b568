"""Statistics of latent per-atom terms: per-element summaries and the scale-free distance between two
distributions across folds and models.

Fold-to-fold and model-to-model differences are measured with :func:`fold_distance`: the
Wasserstein-1 distance (earth mover's distance, ``scipy.stats.wasserstein_distance``) between two
distributions of the same element's latent terms, divided by their **pooled interquartile range**
(the mean of the two IQRs). The ratio has no unit, so energies (kcal/mol) and charges (e) can be
compared on one scale: 0 means identical distributions, 0.1 means the mass has to move on average by a
tenth of a typical width to turn one into the other. The IQR, not the standard deviation, is the
spread because BP gives a handful of atoms extreme latent energies: they inflate a standard deviation
by orders of magnitude and would make any two distributions look alike."""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from .. import AtomintError
from .atom_terms import FIG_ELEMENTS


def element_summary(df, column: str | None = None, elements: Iterable[str] | None = None):
    """Per element: n, mean, std, quartiles and the interquartile range (IQR) of the latent terms."""
    import pandas as pd

    column = column or df.attrs.get("column")
    rows = {}
    for sym, v in df.groupby("symbol", observed=True)[column]:
        v = v.to_numpy()
        q25, q50, q75 = np.percentile(v, [25, 50, 75])
        rows[sym] = {"n": len(v), "mean": v.mean(), "std": v.std(ddof=1) if len(v) > 1 else np.nan,
                     "q25": q25, "median": q50, "q75": q75, "IQR": q75 - q25}
    out = pd.DataFrame.from_dict(rows, orient="index")
    order = list(elements) if elements is not None else sorted(out.index, key=_z_of)
    return out.reindex([e for e in order if e in out.index])


def _z_of(symbol: str) -> int:
    from ase.data import atomic_numbers

    return atomic_numbers.get(str(symbol), 999)


def values_of(df, element: str, column: str | None = None) -> np.ndarray:
    column = column or df.attrs.get("column")
    return df.loc[df["symbol"] == element, column].to_numpy()


def pooled_std(a: np.ndarray, b: np.ndarray) -> float:
    """``sqrt((var_a + var_b) / 2)`` (sample variances)."""
    return float(np.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2))


def fold_distance(a, b, pooled_spread: float | str = "iqr") -> float:
    """Wasserstein-1 distance between the samples ``a`` and ``b`` divided by a spread.

    ``pooled_spread``: ``"iqr"`` (default) — the mean of the two interquartile ranges; ``"std"`` — the
    pooled standard deviation ``sqrt((var_a + var_b)/2)``; or a number used as is. NaN when either
    sample has fewer than two values or the spread is zero."""
    from scipy.stats import wasserstein_distance

    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    if isinstance(pooled_spread, str):
        if pooled_spread == "std":
            spread = pooled_std(a, b)
        elif pooled_spread == "iqr":
            spread = float(np.mean([np.subtract(*np.percentile(x, [75, 25])) for x in (a, b)]))
        else:
            raise AtomintError(f"pooled_spread={pooled_spread!r}: accepted 'std', 'iqr' or a number")
    else:
        spread = float(pooled_spread)
    if not spread > 0:
        return float("nan")
    return float(wasserstein_distance(a, b) / spread)


def fold_distances(frames_by_fold: Mapping[int, object], elements: Iterable[str] = FIG_ELEMENTS,
                   column: str | None = None):
    """Per element: the scale-free distance (:func:`fold_distance`) between every pair of folds, and its
    mean and maximum. NaN where fewer than two folds exist."""
    import itertools

    import pandas as pd

    folds = sorted(frames_by_fold)
    rows = {}
    for e in elements:
        vals = {k: values_of(frames_by_fold[k], e, column) for k in folds}
        d = [fold_distance(vals[i], vals[j]) for i, j in itertools.combinations(folds, 2)]
        d = [x for x in d if np.isfinite(x)]
        rows[e] = {"pairs": len(d), "mean": float(np.mean(d)) if d else np.nan,
                   "max": float(np.max(d)) if d else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def model_distances(frames_a: Mapping[int, object], frames_b: Mapping[int, object],
                    elements: Iterable[str] = FIG_ELEMENTS, column: str | None = None):
    """Per element: the scale-free distance between two models' distributions, fold by fold over the
    folds both have (all pairs of folds if they share none), and its mean."""
    import pandas as pd

    common = sorted(set(frames_a) & set(frames_b))
    pairs = [(k, k) for k in common] or [(i, j) for i in sorted(frames_a) for j in sorted(frames_b)]
    rows = {}
    for e in elements:
        d = [fold_distance(values_of(frames_a[i], e, column), values_of(frames_b[j], e, column)) for i, j in pairs]
        d = [x for x in d if np.isfinite(x)]
        rows[e] = {"pairs": len(d), "mean": float(np.mean(d)) if d else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def fold_table(frames_by_fold: Mapping[int, object], elements: Iterable[str] = FIG_ELEMENTS,
               column: str | None = None):
    """Per element and fold: n, mean, std, IQR (a long table for display)."""
    import pandas as pd

    parts = []
    for k in sorted(frames_by_fold):
        s = element_summary(frames_by_fold[k], column, elements)[["n", "mean", "std", "IQR"]]
        s.insert(0, "fold", k)
        parts.append(s.rename_axis("element").reset_index())
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def mean_over_folds(frames_by_fold: Mapping[int, object], elements: Iterable[str] = FIG_ELEMENTS,
                    column: str | None = None):
    """Per element: the fold-mean of mean, std and IQR."""
    t = fold_table(frames_by_fold, elements, column)
    out = t.groupby("element", sort=False)[["mean", "std", "IQR"]].mean()
    return out.reindex([e for e in elements if e in out.index])


#: histogram peaks (:func:`histogram_peaks`): bins over the 0.5–99.5 percentile range, Gaussian smoothing
#: width in bins, and the prominence a peak needs as a share of the highest density
PEAK_BINS = 100
PEAK_SMOOTHING_BINS = 2.0
PEAK_PROMINENCE = 0.05


def histogram_peaks(values) -> int:
    """The number of peaks of a distribution: local maxima of its density histogram (:data:`PEAK_BINS`
    bins over the 0.5–99.5 percentile range, smoothed by a Gaussian of :data:`PEAK_SMOOTHING_BINS` bins)
    with a prominence of at least :data:`PEAK_PROMINENCE` of the highest density. 0 for fewer than 10
    values or no spread."""
    from scipy.ndimage import gaussian_filter1d
    from scipy.signal import find_peaks

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 10:
        return 0
    lo, hi = np.percentile(v, [0.5, 99.5])
    if not hi > lo:
        return 0
    h, _ = np.histogram(v, bins=PEAK_BINS, range=(lo, hi), density=True)
    h = gaussian_filter1d(h, PEAK_SMOOTHING_BINS, mode="constant")
    peaks, _ = find_peaks(np.concatenate([[0.0], h, [0.0]]), prominence=PEAK_PROMINENCE * h.max())
    return int(len(peaks))


def deviation_share(df, column: str | None = None) -> float:
    """The share of the variance of the molecules' summed latent terms carried by the atoms' deviations
    from their element's mean: var_m(Σ_i (x_i − x̄_Z(i))) / var_m(Σ_i x_i) over molecules m. Near 0: the
    molecular value is (nearly) a sum of per-element constants; near 1: the deviations carry it."""
    column = column or df.attrs.get("column")
    x = df[column].to_numpy(dtype=np.float64)
    dev = x - df.groupby("symbol", observed=True)[column].transform("mean").to_numpy(dtype=np.float64)
    mol = df["molecule"].to_numpy()
    _, inv = np.unique(mol, return_inverse=True)
    total = np.bincount(inv, weights=x)
    d = np.bincount(inv, weights=dev)
    vt = float(np.var(total))
    return float(np.var(d) / vt) if vt > 0 else float("nan")
