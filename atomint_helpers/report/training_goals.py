"""The training appendix's reading of SchNet's goals: per fold, the test MAE against the profile's goal and
against BP (:func:`goal_what_we_see`), what an extension after the schedule gained
(:func:`extension_what_we_see`), and where a run still training is heading against a finished run of the
same fixed-end schedule (:func:`projection_rows`, the learning curves' hollow markers)."""
from __future__ import annotations

import math

from .. import store
from ..properties import goal_text
from .findings import join


def model_target_fold(name: str) -> tuple[str, str, int]:
    model, target = name.split("-")[:2]
    return model, target, int(name.rsplit("fold", 1)[-1])


def _schedule_exponent(log: list[dict], schedule: tuple[int, int]) -> float:
    """The schedule-length exponent of a finished run: from its best validation MAE after the first stage and
    after the last epoch of ``schedule``."""
    from . import projection

    best = [min(r["val_mae"] for r in log if r["epoch"] <= e) for e in schedule]
    return projection.schedule_exponent((schedule[0], best[0]), (schedule[1], best[1]))


def projection_rows(logs: dict[str, list[dict]], schedule: tuple[int, int] | None, goals: dict | None = None, *,
                    model: str = "schnet", window: int = 5) -> list[dict]:
    """Per run of ``model`` in ``logs``, trained with the fixed-end ``schedule`` (first-stage epochs, last
    epoch: ``training.fixed_schedule``; ``None``: no rows): where it ends if finished (its last epoch
    reached the schedule's last) or, still training, its projection (``report.projection.project``)
    against a finished run of the same recipe: the same target if one has finished, else the other (same
    schedule), lowest fold first. A run is projected only once ``window`` epochs of the second stage are
    logged: the first stage halves the rate on plateaus at epochs that differ between runs, so its ratios
    do not carry over. The schedule-length exponent comes from the reference's best validation MAE after the
    first stage and after the last epoch. A finished run gets the first epoch at which it reached its goal,
    or, where it ended above it, the schedule length its own such exponent says the goal needs (from the
    epoch it ended: ``ended``, later than the schedule's last for a run extended after it). ``goals``:
    target → MAE (``training.GOALS`` of the profile)."""
    from . import projection

    if schedule is None:
        return []
    from_epoch, final_epoch = schedule
    goals = goals or {}
    mine = {n: log for n, log in logs.items() if n.startswith(f"{model}-") and log}
    finished = sorted((n for n, log in mine.items() if max(r["epoch"] for r in log) >= final_epoch),
                      key=model_target_fold)
    out = []
    for name, log in sorted(mine.items(), key=lambda kv: model_target_fold(kv[0])):
        _, target, _ = model_target_fold(name)
        goal = goals.get(target)
        last = log[-1]
        row = {"run": name, "target": target, "epoch": int(last["epoch"]), "val MAE": float(last["val_mae"]),
               "goal": goal, "reference": None, "ratio": None, "projected": None, "goal epoch": None,
               "epochs for goal": None, "exponent": None, "finished": name in finished,
               "stage 2": int(last["epoch"]) >= from_epoch + window, "first stage": from_epoch,
               "final epoch": final_epoch, "ended": None}
        if row["finished"]:
            # an extended run (a further cycle after the schedule, training.extension) ends after it
            row.update({"projected": float(last["val_mae"]), "ended": max(final_epoch, int(last["epoch"]))})
            if goal is not None:  # where it reached the goal, or the schedule its own curve says it would need
                reached = [int(r["epoch"]) for r in log if r["val_mae"] <= goal]
                alpha = _schedule_exponent(log, schedule)
                row.update({"goal epoch": min(reached) if reached and row["projected"] <= goal else None,
                            "exponent": alpha,
                            "epochs for goal": projection.epochs_for(goal, row["ended"], row["projected"], alpha)})
        else:
            refs = [n for n in finished if model_target_fold(n)[1] == target] or finished
            if refs and row["stage 2"]:
                ref = mine[refs[0]]
                p = projection.project(log, ref, goal, window=window)
                alpha = _schedule_exponent(ref, schedule)
                row.update({"reference": refs[0], "ratio": p.ratio, "projected": p.projected_final,
                            "goal epoch": p.goal_epoch, "exponent": alpha, "epochs for goal": None if goal is None else
                            projection.epochs_for(goal, final_epoch, p.projected_final, alpha)})
        out.append(row)
    return out


def projected_ends(rows: list[dict]) -> dict[str, tuple[int, float]]:
    """Run name → (last epoch of the schedule, projected validation MAE) for the runs still training that have
    a projection: the hollow markers of ``plots.learning_curves``."""
    return {r["run"]: (r["final epoch"], r["projected"]) for r in rows
            if r["projected"] is not None and not r["finished"]}


def goal_what_we_see(runs, goals: dict | None) -> str:
    """SchNet's goal of a profile (``{target: test MAE it must reach on every fold}``, ``training.GOALS``) read
    from the runs table: per target, the folds that met it and those that missed it, each with its test MAE,
    the folds still training (no test MAE yet), and on which folds SchNet is below BP by Table 1's rule
    (:func:`~atomint_helpers.interpret.evaluation.schnet_better_on_folds`). Empty without goals."""
    import pandas as pd

    from ..interpret.evaluation import MODEL_NAMES, schnet_better_on_folds

    if not goals:
        return ""
    test = {model_target_fold(name): mae for name, mae in runs["test MAE"].items()}  # (model, target, fold)
    per_fold = pd.DataFrame([{"target": t, "model": MODEL_NAMES[m], "fold": f, "MAE": mae}
                             for (m, t, f), mae in test.items()])
    parts = []
    for target, goal in goals.items():
        schnet = sorted((f, name) for name in runs.index for m, t, f in [model_target_fold(name)]
                        if (m, t) == ("schnet", target))
        if not schnet:
            continue
        met, missed, training_ = [], [], []
        for fold, name in schnet:
            mae = runs.loc[name, "test MAE"]
            if pd.isna(mae):
                training_.append(f"{fold} (validation {runs.loc[name, 'val MAE']:.3g} so far)")
            else:
                (met if mae <= goal else missed).append(f"{fold} ({mae:.3g})")
        text = f"{target.capitalize()} (test MAE ≤ {goal_text(goal)} {runs.loc[schnet[0][1], 'unit']}): "
        text += "; ".join(f"{what} on {_folds(found)}" for what, found in
                          (("met", met), ("missed", missed), ("still training", training_)) if found)
        both, better = schnet_better_on_folds(per_fold, target)
        against = {f: f"{f} ({test['schnet', target, f]:.3g} against {test['bp', target, f]:.3g})" for f in both}
        below = [against[f] for f in both if f in better]
        not_below = [against[f] for f in both if f not in better]
        if both:
            text += "; " + "; ".join(f"{what} BP's on {_folds(found)}" for what, found in
                                     (("below", below), ("not below", not_below)) if found)
        parts.append(text)
    if not parts:
        return ""
    return "**SchNet against its goal** (every fold, test molecules). " + ". ".join(parts) + "."


def _folds(items: list[str]) -> str:
    """``["0 (…)"]`` → "fold 0 (…)"; several → "folds 0 (…), 1 (…) and 2 (…)"."""
    return ("fold " if len(items) == 1 else "folds ") + join(items)


#: the paper's training-set size, as a set-up number every run is compared with


def extension_what_we_see(present: dict, goals: dict | None = None, unit_of=lambda target: "") -> str:
    """What an adopted extension (``training.extension``: a further cosine cycle after a finished schedule,
    one recipe for every fold of a run) changed, from each run's provenance (``extended_from``: the committed
    run it replaced): per target, the recipe, and each fold's test MAE before → after. A fold still above
    its ``goals`` entry gets the schedule length that the extension's own gain, read as a power law of the
    epochs from the run before to after (``report.projection``), says the goal needs. Empty where no run
    was extended."""
    from . import projection

    by_target: dict[str, list[tuple[int, dict]]] = {}
    for name, folder in sorted(present.items()):
        prov = store.provenance(folder)
        if store.EXTENDED_FROM in prov and prov["metrics"].get("test", {}).get("mae") is not None:
            _, target, fold = model_target_fold(name)
            by_target.setdefault(target, []).append((fold, prov))
    parts = []
    for target, folds in sorted(by_target.items()):
        unit, goal = unit_of(target) or "", (goals or {}).get(target)
        in_unit = f" ({unit})" if unit else ""
        prov0 = folds[0][1]
        start, peak = prov0["profile_settings"]["extend"][prov0["model"]]["cycles"][-1]
        changes, above = [], []
        for fold, prov in folds:
            before, after = prov[store.EXTENDED_FROM], prov["metrics"]["test"]["mae"]
            old = before["metrics"]["test"]["mae"]
            changes.append(f"fold {fold} {old:.3f} → **{after:.3f}**")
            if goal is not None and after > goal:
                alpha = projection.schedule_exponent((before["epochs"], old), (prov["epochs"], after))
                need = projection.epochs_for(goal, prov["epochs"], after, alpha)
                above.append(f"fold {fold} stays above it: " + (
                    f"the cycle's own gain, read as a power law of the epochs (exponent {alpha:.2f} from "
                    f"{before['epochs']} to {prov['epochs']}), puts the goal at about {need:,.0f} epochs"
                    if math.isfinite(need) else "the cycle did not lower its error, so no power law extrapolates it"))
        text = (f"**{target.capitalize()}: a second cycle.** Every fold was continued by one recipe, declared before "
                f"any extended run was seen ({prov0['profile_settings']['extension']}: a further cosine cycle from "
                f"epoch {start} to {prov0['epochs']}, peak learning rate {peak:g}). Test MAE{in_unit}: "
                + join(changes) + ".")
        if goal is not None:
            text += (f" Goal ≤ {goal_text(goal)}{' ' + unit if unit else ''}: "
                     + ("; ".join(above) if above else "met on every fold") + ".")
        parts.append(text)
    return "\n\n".join(parts)
