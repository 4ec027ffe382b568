"""A study: the latent terms of every found checkpoint (models × folds) of one target over the same
molecules, and its tables (counts, per-fold statistics, the sampling noise floor)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .. import AtomintError
from ..data.elements import QM9_SYMBOLS
from ..store import FoldSet, find_folds
from .atom_terms import (FIG_ELEMENTS, LATENT, MODEL_LABELS, MODEL_ORDER, checkpoint_terms, held_out_ids,
                         latent_column, latent_unit)
from .latent_stats import fold_distance, fold_table, values_of

#: Figs. 2 and 4 use at most this many molecules (a fixed random subset of QM9, the same for every
#: model and fold); see :func:`analysis_rows`.
MAX_MOLECULES = 10_000


def analysis_rows(ds, max_molecules: int = MAX_MOLECULES, seed: int = 0) -> np.ndarray | None:
    """The molecules the latent-term figures use: all of ``ds`` (``None``) when it has at most
    ``max_molecules``, else a random subset of that size drawn with ``seed`` (sorted rows) — the same
    molecules for every checkpoint, so fold-to-fold and model-to-model differences are the models' own."""
    if len(ds) <= max_molecules:
        return None
    return np.sort(np.random.default_rng(seed).choice(len(ds), max_molecules, replace=False))


@dataclass
class Study:
    """Latent terms of every found checkpoint of one target over the same molecules."""

    fold_set: FoldSet
    frames: dict[str, dict[int, object]]   # frames[model][fold] = DataFrame of latent_terms
    tests: dict[str, dict[int, np.ndarray]]
    n_molecules: int
    data: str
    #: checkpoints whose charges were multiplied by −1 at load (listed by :func:`.charge_signs.flipped_checkpoints`)
    flipped: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return self.fold_set.target

    @property
    def column(self) -> str:
        return latent_column(self.target)

    @property
    def unit(self) -> str:
        return latent_unit(self.target)

    def models(self) -> list[str]:
        return [m for m in MODEL_ORDER if self.frames.get(m)]

    def n_folds(self, model: str) -> int:
        return len(self.frames.get(model, {}))

    def test_only(self, model: str, fold: int):
        """The rows of ``frames[model][fold]`` whose molecule is in that checkpoint's test split."""
        df = self.frames[model][fold]
        return df[np.isin(df["molecule"].to_numpy(), self.tests[model][fold])]

    def restricted_to_tests(self) -> "Study":
        """The same study with every checkpoint's table cut to its own held-out test molecules."""
        frames = {m: {k: self.test_only(m, k) for k in by} for m, by in self.frames.items()}
        return Study(self.fold_set, frames, self.tests, self.n_molecules, self.data + ", test molecules only",
                     list(self.flipped))

    def first_frames(self) -> dict:
        """``{model: table of its lowest fold}``."""
        return {m: self.frames[m][min(self.frames[m])] for m in self.models()}

    def describe(self) -> str:
        return (f"{self.fold_set.describe()}\nlatent {LATENT[self.target][3]} of {self.n_molecules:,} molecules "
                f"({self.data}) per checkpoint")


def try_study(models_dir, target: str, profile: str, folds, ds, rows="auto") -> tuple[Study | None, str]:
    """:func:`study`, or ``(None, reason)`` when the checkpoints of that target are missing."""
    try:
        return study(models_dir, target, profile, folds, ds, rows), ""
    except AtomintError as e:
        return None, str(e)


def counts_table(st: Study, elements: Iterable[str] = QM9_SYMBOLS):
    """Atoms and molecules per element in the study's molecules, and the folds found per model."""
    import pandas as pd

    df = st.frames[st.models()[0]][min(st.frames[st.models()[0]])]
    g = df.groupby("symbol", observed=True)
    t = pd.DataFrame({"atoms": g.size(), "molecules": g["molecule"].nunique()})
    t = t.reindex([e for e in elements if e in t.index])
    t.loc["all"] = [len(df), df["molecule"].nunique()]
    for m in st.models():
        t[f"{MODEL_LABELS[m]} folds"] = ", ".join(str(k) for k in sorted(st.frames[m]))
    return t


def fold_tables(st: Study, elements: Iterable[str] = FIG_ELEMENTS, digits: int = 3):
    """Mean, std and IQR per element and fold, both models side by side (rounded)."""
    import pandas as pd

    parts = {MODEL_LABELS[m]: fold_table(st.frames[m], elements, st.column).set_index(["element", "fold"])
             [["mean", "std", "IQR"]] for m in st.models()}
    return pd.concat(parts, axis=1).round(digits)


def noise_floor(df, elements: Iterable[str] = FIG_ELEMENTS, column: str | None = None, seed: int = 0):
    """Per element: :func:`fold_distance` between the atoms of two random halves of the molecules of one
    table — the distance that sampling alone produces, to read the fold-to-fold distances against."""
    import pandas as pd

    mols = np.unique(df["molecule"].to_numpy())
    half = np.random.default_rng(seed).permutation(mols)[: len(mols) // 2]
    in_a = np.isin(df["molecule"].to_numpy(), half)
    out = {e: fold_distance(values_of(df[in_a], e, column), values_of(df[~in_a], e, column)) for e in elements}
    return pd.Series(out, name="noise floor")


def study(models_dir, target: str, profile: str, folds, ds, rows="auto", *, cache: bool = True,
          label: str | None = None) -> Study:
    """Find the checkpoints (:func:`find_folds`) and compute their latent terms over the molecules
    ``rows`` of ``ds`` (``"auto"``: :func:`analysis_rows`; ``None``: all); ``label`` says in words which
    molecules explicit ``rows`` are."""
    auto = isinstance(rows, str)
    fs = find_folds(models_dir, target, profile, folds)
    if isinstance(rows, str):
        rows = analysis_rows(ds)
    frames = {m: {k: checkpoint_terms(f, ds, rows, cache=cache) for k, f in by.items()}
              for m, by in fs.folders.items()}
    tests = {m: {k: held_out_ids(f) for k, f in by.items()} for m, by in fs.folders.items()}
    n = len(ds) if rows is None else len(rows)
    source = "the embedded sample" if ds.is_sample else f"QM9 ({ds.source})"
    if label is not None:
        what = f"{label}, from {source}"
    elif rows is not None and not auto:
        what = f"{n:,} chosen molecules of {source}"
    elif ds.is_sample:
        what = "all molecules of the embedded sample"
    elif rows is None:
        what = f"all of QM9 ({ds.source})"
    else:
        what = f"a fixed random subset (seed 0) of the {len(ds):,} QM9 molecules"
    return Study(fs, frames, tests, n, what)
