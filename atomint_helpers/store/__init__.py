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
written before ``config_sha256`` existed get it with :mod:`.migrate`.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import AtomintError, MissingError
from ..io import (atomic_torch_save, atomic_write_bytes, atomic_write_json,  # noqa: F401  (re-exported)
                 atomic_write_text, remove_stale_temporaries, sha256_file)
from .commit import reading, recover, saving  # noqa: F401  (re-exported)

WEIGHTS, CONFIG, PROVENANCE, LOG, SPLIT, STATE = ("weights.pt", "config.json", "provenance.json", "log.csv",
                                                  "split.npz", "state.pt")


def safe_torch_load(path: Path):
    """``torch.load(weights_only=True)`` with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"checkpoint file {path} is missing")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # zip/pickle errors of a truncated or foreign file
        raise AtomintError(f"checkpoint file {path} is corrupt or not a weights file ({type(e).__name__}: "
                           f"{str(e).splitlines()[0][:200]})") from None


def read_json(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"checkpoint file {path} is missing")
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
    """Write ``weights.pt`` atomically into ``folder`` (a run saves into its :class:`~.commit.Save`'s
    ``dir``); returns its sha256."""
    folder = Path(folder)
    atomic_torch_save({k: v.detach().cpu() for k, v in model.state_dict().items()}, folder / WEIGHTS)
    return sha256_file(folder / WEIGHTS)


def config_sha256(config: dict) -> str:
    """sha256 of a model config's canonical JSON (keys sorted, no whitespace): any changed value changes it,
    a re-indented file or a checkout with other line endings does not."""
    import hashlib

    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _verify(folder: Path, config: dict, prov: dict, weights: Path) -> None:
    """Refuse a checkpoint whose weights or config are not the ones its provenance records (a missing
    record is a refusal too: an emptied provenance must not turn the check off)."""
    recorded = {k: prov.get(k) for k in ("weights_sha256", "config_sha256")}
    if not recorded["weights_sha256"]:
        raise AtomintError(f"checkpoint {folder} cannot be verified: {PROVENANCE} records no weights_sha256 "
                           f"(emptied or not written by atomint); restore it from git or train the model again")
    if not recorded["config_sha256"]:
        raise AtomintError(f"checkpoint {folder} cannot be verified: {PROVENANCE} records no config_sha256 "
                           f"(written before atomint hashed configs); add it with `python -m "
                           f"atomint_helpers.store.migrate {folder.parent}` or train the model again")
    if not weights.is_file():
        raise MissingError(f"checkpoint file {folder / WEIGHTS} is missing")
    for name, actual, expected in ((WEIGHTS, sha256_file(weights), recorded["weights_sha256"]),
                                   (CONFIG, config_sha256(config), recorded["config_sha256"])):
        if actual != expected:
            raise AtomintError(f"checkpoint file {folder / name} does not match {PROVENANCE} "
                               f"(sha256 {actual[:12]}…, recorded {str(expected)[:12]}…): tampered or replaced; "
                               f"restore it from git or train the model again")


def load_model(folder: str | os.PathLike, verify: bool = True, orient: bool = True):
    """Rebuild a model from a checkpoint folder and load its best weights (``weights_only=True``).

    With ``verify``, the sha256 of the weights and of the config must match those recorded in
    ``provenance.json``; a tampered file, or a provenance that records no hash, is refused.
    With ``orient``, a dipole model's charge sign is fixed (:func:`orient_charges`).
    """
    from ..models import build

    folder = Path(folder)
    if not folder.is_dir():
        raise MissingError(f"checkpoint folder {folder} does not exist (see models/INDEX.md for the committed ones)")
    with reading(folder) as path:  # all files of one complete save
        config = read_json(path(CONFIG))
        for key in ("model", "target"):
            if key not in config:
                raise AtomintError(f"checkpoint file {folder / CONFIG} lacks the key {key!r}")
        if verify:
            _verify(folder, config, read_json(path(PROVENANCE)), path(WEIGHTS))
        state = safe_torch_load(path(WEIGHTS))
        sign_key = (f"{sha256_file(path(WEIGHTS))}-{ORIENT_MOLECULES}"
                    if orient and config["target"] == "dipole" else None)
    model = build(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise AtomintError(f"checkpoint file {folder / WEIGHTS} does not fit {folder / CONFIG}: "
                           f"{str(e).splitlines()[0][:200]}") from None
    model.eval()
    model.checkpoint = folder
    if orient and config["target"] == "dipole":
        orient_charges(model, weights_key=sign_key)
    return model


#: molecules of the embedded QM9 sample on which a dipole checkpoint's charge sign is fixed
ORIENT_MOLECULES = 300


def _sign_cache() -> Path:
    from ..data.paths import cache_dir

    return cache_dir() / "charge_signs.json"


def _cached_sign(key: str | None) -> tuple[int, str] | None:
    """The sign and reason recorded for a checkpoint's weights (``key``), or ``None``."""
    if key is None:
        return None
    try:
        hit = json.loads(_sign_cache().read_text()).get(key)
    except (OSError, ValueError, AtomintError):
        return None
    return (int(hit[0]), str(hit[1])) if isinstance(hit, list) and len(hit) == 2 and hit[0] in (1, -1) else None


def _remember_sign(key: str | None, sign: int, reason: str) -> None:
    """Record a sign under its weights' key (best effort: a read-only cache only costs the recomputation)."""
    if key is None:
        return
    try:
        path = _sign_cache()
        known = json.loads(path.read_text()) if path.is_file() else {}
        known[key] = [sign, reason]
        atomic_write_text(path, json.dumps(known, indent=0) + "\n")
    except (OSError, ValueError, AtomintError):
        pass


def orient_charges(model, weights_key: str | None = None) -> tuple[int, str]:
    """Fix the sign of a dipole model's latent charges, once, at load: +1 or −1 and why.

    A dipole model is trained on |μ| only, which does not change when every charge changes sign: which of
    the two mirror solutions a run ends in is chance. The sign is chosen so that the charges correlate
    positively with QM9's Mulliken charges (Pearson r) over the first :data:`ORIENT_MOLECULES` molecules of
    the embedded sample, the same molecules for every checkpoint. It is applied inside the model
    (``head.charge_sign``: charges and μ's direction flip, |μ| does not) and recorded as
    ``model.charge_sign`` and ``model.charge_sign_reason``, so the charges, ESP and explain chapters and
    the calculator all see one sign per checkpoint. With ``weights_key`` (the weights' sha256) the result is
    kept in the cache folder (``charge_signs.json``) and read from there on the next load."""
    import numpy as np

    from ..data.batch import qm9_atoms_data
    from ..data.qm9 import load_sample

    cached = _cached_sign(weights_key)
    if cached is not None:  # the same weights always give the same sign: computed once per machine
        model.head.charge_sign = float(cached[0])
        model.charge_sign, model.charge_sign_reason = cached
        return cached
    ds = load_sample()
    rows = np.arange(min(ORIENT_MOLECULES, len(ds)))
    data = qm9_atoms_data(ds, cutoff=model.cutoff)
    model.head.charge_sign = 1.0
    with torch.no_grad():
        q = torch.cat([model(b)["partial_charges"] for b in data.batches(rows, 100)]).double().numpy()
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    mulliken = np.asarray(ds.arrays["mulliken"], dtype=np.float64)[off[rows[0]]:off[rows[-1] + 1]]
    r = float(np.corrcoef(q, mulliken)[0, 1]) if np.std(q) > 0 else 0.0
    sign = -1 if r < 0 else 1
    model.head.charge_sign = float(sign)
    model.charge_sign = sign
    model.charge_sign_reason = (f"Pearson r with Mulliken {r:+.2f} on the first {len(rows)} sample molecules"
                                + (": charges flipped" if sign < 0 else ""))
    _remember_sign(weights_key, sign, model.charge_sign_reason)
    return sign, model.charge_sign_reason


def provenance(folder: str | os.PathLike) -> dict:
    with reading(folder) as path:
        return read_json(path(PROVENANCE))


# ------------------------------------------------------------------------------------------ names and finding
def run_name(model: str, target: str, profile: str, fold: int) -> str:
    """The folder name of a run: ``<model>-<target>-<profile>-fold<k>`` (crystals: ``<model>-mp-…``)."""
    if target == "crystals":
        return f"{model}-mp-{profile}-fold{fold}"
    return f"{model}-{target}-{profile}-fold{fold}"


def train_command(model: str, target: str, profile: str, fold: int) -> str:
    return f"atomint train --model {model} --target {target} --profile {profile} --fold {fold}"


def is_checkpoint(folder: Path) -> bool:
    """A folder with a config and best weights (a run may still be training)."""
    with reading(folder) as path:
        return path(CONFIG).is_file() and path(WEIGHTS).is_file()


def find_checkpoint(models_dir, model: str, target: str, profile: str, fold: int = 0,
                    need_weights: bool = False) -> Path:
    """The folder of one run (with ``need_weights``, only once it has best weights), or a one-line
    AtomintError naming it and the command that trains it."""
    folder = Path(models_dir) / run_name(model, target, profile, fold)
    if not ((folder / CONFIG).is_file() and (not need_weights or (folder / WEIGHTS).is_file())):
        raise MissingError(f"no checkpoint {folder.name} in {models_dir} (see models/INDEX.md, or train it: "
                           f"{train_command(model, target, profile, fold)}; profile 'quick' trains in seconds)")
    return folder


@dataclass
class FoldSet:
    """The checkpoints of one target and profile: ``folders[model][fold]``, what is missing and what is
    still training (its best weights so far are used)."""

    target: str
    profile: str
    folders: dict[str, dict[int, Path]]
    missing: list[str]
    in_progress: list[str] = field(default_factory=list)

    def folds(self, model: str) -> list[int]:
        return sorted(self.folders.get(model, {}))

    def checkpoints(self) -> list[Path]:
        """Every checkpoint folder of the set, model by model in fold order."""
        return [self.folders[m][k] for m in self.folders for k in self.folds(m)]

    def names(self) -> str:
        """The checkpoint folders' names, comma-separated (as a chapter's scorecard context records them)."""
        return ", ".join(f.name for f in self.checkpoints())

    def describe(self) -> str:
        from ..properties import MODEL_LABELS

        lines = []
        for m, by_fold in self.folders.items():
            lines.append(f"{MODEL_LABELS.get(m, m)} {self.target}: folds {', '.join(map(str, sorted(by_fold)))} "
                         f"({', '.join(p.name for p in by_fold.values())})")
        if self.missing:
            lines.append(f"missing (skipped): {', '.join(self.missing)}")
        if self.in_progress:
            lines.append(f"still training (best weights so far): {', '.join(self.in_progress)}")
        return "\n".join(lines)


def find_folds(models_dir, target: str, profile: str, folds, models=("bp", "schnet")) -> FoldSet:
    """The wanted folds' checkpoint folders; a one-line AtomintError naming the missing checkpoints if
    some model has none of them."""
    models_dir = Path(models_dir)
    folders: dict[str, dict[int, Path]] = {}
    missing, running = [], []
    for m in models:
        folders[m] = {}
        for k in folds:
            f = models_dir / run_name(m, target, profile, int(k))
            if not is_checkpoint(f):
                missing.append(f.name)
                continue
            folders[m][int(k)] = f
            try:
                if str(provenance(f).get("status", "")).startswith("training"):
                    running.append(f.name)
            except AtomintError:
                pass
    empty = [m for m in models if not folders[m]]
    if empty:
        names = [run_name(m, target, profile, k) for m in empty for k in folds]
        raise MissingError(f"no checkpoint of {', '.join(empty)} for target {target!r}, profile {profile!r} "
                           f"in {models_dir}: missing {', '.join(names)} (train one with "
                           f"`{train_command(empty[0], target, profile, list(folds)[0])}`, or use profile 'quick')")
    return FoldSet(target, profile, folders, missing, running)


def load_first(models_dir, model: str, target: str, profile: str, folds=(0,)):
    """:func:`load_model` of the first of ``folds`` whose checkpoint exists."""
    for k in folds:
        if is_checkpoint(Path(models_dir) / run_name(model, target, profile, k)):
            return load_model(Path(models_dir) / run_name(model, target, profile, k))
    names = [run_name(model, target, profile, k) for k in folds]
    raise MissingError(f"missing checkpoint {Path(models_dir) / names[0]}"
                       + (f" (and {', '.join(names[1:])})" if len(names) > 1 else "")
                       + f": train it with `{train_command(model, target, profile, folds[0])}` or run with "
                         f"profile='quick'")


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


from .finder import catalogue, model_dirs, resolve_folders  # noqa: E402,F401  (re-exported: the finder)
