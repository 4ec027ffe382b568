"""The rule that reads a budget verdict off a claim's values at earlier training stages
(:mod:`atomint_helpers.interpret.stages`), and a claim decided on one stage. :mod:`.budget` applies it to the
chapters' scorecard rows.

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
  dipole models with the energy models (Fig. 4) is set against the dipole models' MAE. Fig. 5 (probe maps
  and sites of the energy models) is set against the energy models' MAE, Fig. 6 (ESP of the dipole models'
  charges) against the dipole models'.
* Fig. 7 reads one run, the crystal SchNet of fold 0: its stages are that run's commits nearest to the
  declared epochs (:data:`~atomint_helpers.interpret.stages.CRYSTAL_EPOCHS`), its test MAE the formation
  energy MAE (eV/atom) on the run's test crystals, the crossing read beside the published model's
  (0.035 eV/atom). With one fold, a test's fold spread is that of the chapter's own resamples of the
  elements (its "folds"), and the budget says "one fold".
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .registry import Claim, Measurement, Test, decide, decide_number

#: the name of the test through which a number of the paper is read (:func:`number_test`)
NUMBER_TEST = "distance from the paper"


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
        return None if not finite(x) else abs(float(x) - claim.paper_value) / abs(claim.paper_value)

    value = dist(m.pooled)
    return {"id": claim.id, "model": label, "verdict": v.verdict, "atomint": plain(m.pooled),
            "tests": {t.name: {"value": value, "verdict": {True: "holds", False: "differs", None: "not comparable"}[
                t.holds(value)], "fold_values": [dist(x) for x in m.folds]}}}


def finite(v) -> bool:
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
    if len(ys) < 2 or not all(finite(v) for v in ys) or not all(finite(v) for v in maes):
        return {"moves": None, "direction": None, "toward_flip": None, "change": None, "spread": None,
                "crossing_mae": None}
    folds = [float(v) for v in last_folds if finite(v)]
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
                        "tests": {r.test.name: {"value": plain(r.value), "verdict": r.verdict,
                                                "fold_values": [plain(x) for x in r.fold_values]}
                                  for r in v.results}})
    return out


def plain(v):
    return float(v) if finite(v) else None
