"""Latent per-atom terms of a trained model: the atomic energies E_i (kcal/mol) or partial charges q_i (e)
of every atom, one table row per atom, and a checkpoint's terms cached on disk.

Both models of the paper write their prediction as a sum over atoms: the energy as ``E = Σ_i E_i``
(atomic energies, kcal/mol, on the atomization-energy scale) and the dipole moment as
``μ = Σ_i q_i r_i`` (partial charges, e). :func:`latent_terms` returns these terms as one table row per
atom, computed in batches (no per-molecule Python) for any model and any data: the QM9 set (full or the
embedded sample), an :class:`~atomint_helpers.data.batch.AtomsData`, or a user's own ``ase.Atoms``.
Their statistics are in :mod:`.latent_stats`, a study of every checkpoint of a target in
:mod:`.latent_study`, the sign of a dipole model's charges in :mod:`.charge_signs`."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import torch

from .. import AtomintError
from ..io import atomic_path
from ..data.batch import AtomsData, molecule_pairs, periodic_pairs
from ..properties import ACSF_KEY
from ..data.qm9 import ranges

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


def cached_qm9_data(ds, cutoff: float) -> AtomsData:
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
        return cached_qm9_data(ds_or_data, model.cutoff), ds_or_data
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
    other made these forward passes 2–17× slower than one thread (bench/RESULTS.md). The results agree to
    float32 rounding, not bit for bit: sums run in another order with another thread count, so a value
    printed to three digits can move by one unit in its last digit. The previous setting is restored
    afterwards."""
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


def molecule_rows(df) -> np.ndarray:
    """The data-set rows of the molecules in a per-atom table (:func:`latent_terms`), each once, in the
    table's order (int64)."""
    import pandas as pd

    return np.asarray(pd.unique(df["row"].to_numpy()), dtype=np.int64)


def first_frame(frames):
    """The first per-atom table of a study's ``frames[model][fold]``. Every table of one study (before
    ``Study.restricted_to_tests``) holds the same atoms in the same order, so the columns that do not
    depend on the model (element, Mulliken, row) can be read from any of them."""
    return next(df for by in frames.values() for df in by.values())


def molecule_sums(df, column: str | None = None):
    """Σ of the latent terms per molecule (a Series indexed by ``molecule``)."""
    column = column or df.attrs.get("column")
    return df.groupby("molecule", sort=False)[column].sum()



# ------------------------------------------------------------------------------------------ checkpoints
def terms_cache_path(folder: Path, ds, rows: np.ndarray | None) -> Path:
    import hashlib

    from ..io import sha256_file
    from ..data.paths import cache_dir
    from .. import store

    wsha = sha256_file(Path(folder) / store.WEIGHTS)[:16]
    dsha = (ds.sha256 or "nosha")[:16]
    wsha += "-oriented"  # charges carry the sign fixed at load (models.charge_sign, applied by store.load_model), unlike older entries
    which = "all" if rows is None else hashlib.sha256(np.ascontiguousarray(rows, dtype=np.int64).tobytes()).hexdigest()[:12]
    return cache_dir() / "latent" / f"{Path(folder).name}-{wsha}-{dsha}-{len(ds)}-{which}.npy"


#: Figs. 2 and 4 use at most this many molecules (a fixed random subset of QM9, the same for every

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
    path = terms_cache_path(folder, ds, rows) if cache and ds.sha256 else None
    if path is not None and path.is_file():
        try:
            values = np.load(path, allow_pickle=False)
            if len(values) != n_atoms:
                values = None
        except Exception:  # a broken cache entry is recomputed, never trusted
            values = None
    if values is None:
        data = cached_qm9_data(ds, model.cutoff)
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
