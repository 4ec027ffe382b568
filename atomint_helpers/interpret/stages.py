"""Earlier training stages of the committed runs, as sets of checkpoints the chapters can study.

The rule that picks the stages is declared here, before any value of a claim is looked at: per
architecture, per fold, the committed stages (:func:`~atomint_helpers.store.history.stages`) whose epoch
counts are nearest to each of :data:`STAGE_EPOCHS` (a tie goes to the earlier stage), and last the run's
final save (:data:`FINAL`: the model the book reads, so the last stage's verdicts are the book's). Stage ``k``
of the set is stage ``k`` of every architecture and fold, so a claim comparing BP and SchNet pairs stage
``k`` of one with stage ``k`` of the other. A fold with fewer committed stages than targets contributes the
same checkpoint to more than one stage (the nearest one, as the rule says). The last stage was first
declared as the saves nearest to SchNet's 300 and BP's 150 epochs, the runs' ends then; it became the final
save when the SchNet energy runs were extended to 400 epochs, before any claim was decided on the extended
runs. The crystal SchNet of Fig. 7 is one run (fold 0) with its own declared epochs
(:data:`CRYSTAL_EPOCHS`), chosen among the commits made since its configuration last changed
(:func:`current_config_stages`: the run was restarted with another embedding initialisation under the same
name).

:func:`stage_dirs` extracts every chosen checkpoint into the cache and lays out one folder per stage holding
links named as the runs (``<cache>/history/sets/<key>/stage<k>/<run> → <cache>/history/<commit12>/<run>``),
so :func:`~atomint_helpers.interpret.latent_study.study` reads a stage as it reads ``models/``.
:func:`checkpoint_mae` is a checkpoint's MAE on its fold's test split (kcal/mol for energies), cached by the
weights' sha256.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from .. import AtomintError
from ..io import atomic_write_json, sha256_file
from ..store import CONFIG, PROVENANCE, WEIGHTS, run_name
from ..store.history import Stage, extract, history_cache, nearest, stages

#: the last declared stage of every run: its save with the most epochs, the one ``models/`` holds
FINAL = "final"
#: the declared stages: epochs nearest to these, per architecture, then the final save (SchNet's runs end at
#: 300 or 400 epochs, BP's at 150)
STAGE_EPOCHS = {"schnet": (100, 200, FINAL), "bp": (50, 100, FINAL)}
#: the paper's test MAE of the energy models (Table 1, kcal/mol), beside which a budget's crossing is read
PAPER_MAE = {"schnet": 0.35, "bp": 0.77}
#: the declared stages of the crystal SchNet (Fig. 7; one run, fold 0, which ended by early stopping at epoch
#: 100): the commits nearest to a third and two thirds of its epochs, then its final save, by the same rule,
#: among the commits of the run as configured today (:func:`choose_crystals`)
CRYSTAL_EPOCHS = {"schnet": (33, 67, FINAL)}
#: the crystal run's name (the one fold Fig. 7 reads)
CRYSTAL_RUN = "schnet-mp-cpu-fold0"


def choose(repo_root, target: str = "energy", profile: str = "cpu", folds=(0, 1, 2),
           epochs: dict = STAGE_EPOCHS) -> dict[str, dict[int, list[Stage]]]:
    """``{model: {fold: [stage per target epoch]}}`` by the declared rule (module docstring)."""
    out = {}
    for m, targets in epochs.items():
        out[m] = {}
        for k in folds:
            found = stages(run_name(m, target, profile, int(k)), repo_root)
            out[m][int(k)] = [pick(found, e) for e in targets]
    return out


def pick(found: list[Stage], target) -> Stage:
    """The stage of ``found`` (ordered by epochs) declared by ``target``: the one nearest to that epoch count,
    or the last for :data:`FINAL`."""
    if target == FINAL:
        if not found:
            raise AtomintError("no stages to choose from")
        return found[-1]
    return nearest(found, target)


def _git(repo_root, *args: str):
    import subprocess

    return subprocess.run(["git", "-C", str(repo_root), *args], capture_output=True, text=True)


def current_config_stages(run: str, repo_root) -> list[Stage]:
    """The committed stages of ``run`` trained under today's configuration: those at or after the last
    commit that changed ``models/<run>/config.json`` (a run restarted with another recipe keeps its name,
    and its earlier commits belong to the other recipe)."""
    found = stages(run, repo_root)
    last = _git(repo_root, "log", "-1", "--format=%H", "--", f"models/{run}/config.json").stdout.strip()
    if not last:
        return found
    # merge-base --is-ancestor answers by its exit status: 0 when the config commit precedes the stage's
    keep = [st for st in found if _git(repo_root, "merge-base", "--is-ancestor", last, st.commit).returncode == 0]
    if not keep:
        raise AtomintError(f"no committed stage of models/{run} since its configuration last changed")
    return keep


def choose_crystals(repo_root, epochs: dict = CRYSTAL_EPOCHS) -> dict[str, dict[int, list[Stage]]]:
    """``{"schnet": {0: [stage per target epoch]}}`` of the crystal run (:data:`CRYSTAL_RUN`, one fold) by
    the declared rule, among :func:`current_config_stages`."""
    found = current_config_stages(CRYSTAL_RUN, repo_root)
    return {"schnet": {0: [pick(found, e) for e in epochs["schnet"]]}}


def stage_dirs(chosen: dict, repo_root, key: str, cache_root=None) -> list[Path]:
    """One folder per stage index with links named as the runs to the extracted checkpoints (see the
    module docstring); ``key`` names the set (e.g. ``energy-cpu``)."""
    n = {len(v) for by in chosen.values() for v in by.values()}
    if len(n) != 1:
        raise AtomintError("every architecture and fold needs the same number of stages")
    root = history_cache(cache_root) / "sets" / key
    out = []
    for i in range(n.pop()):
        d = root / f"stage{i}"
        d.mkdir(parents=True, exist_ok=True)
        for by in chosen.values():
            for st in by.values():
                src = extract(st[i], repo_root, cache_root)
                link = d / st[i].run
                if link.is_symlink() or link.exists():
                    if link.resolve() == src.resolve():
                        continue
                    link.unlink()
                tmp = d / f".{st[i].run}.tmp-{os.getpid()}"
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(src.resolve(), target_is_directory=True)
                os.replace(tmp, link)
        out.append(d)
    return out


def _mae_cache(cache_root=None) -> Path:
    return history_cache(cache_root) / "test_mae.json"


def checkpoint_mae(folder, ds, cache_root=None) -> dict:
    """``{"mae", "rmse", "n"}`` of a checkpoint on its test split (the target's unit: kcal/mol, D, or eV/atom
    for a crystal checkpoint on its Materials Project test crystals, ``ds`` then unused), cached by the
    sha256 of its weights and of the data."""
    from .evaluation import evaluate_checkpoint, evaluate_crystal_checkpoint

    folder = Path(folder)
    crystal = json.loads((folder / CONFIG).read_text()).get("target") == "crystals"
    key = f"{sha256_file(folder / WEIGHTS)}-{'crystals' if crystal else (ds.sha256 or 'nodata')}"
    path = _mae_cache(cache_root)
    try:
        known = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        known = {}
    if key in known:
        return known[key]
    ev = evaluate_crystal_checkpoint(folder) if crystal else evaluate_checkpoint(folder, ds)
    m = ev.metrics
    hit = {"mae": float(m["mae"]), "rmse": float(m["rmse"]), "n": int(len(ev.ids))}
    try:  # re-read: another process may have added entries meanwhile
        known = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        known = {}
    known[key] = hit
    atomic_write_json(path, known)
    return hit


def describe(st: Stage, folder: Path) -> dict:
    """A stage as the results file records it: the :class:`Stage` and its weights' sha256."""
    prov = json.loads((Path(folder) / PROVENANCE).read_text())
    return {**asdict(st), "weights_sha256": prov.get("weights_sha256")}
