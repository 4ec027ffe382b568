"""Deterministic train/validation/test splits keyed by QM9 index.

A split is a permutation of the *universe* of QM9 ids (by default all 130,831 consistency-checked ids,
known without loading the data) drawn with ``numpy.random.default_rng(seed)``; the first ``n_train``
ids train, the next ``n_val`` validate, the rest test. Folds of the paper = different seeds.
Because splits are defined on ids, the embedded sample's molecules fall into the same split as in the
full set, so a model trained on full QM9 can be evaluated on the sample's test molecules.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .. import AtomintError, MissingError
from ..io import atomic_path


def split(n_train: int = 100_000, n_val: int = 10_000, seed: int = 0,
          universe: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``{'train', 'val', 'test'}`` arrays of QM9 ids (each sorted), disjoint, covering ``universe``."""
    from .qm9 import all_indices

    ids = np.unique(np.asarray(all_indices() if universe is None else universe, dtype=np.int64))
    if n_train < 1 or n_val < 0 or n_train + n_val > len(ids):
        raise AtomintError(f"cannot split {len(ids):,} molecules into n_train={n_train:,} and n_val={n_val:,}")
    perm = np.random.default_rng(seed).permutation(len(ids))
    parts = np.split(ids[perm], [n_train, n_train + n_val])
    return {k: np.sort(v) for k, v in zip(("train", "val", "test"), parts)}


def nested_subset(ids: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` of ``ids`` drawn at random with ``seed`` (sorted): the draws for one seed are nested, so the
    1,000 molecules of a learning curve's smallest set are among its 3,000 and its 10,000."""
    ids = np.asarray(ids, dtype=np.int64)
    if not 1 <= n <= len(ids):
        raise AtomintError(f"cannot draw {n:,} of {len(ids):,} molecules: choose between 1 and {len(ids):,}")
    return np.sort(np.random.default_rng([seed, 20_190_301]).permutation(ids)[:n])


def split_hash(parts: dict[str, np.ndarray]) -> str:
    """sha256 over the split's id arrays (recorded in provenance)."""
    h = hashlib.sha256()
    for k in ("train", "val", "test"):
        h.update(k.encode())
        h.update(np.ascontiguousarray(parts[k], dtype=np.int64).tobytes())
    return h.hexdigest()


def save_split(path: str | os.PathLike, parts: dict[str, np.ndarray], seed: int) -> None:
    """Write the split (npz of id arrays + seed) atomically."""
    with atomic_path(path, ".npz") as tmp:
        np.savez_compressed(tmp, seed=np.int64(seed), **{k: np.asarray(v, dtype=np.int64) for k, v in parts.items()})


def load_split(path: str | os.PathLike) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"split file {path} is missing")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in ("train", "val", "test")}
    except Exception as e:  # zip / key errors: a broken file
        raise AtomintError(f"split file {path} is corrupt ({e})") from None
