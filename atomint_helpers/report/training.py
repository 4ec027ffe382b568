"""The training chapter's tables, "what we see" text and scorecard rows (training-set sizes: kind ``setup``),
and the reading of the SchNet ``cpu`` recipe pilot (logs from ``training.runs.read_pilots``). Rule of the
set-up rows: a run's training set holds the paper's 100,000 molecules exactly.
"""
from __future__ import annotations

import statistics
from pathlib import Path

from .. import store
from ..properties import MODEL_LABELS, goal_text
from .claims import QUICK_NOTE, dash_or, group_name
from .findings import join
from .registry import Claim, decide_number

PAPER_TRAIN = 100_000


def runs_table(present: dict[str, Path]):
    """One row per run: training-set size, epochs, best epoch, unit, validation / test errors, parameters,
    wall time (min), status and device, from each ``provenance.json``."""
    import pandas as pd

    rows = []
    for name, folder in present.items():
        prov = store.provenance(folder)
        m = prov.get("metrics", {})
        rows.append({"run": name, "n train": prov["n_train"], "epochs": prov["epochs"],
                     "best epoch": prov["best_epoch"], "unit": prov["unit"],
                     "val MAE": m.get("val", {}).get("mae"), "test MAE": m.get("test", {}).get("mae"),
                     "test RMSE": m.get("test", {}).get("rmse"), "parameters": prov["n_parameters"],
                     "wall time (min)": prov["wall_time_s"] / 60, "status": prov["status"],
                     "device": prov["device"]})
    return pd.DataFrame(rows).set_index("run")


def what_we_see(runs, quick: bool, goals: dict | None = None) -> str:
    """Per target: the best finished run's test MAE, or the best validation MAE while all still train; with a
    profile's SchNet ``goals``, a second paragraph reads every fold against them (:func:`goal_what_we_see`)."""
    parts = []
    for target, group in runs.groupby(runs.index.str.split("-").str[1]):
        finished = group.dropna(subset=["test MAE"])
        if len(finished):
            run = finished["test MAE"].idxmin()
            parts.append(f"{target}: {run} reaches a test MAE of {finished.loc[run, 'test MAE']:.3g} "
                         f"{finished.loc[run, 'unit']}")
        else:
            run = group["val MAE"].idxmin()
            parts.append(f"{target}: still training, best so far {run} with a validation MAE of "
                         f"{group.loc[run, 'val MAE']:.3g} {group.loc[run, 'unit']}")
    done = int(runs["test MAE"].notna().sum())
    hours = runs["wall time (min)"].sum() / 60
    text = (f"**What we see.** {len(runs)} runs ({done} finished), {hours:.2f} h of training in all. "
            + "; ".join(parts) + "." + (" (quick profile: tiny models, seconds of training)" if quick else ""))
    goal = goal_what_we_see(runs, goals)
    return text + ("\n\n" + goal if goal else "")


def goal_what_we_see(runs, goals: dict | None) -> str:
    """SchNet's goal of a profile (``{target: test MAE it must reach on every fold}``, ``training.GOALS``) read
    from the runs table: per target, the folds that met it and those that missed it, each with its test MAE,
    the folds still training (no test MAE yet), and on which folds SchNet is below BP by Table 1's rule
    (:func:`~atomint_helpers.interpret.evaluation.schnet_better_on_folds`). Empty without goals."""
    import pandas as pd

    from ..interpret.evaluation import MODEL_NAMES, schnet_better_on_folds

    if not goals:
        return ""
    test = {_model_target_fold(name): mae for name, mae in runs["test MAE"].items()}  # (model, target, fold)
    per_fold = pd.DataFrame([{"target": t, "model": MODEL_NAMES[m], "fold": f, "MAE": mae}
                             for (m, t, f), mae in test.items()])
    parts = []
    for target, goal in goals.items():
        schnet = sorted((f, name) for name in runs.index for m, t, f in [_model_target_fold(name)]
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
TRAIN_SIZE = Claim("setup.training-molecules", "§3", "For all of our analyses, we will employ BP and SchNet models "
                   "trained on 100k reference calculations at the B3LYP level of theory [45, 46] from the popular "
                   "QM9 molecule benchmark [47].", "training molecules", kind="setup", paper_value=PAPER_TRAIN,
                   tolerance=0.0, unit="molecules")


def rows(runs, quick: bool) -> list[dict]:
    """Set-up rows: every run's training-set size beside the paper's 100,000 molecules."""
    return [dict(decide_number(TRAIN_SIZE, MODEL_LABELS.get(str(name).split("-", 1)[0], ""), int(r["n train"]),
                               why_not=QUICK_NOTE if quick else None,
                               note=("quick profile: 1,000 sample molecules by design; " if quick else "")
                               + f"{r['epochs']} epochs so far; status: {r['status']}").row(),
                 claim=f"training molecules, {name}") for name, r in runs.iterrows()]


# ------------------------------------------------------------------------------------------ the pilot
def pilot_table(pilots: dict[str, list[dict]], from_epoch: int):
    """Per pilot: the stage-2 start rate, the validation MAE before stage 2 (epoch ``from_epoch``), after its
    first stage-2 epoch, at its last epoch, and the epochs it ran (kcal/mol)."""
    import pandas as pd

    out = []
    for name, log in pilots.items():
        by = {int(r["epoch"]): r for r in log}
        stage2 = [e for e in by if e > from_epoch]
        if not stage2:
            continue
        lr = name.split("-lr", 1)[1].split("-ema", 1)[0] if "-lr" in name else "?"
        out.append({"pilot": name, "stage-2 start lr": f"{float(lr):g}" if lr != "?" else "?",
                    f"val MAE @ {from_epoch}": by[from_epoch]["val_mae"] if from_epoch in by else None,
                    "after 1 stage-2 epoch": by[min(stage2)]["val_mae"],
                    "last epoch": max(stage2), "val MAE at last epoch": by[max(stage2)]["val_mae"]})
    return pd.DataFrame(out).set_index("pilot") if out else pd.DataFrame()


def pilot_what_we_see(table, chosen_lr: float) -> str:
    """Which stage-2 start rate ended lower (the rule: lower validation MAE at equal wall budget wins)."""
    if table.empty:
        return "*The pilot logs (bench/pilots/) are not in this checkout.*"
    best = table["val MAE at last epoch"].idxmin()
    worst = table["val MAE at last epoch"].idxmax()
    gap = table.loc[worst, "val MAE at last epoch"] - table.loc[best, "val MAE at last epoch"]
    return (f"**What we see.** Switching on the weight average alone took the validation MAE from "
            f"{table.iloc[0, 1]:.3f} to {table.iloc[0, 2]:.3f} kcal/mol within one epoch. After "
            f"{int(table.loc[best, 'last epoch'])} epochs the cosine from "
            f"{table.loc[best, 'stage-2 start lr']} reached {table.loc[best, 'val MAE at last epoch']:.4f} "
            f"kcal/mol, {gap:.4f} below the cosine from {table.loc[worst, 'stage-2 start lr']}; the `cpu` "
            f"profile uses {chosen_lr:g}.")


def retrain_markdown(models_dir: str | Path) -> str:
    """A Markdown table of what retraining each committed run took, read from its ``provenance.json``
    (profile, run, epochs, wall time in minutes, threads/device, status); for the "Re-running" page."""
    models_dir = Path(models_dir)
    lines = ["| run | epochs | wall time (min) | device | status |", "|---|---:|---:|---|---|"]
    for folder in sorted(p.parent for p in models_dir.glob(f"*/{store.PROVENANCE}") if "-quick-" not in p.parent.name):
        prov = store.provenance(folder)
        lines.append(f"| `{folder.name}` | {prov.get('epochs', '—')} | {prov.get('wall_time_s', 0) / 60:,.1f} | "
                     f"{prov.get('device', '—')} | {str(prov.get('status', '—')).replace('|', '/')} |")
    if len(lines) == 2:
        return f"*No committed checkpoints in `{models_dir.name}/`.*\n"
    return "\n".join(lines) + "\n"


def errors_table(runs):
    """The runs' errors for reading: validation and test errors rounded, a dash where a run has none yet
    (still training), wall time in minutes, status and device."""
    import pandas as pd

    return pd.DataFrame({"unit": runs["unit"], "val MAE": [dash_or(x, ".4g") for x in runs["val MAE"]],
                         "test MAE": [dash_or(x, ".4g") for x in runs["test MAE"]],
                         "test RMSE": [dash_or(x, ".4g") for x in runs["test RMSE"]],
                         "wall time (min)": runs["wall time (min)"].round(1), "status": runs["status"],
                         "device": runs["device"]}, index=runs.index)


def signs_what_we_see(signs: dict, goal: float = 0.95, jump: float = 0.2) -> str:
    """'What we see' for the Mulliken-sign log of the dipole runs (``{run name: signs.csv rows}``), from the
    numbers: per run, the groups below ``goal`` at its last logged epoch, and the groups whose share moved
    by ``jump`` or more between the first and the last logged epoch (a run leaving or entering a mirror
    solution while it trains)."""
    if not signs:
        return ("No dipole run of this build logged the Mulliken sign per group while it trained (the log began "
                "with the runs of stage 2; the finished stage-1 checkpoints predate it).")
    parts = []
    for name in sorted(signs):
        rows = signs[name]
        first, last = min(r["epoch"] for r in rows), max(r["epoch"] for r in rows)
        at = {e: {(r["element"], r["neighbours"]): r["agree"] for r in rows if r["epoch"] == e} for e in (first, last)}
        low = {g: a for g, a in at[last].items() if a < goal}
        moved = {g: (at[first][g], a) for g, a in at[last].items() if g in at[first] and abs(a - at[first][g]) >= jump}
        text = f"{name} (epochs {first}–{last}): "
        text += ("every group at or above the goal at the last epoch" if not low else
                 "below the goal at epoch " + str(last) + ": "
                 + ", ".join(f"{group_name(el, nb)} {a:.0%}" for (el, nb), a in sorted(low.items())))
        if moved:
            text += f"; moved by {100 * jump:.0f} points or more: " + ", ".join(
                f"{group_name(el, nb)} {a:.0%} → {b:.0%}" for (el, nb), (a, b) in sorted(moved.items()))
        parts.append(text)
    return ". ".join(parts) + "."


# ------------------------------------------------------------------------------------ restart screening
def _lowest_group(signs: dict | None) -> str:
    if not signs:
        return "—"
    (el, nb), a = min(signs.items(), key=lambda kv: (kv[1], kv[0]))
    return f"{group_name(el, nb)}: {a:.0%}"


def restart_table(records: dict[str, dict], unit_of=lambda target: ""):
    """One row per candidate of every restart screening (``{run name: training.read_screening(folder)}``):
    its validation MAE after each screening epoch, the best of them, whether it was chosen, and its group of
    atoms furthest from the Mulliken sign at the screening's last epoch ("—" where that was not logged)."""
    import pandas as pd

    rows, index = [], []
    for name in sorted(records):
        rec = records[name]
        unit = unit_of(_model_target_fold(name)[1])
        for c in rec["candidates"]:
            index.append((name, c["seed"]))
            rows.append({**{f"val MAE, epoch {i + 1} ({unit})": f"{v:.4g}" for i, v in enumerate(c["val_mae"])},
                         f"best ({unit})": f"{c['best_val_mae']:.4g}",
                         "chosen": "✓" if c["seed"] == rec["chosen"] else "",
                         f"lowest Mulliken-sign group, epoch {rec['epochs']}": _lowest_group(c.get("signs"))})
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["run", "seed"]))


def restart_what_we_see(records: dict[str, dict], unit_of=lambda target: "") -> str:
    """'What we see' for the restart screenings, from the records: per run, the seed chosen and by how much
    its best validation MAE beat the fold's own seed (or the runner-up, where the own seed won)."""
    if not records:
        return ("**What we see.** No run of this build screened restarts (the profile trains every run from its "
                "fold's own seed).")
    parts = []
    for name in sorted(records):
        rec = records[name]
        _, target, own_seed = _model_target_fold(name)
        unit = unit_of(target)
        by_seed = {c["seed"]: c for c in rec["candidates"]}
        chosen = by_seed[rec["chosen"]]
        if rec["chosen"] == own_seed:
            rest = min((c for c in rec["candidates"] if c["seed"] != own_seed), key=lambda c: c["best_val_mae"])
            parts.append(f"{name} kept its own seed {own_seed}: {chosen['best_val_mae']:.4g} {unit} within "
                         f"{rec['epochs']} epochs, against {rest['best_val_mae']:.4g} {unit} for the next best "
                         f"(seed {rest['seed']})")
        else:
            own = by_seed[own_seed]
            parts.append(f"{name} starts from seed {rec['chosen']}: {chosen['best_val_mae']:.4g} {unit} within "
                         f"{rec['epochs']} epochs, against {own['best_val_mae']:.4g} {unit} for its own seed "
                         f"{own_seed} ({own['best_val_mae'] / chosen['best_val_mae']:.2f} times as large)")
    n = sum(len(r["candidates"]) for r in records.values())
    return (f"**What we see.** {n} candidates over {len(records)} runs, every one reported above. "
            + "; ".join(parts) + ".")


# ------------------------------------------------------------------------------------ where runs are heading
def _model_target_fold(name: str) -> tuple[str, str, int]:
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
    or, where it ended above it, the schedule length its own such exponent says the goal needs. ``goals``:
    target → MAE (``training.GOALS`` of the profile)."""
    from . import projection

    if schedule is None:
        return []
    from_epoch, final_epoch = schedule
    goals = goals or {}
    mine = {n: log for n, log in logs.items() if n.startswith(f"{model}-") and log}
    finished = sorted((n for n, log in mine.items() if max(r["epoch"] for r in log) >= final_epoch),
                      key=_model_target_fold)
    out = []
    for name, log in sorted(mine.items(), key=lambda kv: _model_target_fold(kv[0])):
        _, target, _ = _model_target_fold(name)
        goal = goals.get(target)
        last = log[-1]
        row = {"run": name, "target": target, "epoch": int(last["epoch"]), "val MAE": float(last["val_mae"]),
               "goal": goal, "reference": None, "ratio": None, "projected": None, "goal epoch": None,
               "epochs for goal": None, "exponent": None, "finished": name in finished,
               "stage 2": int(last["epoch"]) >= from_epoch + window, "first stage": from_epoch,
               "final epoch": final_epoch}
        if row["finished"]:
            row["projected"] = float(last["val_mae"])
            if goal is not None:  # where it reached the goal, or the schedule its own curve says it would need
                reached = [int(r["epoch"]) for r in log if r["val_mae"] <= goal]
                alpha = _schedule_exponent(log, schedule)
                row.update({"goal epoch": min(reached) if reached and row["projected"] <= goal else None,
                            "exponent": alpha,
                            "epochs for goal": projection.epochs_for(goal, final_epoch, row["projected"], alpha)})
        else:
            refs = [n for n in finished if _model_target_fold(n)[1] == target] or finished
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
