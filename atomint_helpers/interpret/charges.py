r"""Charges against energies, model against model (Fig. 4): the numbers behind section 3.1's charge claims.

Every measure here works on the per-atom tables of :mod:`.latent_study` (``Study.frames[model][fold]``) and
compares **the same atoms**: frames are joined on (molecule, atom).

* :func:`energy_charge_correlation` — for one element, the Spearman rank correlation between an atom's
  latent energy ``E_i`` (energy model of fold k) and its latent charge ``q_i`` (dipole model of fold k),
  per fold. A model whose carbon energy and charge distributions "show parallels" puts the same carbons at
  the same places in both: |ρ| is large. The sign of ρ says nothing about the claim (an energy and a charge
  need not grow together), so the claim reads |ρ|.
* :func:`scaled_distance` — the distance of :func:`~.latent.fold_distance` (W1 / pooled IQR, per element)
  after the best constant factor ``s > 0`` between the two checkpoints: ``s`` minimizes the mean over H,
  C, N and O of ``W1(s·x_e, y_e) / pooled IQR`` (searched on 401 factors spaced evenly in log between
  0.1 and 10; ``s = 1`` is among them, so the scaled distance never exceeds the unscaled one). It reads
  the paper's "unique (up to a constant scaling factor)": two partitionings that differ only by a global
  factor have distance 0. One factor serves all elements: a per-element factor would hide differences
  in how the models split the charge between elements.
* :func:`outlying_folds` — folds that sit in a local mirror solution: in some group of atoms (element,
  number of bonded neighbours; :func:`~.latent.sign_agreement`) the share of atoms with the Mulliken sign
  lies ``gap`` (0.2) or more below the best fold of the same model. :func:`without_folds` drops them from
  a study, so fold-based verdicts can be given with and without them.
* :func:`seed_table` — how much of each element's mean latent charge the dipole head's electronegativity
  start (:func:`~atomint_helpers.models.heads.seed_charge`) accounts for: the seed, the trained offset
  and the mean latent charge per element (e), and their ratio.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import numpy as np

from .. import AtomintError
from ..data.elements import QM9_SYMBOLS
from .atom_terms import FIG_ELEMENTS, MODEL_LABELS
from .latent_study import Study

KEY = ["molecule", "atom"]


def _joined(a, b, col_a: str, col_b: str):
    """``a`` and ``b`` joined on the same atoms (molecule, atom): columns symbol, x (``a[col_a]``), y
    (``b[col_b]``). A one-line error when they share no atom."""
    left = a[KEY + ["symbol", col_a]].rename(columns={col_a: "x"})
    right = b[KEY + [col_b]].rename(columns={col_b: "y"})
    j = left.merge(right, on=KEY, how="inner")
    if not len(j):
        raise AtomintError("the two tables share no atom (molecule, atom): compute both over the same molecules")
    j["symbol"] = j["symbol"].astype(str)
    return j


def spearman(x, y) -> float:
    """Spearman rank correlation (NaN for fewer than 3 values or a constant input)."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def energy_charge_correlation(energy_frames: Mapping[int, object], charge_frames: Mapping[int, object],
                              element: str = "C"):
    """Per fold both targets have: Spearman ρ between latent energy and latent charge of the atoms of
    ``element`` (the same atoms), and their number. Columns: fold, atoms, rho."""
    return _per_fold_pairs(energy_frames, charge_frames, element, "rho", spearman)


def _per_fold_pairs(energy_frames, charge_frames, element: str, column: str, measure):
    """Per fold both targets have: ``measure(energies, charges)`` of the same atoms of ``element``, in
    ``column``; columns fold, atoms, ``column``."""
    import pandas as pd

    rows = []
    for k in sorted(set(energy_frames) & set(charge_frames)):
        j = _joined(energy_frames[k], charge_frames[k], "atomic_energy", "charge")
        j = j[j["symbol"] == element]
        rows.append({"fold": k, "atoms": len(j), column: measure(j["x"], j["y"])})
    return pd.DataFrame(rows, columns=["fold", "atoms", column])


#: the constant factors :func:`scaled_distance` tries (log-spaced, 0.1 … 10, including 1)
FACTORS = np.logspace(-1, 1, 401)


def _iqr(v: np.ndarray) -> float:
    q75, q25 = np.percentile(v, [75, 25])
    return float(q75 - q25)


def scaled_distance(a, b, column: str, elements: Iterable[str] = FIG_ELEMENTS) -> tuple[float, dict]:
    """``(s, {element: W1(s·x_e, y_e) / pooled IQR})`` for the latent terms ``column`` of two tables over
    the same atoms, with ``s`` the best constant factor of :data:`FACTORS` (see the module docstring).
    Over the same atoms both samples have the same size, so W1 is the mean absolute difference of the
    sorted values, and ``W1(s·x, y) = mean|s·sort(x) − sort(y)|`` for every ``s > 0`` at once."""
    elements = list(elements)
    j = _joined(a, b, column, column)
    curves, keep = [], []
    for e in elements:
        sel = (j["symbol"] == e).to_numpy()
        x, y = np.sort(j.loc[sel, "x"].to_numpy()), np.sort(j.loc[sel, "y"].to_numpy())
        spread = 0.5 * (FACTORS * _iqr(x) + _iqr(y)) if len(x) >= 2 else np.zeros_like(FACTORS)
        w1 = np.concatenate([np.abs(f[:, None] * x[None] - y[None]).mean(1) for f in np.array_split(FACTORS, 20)])
        with np.errstate(divide="ignore", invalid="ignore"):
            curves.append(np.where(spread > 0, w1 / spread, np.nan))
        keep.append(len(x) >= 2)
    c = np.array(curves)
    if not any(keep) or np.isnan(c[np.array(keep)]).all():
        return float("nan"), {e: float("nan") for e in elements}
    best = int(np.nanargmin(np.nanmean(c[np.array(keep)], axis=0)))
    return float(FACTORS[best]), {e: float(c[i, best]) for i, e in enumerate(elements)}


def scaled_distances(st: Study, elements: Iterable[str] = FIG_ELEMENTS):
    """For a study: per model the scaled fold-to-fold distance (every pair of folds) and, with both
    models, the scaled BP-vs-SchNet distance (fold by fold over shared folds). A table with rows = the
    elements plus ``mean`` (their mean), columns ``<Model> folds`` and ``BP vs SchNet``; ``attrs["scale"]``
    holds the fitted factors per column."""
    import pandas as pd

    elements = list(elements)
    cols, scales = {}, {}
    pairs = {f"{MODEL_LABELS[m]} folds": [(st.frames[m][i], st.frames[m][k])
                                          for i, k in itertools.combinations(sorted(st.frames[m]), 2)]
             for m in st.models()}
    if len(st.models()) == 2:
        common = sorted(set(st.frames["bp"]) & set(st.frames["schnet"]))
        pairs["BP vs SchNet"] = [(st.frames["bp"][k], st.frames["schnet"][k]) for k in common]
    for name, ps in pairs.items():
        res = [scaled_distance(a, b, st.column, elements) for a, b in ps]
        cols[name] = {e: float(np.nanmean([d[e] for _, d in res])) if res else np.nan for e in elements}
        scales[name] = [round(s, 3) for s, _ in res]
    t = pd.DataFrame(cols, index=elements)
    t.loc["mean"] = t.mean(axis=0, skipna=False)
    t.attrs["scale"] = scales
    return t


# ------------------------------------------------------------------------------------------ outlying folds
def outlying_folds(signs, gap: float = 0.2) -> dict[str, list[int]]:
    """``{model label: [folds]}`` of :func:`~.latent.sign_agreement`'s table: folds whose share of atoms
    with the Mulliken sign lies at least ``gap`` below the best fold of the same model in some group
    (element, neighbours) — a local mirror solution. Models without such a fold are left out."""
    out: dict[str, list[int]] = {}
    if len(signs) == 0:
        return out
    best = signs.groupby(["model", "element", "neighbours"])["agree"].transform("max")
    low = signs[signs["agree"] <= best - gap]
    for model, g in low.groupby("model", sort=False):
        out[str(model)] = sorted(int(k) for k in g["fold"].unique())
    return out


def without_folds(st: Study, drop: Mapping[str, Iterable[int]]) -> Study:
    """The same study without the folds ``drop`` (``{model label or key: [folds]}``)."""
    keys = {MODEL_LABELS.get(m, m): m for m in st.frames} | {m: m for m in st.frames}
    gone = {keys[m]: {int(k) for k in ks} for m, ks in drop.items() if m in keys}
    frames = {m: {k: df for k, df in by.items() if k not in gone.get(m, ())} for m, by in st.frames.items()}
    tests = {m: {k: v for k, v in by.items() if k not in gone.get(m, ())} for m, by in st.tests.items()}
    return Study(st.fold_set, frames, tests, st.n_molecules, st.data, list(st.flipped))


def fold_names(st: Study, drop: Mapping[str, Iterable[int]]) -> list[str]:
    """The checkpoint names of the folds ``drop`` (``{model label: [folds]}``)."""
    keys = {MODEL_LABELS.get(m, m): m for m in st.fold_set.folders}
    return [st.fold_set.folders[keys[m]][k].name for m, ks in drop.items() if m in keys for k in ks]


# ------------------------------------------------------------------------------------------ the seed
def seed_table(mean_charges: Mapping[str, Mapping[str, float]], offsets: Mapping[str, Mapping[str, float]],
               elements: Iterable[str] = FIG_ELEMENTS):
    """Per model and element: the electronegativity seed ``c⁰_Z`` (e), the trained offset ``c_Z`` (e,
    with the checkpoint's charge sign), the mean latent charge (e) and ``seed / mean`` (the share of the
    mean charge the starting value alone would give; NaN for a mean of 0). ``mean_charges[model][el]``
    and ``offsets[model][el]`` are the caller's fold means."""
    import pandas as pd
    from ase.data import atomic_numbers

    from ..models.heads import seed_charge

    rows = []
    for model, means in mean_charges.items():
        for e in elements:
            if e not in means:
                continue
            seed, mean = seed_charge(atomic_numbers[e]), float(means[e])
            rows.append({"model": model, "element": e, "seed (e)": seed,
                         "trained offset (e)": float(offsets.get(model, {}).get(e, np.nan)),
                         "mean latent charge (e)": mean, "seed / mean": (seed / mean + 0.0) if mean else np.nan})
    return pd.DataFrame(rows)


def checkpoint_offsets(model) -> dict[str, float]:
    """A loaded dipole model's trained per-element charge offsets (e) for H, C, N, O, F, multiplied by the
    charge sign fixed at load (``head.charge_sign``)."""
    from ase.data import atomic_numbers

    c = model.head.element_charge.detach().double().numpy() * float(model.head.charge_sign)
    return {e: float(c[atomic_numbers[e]]) for e in QM9_SYMBOLS}


__all__ = ["energy_charge_correlation", "spearman", "scaled_distance", "scaled_distances", "ks_distance",
           "spread_scaled_distance", "shape_distance", "energy_charge_shapes",
           "outlying_folds", "without_folds", "fold_names", "seed_table", "checkpoint_offsets"]


# ------------------------------------------------------------------------------------------ more distances
def ks_distance(x, y) -> float:
    """The two-sample Kolmogorov–Smirnov statistic (the largest gap between the two empirical CDFs, 0 … 1):
    a distance between distributions that needs no unit and no spread (NaN for fewer than 2 values)."""
    x, y = np.sort(np.asarray(x, dtype=np.float64)), np.sort(np.asarray(y, dtype=np.float64))
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    grid = np.concatenate([x, y])
    return float(np.max(np.abs(np.searchsorted(x, grid, side="right") / len(x)
                               - np.searchsorted(y, grid, side="right") / len(y))))


def spread_scaled_distance(a, b, column: str, elements: Iterable[str] = FIG_ELEMENTS) -> tuple[float, dict]:
    """Like :func:`scaled_distance`, with the constant factor taken from the spreads instead of a search:
    ``s`` = the standard deviation of ``b``'s terms over all atoms of ``elements`` divided by ``a``'s (one
    factor for all elements, the same atoms), then ``W1(s·x_e, y_e) / pooled IQR`` per element."""
    elements = list(elements)
    j = _joined(a, b, column, column)
    j = j[j["symbol"].isin(elements)]
    sx, sy = float(j["x"].std()), float(j["y"].std())
    if not (sx > 0 and np.isfinite(sy)):
        return float("nan"), {e: float("nan") for e in elements}
    s = sy / sx
    out = {}
    for e in elements:
        sel = (j["symbol"] == e).to_numpy()
        x, y = np.sort(j.loc[sel, "x"].to_numpy()) * s, np.sort(j.loc[sel, "y"].to_numpy())
        spread = 0.5 * (_iqr(x) + _iqr(y)) if len(x) >= 2 else 0.0
        out[e] = float(np.abs(x - y).mean() / spread) if spread > 0 else float("nan")
    return s, out


def shape_distance(x, y) -> float:
    """How different the shapes of two distributions in different units are: each centred on its median and
    divided by its interquartile range, then the W1 distance between them, the smaller of ``y`` and ``−y``
    (a charge and an energy need not grow together). On constructed samples of 50,000: two normal samples of
    different centre and width 0.004, two similar three-peaked mixtures 0.04, a normal against two separated
    peaks or against an exponential about 0.28 (tests/test_charges.py)."""
    from scipy.stats import wasserstein_distance

    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) < 2 or len(y) < 2 or _iqr(x) <= 0 or _iqr(y) <= 0:
        return float("nan")
    zx = (x - np.median(x)) / _iqr(x)
    return float(min(wasserstein_distance(zx, s * (y - np.median(y)) / _iqr(y)) for s in (1.0, -1.0)))


def energy_charge_shapes(energy_frames: Mapping[int, object], charge_frames: Mapping[int, object],
                         element: str = "C"):
    """Per fold both targets have: :func:`shape_distance` between the latent energies and the latent charges
    of the atoms of ``element`` (the same atoms). Columns: fold, atoms, shape."""
    return _per_fold_pairs(energy_frames, charge_frames, element, "shape", shape_distance)
