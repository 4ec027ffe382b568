"""What a run trains on: the data set of a profile, a fold's split, and BP's precomputed descriptors."""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import torch

from .. import AtomintError
from ..data.batch import AtomsData, qm9_atoms_data
from ..data.splits import nested_subset, split
from .profiles import Profile


def load_training_data(profile: Profile, cutoff: float, data_dir=None):
    """(QM9, AtomsData) for a profile: the embedded sample for ``quick``, the full QM9 otherwise."""
    from ..data.qm9 import load_qm9, load_sample

    ds = load_sample() if not profile.full_data else load_qm9(data_dir, allow_sample=False)
    return ds, qm9_atoms_data(ds, cutoff=cutoff)


def fold_split(profile: Profile, fold: int, ds) -> dict[str, np.ndarray]:
    """The fold's split, on the full 130,831 ids (so sample molecules keep their full-data split) or,
    for ``quick``, on the sample's ids."""
    universe = None if profile.full_data else ds.index
    parts = split(profile.n_train, profile.n_val, seed=fold, universe=universe)
    for key, n in (("train", profile.train_subset), ("val", profile.val_subset)):
        if n is not None:  # a learning curve's subset: nested across sizes, the fold's test set unchanged
            parts[key] = nested_subset(parts[key], int(n), seed=fold)
    return parts


def load_crystal_data(profile: Profile, cutoff: float, data_dir=None):
    """(Crystals, AtomsData) for a profile: the cleaned embedded sample for ``quick``, the cleaned full
    Materials Project set otherwise (never silently the sample)."""
    from ..data import crystals as _c
    from ..data.batch import crystal_atoms_data
    from ..data.paths import SAMPLE_DIR

    if profile.full_data:
        cr = _c.load_crystals(data_dir, allow_sample=False)
    else:
        cr = _c.read_npz(SAMPLE_DIR / "mp_sample.npz", "sample")
    cr = cr.clean()
    return cr, crystal_atoms_data(cr, cutoff=cutoff)


def crystal_split(profile: Profile, fold: int, cr) -> dict[str, np.ndarray]:
    """The fold's split of a cleaned crystal set, as ``src_index`` ids (the source's CIF numbers)."""
    return split(profile.n_train, profile.n_val, seed=fold, universe=np.asarray(cr.arrays["src_index"]))


def crystal_rows(cr, ids) -> np.ndarray:
    """Array rows of the ``src_index`` ids in a crystal set (an error names ids it does not hold)."""
    src = np.asarray(cr.arrays["src_index"], dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(src, kind="stable")
    pos = np.clip(np.searchsorted(src[order], ids), 0, max(len(src) - 1, 0))
    found = src[order][pos] == ids if len(src) else np.zeros(len(ids), bool)
    if not np.all(found):
        raise AtomintError(f"{int((~found).sum())} crystal ids (src_index) are not in {cr.describe()}, "
                           f"e.g. {ids[~found][:5].tolist()}")
    return order[pos]


def load_run_data(prof: Profile, fold: int, target: str, cutoff: float, data_dir):
    """``(ds, data, parts, rows)``: the data set, its batchable arrays, the split's ids and array rows."""
    if target == "crystals":
        ds, data = load_crystal_data(prof, cutoff, data_dir)
        parts = crystal_split(prof, fold, ds)
        return ds, data, parts, {k: crystal_rows(ds, v) for k, v in parts.items()}
    ds, data = load_training_data(prof, cutoff, data_dir)
    parts = fold_split(prof, fold, ds)
    return ds, data, parts, {k: ds.rows(v) for k, v in parts.items()}


def attach_descriptors(model, data: AtomsData, batch_size: int = 1000, rows=None) -> None:
    """BP: compute the (fixed) symmetry functions of every atom of the molecules ``rows`` (default: all)
    once and let batches slice them; atoms of other molecules hold NaN, so a batch that strays outside
    the run's split cannot train or predict silently on zeros."""
    if model.config["model"] != "bp":
        return
    from ..data.qm9 import ranges

    rep = model.representation
    rows = np.arange(len(data)) if rows is None else np.unique(np.asarray(rows, dtype=np.int64))
    feats = np.full((len(data.Z), rep.acsf.n_features), np.nan, dtype=np.float32)
    with torch.no_grad():
        for chunk in np.array_split(rows, max(1, math.ceil(len(rows) / batch_size))):
            b = data.batch(chunk)
            atoms = ranges(np.asarray(data.offsets)[chunk], data.n_atoms[chunk])
            feats[atoms] = rep.descriptors(b).numpy()
    data.atom_features = feats

#: a run name: one plain folder name (no path, not hidden)
RUN_NAME = re.compile(r"[A-Za-z0-9_+=-][A-Za-z0-9._+=-]{0,127}")


def check_name_and_data(name, data_dir) -> None:
    """Refuse a run name that is not one plain folder name (``.``, ``..``, a path, a hidden name) and a
    ``data_dir`` that is not an existing folder, whatever the profile."""
    if name is not None and not RUN_NAME.fullmatch(str(name)):
        raise AtomintError(f"--name {name!r} is not a run name: use one folder name of letters, digits and . _ - + = "
                           f"(not starting with a dot, no '/'), e.g. schnet-energy-quick-fold0-try2")
    if data_dir is not None:
        d = Path(os.path.expandvars(os.fspath(data_dir))).expanduser()
        if not d.is_dir():
            raise AtomintError(f"--data-dir {os.fspath(data_dir)!r} is not a folder; give the folder holding "
                               f"qm9/qm9.npz (or mp/mp.npz), or leave it out")
