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
* A trend line that reaches 0 only at a test MAE of 0 or below does not move toward a flip: no amount of
  training brings it there.
* A number of the paper is read on its signed deviation (:func:`signed_number_values`): a value that passes
  through the paper's and goes on to the other side moves away from it.
* A claim is ``sensitive`` when its verdict differs between the stages (it already depends on how long the
  models trained) or any of its tests moves toward a flip; ``stable`` when every stage gives the same verdict
  and no test moves toward a flip (no test moves, or those that move go away from a flip: training
  strengthens the verdict); ``untested`` where no stages were evaluated or a test has no value at some stage.
  A test that moved across its threshold between the stages and goes on away from it is named as such in
  the words (the claim's verdict decides the budget, as above).
  The three conditions above (a verdict that changes, a crossing at a positive test MAE, the signed
  deviation of a number) were added after the first ``cpu`` build, where a reading of it found rows called
  stable whose verdict changed between the stages, rows called sensitive whose trend could not cross, and a
  number called sensitive that had already passed the paper's value; no threshold was changed.
* A claim is ``sensitive`` too when its verdict on final models that were since replaced (an extension
  adopted after the stages were evaluated: the results' ``superseded`` stage) differs from today's
  (:func:`~atomint_helpers.report.budget.superseded_change`). This condition was added when the SchNet energy
  runs were extended from 300 to 400 epochs and the last stage became the 400-epoch save: three verdicts
  changed with the extension, which the stages alone no longer showed.

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
    toward = bool(moves and (ys[-1] < 0) == (change > 0))  # toward the other side of the threshold
    cross = crossing(maes, ys) if toward else None
    # a trend that reaches the threshold only at a test MAE of 0 or below never flips with training
    toward_flip = bool(toward and cross is not None and cross > 0)
    return {"moves": bool(moves), "direction": direction, "toward_flip": toward_flip, "change": change,
            "spread": spread, "crossing_mae": cross, "toward_threshold": toward}


def signed_number_values(claim: Claim, pooled: Sequence[float]) -> list[float]:
    """A number's values by stage, normalised to its tolerance on the side of the paper's value where the last
    stage lies: ``(tol − side · d) / tol`` with ``d = (v − paper) / |paper|`` and ``side`` the sign of the
    last ``d`` (> 0 reproduced). A value that passes through the paper's and goes on to the other side moves
    away from it, which the unsigned distance would hide."""
    tol = float(claim.tolerance)
    d = [(float(v) - claim.paper_value) / abs(claim.paper_value) for v in pooled]
    side = 1.0 if d[-1] >= 0 else -1.0
    return [(tol - side * x) / tol for x in d]


def budget(claim: Claim, stage_tests: Sequence[dict], maes: Sequence[float], paper_mae: float | None,
           unit: str = "kcal/mol", *, verdicts: Sequence[str] | None = None,
           numbers: Sequence[float] | None = None, reference: str = "the paper's model") -> dict:
    """The budget verdict of a claim for one model: ``stage_tests`` per stage ``{test name: {"value",
    "fold_values"}}`` (raw, as decided), ``maes`` each stage's test MAE (in ``unit``), ``verdicts`` the
    claim's verdict at each stage, ``numbers`` a number's own pooled value at each stage (its test then reads
    :func:`signed_number_values`), ``reference`` what ``paper_mae`` is. Returns ``{"verdict", "why", "tests":
    {name: trend}}``.

    ``sensitive`` when the verdict differs between the stages (it already depends on how long the models
    trained) or a test moves toward a flip; ``stable`` when every stage gives the same verdict and no test
    moves toward a flip."""
    tests = claim_tests(claim)
    if not stage_tests or claim.untestable is not None or not tests:
        return {"verdict": "untested", "why": "no earlier stage was evaluated for this claim", "tests": {}}
    trends, words = {}, []
    digits = 2 if unit == "kcal/mol" else 3
    for t in tests:
        if any(t.name not in s for s in stage_tests):
            return {"verdict": "untested", "why": f"{t.name} has no value at some stage", "tests": {}}
        signed = claim.is_number and numbers is not None and all(finite(v) for v in numbers)
        ys = (signed_number_values(claim, numbers) if signed else
              [t.normalised(s[t.name]["value"]) for s in stage_tests])
        last = [t.normalised(v) for v in stage_tests[-1][t.name].get("fold_values", ())]
        tr = trend(maes, ys, last)
        if tr["moves"] is None:
            where = "any stage, as in the row itself" if not any(finite(y) for y in ys) else "one of the stages"
            return {"verdict": "untested", "why": f"{t.name} has no value at {where}", "tests": {}}
        trends[t.name] = tr
        side = "toward" if ys[-1] < 0 else "away from"  # a differing test flips to holding, a holding one away
        crossed = (ys[0] < 0) != (ys[-1] < 0)  # its first stage stood on the other side of the threshold
        if tr["toward_flip"]:
            paper = f" ({reference}: {paper_mae:.{digits}f})" if paper_mae is not None else ""
            words.append(f"{t.name} moves {tr['direction']} as the test MAE falls, a flip {side} the paper: its trend "
                         f"reaches the threshold at a test MAE of {tr['crossing_mae']:.{digits}f} {unit}{paper}")
        elif tr["toward_threshold"]:
            words.append(f"{t.name} moves {tr['direction']} as the test MAE falls, but its trend line reaches the "
                         "threshold only at a test MAE of zero or below: no flip within reach of training")
        elif tr["moves"] and crossed:
            words.append(f"{t.name} moves {tr['direction']} and crossed its threshold between the stages (it "
                         f"{'differed' if ys[0] < 0 else 'held'} at the first); its trend goes on away from the "
                         "threshold")
        elif tr["moves"]:
            words.append(f"{t.name} moves {tr['direction']}, away from the threshold (training strengthens the "
                         "verdict)")
        else:
            why_not = ("its stages do not move in one direction" if not monotone(ys) else
                       "its change is smaller than the spread between the folds at the last stage")
            words.append(f"{t.name} does not move: {why_not} (change {tr['change']:+.2f}, fold spread "
                         f"{tr['spread']:.2f}, in units of the threshold)"
                         + ("; its pooled value crossed the threshold between the stages" if crossed else ""))
    changed = verdicts is not None and len(set(verdicts)) > 1
    if changed:
        words.insert(0, "its verdict changes between the stages (" + " → ".join(verdicts) + ")")
    verdict = "sensitive" if changed or any(tr["toward_flip"] for tr in trends.values()) else "stable"
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
