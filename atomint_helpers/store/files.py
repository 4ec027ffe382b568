"""The files of a checkpoint folder: their names, reading them with errors that name the file, writing the
weights, and the provenance read back.

A missing file is a :class:`~atomint_helpers.MissingError`, a truncated or foreign one an
:class:`~atomint_helpers.AtomintError`, each naming the file. Reads of a whole checkpoint go through
:func:`.commit.reading`, so they see one complete save of a run that may still be writing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from .. import AtomintError, MissingError
from ..io import atomic_torch_save, sha256_file
from .commit import reading

WEIGHTS, CONFIG, PROVENANCE, LOG, SPLIT, STATE = ("weights.pt", "config.json", "provenance.json", "log.csv",
                                                  "split.npz", "state.pt")
#: the provenance key of a run adopted from an extension (``training.extension.adopt``): what the committed
#: run it replaced was (epochs, weights' sha256, validation and test metrics)
EXTENDED_FROM = "extended_from"


def safe_torch_load(path: Path):
    """``torch.load(weights_only=True)`` onto the CPU, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"checkpoint file {path} is missing")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # zip/pickle errors of a truncated or foreign file
        raise AtomintError(f"checkpoint file {path} is corrupt or not a weights file ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:200]})") from None


def read_json(path: Path) -> dict:
    """A checkpoint's JSON file (config, provenance) as a dict, with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"checkpoint file {path} is missing")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AtomintError(f"checkpoint file {path} is not valid JSON ({e})") from None


def save_weights(folder: Path, model) -> str:
    """Write ``weights.pt`` atomically into ``folder`` (a run saves into its :class:`~.commit.Save`'s
    ``dir``); returns its sha256."""
    folder = Path(folder)
    atomic_torch_save({k: v.detach().cpu() for k, v in model.state_dict().items()}, folder / WEIGHTS)
    return sha256_file(folder / WEIGHTS)


def provenance(folder: str | os.PathLike) -> dict:
    """``provenance.json`` of a checkpoint folder, from its last complete save."""
    with reading(folder) as path:
        return read_json(path(PROVENANCE))


def is_checkpoint(folder: Path) -> bool:
    """A folder with a config and best weights (a run may still be training)."""
    with reading(folder) as path:
        return path(CONFIG).is_file() and path(WEIGHTS).is_file()


def list_checkpoints(models_dir: str | os.PathLike = "models") -> list[Path]:
    """The checkpoint folders directly in ``models_dir`` (those with a config), sorted by name."""
    root = Path(models_dir)
    return sorted(p.parent for p in root.glob(f"*/{CONFIG}"))
