"""Where checkpoints are found: the search path of model folders, names resolved to checkpoint folders, and
the list of every checkpoint found (``atomint models``).

A name such as ``schnet-energy-cpu`` (every fold) or ``schnet-energy-cpu-fold0`` (one run) is looked up in
these folders, the first that holds it wins:

1. ``$ATOMINT_MODELS``, when set (a folder of checkpoint folders);
2. ``models/`` in the working directory;
3. ``models/`` of the repository the package is installed from (the committed checkpoints).

An explicit ``models_dir`` replaces the search path. A name found nowhere is a
:class:`~atomint_helpers.MissingError` that lists every folder looked in and the names available there.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .. import AtomintError, MissingError
from . import CONFIG, PROVENANCE, read_json

#: environment variable naming a folder of checkpoint folders, searched first
MODELS_ENV = "ATOMINT_MODELS"
#: the checkpoints committed with the repository (the package is installed editable from it)
REPOSITORY_MODELS = Path(__file__).resolve().parents[2] / "models"
FOLD_NAME = re.compile(r"^(?P<name>.+)-fold(?P<k>\d+)$")


def model_dirs(models_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for checkpoint names, in order: ``models_dir`` alone when given, else
    ``$ATOMINT_MODELS``, ``./models`` and the repository's ``models/`` (each listed once)."""
    if models_dir is not None:
        return [Path(models_dir)]
    places = ([Path(os.environ[MODELS_ENV])] if os.environ.get(MODELS_ENV) else []) + \
        [Path.cwd() / "models", REPOSITORY_MODELS]
    seen, out = set(), []
    for p in places:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _fold_sets(root: Path) -> dict[str, list[tuple[int, Path]]]:
    """Per run name ``<model>-<target>-<profile>``, the ``(fold, folder)`` pairs in ``root``, by fold."""
    sets: dict[str, list[tuple[int, Path]]] = {}
    if not root.is_dir():
        return sets
    for q in root.iterdir():
        m = FOLD_NAME.match(q.name)
        if m and q.is_dir():
            sets.setdefault(m["name"], []).append((int(m["k"]), q))
    return {name: sorted(pairs) for name, pairs in sets.items()}


def resolve_folders(models, models_dir: str | os.PathLike | None = None) -> list[Path]:
    """Checkpoint folders for ``models``: one folder, a list of folders, or a name — ``<model>-<target>-<profile>``
    (every ``<name>-fold<k>``, sorted by k) or one run's folder name — looked up along :func:`model_dirs`.
    A one-line :class:`~atomint_helpers.MissingError` naming the folders searched if nothing matches."""
    if isinstance(models, (list, tuple)):
        if not models:
            raise AtomintError("this needs at least one checkpoint folder")
        return [Path(m) for m in models]
    p = Path(models)
    if p.is_dir():
        return [p]
    name, places = str(models), model_dirs(models_dir)
    if os.sep not in name and "/" not in name:
        for root in places:
            folds = _fold_sets(root).get(name)
            if folds:
                return [q for _, q in folds]
            if (root / name / CONFIG).is_file():
                return [root / name]
    have = sorted({n for root in places for n in _fold_sets(root)})
    raise MissingError(f"no checkpoint folder or fold set {name!r}; looked in {', '.join(map(str, places))}"
                       f" (set {MODELS_ENV} to a folder of checkpoints); available: "
                       f"{', '.join(have) if have else 'none'}")


def catalogue(models_dir: str | os.PathLike | None = None) -> list[dict]:
    """Every checkpoint along :func:`model_dirs`, one dict each: ``name``, ``folder``, ``model``, ``target``,
    ``profile``, ``fold``, ``test_mae`` (``None`` before training finished), ``unit``, ``status``. A name
    found in an earlier folder hides the same name further down the path, as :func:`resolve_folders` does;
    a checkpoint whose config or provenance cannot be read is listed with ``status`` saying so."""
    rows, seen = [], set()
    for root in model_dirs(models_dir):
        if not root.is_dir():
            continue
        for folder in sorted(q.parent for q in root.glob(f"*/{CONFIG}")):
            if folder.name in seen:
                continue
            seen.add(folder.name)
            try:
                config, prov = read_json(folder / CONFIG), read_json(folder / PROVENANCE)
            except AtomintError as e:
                rows.append({"name": folder.name, "folder": str(folder), "model": None, "target": None,
                             "profile": None, "fold": None, "test_mae": None, "unit": None,
                             "status": f"unreadable: {e}"})
                continue
            test = prov.get("metrics", {}).get("test", {})
            rows.append({"name": folder.name, "folder": str(folder), "model": config.get("model"),
                         "target": config.get("target"), "profile": prov.get("profile"), "fold": prov.get("fold"),
                         "test_mae": test.get("mae"), "unit": prov.get("unit"), "status": prov.get("status")})
    return rows
