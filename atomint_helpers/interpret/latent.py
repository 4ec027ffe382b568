"""Latent per-atom terms of a trained model over a data set, and statistics across folds and models.

Both models of the paper write their prediction as a sum over atoms: the energy as ``E = Σ_i E_i``
(atomic energies, kcal/mol, on the atomization-energy scale) and the dipole moment as
``μ = Σ_i q_i r_i`` (partial charges, e). :func:`latent_terms` returns these terms as one table row per
atom, computed in batches (no per-molecule Python) for any model and any data: the QM9 set (full or the
embedded sample), an :class:`~atomint_helpers.data.batch.AtomsData`, or a user's own ``ase.Atoms``.

Comparing distributions
-----------------------
Fold-to-fold and model-to-model differences are measured with :func:`fold_distance`: the
Wasserstein-1 distance (earth mover's distance, ``scipy.stats.wasserstein_distance``) between two
distributions of the same element's latent terms, divided by their **pooled interquartile range**
(the mean of the two IQRs). The ratio has no unit, so energies (kcal/mol) and charges (e) can be
compared on one scale: 0 means identical distributions, 0.1 means the mass has to move on average by a
tenth of a typical width to turn one into the other. The IQR, not the standard deviation, is the
spread because BP gives a handful of atoms extreme latent energies: they inflate a standard deviation
by orders of magnitude and would make any two distributions look alike.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import torch

from .. import AtomintError
from ..io import atomic_path
from ..data.batch import ACSF_KEY, AtomsData, molecule_pairs, periodic_pairs, ranges
from ..data.bonds import COV_FACTOR, neighbour_counts  # noqa: F401  (re-exported)

#: per target: (model output key, table column, unit, words (plural))
LATENT = {
    "energy": ("atomic_energies", "atomic_energy", "kcal/mol", "atomic energies"),
    "dipole": ("partial_charges", "charge", "e", "partial charges"),
}
MODEL_ORDER = ("bp", "schnet")
MODEL_LABELS = {"bp": "BP", "schnet": "SchNet"}
#: the four elements of Figs. 2 and 4 (F is too rare in QM9 for a per-fold distribution)
FIG_ELEMENTS = ("H", "C", "N", "O")


def target_of(model) -> str:
    t = model.config.get("target")
    if t not in LATENT:
        raise AtomintError(f"model target {t!r} has no latent per-atom terms; accepted: {', '.join(LATENT)}")
    return t


def latent_column(target: str) -> str:
    """Name of the latent column of :func:`latent_terms` for a target (``atomic_energy`` / ``charge``)."""
    return LATENT[target][1]


def latent_unit(target: str) -> str:
    return LATENT[target][2]


# ------------------------------------------------------------------------------------------ data
_QM9_DATA: dict = {}


def _qm9_data(ds, cutoff: float) -> AtomsData:
    from ..data.batch import qm9_atoms_data

    key = (id(ds), float(cutoff))
    hit = _QM9_DATA.get(key)
    if hit is not None and hit[0] is ds:
        return hit[1]
    if len(_QM9_DATA) >= 4:
        _QM9_DATA.pop(next(iter(_QM9_DATA)))
    data = qm9_atoms_data(ds, cutoff=cutoff, targets=())
    _QM9_DATA[key] = (ds, data)
    return data


def atoms_data(atoms, cutoff: float) -> AtomsData:
    """An :class:`AtomsData` from one ``ase.Atoms`` or a list of them (molecules, or all periodic)."""
    from ase import Atoms

    frames = [atoms] if isinstance(atoms, Atoms) else list(atoms)
    if not frames:
        raise AtomintError("no structures given")
    if any(len(a) == 0 for a in frames):
        raise AtomintError("a structure has no atoms")
    n = np.array([len(a) for a in frames], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(n)])
    Z = np.concatenate([np.asarray(a.numbers, dtype=np.int64) for a in frames])
    R = np.concatenate([np.asarray(a.positions, dtype=np.float64) for a in frames])
    periodic = [bool(np.any(a.pbc)) for a in frames]
    if any(periodic) and not all(periodic):
        raise AtomintError("mix of periodic and non-periodic structures; pass them separately")
    if all(periodic):
        cells = np.stack([np.asarray(a.cell.array, dtype=np.float64) for a in frames])
        frac = np.concatenate([a.get_scaled_positions(wrap=False) for a in frames])
        pairs = periodic_pairs(frac, cells, offsets, cutoff)
        return AtomsData(Z, R, offsets, pairs, ids=np.arange(len(frames)), cells=cells)
    pairs = molecule_pairs(R, offsets, cutoff)
    return AtomsData(Z, R, offsets, pairs, ids=np.arange(len(frames)))


def _resolve(model, ds_or_data):
    """(AtomsData, QM9 or None) for any accepted input."""
    from ..data.qm9 import QM9

    if isinstance(ds_or_data, QM9):
        return _qm9_data(ds_or_data, model.cutoff), ds_or_data
    if isinstance(ds_or_data, AtomsData):
        if abs(ds_or_data.pairs.cutoff - model.cutoff) > 1e-9:
            raise AtomintError(f"the data's neighbour pairs use a cutoff of {ds_or_data.pairs.cutoff} Å but the "
                               f"model needs {model.cutoff} Å; rebuild the AtomsData with cutoff={model.cutoff}")
        return ds_or_data, None
    try:
        from ase import Atoms
    except ImportError:  # pragma: no cover
        Atoms = ()
    if isinstance(ds_or_data, Atoms) or (isinstance(ds_or_data, (list, tuple)) and ds_or_data
                                         and all(isinstance(a, Atoms) for a in ds_or_data)):
        return atoms_data(ds_or_data, model.cutoff), None
    raise AtomintError(f"latent terms need a QM9 data set, an AtomsData, an ase.Atoms or a list of them; "
                       f"got {type(ds_or_data).__name__}")


# ------------------------------------------------------------------------------------------ terms
def other_runnable_tasks() -> float:
    """How many other tasks compete for the cores right now: the kernel's count of runnable tasks
    (``/proc/loadavg``, field 4, minus this one) where available, else the 1-minute load average."""
    try:
        with open("/proc/loadavg") as f:
            return max(int(f.read().split()[3].split("/")[0]) - 1, 0)
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average on this platform
            return 0.0


@contextlib.contextmanager
def inference_threads():
    """Evaluate with one torch thread while the cores are taken by other work (other runnable tasks ≥ the
    number of cores), else with torch's setting. On a busy 2-core machine, OpenMP threads that wait for each
    other made these forward passes 2–17× slower than one thread (bench/RESULTS.md); the results are the
    same. The previous setting is restored afterwards."""
    n = torch.get_num_threads()
    busy = other_runnable_tasks() >= (os.cpu_count() or 1)
    if busy and n > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


@torch.no_grad()
def latent_values(model, data: AtomsData, rows: np.ndarray, batch_size: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """(latent term per atom of ``rows`` in data order, molecular prediction per row) as float64 arrays.

    BP descriptors are computed batch by batch from the geometry (any ``atom_features`` attached to
    ``data`` for another model are ignored, so a shared AtomsData can never leak descriptors). Runs under
    :func:`inference_threads`."""
    key_atom = LATENT[target_of(model)][0]
    was = model.training
    model.eval()
    vals, preds = [], []
    try:
        with inference_threads():
            for b in range(0, len(rows), batch_size):
                batch = data.batch(rows[b:b + batch_size])
                batch.pop(ACSF_KEY, None)
                out = model(batch)
                vals.append(out[key_atom].detach().double().numpy())
                preds.append(out[model.target_key].detach().double().numpy())
    finally:
        model.train(was)
    if not vals:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(vals), np.concatenate(preds)


def latent_terms(model, ds_or_data, rows=None, batch_size: int = 250, *, values: np.ndarray | None = None):
    """One row per atom: the model's latent term of every atom of the chosen molecules.

    ``ds_or_data``: a :class:`~atomint_helpers.data.qm9.QM9` (full or sample), an ``AtomsData``, an
    ``ase.Atoms`` or a list of them. ``rows``: array positions of the molecules (default: all).

    Columns: ``molecule`` (the QM9 index for QM9 data, else the structure's id / list position), ``row``
    (array position), ``atom`` (index within the molecule, in file order), ``Z``, ``symbol``, then
    ``atomic_energy`` (kcal/mol, energy models) or ``charge`` (e, dipole models) and, for charges of QM9
    molecules, QM9's Mulliken charge ``mulliken`` (e). ``values`` lets a caller pass precomputed terms
    (from a cache) in the same atom order. ``df.attrs`` holds ``target``, ``column``, ``unit``.
    """
    import pandas as pd
    from ase.data import chemical_symbols

    target = target_of(model)
    data, ds = _resolve(model, ds_or_data)
    rows = np.arange(len(data)) if rows is None else np.asarray(rows, dtype=np.int64)
    if rows.ndim != 1 or (len(rows) and (rows.min() < 0 or rows.max() >= len(data))):
        raise AtomintError(f"rows must be positions 0…{len(data) - 1} of the data set")
    if len(rows):
        present = np.unique(np.asarray(data.Z)[ranges(np.asarray(data.offsets)[rows], data.n_atoms[rows])])
        model.check_elements(torch.as_tensor(present.astype(np.int64)))
    if values is None:
        values, _ = latent_values(model, data, rows, batch_size)
    n = data.n_atoms[rows]
    atoms = ranges(np.asarray(data.offsets)[rows], n)
    if len(values) != len(atoms):
        raise AtomintError(f"{len(values)} latent values for {len(atoms)} atoms")
    Z = np.asarray(data.Z)[atoms].astype(np.int16)
    ids = np.asarray(data.ids)[rows] if data.ids is not None else rows
    symbols = np.array(chemical_symbols, dtype=object)
    col = latent_column(target)
    df = pd.DataFrame({
        "molecule": np.repeat(ids, n).astype(np.int64),
        "row": np.repeat(rows, n).astype(np.int64),
        "atom": (np.arange(len(atoms)) - np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]), n)).astype(np.int32),
        "Z": Z,
        "symbol": pd.Categorical(symbols[Z]),
        col: np.asarray(values, dtype=np.float64),
    })
    if target == "dipole" and ds is not None and "mulliken" in ds.arrays:
        df["mulliken"] = np.asarray(ds.arrays["mulliken"], dtype=np.float64)[atoms]
    df.attrs.update(target=target, column=col, unit=latent_unit(target))
    return df


def molecule_sums(df, column: str | None = None):
    """Σ of the latent terms per molecule (a Series indexed by ``molecule``)."""
    column = column or df.attrs.get("column")
    return df.groupby("molecule", sort=False)[column].sum()


# ------------------------------------------------------------------------------------------ checkpoints
from ..store import FoldSet, find_folds  # noqa: E402,F401  (store owns finding; re-exported for old callers)


def _cache_path(folder: Path, ds, rows: np.ndarray | None) -> Path:
    import hashlib

    from ..data.checksums import sha256_file
    from ..data.paths import cache_dir
    from .. import store

    wsha = sha256_file(Path(folder) / store.WEIGHTS)[:16]
    dsha = (ds.sha256 or "nosha")[:16]
    wsha += "-oriented"  # charges carry the sign fixed at load (store.orient_charges), unlike older entries
    which = "all" if rows is None else hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()[:12]
    return cache_dir() / "latent" / f"{Path(folder).name}-{wsha}-{dsha}-{len(ds)}-{which}.npy"


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


def checkpoint_terms(folder, ds, rows=None, *, cache: bool = True, batch_size: int = 250):
    """:func:`latent_terms` of a checkpoint over the molecules ``rows`` of ``ds`` (default: all), with the
    values cached on disk (``$ATOMINT_CACHE/latent``, keyed by the weights' and the data's sha256 and the
    rows, so a checkpoint that is still training, or other data, never reuse stale values).
    ``df.attrs`` adds ``checkpoint``, ``model``, ``fold``."""
    from .. import store

    folder = Path(folder)
    model = store.load_model(folder)
    rows = None if rows is None else np.asarray(rows, dtype=np.int64)
    sel = np.arange(len(ds)) if rows is None else rows
    n_atoms = int(np.diff(np.asarray(ds.arrays["offsets"]))[sel].sum())
    values = None
    path = _cache_path(folder, ds, rows) if cache and ds.sha256 else None
    if path is not None and path.is_file():
        try:
            values = np.load(path, allow_pickle=False)
            if len(values) != n_atoms:
                values = None
        except Exception:  # a broken cache entry is recomputed, never trusted
            values = None
    if values is None:
        data = _qm9_data(ds, model.cutoff)
        values, _ = latent_values(model, data, sel, batch_size)
        if path is not None:
            with atomic_path(path, ".npy") as tmp:
                np.save(tmp, values)
    df = latent_terms(model, ds, sel, values=values)
    prov = store.provenance(folder)
    df.attrs.update(checkpoint=folder.name, model=model.config["model"], fold=int(prov.get("fold", -1)))
    return df


def per_atom_array(df, ds, column: str | None = None) -> np.ndarray:
    """The latent terms of ``df`` scattered into an array over all atoms of ``ds`` (NaN elsewhere)."""
    column = column or df.attrs.get("column")
    out = np.full(ds.n_atoms_total, np.nan)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    out[off[df["row"].to_numpy()] + df["atom"].to_numpy()] = df[column].to_numpy()
    return out


def held_out_ids(folder) -> np.ndarray:
    """The QM9 ids of a checkpoint's held-out test split."""
    from ..data.splits import load_split
    from .. import store

    return load_split(Path(folder) / store.SPLIT)["test"]


@dataclass
class Study:
    """Latent terms of every found checkpoint of one target over the same molecules."""

    fold_set: FoldSet
    frames: dict[str, dict[int, object]]   # frames[model][fold] = DataFrame of latent_terms
    tests: dict[str, dict[int, np.ndarray]]
    n_molecules: int
    data: str
    #: checkpoints whose charges were multiplied by −1 by :func:`orient_charges`
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


def counts_table(st: Study, elements: Iterable[str] = ("H", "C", "N", "O", "F")):
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


# ------------------------------------------------------------------------------------------ charge sign
def charge_orientation(df) -> tuple[int, str]:
    """+1 or −1 and why: the sign that makes a dipole model's charges follow the chemical convention.

    A dipole model is trained on |μ| only (QM9 has no dipole direction), and |μ| does not change when
    every charge changes sign: which of the two mirror solutions a training run ends in is chance. The
    sign is fixed here by QM9's Mulliken charges when present (the sign with a positive correlation),
    otherwise by the convention that oxygen, the most electronegative common element, is negative."""
    q = df["charge"].to_numpy()
    if "mulliken" in df and len(q) > 2 and np.std(q) > 0:
        r = float(np.corrcoef(q, df["mulliken"].to_numpy())[0, 1])
        return (1 if r >= 0 else -1), f"Pearson r with Mulliken {r:+.2f}"
    o = q[df["symbol"].to_numpy() == "O"]
    if len(o):
        return (1 if o.mean() <= 0 else -1), f"mean O charge {o.mean():+.3f} e"
    return 1, "no Mulliken charges and no oxygen: left as trained"


def orient_charges(st: "Study") -> list[str]:
    """Apply :func:`charge_orientation` to every frame of a charge study, in place; returns the
    checkpoints whose charges were flipped (also kept in ``st.flipped``)."""
    if st.target != "dipole":
        return []
    flipped = []
    for m, by in st.frames.items():
        for k, df in by.items():
            sign, _ = charge_orientation(df)
            if sign < 0:
                df["charge"] = -df["charge"]
                flipped.append(st.fold_set.folders[m][k].name)
    st.flipped = flipped
    return flipped


def sign_agreement(frames: Mapping[str, Mapping[int, object]], ds, min_abs: float = 0.1, min_atoms: int = 20):
    """How often a latent charge has the sign of QM9's Mulliken charge, per checkpoint, element and number
    of bonded neighbours (:func:`neighbour_counts`).

    A global sign flip (:func:`orient_charges`) fixes the mirror ambiguity of |μ| for a whole checkpoint,
    but a training run can also settle on the mirror solution for one kind of atom only, e.g. terminal N
    (one neighbour, as in nitriles) positive where Mulliken puts it negative. Only atoms with
    |Mulliken| ≥ ``min_abs`` (e) count, and only groups of at least ``min_atoms`` such atoms are kept.
    ``frames``: ``{model: {fold: latent_terms table with charge and mulliken}}`` (e.g. ``Study.frames``).
    Columns: model, fold, element, neighbours, atoms, agree (fraction with the Mulliken sign)."""
    import pandas as pd

    rows, counts = [], {}
    for m, by in frames.items():
        for k, df in by.items():
            if "mulliken" not in df:
                raise AtomintError("sign_agreement needs QM9's Mulliken charges (a 'mulliken' column)")
            key = tuple(pd.unique(df["row"].to_numpy()))
            if key not in counts:
                counts[key] = neighbour_counts(ds, np.asarray(key))
            nb = counts[key]
            if len(nb) != len(df):
                raise AtomintError(f"{len(df)} latent terms for {len(nb)} atoms of the same molecules")
            sel = np.abs(df["mulliken"].to_numpy()) >= min_abs
            agree = np.sign(df["charge"].to_numpy()) == np.sign(df["mulliken"].to_numpy())
            t = pd.DataFrame({"element": df["symbol"].astype(str).to_numpy()[sel], "neighbours": nb[sel],
                              "agree": agree[sel]})
            g = t.groupby(["element", "neighbours"]).agg(atoms=("agree", "size"), agree=("agree", "mean")).reset_index()
            g.insert(0, "fold", k)
            g.insert(0, "model", MODEL_LABELS.get(m, m))
            rows.append(g[g["atoms"] >= min_atoms])
    cols = ["model", "fold", "element", "neighbours", "atoms", "agree"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def mulliken_table(st: "Study", elements: Iterable[str] = ("H", "C", "N", "O", "F")):
    """Per model and element: Pearson r between latent and Mulliken charges (fold-mean), the latent and
    Mulliken means, and the least-squares slope of latent on Mulliken; plus an ``all`` row."""
    import pandas as pd

    rows = []
    for m in st.models():
        for e in (*elements, "all"):
            rs, slopes, ql, qm, n = [], [], [], [], 0
            for df in st.frames[m].values():
                sel = df if e == "all" else df[df["symbol"] == e]
                if len(sel) < 3 or "mulliken" not in sel:
                    continue
                x, y = sel["mulliken"].to_numpy(), sel["charge"].to_numpy()
                if np.std(x) > 0 and np.std(y) > 0:
                    rs.append(np.corrcoef(x, y)[0, 1])
                    slopes.append(np.polyfit(x, y, 1)[0])
                ql.append(y.mean())
                qm.append(x.mean())
                n = len(sel)
            if not ql:
                continue
            rows.append({"model": MODEL_LABELS.get(m, m), "element": e, "n atoms": n,
                         "Pearson r": float(np.mean(rs)) if rs else np.nan,
                         "slope": float(np.mean(slopes)) if slopes else np.nan,
                         "mean latent (e)": float(np.mean(ql)), "mean Mulliken (e)": float(np.mean(qm))})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ statistics
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
