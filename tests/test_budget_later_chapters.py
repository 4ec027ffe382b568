"""The training-budget reading of Figs. 5–7 on constructed stage results: the ESP claims set against the dipole
models' MAE, the crystal model's claims against its formation-energy MAE (one fold, said so), a claim moving
toward a flip read as budget-sensitive with the MAE at which its trend line crosses, one that stays read as
stable, and the chapters' rows reading the stages only when the last stage's values are this build's. The
crystal run's stages come from the commits since its configuration last changed."""
import json
import subprocess

import pytest

from atomint_helpers import AtomintError
from atomint_helpers.report import budget, budget_rule, embeddings, esp
from atomint_helpers.report.registry import Measurement


def _raw(test, y):
    """The raw value of ``test`` whose normalised value is ``y`` (> 0 holds)."""
    scale = abs(test.threshold) or 1.0
    return test.threshold + (y if test.holds_if == "above" else -y) * scale


def _evidence(claims, label, ys_by_claim, i):
    """Every test of each claim at normalised value ``ys[i]`` pooled, the three folds at ±0.01 around it."""
    ev = {}
    for c in claims:
        y = ys_by_claim[c.id][i]
        ev[(c.id, label)] = {t.name: Measurement(_raw(t, y), tuple(_raw(t, y + d) for d in (-0.01, 0.0, 0.01)),
                                                 ("a", "b", "c")) for t in c.tests}
    return ev


# the crystal model's three stages: formation-energy MAE (eV/atom) falling
CRYSTAL_MAE = (0.067, 0.052, 0.049)
# HYDROGEN differs and rises toward its threshold as the MAE falls (a flip ahead), CLUSTER holds and stays
FIG7_YS = {embeddings.HYDROGEN.id: (-0.6, -0.3, -0.2), embeddings.CLUSTER.id: (0.5, 0.5, 0.5)}


def _fig7_results():
    claims = (embeddings.HYDROGEN, embeddings.CLUSTER)
    stages = []
    for i, mae in enumerate(CRYSTAL_MAE):
        ev = _evidence(claims, "SchNet", FIG7_YS, i)
        ev[(embeddings.EXPLAINED.id, "SchNet")] = {"value": Measurement(35.0)}  # 75 % off the paper's 20 %: stays
        stages.append({"stage": i, "test_mae": {"schnet": mae},
                       "checkpoints": {"schnet": {"0": {"commit": f"c{i}", "epochs": (31, 61, 100)[i]}}},
                       "claims": budget_rule.stage_verdicts(embeddings.CLAIMS, ev)})
    return {"chapter": "fig7", "target": "crystals", "paper_mae": {"schnet": embeddings.PUBLISHED_MP_MAE},
            "folds": [0], "stages": stages}


def test_a_crystal_claim_moving_toward_a_flip_is_sensitive_with_its_crossing_in_ev_per_atom():
    res = _fig7_results()
    b, listing = budget.claim_budget(embeddings.HYDROGEN, "SchNet", res)
    assert b["verdict"] == "sensitive"
    assert [s["test_mae"] for s in listing] == list(CRYSTAL_MAE) and listing[0]["unit"] == "eV/atom"
    # the least-squares line of (0.067, −0.6), (0.052, −0.3), (0.049, −0.2) reaches 0 below the last MAE
    per_stage = [next(c for c in s["claims"] if c["id"] == embeddings.HYDROGEN.id)["tests"] for s in res["stages"]]
    trend = budget.budget(embeddings.HYDROGEN, per_stage, CRYSTAL_MAE, 0.035, "eV/atom")["tests"]
    import numpy as np

    slope, icpt = np.polyfit(CRYSTAL_MAE, FIG7_YS[embeddings.HYDROGEN.id], 1)
    for t in embeddings.HYDROGEN.tests:
        assert trend[t.name]["crossing_mae"] == pytest.approx(-icpt / slope, rel=1e-6)
        assert 0 < trend[t.name]["crossing_mae"] < CRYSTAL_MAE[-1]
    assert "eV/atom (SchNet's published crystal model, not this paper's: 0.035)" in b["why"] and "one fold" in b["why"]


def test_a_crystal_claim_that_stays_is_stable_and_so_is_a_number_that_does_not_move():
    res = _fig7_results()
    b, _ = budget.claim_budget(embeddings.CLUSTER, "SchNet", res)
    assert b["verdict"] == "stable" and "does not move" in b["why"] and "one fold" in b["why"]
    n, listing = budget.claim_budget(embeddings.EXPLAINED, "SchNet", res)
    assert n["verdict"] == "stable" and listing[-1]["verdict"] == "differs"


def _fig6_results(sim_ys=(0.2, 0.2, 0.2), sign_ys=(-0.5, -0.3, -0.1)):
    """ESP stages: the pair claim SIMILAR stays; HC_SIGNS (BP and SchNet) differs and rises as the dipole MAE
    falls; every other claim absent."""
    ys = {esp.SIMILAR.id: sim_ys, esp.HC_SIGNS.id: sign_ys}
    stages = []
    for i, (sn, bp) in enumerate(((0.055, 0.064), (0.045, 0.062), (0.040, 0.061))):
        ev = _evidence((esp.SIMILAR,), "", ys, i)
        for label in ("BP", "SchNet"):
            ev.update(_evidence((esp.HC_SIGNS,), label, ys, i))
        stages.append({"stage": i, "test_mae": {"schnet": sn, "bp": bp}, "checkpoints": {},
                       "claims": budget_rule.stage_verdicts(esp.CLAIMS, ev)})
    return {"chapter": "fig6", "target": "dipole", "paper_mae": {"schnet": 0.025, "bp": 0.073},
            "folds": [0, 1, 2], "stages": stages}


def test_esp_claims_are_set_against_the_dipole_models_mae_of_their_own_architecture():
    res = _fig6_results()
    b, listing = budget.claim_budget(esp.HC_SIGNS, "BP", res)
    assert [s["test_mae"] for s in listing] == [0.064, 0.062, 0.061] and listing[0]["unit"] == "D"
    assert b["verdict"] == "sensitive" and "D (the paper's model: 0.073)" in b["why"] and "one fold" not in b["why"]
    # a pair claim (no model) is set against SchNet's MAE
    s, listing = budget.claim_budget(esp.SIMILAR, "", res)
    assert s["verdict"] == "stable" and [x["test_mae"] for x in listing] == [0.055, 0.045, 0.040]


def _rows_of(stage_claims, ids):
    """Scorecard rows carrying the values of ``stage_claims`` (as the chapter's rows would)."""
    rows = []
    for c in stage_claims:
        if c["id"] in ids:
            rows.append({"id": c["id"], "kind": "paper", "model": c["model"], "verdict": c["verdict"],
                         "cause": "our models: x." if c["verdict"] != "holds" else None,
                         "tests": [{"name": k, "value": v["value"]} for k, v in c["tests"].items()]})
    return rows


def test_chapter_rows_read_the_stages_only_when_the_last_stage_is_this_build(tmp_path):
    path = tmp_path / "fig6.json"
    res = _fig6_results()
    budget.write_results(path, res)
    ids = {esp.SIMILAR.id, esp.HC_SIGNS.id}
    rows = _rows_of(res["stages"][-1]["claims"], ids)
    budget.annotate_values(rows, esp.CLAIMS, False, "fig6", path)
    by = {(r["id"], r["model"]): r for r in rows}
    assert by[(esp.HC_SIGNS.id, "SchNet")]["budget"]["verdict"] == "sensitive"
    assert "Training budget: sensitive" in by[(esp.HC_SIGNS.id, "SchNet")]["cause"]
    assert by[(esp.SIMILAR.id, "")]["budget"]["verdict"] == "stable"
    other = _rows_of(res["stages"][1]["claims"], ids)  # values of another checkpoint set
    budget.annotate_values(other, esp.CLAIMS, False, "fig6", path)
    assert {r["budget"]["verdict"] for r in other} == {"untested"}
    assert "rerun bench/stages/run.py --chapter fig6" in other[0]["budget"]["why"]
    quick = _rows_of(res["stages"][-1]["claims"], ids)
    budget.annotate_values(quick, esp.CLAIMS, True, "fig6", path)
    assert {r["budget"]["verdict"] for r in quick} == {"untested"}


def test_the_budget_figure_gives_the_crystal_model_its_own_panel_with_the_sensitive_claim_named():
    import matplotlib

    matplotlib.use("Agg")
    from atomint_helpers.plots import budget_trends

    series, paper = budget.figure_inputs(embeddings.CLAIMS, _fig7_results())
    assert paper == {"SchNet, crystals": 0.035}
    assert {s["axis"] for s in series} == {"SchNet, crystals"} and all(s["unit"] == "eV/atom" for s in series)
    sensitive = {s["label"] for s in series if s["budget"] == "sensitive"}
    assert sensitive == {f"hydrogen-apart (SchNet): {t.name}" for t in embeddings.HYDROGEN.tests}
    assert {s["budget"] for s in series if s["label"].startswith("groups-cluster")} == {"stable"}
    fig = budget_trends(series, paper)
    assert "SchNet, crystals test MAE (eV/atom)" in {ax.get_xlabel() for ax in fig.axes}



def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_the_crystal_stages_are_those_since_the_run_s_configuration_last_changed(tmp_path):
    from atomint_helpers.interpret import stages

    run = tmp_path / "models" / stages.CRYSTAL_RUN
    run.mkdir(parents=True)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "a@b.c")
    _git(tmp_path, "config", "user.name", "a")

    def commit(epochs, config):
        (run / "config.json").write_text(json.dumps(config))
        (run / "provenance.json").write_text(json.dumps({"epochs": epochs, "status": "training"}))
        _git(tmp_path, "add", "-A")
        _git(tmp_path, "commit", "-qm", f"epoch {epochs}")

    commit(30, {"init": "N(0,1)"})  # the recipe before the restart
    commit(60, {"init": "N(0,1)"})
    for e in (3, 35, 70, 100):
        commit(e, {"init": "0.1 N(0,1)"})
    found = [s.epochs for s in stages.current_config_stages(stages.CRYSTAL_RUN, tmp_path)]
    assert found == [3, 35, 70, 100]  # 30 and 60 belong to the other recipe
    chosen = stages.choose_crystals(tmp_path)
    assert [s.epochs for s in chosen["schnet"][0]] == [35, 70, 100]


def test_the_last_stage_is_the_final_save_however_long_the_run_trained():
    from atomint_helpers.interpret import stages
    from atomint_helpers.store.history import Stage

    saves = [Stage("schnet-energy-cpu-fold0", f"c{e}", e, None, "finished", f"w{e}") for e in (6, 98, 205, 300, 400)]
    assert [stages.pick(saves, e).epochs for e in stages.STAGE_EPOCHS["schnet"]] == [98, 205, 400]
    assert stages.pick(saves[:4], stages.FINAL).epochs == 300  # before the extension: its end then
    assert stages.pick(saves[:1], stages.FINAL) is saves[0]
    with pytest.raises(AtomintError, match="no stages"):
        stages.pick([], stages.FINAL)


def test_this_build_is_recognised_through_float_noise_but_not_through_another_checkpoint():
    last = _fig6_results()["stages"][-1]["claims"]
    ids = {esp.SIMILAR.id, esp.HC_SIGNS.id}
    rows = _rows_of(last, ids)
    assert budget.same_values(last, rows)
    for t in rows[0]["tests"]:  # another thread count: the last float32 digit
        t["value"] *= 1 + 1e-7
    assert budget.same_values(last, rows)
    rows[-1]["tests"][0]["value"] += 0.01  # another checkpoint moves a test
    assert not budget.same_values(last, rows)
    assert not budget.same_values(last, [])  # no row the stages measured: nothing to recognise
