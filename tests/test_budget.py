"""The budget rule on constructed stage values: a test that moves toward a flip makes its claim sensitive
(with the test MAE where its trend crosses the threshold), one that stays or moves away keeps it stable;
the scorecard rows gain ``budget`` and ``stages`` from a results file."""
import pytest

from atomint_helpers.report import budget, budget_rule
from atomint_helpers.report.registry import Claim, Test

CLAIM = Claim("x.claim", "§0", "A quote.", "A statement",
              tests=(Test("ratio", "a ratio", 1.0, "below"), Test("gap", "a gap", 0.0, "above")))
MAES = [0.6, 0.5, 0.4]


def _stages(ratio, gap, ratio_last_folds=(1.1, 1.1, 1.1), gap_last_folds=(0.2, 0.2, 0.2)):
    out = [{"ratio": {"value": r}, "gap": {"value": g}} for r, g in zip(ratio, gap)]
    out[-1]["ratio"]["fold_values"] = list(ratio_last_folds)
    out[-1]["gap"]["fold_values"] = list(gap_last_folds)
    return out


def test_monotone_and_crossing():
    assert budget_rule.monotone([1, 2, 2]) and budget_rule.monotone([3, 1, 0]) and not budget_rule.monotone([1, 3, 2])
    assert budget_rule.crossing([0.6, 0.4], [-0.2, 0.0]) == pytest.approx(0.4)
    assert budget_rule.crossing([0.5, 0.5], [-0.2, 0.0]) is None


def test_a_differing_test_rising_toward_holding_is_sensitive_with_its_crossing():
    # ratio (holds below 1): 1.3 → 1.2 → 1.1, normalised −0.3 → −0.1; linear in MAE, crossing 0 at 0.3
    b = budget.budget(CLAIM, _stages([1.3, 1.2, 1.1], [0.2, 0.2, 0.2]), MAES, 0.35)
    assert b["verdict"] == "sensitive"
    t = b["tests"]["ratio"]
    assert t["moves"] and t["direction"] == "toward holding" and t["toward_flip"]
    assert t["crossing_mae"] == pytest.approx(0.3)
    assert "0.30 kcal/mol" in b["why"] and "0.35" in b["why"]
    assert not b["tests"]["gap"]["moves"]


def test_a_holding_test_falling_toward_differing_is_sensitive():
    b = budget.budget(CLAIM, _stages([1.1, 1.1, 1.1], [0.6, 0.4, 0.2]), MAES, 0.35)
    assert b["verdict"] == "sensitive" and b["tests"]["gap"]["direction"] == "away from holding"


def test_moving_away_from_a_flip_or_staying_is_stable():
    away = budget.budget(CLAIM, _stages([1.1, 1.2, 1.3], [0.2, 0.2, 0.2]), MAES, 0.35)
    assert away["verdict"] == "stable"
    assert away["tests"]["ratio"]["moves"] and not away["tests"]["ratio"]["toward_flip"]
    assert away["tests"]["ratio"]["crossing_mae"] is None
    # the same change, but within the last stage's fold spread: it stays
    wide = budget.budget(CLAIM, _stages([1.3, 1.2, 1.1], [0.2, 0.2, 0.2], ratio_last_folds=(0.7, 1.1, 1.5)),
                         MAES, 0.35)
    assert wide["verdict"] == "stable" and not wide["tests"]["ratio"]["moves"]
    # a large change that is not monotone stays too
    zigzag = budget.budget(CLAIM, _stages([1.3, 1.0, 1.1], [0.2, 0.2, 0.2]), MAES, 0.35)
    assert zigzag["verdict"] == "stable" and "do not move in one direction" in zigzag["why"]


def test_a_test_that_crossed_its_threshold_between_the_stages_says_so():
    """ratio (holds below 1) 0.9 → 1.0 → 1.2: it held at the first stage and differs at the last; its trend
    goes on away from the threshold, so it moves toward no flip, and the words name the crossing."""
    b = budget.budget(CLAIM, _stages([0.9, 1.0, 1.2], [0.2, 0.2, 0.2]), MAES, 0.35, verdicts=["x"] * 3)
    assert b["verdict"] == "stable" and not b["tests"]["ratio"]["toward_flip"]
    assert "ratio moves away from holding and crossed its threshold between the stages (it held at the first)" in b["why"]
    assert "training strengthens" not in b["why"]
    # the same crossing within the last stage's fold spread: it does not move, but the words say it crossed
    wide = budget.budget(CLAIM, _stages([0.9, 1.0, 1.2], [0.2, 0.2, 0.2], ratio_last_folds=(0.7, 1.2, 1.5)),
                         MAES, 0.35, verdicts=["x"] * 3)
    assert not wide["tests"]["ratio"]["moves"]
    assert "in units of the threshold); its pooled value crossed the threshold between the stages" in wide["why"]


def test_a_verdict_that_changes_between_the_stages_is_sensitive_whatever_the_trends():
    """The same values as a stable claim (ratio moving away from a flip), but the stages' own verdicts differ:
    the verdict already depends on the training budget; the path is named."""
    values = _stages([1.1, 1.2, 1.3], [0.2, 0.2, 0.2])
    b = budget.budget(CLAIM, values, MAES, 0.35, verdicts=["holds", "holds", "inconclusive"])
    assert b["verdict"] == "sensitive" and "changes between the stages (holds → holds → inconclusive)" in b["why"]
    assert budget.budget(CLAIM, values, MAES, 0.35, verdicts=["differs"] * 3)["verdict"] == "stable"


def test_a_trend_that_reaches_the_threshold_only_at_zero_error_is_no_flip():
    """ratio 1.9 → 1.8 → 1.7 over test MAEs 0.6 → 0.5 → 0.4: toward holding, but the line reaches 1 at a test
    MAE of −0.3 (brute force below): no training gets there, so the claim is stable and says why."""
    b = budget.budget(CLAIM, _stages([1.9, 1.8, 1.7], [0.2, 0.2, 0.2]), MAES, 0.35)
    t = b["tests"]["ratio"]
    assert t["toward_threshold"] and not t["toward_flip"] and t["crossing_mae"] == pytest.approx(-0.3)
    assert b["verdict"] == "stable" and "zero or below" in b["why"]


def test_a_number_that_passed_the_papers_value_moves_away_from_it():
    """RMSE 0.088 → 0.085 → 0.0449 against the paper's 0.05 (tolerance 10 %): the unsigned distance shrinks
    (0.76 → 0.70 → 0.102, toward reproduced), but the value has gone through 0.05 and keeps falling with the
    test MAE: read on the signed deviation it moves away; its verdicts (higher, higher, lower) differ."""
    num = Claim("t.num", "§0", "A quote.", "RMSE", paper_value=0.05, tolerance=0.1, unit="D")
    vals = [0.088, 0.085, 0.0449]
    dist = [abs(v - 0.05) / 0.05 for v in vals]
    st = [{budget_rule.NUMBER_TEST: {"value": d, "fold_values": [d]}} for d in dist]
    unsigned = budget.budget(num, st, [0.05, 0.045, 0.03], 0.025, "D")
    assert unsigned["tests"][budget_rule.NUMBER_TEST]["direction"] == "toward holding"
    signed = budget.budget(num, st, [0.05, 0.045, 0.03], 0.025, "D", numbers=vals)
    tr = signed["tests"][budget_rule.NUMBER_TEST]
    assert tr["direction"] == "away from holding" and not tr["toward_flip"] and signed["verdict"] == "stable"
    assert budget_rule.signed_number_values(num, vals)[-1] == pytest.approx((0.1 - 0.102) / 0.1)
    path = budget.budget(num, st, [0.05, 0.045, 0.03], 0.025, "D", numbers=vals, verdicts=["higher", "higher", "lower"])
    assert path["verdict"] == "sensitive"


def test_missing_values_or_stages_are_untested():
    assert budget.budget(CLAIM, [], MAES, 0.35)["verdict"] == "untested"
    assert budget.budget(CLAIM, _stages([1.3, None, 1.1], [0.2, 0.2, 0.2]), MAES, 0.35)["verdict"] == "untested"
    never = budget.budget(CLAIM, _stages([None, None, None], [0.2, 0.2, 0.2]), MAES, 0.35)
    assert never["verdict"] == "untested" and "ratio has no value at any stage, as in the row itself" in never["why"]


def _results(ratios):
    stages = []
    for i, (r, mae) in enumerate(zip(ratios, MAES)):
        stages.append({"stage": i, "test_mae": {"bp": 1.0, "schnet": mae}, "claims": [
            {"id": CLAIM.id, "model": "", "verdict": "holds" if r < 1 else "differs",
             "tests": {"ratio": {"value": r, "verdict": "x", "fold_values": [r, r, r]},
                       "gap": {"value": 0.2, "verdict": "holds", "fold_values": [0.2, 0.2, 0.2]}}}]})
    return {"paper_mae": {"schnet": 0.35, "bp": 0.77}, "stages": stages}


def test_a_verdict_that_changed_when_the_final_models_were_replaced_is_sensitive():
    """Three stages moving away from a flip with one verdict (stable); the final models that the last stage
    replaced (an adopted extension) gave another verdict: sensitive, the replaced runs and the change named.
    The same verdict on the replaced models leaves it stable."""
    res = _results([1.1, 1.2, 1.3])
    for s in res["stages"]:
        s["checkpoints"] = {"schnet": {str(k): {"epochs": 100 * (s["stage"] + 1), "weights_sha256": f"s{s['stage']}{k}"}
                                       for k in range(3)},
                            "bp": {str(k): {"epochs": 150, "weights_sha256": f"b{k}"} for k in range(3)}}
    assert budget.claim_budget(CLAIM, "", res)[0]["verdict"] == "stable"
    old = {"test_mae": {"bp": 1.0, "schnet": 0.45}, "claims": [dict(res["stages"][-1]["claims"][0], verdict="holds")],
           "checkpoints": {"schnet": {str(k): {"epochs": 250, "weights_sha256": f"old{k}"} for k in range(3)},
                           "bp": res["stages"][-1]["checkpoints"]["bp"]}}
    b, _ = budget.claim_budget(CLAIM, "", {**res, "target": "energy", "superseded": [old]})
    assert b["verdict"] == "sensitive" and b["superseded"]["verdict"] == "holds"
    assert b["why"].startswith("its verdict changed when the final models were replaced (SchNet energy 250 → 300 "
                               "epochs: holds → differs)")
    same = dict(old, claims=[res["stages"][-1]["claims"][0]])
    assert budget.claim_budget(CLAIM, "", {**res, "superseded": [same]})[0]["verdict"] == "stable"


def test_rows_gain_budget_and_stages():
    rows = [{"id": CLAIM.id, "kind": "paper", "model": ""}, {"id": "other", "kind": "paper", "model": ""}]
    out = budget.annotate(rows, (CLAIM,), quick=False, results=_results([1.3, 1.2, 1.1]))
    assert out[0]["budget"]["verdict"] == "sensitive"
    assert [s["stage"] for s in out[0]["stages"]] == [0, 1, 2]
    assert out[0]["stages"][0] == {"stage": 0, "test_mae": 0.6, "value": 1.3, "values": {"ratio": 1.3, "gap": 0.2},
                                   "verdict": "differs"}
    assert "budget" not in out[1]  # not a claim of this chapter
    stable = budget.annotate([{"id": CLAIM.id, "kind": "paper", "model": ""}], (CLAIM,), quick=False,
                             results=_results([0.9, 0.9, 0.9]))
    assert stable[0]["budget"]["verdict"] == "stable"
    quick = budget.annotate([{"id": CLAIM.id, "kind": "paper", "model": ""}], (CLAIM,), quick=True)
    assert quick[0]["budget"]["verdict"] == "untested" and quick[0]["stages"] == []


def test_trend_series_and_figure_one_line_per_claim_and_test():
    import matplotlib

    matplotlib.use("Agg")
    from atomint_helpers.plots import budget_trends

    series = budget.trend_series(_results([1.3, 1.2, 1.1]), (CLAIM,))
    assert [s["label"] for s in series] == ["claim: ratio", "claim: gap"]
    assert series[0]["axis"] == "SchNet" and series[0]["mae"] == MAES
    assert series[0]["normalised"] == pytest.approx([-0.3, -0.2, -0.1]) and series[0]["budget"] == "sensitive"
    fig = budget_trends(series, {"SchNet": 0.35})
    ax = fig.axes[0]
    # the ratio moves toward a flip: coloured and named; the gap stays at 0.2: grey, unnamed, counted
    assert series[1]["budget"] == "stable"
    named = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert "claim: ratio" in named and "claim: gap" not in named and "1 other tests (none heading for a flip)" in named
    grey = next(line for line in ax.get_lines() if line.get_label() == "_claim: gap")
    assert grey.get_color() != next(line for line in ax.get_lines() if line.get_label() == "claim: ratio").get_color()
    assert ax.get_xlim()[0] > ax.get_xlim()[1]  # training runs left to right: MAE falls
    assert budget.trend_series(None, (CLAIM,)) == []
    with pytest.raises(ValueError):
        budget_trends([])


def test_a_non_holding_cause_gains_the_budget_paragraph():
    row = {"id": CLAIM.id, "kind": "paper", "model": "", "verdict": "differs", "cause": "a finding: x."}
    budget.annotate([row], (CLAIM,), quick=False, results=_results([1.3, 1.2, 1.1]))
    assert row["cause"].startswith("a finding: x. Training budget: sensitive")
    assert "differs at 0.60, differs at 0.50, differs at 0.40" in row["cause"]
    bare = {**row, "cause": "several readings: the tests disagree (folds: holds)"}  # no full stop of its own
    budget.annotate([bare], (CLAIM,), quick=False, results=_results([1.3, 1.2, 1.1]))
    assert "(folds: holds). Training budget: sensitive" in bare["cause"]
    held = {"id": CLAIM.id, "kind": "paper", "model": "", "verdict": "holds", "cause": None}
    budget.annotate([held], (CLAIM,), quick=False, results=_results([0.9, 0.9, 0.9]))
    assert held["cause"] is None and held["budget"]["verdict"] == "stable"


def test_the_stages_apply_only_to_a_study_of_the_last_stage_checkpoints(tmp_path):
    import json
    from pathlib import Path
    from types import SimpleNamespace

    folder = Path(__file__).resolve().parents[1] / "models" / "bp-energy-quick-fold0"
    sha = json.loads((folder / "provenance.json").read_text())["weights_sha256"]
    study = SimpleNamespace(fold_set=SimpleNamespace(checkpoints=lambda: [folder]))
    for last, want in ((sha, "sensitive"), ("0" * 64, "untested")):
        res = _results([1.3, 1.2, 1.1])
        res["stages"][-1]["checkpoints"] = {"bp": {"0": {"weights_sha256": last}}}
        budget.write_results(tmp_path / "r.json", res)
        row = {"id": CLAIM.id, "kind": "paper", "model": ""}
        budget.annotate_study([row], (CLAIM,), study, False, tmp_path / "r.json")
        assert row["budget"]["verdict"] == want
    row = {"id": CLAIM.id, "kind": "paper", "model": ""}
    budget.annotate_study([row], (CLAIM,), study, False, tmp_path / "none.json")
    assert row["budget"]["verdict"] == "untested" and row["stages"] == []


def test_budget_cell():
    row = budget.annotate([{"id": CLAIM.id, "kind": "paper", "model": ""}], (CLAIM,), quick=False,
                          results=_results([1.3, 1.2, 0.9]))[0]
    assert budget.budget_cell(row) == "sensitive: differs (0.60) → differs (0.50) → holds (0.40)"
    assert budget.budget_cell({}) == "—"


def test_the_committed_stage_results_follow_the_declared_rule_and_end_in_today_s_models():
    import json
    from pathlib import Path

    from atomint_helpers.interpret import stages
    from atomint_helpers.report import energies

    root = Path(__file__).resolve().parents[1]
    res = budget.read_results()
    if not (root / ".git").exists():
        pytest.skip("the stage rule is checked against the git history, which this copy lacks")
    chosen = stages.choose(root)
    assert [s["stage"] for s in res["stages"]] == [0, 1, 2]
    for i, s in enumerate(res["stages"]):
        for m, by in chosen.items():
            # a stage is its weights (a later commit may only have migrated the folder's records)
            assert ({k: s["checkpoints"][m][str(k)]["weights_sha256"] for k in by}
                    == {k: st[i].weights_sha256 for k, st in by.items()})
            assert s["test_mae"][m] == pytest.approx(sum(c["mae"] for c in s["checkpoints"][m].values()) / 3)
    for m, by in res["stages"][-1]["checkpoints"].items():
        for k, c in by.items():
            today = json.loads((root / "models" / f"{m}-energy-cpu-fold{k}" / "provenance.json").read_text())
            assert c["weights_sha256"] == today["weights_sha256"]
    assert res["final_check"]["matches_today"] and res["final_check"]["claims_compared"] >= 12
    declared = {(c.id, m) for c in energies.CLAIMS + (energies.CARBON_PEAKS_SCHNET,) for m in c.models
                if c.untestable is None}
    for s in res["stages"]:
        assert declared <= {(c["id"], c["model"]) for c in s["claims"]}


def test_folds_with_fewer_committed_stages_are_named():
    res = _results([1.3, 1.2, 1.1])
    for i, s in enumerate(res["stages"]):
        s["checkpoints"] = {"bp": {"0": {"commit": f"a{i}"}, "1": {"commit": "b"}},
                            "schnet": {"0": {"commit": f"c{i}"}}}
    assert budget.thin_stages(res, ("bp", "schnet")) == ("BP fold 1 was saved at fewer epochs than the stages ask "
                                                         "for, so one model stands at all 3 stages")
    assert budget.thin_stages(res, ("schnet",)) == ""
    two = _results([1.3, 1.2, 1.1])  # stages 2 and 3 of a fold share the model saved at epoch 150
    for s, (commit, epochs) in zip(two["stages"], [("x0", 38), ("x1", 150), ("x1", 150)]):
        s["checkpoints"] = {"bp": {"2": {"commit": commit, "epochs": epochs}}}
    assert budget.thin_stages(two, ("bp",)) == ("BP fold 2 was saved at fewer epochs than the stages ask for, so "
                                                "one model (epoch 150) stands at stages 2 and 3")
    # the same weights under two commits (a later commit only rewrote the folder's records) are one model
    for s, (commit, sha) in zip(two["stages"], [("x0", "w38"), ("x1", "w150"), ("x2", "w150")]):
        s["checkpoints"]["bp"]["2"].update(commit=commit, weights_sha256=sha)
    assert budget.thin_stages(two, ("bp",)).endswith("one model (epoch 150) stands at stages 2 and 3")
    for i, s in enumerate(res["stages"]):
        for by in s["checkpoints"].values():
            for c in by.values():
                c["epochs"] = 10 * (i + 1)
    b, listing = budget.claim_budget(CLAIM, "", res)
    assert b["why"].endswith("BP fold 1 was saved at fewer epochs than the stages ask for, so one model (epoch 10) "
                             "stands at all 3 stages")
    assert listing[1]["epochs"] == {"bp": [20, 20], "schnet": [20]}


def test_figure_inputs_name_the_panels():
    series, paper = budget.figure_inputs((CLAIM,), _results([1.3, 1.2, 1.1]))
    assert paper == {"SchNet": 0.35, "BP": 0.77} and {s["axis"] for s in series} == {"SchNet"}
    assert budget.figure_inputs((CLAIM,), {}) == ([], {})


def test_budget_tally_counts_every_paper_row_and_names_the_sensitive_ones():
    from atomint_helpers.report import budget_words

    rows = [{"kind": "paper", "claim": "a", "model": "BP", "budget": {"verdict": "stable", "why": "stays"}},
            {"kind": "paper", "claim": "b", "model": "", "budget": {"verdict": "sensitive", "why": "crosses at 0.39"}},
            {"kind": "paper", "claim": "c", "model": "SchNet", "budget": {"verdict": "untested", "why": "none"}},
            {"kind": "setup", "claim": "d", "model": "", "budget": {"verdict": "sensitive", "why": "x"}}]
    text = budget_words.tally(rows)
    assert "Of the paper's 3 rows, 1 is stable" in text and "1 budget-sensitive (a verdict that changes" in text
    assert "and 1 not evaluated" in text
    assert text.endswith("The budget-sensitive ones:\n\n- b: crosses at 0.39.") and "d:" not in text
    none = budget_words.tally([{**r, "budget": {"verdict": "stable", "why": ""}} for r in rows[:1]])
    assert "budget-sensitive ones" not in none and budget_words.tally([]) == ""
    series = [{"axis": "SchNet", "budget": "sensitive"}, {"axis": "SchNet", "budget": "stable"},
              {"axis": "BP", "budget": "untested"}]
    assert budget_words.series_sentence(series) == ("The figure draws SchNet: 2 tests, 1 moving toward a flip; "
                                                    "BP: 1 test, 0 moving toward a flip.")


def test_the_verdicts_changed_by_replaced_final_models_are_told():
    from atomint_helpers.report import budget_words

    changes = [{"chapter": "fig3", "claim": "A statement", "model": "SchNet", "runs": "SchNet energy 300 → 400 epochs",
                "before": "inconclusive", "after": "differs"},
               {"chapter": "fig2", "claim": "Another", "model": "", "runs": "SchNet energy 300 → 400 epochs",
                "before": "differs", "after": "inconclusive"}]
    assert budget_words.superseded_sentence(changes) == (
        "When the final models were replaced (SchNet energy 300 → 400 epochs), 2 verdicts changed: “A statement” "
        "(SchNet), inconclusive → differs; “Another”, differs → inconclusive.")
    assert budget_words.superseded_sentence([]) == ""
    for c in budget.all_superseded_changes():  # the committed results: every change is one
        assert c["before"] != c["after"] and "→" in c["runs"]
