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
