"""Would a better-trained model change a claim's verdict? The chapters' scorecard rows gain the budget verdict
that :mod:`.budget_rule` reads off the committed stage results (``bench/stages/<chapter>.json``, written by
``bench/stages/run.py``): which results apply to a chapter's rows, the rows' ``budget`` and ``stages``, the
sentence and cell a row shows, and the budget figure's lines. The rule itself, and how a chapter's claims
enter it, is written in :mod:`.budget_rule`.

A chapter whose claims read one run (Fig. 7: the crystal SchNet, fold 0) says so in each row's budget
("one fold"); the results file lists its ``folds``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from .. import AtomintError
from ..io import atomic_write_json
from .budget_rule import NUMBER_TEST, budget, claim_tests, finite
from .registry import HOLDING, Claim

#: the committed results of the claims on the stages, one file per chapter (``bench/stages/run.py``)
RESULTS_DIR = Path(__file__).resolve().parents[2] / "bench" / "stages"
#: the Fig. 2 claims' results
FIG2_RESULTS = RESULTS_DIR / "fig2.json"
BUDGETS = ("sensitive", "stable", "untested")
#: the unit of a target's test MAE
UNITS = {"energy": "kcal/mol", "dipole": "D", "crystals": "eV/atom"}
_PANEL = {"bp": "BP", "schnet": "SchNet"}
#: a panel's name after the architecture's, per target (the energy panels carry the architecture alone)
_TARGET_PANEL = {"energy": "", "dipole": ", dipole", "crystals": ", crystals"}


def results_path(chapter: str) -> Path:
    """The committed stage results of ``chapter`` (``fig2``, ``table1``, ``fig3`` … ``fig7``)."""
    return RESULTS_DIR / f"{chapter}.json"


# ------------------------------------------------------------------------------------------ results and rows
def read_results(path=FIG2_RESULTS) -> dict | None:
    """The committed stage results, or ``None`` when there are none."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise AtomintError(f"{path} is not valid JSON ({e}): restore it from git or rerun bench/stages/fig2.py")


def write_results(path, results: dict) -> None:
    atomic_write_json(Path(path), results)


def _model_key(label: str) -> str:
    return {"BP": "bp", "SchNet": "schnet"}.get(label, "schnet")


def _axis(results: dict, stage: dict, target: str | None) -> tuple[dict, dict, str]:
    """``(test MAE by model, checkpoints by model, unit)`` of one stage for a claim's ``target`` (``None``:
    the results' own target, the one ``test_mae`` and ``checkpoints`` hold)."""
    own = results.get("target", "energy")
    if target is None or target == own:
        return stage["test_mae"], stage.get("checkpoints", {}), UNITS.get(own, "")
    other = stage.get("targets", {}).get(target, {})
    return other.get("test_mae", {}), other.get("checkpoints", {}), UNITS.get(target, "")


def checkpoints_by_target(stage: dict, own: str) -> dict:
    """``{target: {model: {fold: checkpoint}}}`` of one stage: the results' own target (``own``) and every other
    target the chapter reads."""
    return {own: stage.get("checkpoints", {}),
            **{t: other.get("checkpoints", {}) for t, other in stage.get("targets", {}).items()}}


def _hit(claims: Sequence[dict], claim: Claim, label: str) -> dict | None:
    """The stage result of ``claim`` for model ``label`` among ``claims``, or ``None``."""
    return next((c for c in claims if c["id"] == claim.id and c["model"] == label), None)


def with_budget_paragraph(row: dict) -> dict:
    """``row`` whose cause, where it does not hold, ends in its :func:`budget_paragraph` (in place)."""
    if row.get("cause") and row.get("verdict") not in HOLDING:
        row["cause"] = f"{row['cause'].rstrip('. ')}. {budget_paragraph(row)}"
    return row


def _paper_mae(results: dict, target: str | None, m: str) -> float | None:
    own = target is None or target == results.get("target", "energy")
    return (results.get("paper_mae", {}) if own else results.get("target_paper_mae", {}).get(target, {})).get(m)


def claim_budget(claim: Claim, label: str, results: dict | None) -> tuple[dict, list[dict]]:
    """``(budget, stages)`` of one scorecard row from the results file (see the module docstring)."""
    if not results or not results.get("stages"):
        return {"verdict": "untested", "why": "no earlier training stage was evaluated"}, []
    m = _model_key(label)
    per_stage, maes, listing, hits, target, unit = [], [], [], [], None, ""
    tests = claim_tests(claim)
    for s in results["stages"]:
        hit = _hit(s["claims"], claim, label)
        if hit is None:
            return {"verdict": "untested", "why": "this claim was not measured on every stage"}, []
        target = hit.get("target")
        by_model, ckpts, unit = _axis(results, s, target)
        mae = by_model.get(m)
        if not finite(mae):
            return {"verdict": "untested", "why": f"no test MAE of {m} at stage {s['stage']}"}, []
        per_stage.append(hit["tests"])
        hits.append(hit)
        maes.append(mae)
        primary = tests[0].name if tests else None
        entry = {"stage": s["stage"], "test_mae": mae, "value": hit["tests"].get(primary, {}).get("value"),
                 "values": {k: v["value"] for k, v in hit["tests"].items()}, "verdict": hit["verdict"]}
        if unit != "kcal/mol":
            entry["unit"] = unit
        if ckpts:  # epochs per model, fold by fold
            entry["epochs"] = {k: [c.get("epochs") for _, c in sorted(by.items())] for k, by in ckpts.items()}
        listing.append(entry)
    numbers = [s.get("atomint") for s in hits] if claim.is_number else None
    b = budget(claim, per_stage, maes, _paper_mae(results, target, m), unit,
               verdicts=[s["verdict"] for s in hits], numbers=numbers, reference=reference_name(unit))
    thin = thin_stages(results, ("bp", "schnet") if label == "" else (m,), target)
    one = "one fold (the one run the chapter reads)" if len(results.get("folds", (0, 1, 2))) == 1 else ""
    notes = "; ".join(x for x in (thin, one) if x)
    flips = [name for name, tr in b["tests"].items() if tr["toward_flip"]]
    replaced = superseded_change(claim, label, results, hits[-1]["verdict"])
    verdict, why = b["verdict"], b["why"]
    if replaced:
        verdict, why = "sensitive", f"{replaced['why']}; {why}"
    return {"verdict": verdict, "why": why + (f"; {notes}" if notes else ""),
            **({"toward_flip": flips} if flips else {}), **({"superseded": replaced} if replaced else {})}, listing


def superseded_change(claim: Claim, label: str, results: dict, final: str) -> dict | None:
    """Where the claim's verdict on final models that were since replaced (the results' ``superseded``
    stages: an extension adopted after the stages were evaluated) differs from ``final``, today's:
    ``{"verdict", "runs", "why"}`` of the latest such stage; ``None`` where none differs."""
    for sup in reversed(results.get("superseded", [])):
        hit = _hit(sup.get("claims", ()), claim, label)
        if hit is not None and hit["verdict"] != final:
            runs = replaced_runs(sup, results["stages"][-1], results.get("target", "energy"))
            return {"verdict": hit["verdict"], "runs": runs,
                    "why": f"its verdict changed when the final models were replaced ({runs}: {hit['verdict']} → "
                           f"{final})"}
    return None


def replaced_runs(old: dict, new: dict, own: str) -> str:
    """Which runs differ between two stages, in words ("SchNet energy 300 → 400 epochs"): per target and
    architecture whose weights differ, the epochs of the folds before and after."""
    def span(by):
        e = sorted({c.get("epochs") for c in by.values() if c.get("epochs") is not None})
        return "?" if not e else str(e[0]) if len(e) == 1 else f"{e[0]}–{e[-1]}"

    before, after, parts = checkpoints_by_target(old, own), checkpoints_by_target(new, own), []
    for t, ck in after.items():
        for m, by in sorted(ck.items()):
            was = before.get(t, {}).get(m, {})
            if {c.get("weights_sha256") for c in by.values()} != {c.get("weights_sha256") for c in was.values()}:
                parts.append(f"{_PANEL.get(m, m)} {t} {span(was)} → {span(by)} epochs")
    return ", ".join(parts) or "the same runs"


def reference_name(unit: str) -> str:
    """What the reference MAE beside a crossing is: the paper's model (Table 1) for QM9 targets; for the
    crystals (eV/atom) SchNet's published Materials Project model, which this paper does not report."""
    return "SchNet's published crystal model, not this paper's" if unit == "eV/atom" else "the paper's model"


def thin_stages(results: dict, models: Sequence[str], target: str | None = None) -> str:
    """The folds of ``models`` where one saved model stands at several stages (the run was committed at fewer
    epochs than the stages ask for, and the rule takes the nearest), in words; empty when none. ``target``:
    as :func:`claim_budget`."""
    bits = []
    ckpts = [_axis(results, s, target)[1] for s in results["stages"]]
    n = len(results["stages"])
    for m in models:
        for k in sorted({k for c in ckpts for k in c.get(m, {})}):
            at = [(i + 1, c[m][k]) for i, c in enumerate(ckpts) if k in c.get(m, {})]
            groups: dict[str, list[tuple[int, dict]]] = {}
            for i, ck in at:  # a stage is its weights: one model may sit at two commits (a records migration)
                groups.setdefault(str(ck.get("weights_sha256") or ck.get("commit")), []).append((i, ck))
            for same in (g for g in groups.values() if len(g) > 1):
                stages = [str(i) for i, _ in same]
                where = (f"all {n} stages" if len(same) == n else
                         "stages " + ", ".join(stages[:-1]) + " and " + stages[-1])
                epoch = same[0][1].get("epochs")
                bits.append(f"{_PANEL.get(m, m)} fold {k} was saved at fewer epochs than the stages ask for, so "
                            f"one model{'' if epoch is None else f' (epoch {epoch})'} stands at {where}")
    return "; ".join(bits)


def annotate(rows: list[dict], claims: Sequence[Claim], quick: bool, results: dict | None = None) -> list[dict]:
    """``rows`` (scorecard rows) with ``budget`` and ``stages`` added to each ``paper`` row of ``claims``."""
    by_id = {c.id: c for c in claims}
    if results is None and not quick:
        results = read_results()
    for r in rows:
        c = by_id.get(r.get("id"))
        if c is None or r.get("kind") != "paper":
            continue
        if quick:
            r["budget"], r["stages"] = {"verdict": "untested", "why": "quick profile: the stages are of the cpu "
                                                                          "runs"}, []
        elif c.untestable is not None:
            r["budget"], r["stages"] = {"verdict": "untested", "why": "not testable"}, []
        else:
            r["budget"], r["stages"] = claim_budget(c, r.get("model", ""), results)
            with_budget_paragraph(r)
    return rows


def annotate_study(rows: list[dict], claims: Sequence[Claim], study, quick: bool, path=FIG2_RESULTS) -> list[dict]:
    """:func:`annotate` for a chapter's ``study``: the committed stage results apply only when the study's
    checkpoints are the results' last stage (same weights, by sha256); otherwise every row is ``untested``."""
    results = None if quick else read_results(path)
    if results and results.get("stages"):
        from ..store import provenance

        last = {c["weights_sha256"] for by in results["stages"][-1]["checkpoints"].values() for c in by.values()}
        try:  # a constructed study names no checkpoints, or folders that are none
            mine = {provenance(f).get("weights_sha256") for f in study.fold_set.checkpoints()}
        except (AttributeError, AtomintError):
            mine = set()
        if mine != last:
            return _other_checkpoints(rows, Path(path).stem)
    return annotate(rows, claims, quick, results or {"stages": []})


def annotate_errors(rows: list[dict], claims: Sequence[Claim], per_fold, quick: bool,
                    path=None, rel: float = 1e-4) -> list[dict]:
    """:func:`annotate` for Table 1, whose rows come from the checkpoints' recorded test errors
    (``per_fold``: :func:`~atomint_helpers.interpret.evaluation.across_folds`): the committed stage results
    apply only when their last stage's test MAE of every model, target and fold is the one ``per_fold``
    records (within ``rel``, relative); otherwise every row is ``untested``."""
    path = results_path("table1") if path is None else path
    results = None if quick else read_results(path)
    if results and results.get("stages"):
        from ..interpret.evaluation import MODEL_NAMES

        sets = checkpoints_by_target(results["stages"][-1], results.get("target", "energy"))
        known = {(MODEL_NAMES[m], t, int(k)): c["mae"] for t, ck in sets.items() for m, by in ck.items()
                 for k, c in by.items()}
        mine = {(r["model"], r["target"], int(r["fold"])): r["MAE"] for _, r in per_fold.iterrows()}
        same = set(mine) == set(known) and all(
            finite(mine[k]) and abs(mine[k] - known[k]) <= rel * abs(known[k]) for k in known)
        if not same:
            return _other_checkpoints(rows, "table1")
    return annotate(rows, claims, quick, results or {"stages": []})


def same_values(last: list[dict], rows: list[dict], rel: float = 1e-4) -> bool:
    """Whether the ``paper`` rows' test values are those of the stage claims ``last`` (the results' last
    stage) for every row the stage measured, within ``rel`` × max(1, |value|): then the stages end in this
    build's checkpoints. The tolerance admits float32 sums taken in another order (one or two torch threads)
    and nothing a different checkpoint gives on every test of a chapter. A number's row compares its
    ``atomint`` value."""
    key = {(c["id"], c["model"]): c for c in last}
    seen = 0
    for r in rows:
        c = key.get((r.get("id"), r.get("model", "")))
        if c is None or r.get("kind") != "paper":
            continue
        seen += 1
        pairs = ([(c.get("atomint"), r.get("atomint"))] if NUMBER_TEST in c["tests"] and "atomint" in c else
                 [(c["tests"].get(t["name"], {}).get("value"), t.get("value")) for t in r.get("tests") or ()])
        for a, b in pairs:
            if a is None and b is None:
                continue
            try:
                if a is None or b is None or abs(float(a) - float(b)) > rel * max(1.0, abs(float(b))):
                    return False
            except (TypeError, ValueError):
                return False
    return seen > 0


def annotate_values(rows: list[dict], claims: Sequence[Claim], quick: bool, chapter: str, path=None) -> list[dict]:
    """:func:`annotate` for a chapter whose rows do not name their checkpoints (Figs. 5–7): the committed
    stage results of ``chapter`` apply only when their last stage's test values are this build's
    (:func:`same_values`); otherwise every row is ``untested``."""
    results = None if quick else read_results(results_path(chapter) if path is None else path)
    if results and results.get("stages") and not same_values(results["stages"][-1]["claims"], rows):
        return _other_checkpoints(rows, chapter)
    return annotate(rows, claims, quick, results or {"stages": []})


def _other_checkpoints(rows: list[dict], chapter: str) -> list[dict]:
    for r in rows:
        if r.get("kind") == "paper":
            r["budget"] = {"verdict": "untested", "why": "the evaluated stages end in other checkpoints than this "
                           f"build's (rerun bench/stages/run.py --chapter {chapter})"}
            r["stages"] = []
    return rows


def _mae_text(s: dict) -> str:
    unit = s.get("unit", "kcal/mol")
    return f"{s['test_mae']:.{2 if unit == 'kcal/mol' else 3}f}" + ("" if unit == "kcal/mol" else f" {unit}")


def budget_paragraph(row: dict) -> str:
    """The sentence a non-holding claim's cause gains: its budget verdict, the stages' verdicts by test MAE
    and why."""
    b, st = row.get("budget") or {}, row.get("stages") or []
    if b.get("verdict") in (None, "untested"):
        return f"Training budget: untested ({b.get('why', 'no stages')})."
    path = ", ".join(f"{s['verdict']} at {_mae_text(s)}" for s in st)
    unit = st[0].get("unit", "kcal/mol") if st else "kcal/mol"
    word = {"sensitive": "sensitive, the verdict depends on how long the models trained",
            "stable": "stable, the same verdict at every stage and no test moving toward its threshold's other "
                      "side"}[b["verdict"]]
    return f"Training budget: {word} (verdicts by stage test MAE in {unit}: {path}; {b['why']})."


def trend_series(results: dict | None, claims: Sequence[Claim]) -> list[dict]:
    """The budget figure's lines (:func:`atomint_helpers.plots.budget_trends`): per claim, model and test the
    normalised value at each stage against the stage's test MAE, with the test's budget: ``sensitive`` for a
    test that moves toward a flip, otherwise its claim's verdict (``stable`` for the other tests of a
    sensitive claim)."""
    out = []
    if not results or not results.get("stages"):
        return out
    for c in claims:
        if c.untestable is not None or c.kind != "paper":
            continue
        for label in c.models:
            b, listing = claim_budget(c, label, results)
            if not listing:
                continue
            m = _model_key(label)
            unit = listing[0].get("unit", "kcal/mol")
            for t in claim_tests(c):
                ys = [t.normalised(s["values"].get(t.name)) for s in listing]
                if not all(finite(y) for y in ys):
                    continue
                who = f" ({label})" if label else ""
                out.append({"label": f"{c.id.split('.', 1)[-1]}{who}: {t.name}", "unit": unit,
                            "axis": _PANEL[m] + _TARGET_PANEL.get(_target_of(results, listing), ""),
                            "mae": [s["test_mae"] for s in listing], "normalised": ys,
                            "budget": "sensitive" if t.name in b.get("toward_flip", ()) else
                            ("stable" if b["verdict"] == "sensitive" else b["verdict"])})
    return out


def _target_of(results: dict, listing: list[dict]) -> str:
    """The target whose test MAE a claim's stages list (its unit names it; the results' own otherwise)."""
    unit = listing[0].get("unit", "kcal/mol") if listing else "kcal/mol"
    return next((t for t, u in UNITS.items() if u == unit), results.get("target", "energy"))


def budget_cell(row: dict) -> str:
    """A scorecard cell for a row's budget: the verdict and, per stage, the verdict at its test MAE
    (kcal/mol, or the unit it names); a dash for a row without one."""
    b = row.get("budget")
    if not b:
        return "—"
    st = row.get("stages") or []
    path = " → ".join(f"{s['verdict']} ({_mae_text(s)})" for s in st)
    return f"{b['verdict']}" + (f": {path}" if path else "")


def figure_inputs(claims: Sequence[Claim], results: dict | None = None) -> tuple[list[dict], dict]:
    """``(series, paper_mae)`` for :func:`atomint_helpers.plots.budget_trends` from the committed results:
    ``paper_mae`` keyed by the panels' names (``SchNet``, ``BP``; ``SchNet, dipole`` for the dipole models)."""
    results = read_results() if results is None else results
    paper = {}
    for target, by in {results.get("target", "energy"): results.get("paper_mae", {}),
                       **results.get("target_paper_mae", {})}.items() if results else ():
        paper.update({_PANEL[k] + _TARGET_PANEL.get(target, f", {target}"): v for k, v in by.items() if k in _PANEL})
    return trend_series(results, claims), paper


def chapter_claims() -> dict[str, tuple[Claim, ...]]:
    """Every chapter with committed stage results (its file :func:`results_path`) and its claims."""
    from . import charges, embeddings, energies, esp, probe, rings, table1

    return {"fig2": energies.CLAIMS + (energies.CARBON_PEAKS_SCHNET,), "table1": table1.CLAIMS,
            "fig3": rings.CLAIMS, "fig4": charges.CLAIMS, "fig5": probe.CLAIMS, "fig6": esp.CLAIMS,
            "fig7": embeddings.CLAIMS}


def all_superseded_changes() -> list[dict]:
    """Every claim and model of the committed results whose verdict changed when the final models were replaced
    (:func:`superseded_change`): ``{"chapter", "claim", "model", "runs", "before", "after"}``."""
    out = []
    for chapter, claims in chapter_claims().items():
        results = read_results(results_path(chapter)) or {}
        if not results.get("superseded") or not results.get("stages"):
            continue
        for hit in results["stages"][-1]["claims"]:
            claim = next((c for c in claims if c.id == hit["id"]), None)
            change = claim and superseded_change(claim, hit["model"], results, hit["verdict"])
            if change:
                out.append({"chapter": chapter, "claim": claim.statement, "model": hit["model"],
                            "runs": change["runs"], "before": change["verdict"], "after": hit["verdict"]})
    return out


def all_figure_inputs() -> tuple[list[dict], dict]:
    """:func:`figure_inputs` over every chapter's committed results (one figure for the book)."""
    series, paper = [], {}
    for chapter, claims in chapter_claims().items():
        s, p = figure_inputs(claims, read_results(results_path(chapter)) or {})
        series += s
        paper.update(p)
    return series, paper
