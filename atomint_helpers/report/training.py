"""The training chapter's tables, "what we see" text and scorecard rows (training-set sizes: kind ``setup``),
and the reading of the SchNet ``cpu`` recipe pilot (logs from ``training.runs.read_pilots``). Rule of the
set-up rows: a run's training set holds the paper's 100,000 molecules exactly.
"""
from __future__ import annotations

from pathlib import Path

from .. import store
from ..properties import MODEL_LABELS
from .claims import QUICK_NOTE, dash_or, group_name
from .registry import Claim, decide_number
from .training_goals import extension_what_we_see, goal_what_we_see, model_target_fold

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


def what_we_see(runs, quick: bool, goals: dict | None = None, present: dict[str, Path] | None = None) -> str:
    """Per target: the best finished run's test MAE, or the best validation MAE while all still train; with a
    profile's SchNet ``goals``, a second paragraph reads every fold against them (:func:`goal_what_we_see`);
    with the run folders (``present``), a paragraph per target whose runs were extended after their schedule
    (:func:`~.training_goals.extension_what_we_see`)."""
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
    units = dict(zip(runs.index.str.split("-").str[1], runs["unit"]))
    more = [goal_what_we_see(runs, goals), extension_what_we_see(present or {}, goals, units.get)]
    return "\n\n".join([text, *(m for m in more if m)])


TRAIN_SIZE = Claim("setup.training-molecules", "§3", "For all of our analyses, we will employ BP and SchNet models "
                   "trained on 100k reference calculations at the B3LYP level of theory [45, 46] from the popular "
                   "QM9 molecule benchmark [47].", "training molecules", kind="setup", paper_value=PAPER_TRAIN,
                   tolerance=0.0, unit="molecules")


def rows(runs, quick: bool) -> list[dict]:
    """Set-up rows: every run's training-set size beside the paper's 100,000 molecules."""
    return [dict(decide_number(TRAIN_SIZE, MODEL_LABELS.get(str(name).split("-", 1)[0], ""), int(r["n train"]),
                               why_not=QUICK_NOTE if quick else None,
                               note=("quick profile: 1,000 sample molecules by design; " if quick else "")
                               + f"{r['epochs']} epochs{' so far' if r['status'] == 'training' else ''}; "
                               f"status: {r['status']}").row(),
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
        unit = unit_of(model_target_fold(name)[1])
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
        _, target, own_seed = model_target_fold(name)
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
