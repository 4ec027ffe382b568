"""Where checkpoints are found: a run's folder name, one run or a target's folds in a models folder (with
the command that trains what is missing), the search path of model folders, names resolved to checkpoint
folders, and the list of every checkpoint found (``atomint models``).

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
from dataclasses import dataclass, field
from pathlib import Path

from .. import AtomintError, MissingError
from .files import CONFIG, PROVENANCE, WEIGHTS, is_checkpoint, provenance, read_json
from .loading import load_model


def run_name(model: str, target: str, profile: str, fold: int) -> str:
    """The folder name of a run: ``<model>-<target>-<profile>-fold<k>`` (crystals: ``<model>-mp-…``)."""
    if target == "crystals":
        return f"{model}-mp-{profile}-fold{fold}"
    return f"{model}-{target}-{profile}-fold{fold}"


def train_command(model: str, target: str, profile: str, fold: int) -> str:
    """The command line that trains one run (named in the errors for a missing checkpoint)."""
    return f"atomint train --model {model} --target {target} --profile {profile} --fold {fold}"


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
        """The folds found of ``model``, in order."""
        return sorted(self.folders.get(model, {}))

    def checkpoints(self) -> list[Path]:
        """Every checkpoint folder of the set, model by model in fold order."""
        return [self.folders[m][k] for m in self.folders for k in self.folds(m)]

    def names(self) -> str:
        """The checkpoint folders' names, comma-separated (as a chapter's scorecard context records them)."""
        return ", ".join(f.name for f in self.checkpoints())

    def describe(self) -> str:
        """One line per model naming its folds and folders, then what is missing and what still trains."""
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


# ------------------------------------------------------------------------------------------ the search path
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
