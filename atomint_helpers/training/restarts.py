"""Restart screening: which seed a run starts from, by the same rule for every fold."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from .. import AtomintError, store
from .loop import read_log
from .spec import RunSpec
from .stage2 import read_signs


RESTARTS = "restarts.json"


def candidate_seeds(fold: int, n: int) -> list[int]:
    """The seeds a restart screening tries for a fold: the fold's own seed first, then fold + 1000·k."""
    return [fold + 1000 * k for k in range(n)]


def screen_restarts(spec: RunSpec, train_candidate: Callable[[RunSpec], Path] | None = None) -> dict:
    """Pick the starting seed of the run ``spec`` by a short screening, the same rule for every fold.

    A dipole model learns its charges from |μ| only, and |μ| is unchanged when the charges of one kind of
    atom change sign together with a compensating rearrangement elsewhere: a run can settle in such a
    local "mirror" solution and stay there (schnet-dipole-cpu-fold2 gave terminal N the non-Mulliken sign
    for all 100 epochs of its first training, and lagged from epoch 1). The rule: train
    ``candidates`` runs with the seeds :func:`candidate_seeds` for ``epochs`` epochs each and keep the
    one with the **lowest validation MAE** reached within them; test molecules are never looked at. Every
    candidate's curve is recorded in ``<run>/restarts.json``; candidates train in ``<run>/restarts/``.
    A run folder that already trained the first candidate's seed (the fold's own) for at least
    ``epochs`` epochs counts as that candidate, read from its log. ``train_candidate`` trains one
    candidate's spec (:meth:`.RunSpec.candidate`; :func:`atomint_helpers.training.run.train_candidate`), needed
    only when a candidate is missing: :func:`~atomint_helpers.training.train` screens, then trains the chosen
    seed. Returns the record."""
    screening = spec.prof.restarts.get(spec.model, {}).get(spec.target)
    if not screening:
        raise AtomintError(f"the {spec.profile} profile screens no restarts for {spec.model} {spec.target}")
    fold, folder = spec.fold, spec.folder
    record_path = folder / RESTARTS
    if record_path.is_file():
        record = store.read_json(record_path)
        if record.get("chosen") is not None:
            return record
    n_ep = int(screening["epochs"])
    seeds = candidate_seeds(fold, int(screening["candidates"]))
    record = {"rule": f"lowest validation MAE within the first {n_ep} epochs, over seeds {seeds}", "epochs": n_ep,
              "candidates": []}
    own = read_log(folder) if (folder / store.STATE).is_file() else []
    for s in seeds:
        if s == fold and len(own) >= n_ep and store.read_json(folder / store.PROVENANCE).get("seed") == s:
            rows, where = own[:n_ep], str(folder.name)
        else:
            if train_candidate is None:
                raise AtomintError("screen_restarts needs train_candidate= to train its candidates")
            sub = train_candidate(spec.candidate(s, n_ep))
            rows, where = read_log(sub)[:n_ep], f"{folder.name}/restarts/seed{s}"
        record["candidates"].append({"seed": s, "folder": where, "val_mae": [r["val_mae"] for r in rows],
                                     "best_val_mae": min(r["val_mae"] for r in rows)})
    best = min(record["candidates"], key=lambda c: c["best_val_mae"])
    record["chosen"] = best["seed"]
    store.atomic_write_json(record_path, record)
    if spec.progress:
        print(f"atomint: {folder.name}: restart screening chose seed {best['seed']} "
              f"(best val MAE {best['best_val_mae']:.4g} within {n_ep} epochs; "
              + ", ".join(f"seed {c['seed']}: {c['best_val_mae']:.4g}" for c in record["candidates"]) + ")",
              file=sys.stderr)
    return record


def adopt_candidate(folder: Path, record: dict) -> Path | None:
    """The chosen candidate's folder, whose state, weights and logs a new run starts from (the run's first
    save copies them), or None when ``folder`` already holds the run of the chosen seed (it resumes)."""
    if (folder / store.STATE).is_file():
        if store.provenance(folder).get("seed") != record["chosen"]:
            raise AtomintError(f"the restart screening chose seed {record['chosen']} for {folder.name}, but the "
                               f"folder holds a run of another seed; move it away to train the chosen one")
        return None
    return folder / "restarts" / f"seed{record['chosen']}"


def read_screening(folder: Path) -> dict | None:
    """The restart screening record of a run (``<run>/restarts.json``, see :func:`screen_restarts`), or None
    when the run screened no restarts. Each candidate gains ``signs``: its share of validation atoms with the
    Mulliken sign per (element, bonded neighbours) at the screening's last epoch, or None where it was not
    logged, or where the candidate's folder now holds another seed's run (the run that replaced it)."""
    folder = Path(folder)
    if not (folder / RESTARTS).is_file():
        return None
    record = store.read_json(folder / RESTARTS)
    for c in record["candidates"]:
        where, c["signs"] = folder.parent / c["folder"], None
        if (where / store.PROVENANCE).is_file() and store.read_json(where / store.PROVENANCE).get("seed") == c["seed"]:
            rows = [r for r in read_signs(where) if r["epoch"] == record["epochs"]]
            c["signs"] = {(r["element"], r["neighbours"]): r["agree"] for r in rows} or None
    return record
