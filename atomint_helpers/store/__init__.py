"""Checkpoints: one folder per trained model (see ARCHITECTURE.md).

::

    models/<model>-<target>-<profile>-fold<k>/
        weights.pt        best weights: a plain state_dict, loaded with torch.load(weights_only=True)
        config.json       enough to rebuild the model (atomint_helpers.models.build)
        provenance.json   data sha256, split seed and hash, git commit, versions, device, wall time,
                          metrics (val/test MAE and RMSE in kcal/mol or Debye), weights_sha256 and
                          config_sha256 (both checked at every load, see :func:`load_model`)
        split.npz         the train/val/test QM9 ids
        log.csv           one row per epoch
        state.pt          optimizer/scheduler/epoch state for resuming (weights_only=True as well)

A missing, truncated or tampered file gives an :class:`~atomint_helpers.AtomintError` naming it.
Every write is atomic (temporary file, then rename), and a training run saves all files of an epoch as one
unit (:mod:`.commit`): a kill leaves the previous checkpoint or the new one, never a mix. Checkpoints
written in an earlier format are brought to the current one, once, by :mod:`.migrate`.

One module per job; this package only re-exports their public names, so callers write
``from atomint_helpers.store import load_model``:

- :mod:`.files` — the files' names, reading them (errors that name the file), the weights written,
  ``provenance.json`` read back;
- :mod:`.record` — what a run records about itself: git commit, environment, the config's sha256;
- :mod:`.loading` — verification against the provenance and :func:`load_model`;
- :mod:`.signs` — a dipole checkpoint's charge sign, recorded per weights and applied at load (decided by
  :mod:`atomint_helpers.models.charge_sign`);
- :mod:`.finder` — run names, finding one run, a target's folds, names along the search path;
- :mod:`.index` — ``models/INDEX.md``;
- :mod:`.commit`, :mod:`.migrate`, :mod:`.history`, :mod:`.curves` — saving as one unit, the one migration
  step from earlier checkpoint formats, committed runs at earlier commits, the learning-curve runs.
"""
from __future__ import annotations

from ..io import (atomic_torch_save, atomic_write_bytes, atomic_write_json, atomic_write_text,
                  remove_stale_temporaries, sha256_file)
from .commit import reading, recover, saving
from .files import (CONFIG, EXTENDED_FROM, LOG, PROVENANCE, SPLIT, STATE, WEIGHTS, is_checkpoint,
                    list_checkpoints, provenance, read_json, safe_torch_load, save_weights)
from .finder import (FoldSet, catalogue, find_checkpoint, find_folds, load_first, model_dirs, resolve_folders,
                     run_name, train_command)
from .index import write_index
from .loading import load_model, verify_checkpoint
from .record import config_sha256, environment, git_commit
from .signs import apply_charge_sign, recorded_charge_sign

__all__ = [
    # io, re-exported: a run writes its files through the store
    "atomic_torch_save", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
    "remove_stale_temporaries", "sha256_file",
    # commit
    "reading", "recover", "saving",
    # files
    "CONFIG", "EXTENDED_FROM", "LOG", "PROVENANCE", "SPLIT", "STATE", "WEIGHTS", "is_checkpoint",
    "list_checkpoints",
    "provenance", "read_json", "safe_torch_load", "save_weights",
    # finder
    "FoldSet", "catalogue", "find_checkpoint", "find_folds", "load_first", "model_dirs", "resolve_folders",
    "run_name", "train_command",
    # index, loading, record, signs
    "write_index", "load_model", "verify_checkpoint", "config_sha256", "environment", "git_commit",
    "apply_charge_sign", "recorded_charge_sign",
]
