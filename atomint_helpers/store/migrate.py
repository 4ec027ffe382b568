"""One-off migration: add ``config_sha256`` to the provenance of checkpoints written before it existed.

    python -m atomint_helpers.store.migrate [MODELS_DIR]      (default: models)

Every checkpoint folder under ``MODELS_DIR`` (restart candidates included) that has a config, weights and a
provenance is handled on its own, under its run's folder lock, and gets one line:

* ``added``: the provenance recorded the weights' sha256 and the weights match it; the config's hash
  (:func:`~atomint_helpers.store.config_sha256`) is added, the provenance rewritten atomically (one save).
  The config is taken as committed: check ``git diff models/`` before migrating.
* ``ok``: it already records the hash of its config.
* ``refused``: the weights do not match their recorded hash, the provenance records none, or the config
  does not match a recorded hash; nothing is written.
* ``skipped``: a training run holds the folder (it writes the hash itself with its next save), or the
  folder has no weights.

The exit status is 1 when any checkpoint was refused.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import AtomintError
from ..io import atomic_write_json, folder_lock, sha256_file
from .commit import recover, saving
from .files import CONFIG, PROVENANCE, WEIGHTS, read_json
from .record import config_sha256


def migrate_folder(folder: Path) -> tuple[str, str]:
    """``(outcome, why)`` for one checkpoint folder; see the module docstring."""
    if not (folder / WEIGHTS).is_file() or not (folder / PROVENANCE).is_file():
        return "skipped", "no weights or no provenance"
    try:
        with folder_lock(folder, "migration"):
            recover(folder)
            config, prov = read_json(folder / CONFIG), read_json(folder / PROVENANCE)
            want = config_sha256(config)
            if prov.get("config_sha256"):
                if prov["config_sha256"] == want:
                    return "ok", "already records its config's hash"
                return "refused", f"{CONFIG} does not match the recorded config_sha256"
            if not prov.get("weights_sha256"):
                return "refused", f"{PROVENANCE} records no weights_sha256"
            if sha256_file(folder / WEIGHTS) != prov["weights_sha256"]:
                return "refused", f"{WEIGHTS} does not match the recorded weights_sha256"
            with saving(folder) as save:
                atomic_write_json(save.dir / PROVENANCE, {**prov, "config_sha256": want})
            return "added", f"config_sha256 {want[:12]}…"
    except AtomintError as e:
        if " is in use by " in str(e):
            return "skipped", "a training run holds it (it writes the hash with its next save)"
        return "refused", str(e)


def add_config_hashes(models_dir: str | os.PathLike = "models") -> list[tuple[Path, str, str]]:
    """:func:`migrate_folder` for every folder under ``models_dir`` holding a ``config.json``."""
    root = Path(models_dir)
    if not root.is_dir():
        raise AtomintError(f"models folder {root} does not exist")
    return [(p.parent, *migrate_folder(p.parent)) for p in sorted(root.rglob(CONFIG))
            if ".staging" not in p.parts]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m atomint_helpers.store.migrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("models_dir", nargs="?", default="models", help="folder of checkpoints (default: models)")
    args = ap.parse_args(argv)
    try:
        results = add_config_hashes(args.models_dir)
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        return 2
    for folder, outcome, why in results:
        print(f"{outcome:8s} {folder}: {why}")
    counts = {o: sum(r[1] == o for r in results) for o in ("added", "ok", "skipped", "refused")}
    print(", ".join(f"{n} {o}" for o, n in counts.items()))
    return 1 if counts["refused"] else 0


if __name__ == "__main__":
    sys.exit(main())
