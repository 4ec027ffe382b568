"""Checkpoints: one folder per trained model (see ``../shared/DESIGN.md``).

::

    models/<model>-<target>-<profile>-fold<k>/
        weights.pt        best weights: a plain state_dict, loaded with torch.load(weights_only=True)
        config.json       enough to rebuild the model (atomint_helpers.models.build)
        provenance.json   data sha256, split seed and hash, git commit, versions, device, wall time,
                          metrics (val/test MAE and RMSE in kcal/mol or Debye), weights sha256
        split.npz         the train/val/test QM9 ids
        log.csv           one row per epoch
        state.pt          optimizer/scheduler/epoch state for resuming (weights_only=True as well)

A missing, truncated or tampered file gives an :class:`~atomint_helpers.AtomintError` naming it.
Every write is atomic (temporary file, then rename).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

import torch

from . import AtomintError
from .io import (atomic_torch_save, atomic_write_bytes, atomic_write_json,  # noqa: F401  (re-exported)
                 remove_stale_temporaries, sha256_file)

WEIGHTS, CONFIG, PROVENANCE, LOG, SPLIT, STATE = ("weights.pt", "config.json", "provenance.json", "log.csv",
                                                  "split.npz", "state.pt")


def safe_torch_load(path: Path):
    """``torch.load(weights_only=True)`` with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise AtomintError(f"checkpoint file {path} is missing")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # zip/pickle errors of a truncated or foreign file
        raise AtomintError(f"checkpoint file {path} is corrupt or not a weights file ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:200]})") from None


def read_json(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise AtomintError(f"checkpoint file {path} is missing")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AtomintError(f"checkpoint file {path} is not valid JSON ({e})") from None


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except Exception:
        return "unknown"


def environment() -> dict:
    import numpy
    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    for mod in ("schnetpack", "ase"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            pass
    return {"versions": versions, "device": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads" if not torch.cuda.is_available() else
            torch.cuda.get_device_name(0), "host_platform": platform.platform()}


def save_weights(folder: Path, model) -> str:
    """Write ``weights.pt`` atomically; returns its sha256."""
    folder = Path(folder)
    atomic_torch_save({k: v.detach().cpu() for k, v in model.state_dict().items()}, folder / WEIGHTS)
    return sha256_file(folder / WEIGHTS)


def load_model(folder: str | os.PathLike, verify: bool = True):
    """Rebuild a model from a checkpoint folder and load its best weights (``weights_only=True``).

    With ``verify``, the weights' sha256 must match ``provenance.json`` (a tampered file is refused).
    """
    from .models import build

    folder = Path(folder)
    if not folder.is_dir():
        raise AtomintError(f"checkpoint folder {folder} does not exist (see models/INDEX.md for the committed ones)")
    config = read_json(folder / CONFIG)
    for key in ("model", "target"):
        if key not in config:
            raise AtomintError(f"checkpoint file {folder / CONFIG} lacks the key {key!r}")
    if verify:
        prov = read_json(folder / PROVENANCE)
        expected = prov.get("weights_sha256")
        if not (folder / WEIGHTS).is_file():
            raise AtomintError(f"checkpoint file {folder / WEIGHTS} is missing")
        actual = sha256_file(folder / WEIGHTS)
        if expected and actual != expected:
            raise AtomintError(f"checkpoint file {folder / WEIGHTS} does not match provenance.json "
                               f"(sha256 {actual[:12]}…, recorded {expected[:12]}…): tampered or replaced")
    state = safe_torch_load(folder / WEIGHTS)
    model = build(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise AtomintError(f"checkpoint file {folder / WEIGHTS} does not fit {folder / CONFIG}: "
                           f"{str(e).splitlines()[0][:200]}") from None
    model.eval()
    model.checkpoint = folder
    return model


def provenance(folder: str | os.PathLike) -> dict:
    return read_json(Path(folder) / PROVENANCE)


def list_checkpoints(models_dir: str | os.PathLike = "models") -> list[Path]:
    root = Path(models_dir)
    return sorted(p.parent for p in root.glob(f"*/{CONFIG}"))


def write_index(models_dir: str | os.PathLike = "models") -> Path:
    """``models/INDEX.md``: every checkpoint with its profile, training size, wall time and test metrics."""
    root = Path(models_dir)
    rows = ["| checkpoint | model | target | profile | fold | n_train | epochs | wall time | best val MAE | test MAE "
            "| test RMSE | status |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for folder in list_checkpoints(root):
        try:
            c, p = read_json(folder / CONFIG), read_json(folder / PROVENANCE)
        except AtomintError:
            continue
        t = p.get("metrics", {}).get("test", {})
        v = p.get("metrics", {}).get("val", {})
        unit = p.get("unit", "")
        val = f"{v['mae']:.4g} {unit}" if "mae" in v else "—"
        mae = f"{t['mae']:.4g} {unit}" if "mae" in t else "—"
        rmse = f"{t['rmse']:.4g} {unit}" if "rmse" in t else "—"
        rows.append(f"| `{folder.name}` | {c['model']} | {c['target']} | {p.get('profile', '?')} | {p.get('fold', '?')} "
                    f"| {p.get('n_train', '?'):,} | {p.get('epochs', '?')} | {p.get('wall_time_s', 0) / 60:.1f} min "
                    f"| {val} | {mae} | {rmse} | {p.get('status', '?')} |")
    text = ("# Committed checkpoints\n\nWritten by `atomint_helpers.store.write_index`. Test metrics are on the "
            "held-out test split of each run's fold: QM9 molecules for the `energy` (kcal/mol) and `dipole` "
            "(Debye) runs, Materials Project crystals for the `mp` runs (formation energy, eV/atom). A run "
            "still `training` has no test metrics yet; its best validation MAE so far is shown.\n\n"
            + "\n".join(rows) + "\n")
    path = root / "INDEX.md"
    atomic_write_bytes(path, text.encode())
    return path
