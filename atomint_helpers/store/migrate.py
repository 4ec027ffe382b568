"""The one migration step from every earlier checkpoint format to the current one.

    python -m atomint_helpers.store.migrate [PATH ...]      (default: models)

A checkpoint is in the current format when its ``config.json`` names every option the model reads, its
``weights.pt`` holds every parameter and buffer the model has, and its ``provenance.json`` records the sha256
of both. Earlier code wrote checkpoints that lacked some of these, and tolerated their absence with defaults;
:func:`to_current` writes those defaults down, once:

* SchNet's ``representation.embedding_std``: ``None`` (torch's N(0, 1) embedding start, what ran before the
  option existed);
* Behler–Parrinello's ``representation.clip_features``: ``False`` (features standardized, not clamped);
* the dipole head's per-element charge offsets ``head.element_charge``: zeros (the model trained before the
  offsets existed had none);
* ``config_sha256`` in the provenance, recomputed from the config as written.

No load path knows about earlier formats: a committed checkpoint is migrated in place by this command, and an
earlier version read back from git (:mod:`.history`) passes through :func:`migrate_folder` when it is
extracted. Every checkpoint folder named, or found under a folder named (restart candidates included), is
handled on its own, under its run's folder lock, and gets one line:

* ``migrated``: its weights matched their recorded sha256 (and its config its recorded config sha256, where one
  was recorded); the current files are saved as one unit (:func:`.commit.saving`): the config, the weights only
  if the state dict changed, and the provenance with the new hashes and the previous ones under
  ``migrated_from``. A folder without weights (uncommitted restart candidates) gets its config and provenance.
* ``ok``: already in the current format; nothing is written.
* ``refused``: its weights or config do not match its provenance, or the provenance records no weights sha256;
  nothing is written.
* ``skipped``: a training run holds the folder (migrate it after the run ends), or it has no provenance.

The exit status is 1 when any checkpoint was refused, 2 when a path does not exist.
"""
from __future__ import annotations

import argparse
import copy
import datetime as _dt
import os
import sys
from pathlib import Path

import torch

from .. import AtomintError
from ..io import atomic_torch_save, atomic_write_json, folder_lock, sha256_file
from .commit import STAGING, recover, saving
from .files import CONFIG, PROVENANCE, WEIGHTS, read_json, safe_torch_load
from .record import config_sha256

#: the provenance key that keeps the hashes a checkpoint had before its migration
MIGRATED_FROM = "migrated_from"
#: options whose absence earlier code read as these values, per model: ``representation`` keys
REPRESENTATION_DEFAULTS = {"schnet": {"embedding_std": None}, "bp": {"clip_features": False}}
#: the dipole head's per-element charge offsets (e), zeros in checkpoints trained without them
ELEMENT_CHARGE = "head.element_charge"


def _max_z(config: dict) -> int:
    """The highest atomic number the model's per-element tables hold (``models.AtomisticModel``)."""
    return max(100, max(int(z) for z in config["elements"]))


def to_current(config: dict, state: dict | None, prov: dict) -> tuple[dict, dict | None, dict]:
    """``(config, state, provenance)`` of one checkpoint in the current format (see the module docstring);
    the inputs are left unchanged. ``state`` (the weights' state dict) may be ``None`` when the folder has no
    weights. The provenance's ``config_sha256`` is the new config's; its ``weights_sha256`` is left to the
    caller, who knows the bytes written."""
    config, prov = copy.deepcopy(config), dict(prov)
    for key in ("model", "target", "elements"):
        if key not in config:
            raise AtomintError(f"the config lacks the key {key!r}: not an atomint checkpoint")
    rep = config.setdefault("representation", {})
    for key, value in REPRESENTATION_DEFAULTS.get(config["model"], {}).items():
        rep.setdefault(key, value)
    if state is not None and config["target"] == "dipole" and ELEMENT_CHARGE not in state:
        state = {**state, ELEMENT_CHARGE: torch.zeros(_max_z(config) + 1)}
    prov["config_sha256"] = config_sha256(config)
    return config, state, prov


def _refuse(folder: Path, why: str) -> AtomintError:
    return AtomintError(f"checkpoint {folder} is not migrated: {why}; restore it from git or train it again")


def migrate_folder(folder: str | os.PathLike, today: str | None = None) -> tuple[str, str]:
    """``(outcome, why)`` for one checkpoint folder, outcome ``migrated``, ``ok`` or ``skipped`` (see the
    module docstring); a folder that cannot be vouched for raises a one-line AtomintError naming it.
    ``today``: the date recorded in ``migrated_from`` (default: today, UTC, ISO)."""
    folder = Path(folder)
    if not (folder / CONFIG).is_file() or not (folder / PROVENANCE).is_file():
        return "skipped", "no config or no provenance"
    try:
        with folder_lock(folder, "migration"):
            return _migrate_locked(folder, today)
    except AtomintError as e:
        if " is in use by " in str(e):
            return "skipped", "a training run holds it; migrate it after the run ends"
        raise


def _migrate_locked(folder: Path, today: str | None) -> tuple[str, str]:
    recover(folder)
    config, prov = read_json(folder / CONFIG), read_json(folder / PROVENANCE)
    has_weights = (folder / WEIGHTS).is_file()
    old_weights = sha256_file(folder / WEIGHTS) if has_weights else None
    if has_weights and not prov.get("weights_sha256"):
        raise _refuse(folder, f"{PROVENANCE} records no weights_sha256")
    if has_weights and old_weights != prov["weights_sha256"]:
        raise _refuse(folder, f"{WEIGHTS} does not match the weights_sha256 of {PROVENANCE}")
    old_config = config_sha256(config)
    if prov.get("config_sha256") and prov["config_sha256"] != old_config:
        raise _refuse(folder, f"{CONFIG} does not match the config_sha256 of {PROVENANCE}")
    state = safe_torch_load(folder / WEIGHTS) if has_weights else None
    new_config, new_state, new_prov = to_current(config, state, prov)
    state_changed = new_state is not state
    if new_config == config and not state_changed and prov.get("config_sha256") == new_prov["config_sha256"]:
        return "ok", "already in the current format"
    with saving(folder) as save:
        if new_config != config:
            atomic_write_json(save.dir / CONFIG, new_config)
        if state_changed:
            atomic_torch_save(new_state, save.dir / WEIGHTS)
        if has_weights:
            new_prov["weights_sha256"] = sha256_file(save.path(WEIGHTS))
        previous = {"weights_sha256": prov.get("weights_sha256"), "config_sha256": prov.get("config_sha256"),
                    "date": today or _dt.datetime.now(_dt.timezone.utc).date().isoformat()}
        if MIGRATED_FROM in prov:  # an earlier migration: its record stays inside this one
            previous[MIGRATED_FROM] = prov[MIGRATED_FROM]
        new_prov[MIGRATED_FROM] = previous
        atomic_write_json(save.dir / PROVENANCE, new_prov)
    what = [w for w, changed in (("config", new_config != config), ("weights", state_changed),
                                 ("config_sha256", True)) if changed]
    return "migrated", ", ".join(what) + ("" if has_weights else " (no weights in the folder)")


def checkpoint_folders(path: str | os.PathLike) -> list[Path]:
    """``path`` itself when it is a checkpoint folder, else every checkpoint folder under it (those holding a
    ``config.json``; restart candidates included), sorted."""
    root = Path(path)
    if not root.is_dir():
        raise AtomintError(f"models folder {root} does not exist")
    if (root / CONFIG).is_file():
        return [root, *checkpoint_folders_below(root)]
    return checkpoint_folders_below(root)


def checkpoint_folders_below(root: Path) -> list[Path]:
    return [p.parent for p in sorted(root.rglob(f"*/{CONFIG}")) if STAGING not in p.parts]


def migrate_all(*paths: str | os.PathLike, today: str | None = None) -> list[tuple[Path, str, str]]:
    """:func:`migrate_folder` for every checkpoint folder of ``paths`` (:func:`checkpoint_folders`);
    ``(folder, outcome, why)`` each, a refusal reported as ``refused`` with its reason."""
    results = []
    for folder in [f for p in paths for f in checkpoint_folders(p)]:
        try:
            results.append((folder, *migrate_folder(folder, today)))
        except AtomintError as e:
            results.append((folder, "refused", str(e)))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m atomint_helpers.store.migrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", default=["models"],
                    help="checkpoint folders, or folders of them (default: models)")
    args = ap.parse_args(argv)
    try:
        results = migrate_all(*args.paths)
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        return 2
    for folder, outcome, why in results:
        print(f"{outcome:8s} {folder}: {why}")
    counts = {o: sum(r[1] == o for r in results) for o in ("migrated", "ok", "skipped", "refused")}
    print(", ".join(f"{n} {o}" for o, n in counts.items()))
    return 1 if counts["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
