"""The training appendix's reading of SchNet's goals: per fold, the test MAE against the profile's goal and
against BP (:func:`goal_what_we_see`), what an extension after the schedule gained
(:func:`extension_what_we_see`), and where a run still training is heading against a finished run of the
same fixed-end schedule (:func:`projection_rows`, the learning curves' hollow markers)."""
from __future__ import annotations

import math
import statistics

from .. import store
from ..properties import goal_text
from .claims import dash_or
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


def projection_table(rows: list[dict], unit_of=lambda target: ""):
    """The projection rows for reading: numbers rounded, a dash where a run has no projection."""
    import pandas as pd

    def epochs(r):
        if r["projected"] is None or r["goal"] is None:
            return "—"
        if r["goal epoch"] is not None:
            return f"epoch {r['goal epoch']}"
        return f"about {r['epochs for goal']:,.0f} (longer schedule)"

    return pd.DataFrame({
        "unit": [unit_of(r["target"]) for r in rows],
        "last epoch": [r["epoch"] for r in rows],
        "val MAE": [dash_or(r["val MAE"], ".4g") for r in rows],
        "read against": [r["reference"] or ("—" if r["finished"] or r["stage 2"] else "— (first stage)")
                         for r in rows],
        "ratio": [dash_or(r["ratio"], ".3f") for r in rows],
        "val MAE at the end": [("" if r["finished"] else "projected ") + dash_or(r["projected"], ".4g")
                               if r["projected"] is not None else "—" for r in rows],
        "goal": ["—" if r["goal"] is None else goal_text(r["goal"]) for r in rows],
        "goal reached at": [epochs(r) for r in rows],
    }, index=pd.Index([r["run"] for r in rows], name="run"))


def projection_backtest(logs: dict[str, list[dict]], schedule: tuple[int, int] | None, *, model: str = "schnet",
                        after: int = 10) -> list[dict]:
    """``report.projection.backtest`` over the runs of ``model`` in ``logs``, read from ``after`` epochs
    into the second stage of the fixed-end ``schedule`` (``None``: no rows)."""
    from . import projection

    if schedule is None:
        return []
    return projection.backtest({n: log for n, log in logs.items() if n.startswith(f"{model}-") and log},
                               schedule[0] + after)


def projection_what_we_see(rows: list[dict], backtest: list[dict], unit_of=lambda target: "") -> str:
    """'What we see' for the projections, from the numbers: per run still training, where it is heading
    against its goal; per finished run, where it ended; and how well the projection predicted the runs'
    own later epochs (``report.projection.backtest``)."""
    parts = []
    for r in rows:
        unit = unit_of(r["target"])
        goal = "" if r["goal"] is None else f"the {goal_text(r['goal'])} {unit} goal"
        if r["finished"]:
            text = f"{r['run']} finished at {r['projected']:.4g} {unit}"
            if r["ended"] > r["final epoch"]:
                text += (f" after {r['ended']} epochs (the schedule's {r['final epoch']} and "
                         f"{r['ended'] - r['final epoch']} of an extension)")
            if goal and r["projected"] <= r["goal"]:
                text += f", at or below {goal} (first reached at epoch {r['goal epoch']})"
            elif goal:
                text += (f", above {goal}; by its own curve (best after {r['first stage']} and {r['final epoch']} "
                         f"epochs, exponent {r['exponent']:.2f}) a schedule of about {r['epochs for goal']:,.0f} "
                         "epochs would reach it")
            parts.append(text)
        elif not r["stage 2"]:
            parts.append(f"{r['run']} is at {r['val MAE']:.4g} {unit} after epoch {r['epoch']}, in the first stage; "
                         "it is projected once it has trained a few epochs of the second")
        elif r["projected"] is None:
            parts.append(f"{r['run']} is at {r['val MAE']:.4g} {unit} after epoch {r['epoch']}; no finished run "
                         "of its recipe to read it against yet")
        else:
            text = (f"{r['run']} is at {r['val MAE']:.4g} {unit} after epoch {r['epoch']}, {r['ratio']:.3f} times "
                    f"{r['reference']}: at that ratio it ends near **{r['projected']:.4g} {unit}** at epoch "
                    f"{r['final epoch']}")
            if goal:
                text += (f", reaching {goal} at epoch {r['goal epoch']}" if r["goal epoch"] is not None else
                         f", above {goal}; a schedule of about {r['epochs for goal']:,.0f} epochs would reach it "
                         f"if the error keeps falling as a power law of the schedule length (exponent "
                         f"{r['exponent']:.2f}, from {r['reference']} after {r['first stage']} and {r['final epoch']} epochs)")
            parts.append(text)
    if not parts:
        return ("**What we see.** Nothing to project: this profile's schedule has no fixed end (the learning rate "
                "halves on plateaus and the runs stop early), so a run ends where its own curve flattens.")
    text = "**What we see.**\n\n" + "\n".join(f"- {p}." for p in parts)
    if backtest:
        errs = [abs(b["error"]) for b in backtest]
        median = statistics.median(errs)
        text += (f"\n\nChecked on the runs themselves: read against each other from epoch {backtest[0]['from']} on, "
                 f"the {len(backtest)} ordered pairs of runs predicted the validation MAE they logged later "
                 f"(up to epoch {max(b['to'] for b in backtest)}) within {100 * max(errs):.1f} % "
                 f"(median {100 * median:.1f} %).")
    return text


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
