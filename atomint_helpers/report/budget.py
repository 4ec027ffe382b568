"""Would a better-trained model change a claim's verdict? The claims of the registry decided on earlier
training stages (:mod:`atomint_helpers.interpret.stages`), and the rule that reads a budget verdict off them.

The rule (declared before any stage's value was computed):

* Per claim, model and test, the test's pooled value at every stage is normalised to its threshold
  (:meth:`~.registry.Test.normalised`: > 0 holds, < 0 differs) and set against the stage's **test MAE**:
  the mean over folds of the test-split MAE (kcal/mol) of the checkpoints of the claim's model; a claim
  comparing BP and SchNet is set against SchNet's (the architecture whose stages are three distinct epoch
  counts on every fold), BP's beside it in the results.
* The test **moves** when the change of its normalised value from the first to the last stage exceeds the
  spread (max − min) of the last stage's normalised per-fold values (0 for a test measured pooled only),
  **and** the stages are monotone (every step the same sign; a step of exactly 0 allowed). It moves
  **toward holding** when the value rises, **away** when it falls.
* A test moving toward the other side of 0 from where its last stage stands (a differing test rising, a
  holding one falling) moves **toward a flip**. Its crossing is the test MAE at which the least-squares line
  of normalised value against test MAE through the stages reaches 0; it is reported beside the paper
  model's MAE (:data:`~atomint_helpers.interpret.stages.PAPER_MAE`).
* A claim is ``sensitive`` when any of its tests moves toward a flip; ``stable`` when none does (no test
  moves, or those that move go away from a flip: training strengthens the verdict); ``untested`` where no
  stages were evaluated or a test has no value at some stage.

How the chapters' claims enter the rule:

* A number of the paper (:attr:`~.registry.Claim.is_number`) is read through the one test its own rule
  states (:func:`number_test`): the relative distance ``|value − paper| / |paper|``, below the claim's
  tolerance when reproduced.
* A claim about a target's models is set against those models' test MAE, in the target's unit (kcal/mol for
  the energy, D for the dipole), and its crossing beside the paper's MAE for that target (Table 1). A
  chapter whose claims concern two targets (Table 1) records each claim's target; a chapter comparing the
  dipole models with the energy models (Fig. 4) is set against the dipole models' MAE.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import AtomintError
from ..io import atomic_write_json
from .registry import HOLDING, Claim, Measurement, Test, decide, decide_number

#: the committed results of the claims on the stages, one file per chapter (``bench/stages/run.py``)
RESULTS_DIR = Path(__file__).resolve().parents[2] / "bench" / "stages"
#: the Fig. 2 claims' results
FIG2_RESULTS = RESULTS_DIR / "fig2.json"
BUDGETS = ("sensitive", "stable", "untested")
#: the unit of a target's test MAE
UNITS = {"energy": "kcal/mol", "dipole": "D"}
_PANEL = {"bp": "BP", "schnet": "SchNet"}
#: the name of the test through which a number of the paper is read (:func:`number_test`)
NUMBER_TEST = "distance from the paper"


def results_path(chapter: str) -> Path:
    """The committed stage results of ``chapter`` (``fig2``, ``table1``, ``fig3``, ``fig4``)."""
    return RESULTS_DIR / f"{chapter}.json"


def number_test(claim: Claim) -> Test:
    """The test a number of the paper is read through: its relative distance from the paper's value, below
    the claim's tolerance (the number's own rule, ``reproduced`` within it)."""
    unit = f" {claim.unit}" if claim.unit else ""
    return Test(NUMBER_TEST, f"|atomint − paper| / |paper| (the paper's {claim.paper_value:g}{unit})",
                float(claim.tolerance), "below")


def claim_tests(claim: Claim) -> tuple[Test, ...]:
    """The tests the budget rule reads for ``claim``: its own, or :func:`number_test` for a number."""
    return (number_test(claim),) if claim.is_number and not claim.tests else claim.tests


def number_entry(claim: Claim, label: str, m: Measurement) -> dict:
    """A number's stage entry (as :func:`stage_verdicts` writes one): its verdict by the number's rule, and
    :func:`number_test`'s value pooled and per fold; ``atomint`` the pooled value itself."""
    v = decide_number(claim, label, m.pooled, m.folds)
    t = number_test(claim)

    def dist(x):
        return None if not _finite(x) else abs(float(x) - claim.paper_value) / abs(claim.paper_value)

    value = dist(m.pooled)
    return {"id": claim.id, "model": label, "verdict": v.verdict, "atomint": _plain(m.pooled),
            "tests": {t.name: {"value": value, "verdict": {True: "holds", False: "differs", None: "not comparable"}[
                t.holds(value)], "fold_values": [dist(x) for x in m.folds]}}}


def _finite(v) -> bool:
    return v is not None and math.isfinite(float(v))


def monotone(ys: Sequence[float]) -> bool:
    """Every step of ``ys`` has the same sign (steps of exactly 0 allowed)."""
    steps = np.diff(np.asarray(ys, dtype=float))
    return bool(np.all(steps >= 0) or np.all(steps <= 0))


def crossing(maes: Sequence[float], ys: Sequence[float]) -> float | None:
    """The test MAE (kcal/mol) at which the least-squares line of ``ys`` against ``maes`` reaches 0;
    ``None`` for a flat line or MAEs that do not differ."""
    x, y = np.asarray(maes, dtype=float), np.asarray(ys, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    slope, icpt = np.polyfit(x, y, 1)
    return None if slope == 0 else float(-icpt / slope)


def trend(maes: Sequence[float], ys: Sequence[float], last_folds: Sequence[float]) -> dict:
    """The rule for one test (module docstring): ``ys`` the normalised pooled values by stage, ``maes`` the
    stages' test MAE (kcal/mol), ``last_folds`` the last stage's normalised per-fold values.
    Returns ``{"moves", "direction", "toward_flip", "change", "spread", "crossing_mae"}``."""
    if len(ys) < 2 or not all(_finite(v) for v in ys) or not all(_finite(v) for v in maes):
        return {"moves": None, "direction": None, "toward_flip": None, "change": None, "spread": None,
                "crossing_mae": None}
    folds = [float(v) for v in last_folds if _finite(v)]
    spread = float(max(folds) - min(folds)) if folds else 0.0
    change = float(ys[-1] - ys[0])
    moves = abs(change) > spread and monotone(ys)
    direction = ("toward holding" if change > 0 else "away from holding") if moves else "stays"
    toward_flip = bool(moves and (ys[-1] < 0) == (change > 0))
    return {"moves": bool(moves), "direction": direction, "toward_flip": toward_flip, "change": change,
            "spread": spread, "crossing_mae": crossing(maes, ys) if toward_flip else None}


def budget(claim: Claim, stage_tests: Sequence[dict], maes: Sequence[float], paper_mae: float | None,
           unit: str = "kcal/mol") -> dict:
    """The budget verdict of a claim for one model: ``stage_tests`` per stage ``{test name: {"value",
    "fold_values"}}`` (raw, as decided), ``maes`` each stage's test MAE (in ``unit``). Returns ``{"verdict",
    "why", "tests": {name: trend}}``."""
    tests = claim_tests(claim)
    if not stage_tests or claim.untestable is not None or not tests:
        return {"verdict": "untested", "why": "no earlier stage was evaluated for this claim", "tests": {}}
    trends, words = {}, []
    digits = 2 if unit == "kcal/mol" else 3
    for t in tests:
        if any(t.name not in s for s in stage_tests):
            return {"verdict": "untested", "why": f"{t.name} has no value at some stage", "tests": {}}
        ys = [t.normalised(s[t.name]["value"]) for s in stage_tests]
        last = [t.normalised(v) for v in stage_tests[-1][t.name].get("fold_values", ())]
        tr = trend(maes, ys, last)
        if tr["moves"] is None:
            return {"verdict": "untested", "why": f"{t.name} has no finite value at some stage", "tests": {}}
        trends[t.name] = tr
        if tr["toward_flip"]:
            cross = tr["crossing_mae"]
            at = (f"its trend reaches the threshold at a test MAE of {cross:.{digits}f} {unit}" if cross is not None
                  and cross > 0 else "its trend line does not reach the threshold at a positive test MAE")
            paper = f" (the paper's model: {paper_mae:.{digits}f})" if paper_mae is not None else ""
            words.append(f"{t.name} moves {tr['direction']} as the test MAE falls, toward a flip: {at}{paper}")
        elif tr["moves"]:
            words.append(f"{t.name} moves {tr['direction']}, away from a flip (training strengthens the verdict)")
        else:
            words.append(f"{t.name} stays (change {tr['change']:+.2f} of the threshold, fold spread "
                         f"{tr['spread']:.2f}{'' if monotone(ys) else ', not monotone'})")
    verdict = "sensitive" if any(tr["toward_flip"] for tr in trends.values()) else "stable"
    return {"verdict": verdict, "why": "; ".join(words), "tests": trends}


# ------------------------------------------------------------------------------------------ one stage
def stage_verdicts(claims: Sequence[Claim], evidence: dict) -> list[dict]:
    """Every claim of ``claims`` that ``evidence`` (``{(claim id, model label): {test: Measurement}}``)
    measures, decided on one stage as on today's build (no "still training" note: a stage is a
    checkpoint as it was). One dict per claim and model: ``id``, ``model``, ``verdict``, ``tests``."""
    out = []
    for c in claims:
        for label in c.models:
            if c.untestable is not None or (c.id, label) not in evidence:
                continue
            if c.is_number:  # evidence: {"value": Measurement} of the number itself
                out.append(number_entry(c, label, evidence[(c.id, label)]["value"]))
                continue
            v = decide(c, label, evidence[(c.id, label)])
            out.append({"id": c.id, "model": label, "verdict": v.verdict,
                        "tests": {r.test.name: {"value": _plain(r.value), "verdict": r.verdict,
                                                "fold_values": [_plain(x) for x in r.fold_values]}
                                  for r in v.results}})
    return out


def _plain(v):
    return float(v) if _finite(v) else None


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


def _paper_mae(results: dict, target: str | None, m: str) -> float | None:
    own = target is None or target == results.get("target", "energy")
    return (results.get("paper_mae", {}) if own else results.get("target_paper_mae", {}).get(target, {})).get(m)


def claim_budget(claim: Claim, label: str, results: dict | None) -> tuple[dict, list[dict]]:
    """``(budget, stages)`` of one scorecard row from the results file (see the module docstring)."""
    if not results or not results.get("stages"):
        return {"verdict": "untested", "why": "no earlier training stage was evaluated"}, []
    m = _model_key(label)
    per_stage, maes, listing, target, unit = [], [], [], None, ""
    tests = claim_tests(claim)
    for s in results["stages"]:
        hit = next((c for c in s["claims"] if c["id"] == claim.id and c["model"] == label), None)
        if hit is None:
            return {"verdict": "untested", "why": "this claim was not measured on every stage"}, []
        target = hit.get("target")
        by_model, ckpts, unit = _axis(results, s, target)
        mae = by_model.get(m)
        if not _finite(mae):
            return {"verdict": "untested", "why": f"no test MAE of {m} at stage {s['stage']}"}, []
        per_stage.append(hit["tests"])
        maes.append(mae)
        primary = tests[0].name if tests else None
        entry = {"stage": s["stage"], "test_mae": mae, "value": hit["tests"].get(primary, {}).get("value"),
                 "values": {k: v["value"] for k, v in hit["tests"].items()}, "verdict": hit["verdict"]}
        if unit != "kcal/mol":
            entry["unit"] = unit
        if ckpts:  # epochs per model, fold by fold
            entry["epochs"] = {k: [c.get("epochs") for _, c in sorted(by.items())] for k, by in ckpts.items()}
        listing.append(entry)
    b = budget(claim, per_stage, maes, _paper_mae(results, target, m), unit)
    thin = thin_stages(results, ("bp", "schnet") if label == "" else (m,), target)
    return {"verdict": b["verdict"], "why": b["why"] + (f"; {thin}" if thin else "")}, listing


def thin_stages(results: dict, models: Sequence[str], target: str | None = None) -> str:
    """Which folds of ``models`` had fewer committed stages than the stages evaluated (the rule then gives
    one checkpoint to several stages), in words; empty when none. ``target``: as :func:`claim_budget`."""
    bits = []
    ckpts = [_axis(results, s, target)[1] for s in results["stages"]]
    for m in models:
        folds = sorted({k for c in ckpts for k in c.get(m, {})})
        for k in folds:
            commits = {c[m][k].get("commit") for c in ckpts if k in c.get(m, {})}
            if len(commits) < len(results["stages"]):
                bits.append(f"{_PANEL.get(m, m)} fold {k} has {len(commits)} distinct committed stage"
                            f"{'s' if len(commits) > 1 else ''} of {len(results['stages'])}")
    return ", ".join(bits)


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
            if r.get("cause") and r.get("verdict") not in HOLDING:
                r["cause"] = f"{r['cause'].rstrip('. ')}. {budget_paragraph(r)}"
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

        last = results["stages"][-1]
        sets = {results.get("target", "energy"): last["checkpoints"],
                **{t: o.get("checkpoints", {}) for t, o in last.get("targets", {}).items()}}
        known = {(MODEL_NAMES[m], t, int(k)): c["mae"] for t, ck in sets.items() for m, by in ck.items()
                 for k, c in by.items()}
        mine = {(r["model"], r["target"], int(r["fold"])): r["MAE"] for _, r in per_fold.iterrows()}
        same = set(mine) == set(known) and all(
            _finite(mine[k]) and abs(mine[k] - known[k]) <= rel * abs(known[k]) for k in known)
        if not same:
            return _other_checkpoints(rows, "table1")
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
    word = {"sensitive": "sensitive, a better-trained model may change this verdict",
            "stable": "stable, not an artefact of how long the models trained"}[b["verdict"]]
    return f"Training budget: {word} (verdicts by stage test MAE in {unit}: {path}; {b['why']})."


def trend_series(results: dict | None, claims: Sequence[Claim]) -> list[dict]:
    """The budget figure's lines (:func:`atomint_helpers.plots.budget_trends`): per claim, model and test the
    normalised value at each stage against the stage's test MAE, with the claim's budget verdict."""
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
                if not all(_finite(y) for y in ys):
                    continue
                who = f" ({label})" if label else ""
                out.append({"label": f"{c.id.split('.', 1)[-1]}{who}: {t.name}", "unit": unit,
                            "axis": _PANEL[m] + ("" if unit == "kcal/mol" else ", dipole"),
                            "mae": [s["test_mae"] for s in listing], "normalised": ys, "budget": b["verdict"]})
    return out


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
        paper.update({_PANEL[k] + ("" if target == "energy" else ", dipole"): v for k, v in by.items() if k in _PANEL})
    return trend_series(results, claims), paper


def chapter_claims() -> dict[str, tuple[Claim, ...]]:
    """Every chapter with committed stage results (its file :func:`results_path`) and its claims."""
    from . import charges, energies, rings, table1

    return {"fig2": energies.CLAIMS + (energies.CARBON_PEAKS_SCHNET,), "table1": table1.CLAIMS,
            "fig3": rings.CLAIMS, "fig4": charges.CLAIMS}


def all_figure_inputs() -> tuple[list[dict], dict]:
    """:func:`figure_inputs` over every chapter's committed results (one figure for the book)."""
    series, paper = [], {}
    for chapter, claims in chapter_claims().items():
        s, p = figure_inputs(claims, read_results(results_path(chapter)) or {})
        series += s
        paper.update(p)
    return series, paper
