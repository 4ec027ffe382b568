"""Figs. 2–4: "What we find" and "Why", read off the chapters' scorecard rows.

The rows are the cpu build's (tests/fig234_rows.json, copied from its scorecard and trimmed to the fields the
words read); each chapter is also read with rows changed so that the paper's claims hold, and on a quick build.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from atomint_helpers.report import charge_words, energies_words, findings, rings_words

ROWS = json.loads((Path(__file__).with_name("fig234_rows.json")).read_text(encoding="utf-8"))["chapters"]
#: the cpu build's top-ten stability (interpret.ring_stats.top_stability) of the same build
STABLE = {"SchNet": {"jaccard": 0.16, "spearman": 0.955, "in_noise": 8, "n": 10, "folds": 3},
          "BP": {"jaccard": 0.54, "spearman": 0.987, "in_noise": 7, "n": 10, "folds": 3}}


def _rows(chapter: str) -> list[dict]:
    return copy.deepcopy(ROWS[chapter])


def _find(text: str) -> str:
    """The "What we find" paragraph without its lead-in."""
    first = text.split("\n\n")[0]
    assert first.startswith("**What we find.** ")
    return first[len("**What we find.** "):]


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", text))


def _row(rows, cid, model=""):
    return next(r for r in rows if r.get("id") == cid and r["model"] == model)


def _test(row, name):
    return next(t for t in row["tests"] if t["name"] == name)


def _set(row, verdict, **values):
    """``row`` decided ``verdict`` with the given pooled test values (every test the same verdict)."""
    row["verdict"] = verdict
    row["cause"] = None if verdict == "holds" else row.get("cause")
    for t in row["tests"]:
        t["verdict"] = verdict
        t["folds"] = [verdict] * len(t["folds"])
    for name, v in values.items():
        _test(row, name.replace("_", " "))["value"] = v


@pytest.mark.parametrize("what", [energies_words.what_we_find, charge_words.what_we_find,
                                  lambda rows, quick: rings_words.what_we_find(rows, STABLE, quick)])
def test_a_quick_build_finds_nothing_about_the_paper(what):
    text = what([], True)
    assert "Nothing about the paper" in text and "`quick`" in text and "**Why.**" not in text


# ------------------------------------------------------------------------------------------ Fig. 2
def test_fig2_on_the_cpu_rows_leads_with_the_schnet_picture_not_holding():
    rows = _rows("atomic_energies")
    text = energies_words.what_we_find(rows, quick=False)
    find = _find(text)
    assert _sentences(find) <= 4
    wide, cons = _row(rows, "fig2.bp-wider"), _row(rows, "fig2.schnet-more-conserved")
    first = find.split(". ")[0]
    assert "does not hold" in first
    assert f"{_test(wide, 'IQR ratio')['value']:.2f}×" in first and f"{_test(cons, 'W1/IQR ratio')['value']:.2f}×" in first
    decided = [r for r in rows if r["kind"] == "paper" and r["verdict"] in ("holds", "differs", "inconclusive")]
    assert f"Of the {len(decided)} verdicts" in find
    assert "2 hold (contributions conserved across folds for BP and O varying more than H and C for BP)" in find
    assert "depends on the scale" in find and "2.7×" in find and "1.8×" in find
    assert "34%" in find and "SchNet's 42%" in find
    why = text.split("\n\n")[1]
    assert why.startswith("**Why.** Four rows differ in every test")
    # the one row whose verdict moves with training is named as such, the others are stable
    assert "10 of these 11 rows keep their verdict at every earlier training stage" in why
    assert "BP's energies retaining its descriptors' patterns depends on how long the models trained" in why
    assert "Design confound" in why


def test_fig2_rows_that_hold_are_read_as_holding():
    rows = _rows("atomic_energies")
    _set(_row(rows, "fig2.bp-wider"), "holds", IQR_ratio=0.8)
    _set(_row(rows, "fig2.schnet-more-conserved"), "holds", **{"W1/IQR_ratio": 0.6})
    _set(_row(rows, "fig2.different-partitionings"), "holds", **{"W1/IQR": 3.0, "absolute_W1": 2.5})
    _set(_row(rows, "fig2.bp-carbon-environments", "BP"), "holds", **{"η²_on_ranks": 0.7})
    find = _find(energies_words.what_we_find(rows, quick=False))
    assert _sentences(find) <= 4
    assert "atomic energies holds: SchNet's interquartile range is up to 0.80× BP's" in find
    assert "arrive at different partitionings, as the paper says" in find
    assert "BP's carbon peaks are its local environments" in find and "70%" in find


def test_fig2_without_a_second_fold_is_not_decided():
    rows = _rows("atomic_energies")
    for cid in ("fig2.bp-wider", "fig2.schnet-more-conserved"):
        _row(rows, cid).update(verdict="not comparable", note="preliminary: bp-energy-cpu-fold2 still training")
    find = _find(energies_words.what_we_find(rows, quick=False))
    assert "is not decided on this build (preliminary: bp-energy-cpu-fold2 still training)" in find


# ------------------------------------------------------------------------------------------ Fig. 3
def test_fig3_on_the_cpu_rows_leads_with_the_fold_noise():
    rows = _rows("rings")
    text = rings_words.what_we_find(rows, STABLE, quick=False)
    find = _find(text)
    assert _sentences(find) <= 4
    first = find.split(". ")[0]
    assert first.startswith("Neither model's top ten is firm enough")
    assert "8 of SchNet's 10 and 7 of BP's 10" in first and "16% (SchNet) and 54% (BP)" in first
    assert "None of the paper's 5 readings of its top tens holds" in find
    assert "0 of SchNet's ten carry an alkyne (the paper: six)" in find
    assert "in 1 of 3 folds" in find  # the fused O-ring, fold by fold
    assert "a conjugated substituent stabilises SchNet's rings (−1.89 kcal/mol)" in find
    assert "fluorine destabilises SchNet's and BP's rings (+3.49 kcal/mol for SchNet, +20.27 for BP)" in find
    assert "the shift of an alkyne is not measured" in find
    assert "BP does attribute more energy to the ring carbons than SchNet: −28.8 kcal/mol per ring" in find
    why = text.split("\n\n")[1]
    assert "Six rows differ in every test" in why and "SchNet's top ring fused to an O-ring" in why
    assert "None of these rows was measured at earlier training stages" in why


def test_fig3_firm_top_tens_and_holding_motifs_are_read_as_such():
    rows = _rows("rings")
    firm = {k: {**s, "in_noise": 2, "jaccard": 0.9} for k, s in STABLE.items()}
    _set(_row(rows, "fig3.schnet-alkynes-six-of-ten", "SchNet"), "holds", count=6.0, enrichment=0.01)
    _set(_row(rows, "fig3.fluorine-stabilises", "SchNet"), "holds", shift_against_H=-2.5)
    _set(_row(rows, "fig3.fluorine-stabilises", "BP"), "holds", shift_against_H=-4.0)
    _set(_row(rows, "fig3.bp-more-ring-energy"), "differs", mean_score=5.0, relative_to_carbon=1.0, ring_by_ring=0.2)
    find = _find(rings_words.what_we_find(rows, firm, quick=False))
    assert _sentences(find) <= 4
    assert find.startswith("The top tens are firmer than the fold noise: 2 of SchNet's 10 and 2 of BP's 10")
    assert "1 of the paper's 5 readings of its top tens holds" in find and "6 of SchNet's ten carry an alkyne" in find
    assert "fluorine stabilises SchNet's and BP's rings (−2.50 kcal/mol for SchNet, −4.00 for BP)" in find
    assert "BP does not attribute more energy to the ring carbons than SchNet: +5.0 kcal/mol" in find


def test_fig3_with_one_fold_says_the_firmness_cannot_be_measured():
    one = {k: {**s, "folds": 1} for k, s in STABLE.items()}
    find = _find(rings_words.what_we_find(_rows("rings"), one, quick=False))
    assert find.startswith("With a single fold per model, this build cannot say")


# ------------------------------------------------------------------------------------------ Fig. 4
def test_fig4_on_the_cpu_rows():
    rows = _rows("charges")
    text = charge_words.what_we_find(rows, quick=False)
    find = _find(text)
    assert _sentences(find) <= 4
    agree = _test(_row(rows, "fig4.models-agree-closer"), "W1/IQR ratio")["value"]
    assert find.startswith("The paper's reading of Figure 4 holds: a model's charges move less from fold to fold")
    assert "0.14 for BP and 0.42 for SchNet" in find and f"{1 / agree:.1f}× closer in their charges" in find
    assert "Up to one constant factor the charge partitioning is the more unique one" in find
    assert "agree less closely for H or C than for N and O (the larger H or C distance is 3.34×" in find
    assert "'especially pronounced for H and C' holds only in part" in find
    assert "do not run parallel in BP (|Spearman ρ| = 0.18" in find and "is not found" in find
    why = text.split("\n\n")[1]
    assert "One row differs in every test" in why and "BP's carbon energies and charges in parallel" in why
    assert "the agreement best for H and C and SchNet's carbon energies and charges unlike" in why


def test_fig4_rows_against_the_paper_are_read_as_not_holding():
    rows = _rows("charges")
    for m in ("BP", "SchNet"):
        _set(_row(rows, "fig4.charges-more-conserved", m), "differs", **{"W1/IQR_ratio": 1.3})
    _set(_row(rows, "fig4.models-agree-closer"), "differs", **{"W1/IQR_ratio": 0.8})
    _set(_row(rows, "fig4.bp-carbon-parallels", "BP"), "holds", **{"|Spearman_ρ|": 0.7})
    _set(_row(rows, "fig4.schnet-carbon-no-similarity", "SchNet"), "holds", **{"|Spearman_ρ|": 0.1})
    find = _find(charge_words.what_we_find(rows, quick=False))
    assert _sentences(find) <= 4
    assert find.startswith("The paper's reading of Figure 4 does not hold: a model's charges move not clearly less")
    assert "1.30 for BP and 1.30 for SchNet" in find and "1.2× closer" in find
    assert "run parallel in BP (|Spearman ρ| = 0.70" in find and "the contrast the paper draws holds" in find


# ------------------------------------------------------------------------------------------ shared
def test_why_is_empty_when_every_decided_row_holds_and_reads_untested_budgets():
    rows = [{"id": "x", "kind": "paper", "model": "", "claim": "x", "verdict": "holds", "cause": None, "tests": []}]
    assert findings.why(rows) == ""
    rows.append({"id": "y", "kind": "paper", "model": "BP", "claim": "y is small", "verdict": "differs",
                 "cause": "a finding: every test differs", "tests": [], "budget": {"verdict": "sensitive"}})
    text = findings.why(rows, {"y": "y small"})
    assert text == ("**Why.** One row differs in every test, pooled and on most folds, a finding about our models "
                    "rather than one fold's accident: y small for BP. Y small for BP depends on how long the models "
                    "trained: a verdict that changed between the stages, or a test heading for the other side of its "
                    "threshold (the scorecard says which).")


def test_tally_counts_only_the_decided_paper_rows():
    rows = [{"id": str(i), "kind": k, "model": "", "claim": f"c{i}", "verdict": v}
            for i, (k, v) in enumerate([("paper", "holds"), ("paper", "differs"), ("paper", "not testable"),
                                        ("beyond", "differs"), ("paper", "inconclusive")])]
    assert findings.tally(rows) == ("of the 3 verdicts this build reaches on the paper's claims, 1 holds (c0), "
                                    "1 differs and 1 is inconclusive")


def test_fig4_without_energy_checkpoints_says_why_nothing_is_decided():
    rows = _rows("charges")
    for r in rows:
        if r.get("id") in ("fig4.charges-more-conserved", "fig4.models-agree-closer"):
            r.update(verdict="not comparable", note="no energy checkpoints of this profile")
    find = _find(charge_words.what_we_find(rows, quick=False))
    assert find.startswith("Whether charges are more conserved than energies is not decided on this build (no energy "
                           "checkpoints of this profile).")
