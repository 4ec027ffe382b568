"""Projection of a run still training against a finished run of the same schedule, on curves whose answer is
known: a constant ratio, an outlier epoch, an exact power law in the schedule length, and the chapter's
reading of the rows."""
from __future__ import annotations

import math

import numpy as np
import pytest

from atomint_helpers.report import projection
from atomint_helpers.report import training_goals as report
from atomint_helpers.training import GOALS, fixed_schedule

CPU = (100, 300)  # the cpu profile's SchNet schedule: first stage, last epoch


def _curve(scale: float, last: int, *, final: int = 300) -> list[dict]:
    """A cosine-like validation curve, 0.8 at epoch 1 falling to 0.4 at ``final``, times ``scale``."""
    e = np.arange(1, last + 1)
    v = scale * (0.4 + 0.4 * (1 - e / final) ** 2)
    return [{"epoch": int(k), "val_mae": float(x), "lr": 1e-4} for k, x in zip(e, v)]


def test_a_run_at_a_constant_ratio_is_projected_exactly():
    ref, run = _curve(1.0, 300), _curve(1.1, 150)
    p = projection.project(run, ref, goal=0.46)
    assert p.epoch == 150 and p.final_epoch == 300
    assert p.ratio == pytest.approx(1.1, rel=1e-12)
    assert p.projected_final == pytest.approx(0.44, rel=1e-12)
    # first epoch with 1.1 · ref(e) ≤ 0.46, by brute force
    ref_v = {r["epoch"]: r["val_mae"] for r in ref}
    assert p.goal_epoch == min(e for e, v in ref_v.items() if 1.1 * v <= 0.46)
    assert not p.reached
    # a goal the reference scaled by 1.1 never reaches: no epoch within the schedule
    assert projection.project(run, ref, goal=0.40).goal_epoch is None


def test_one_outlier_epoch_does_not_move_the_ratio():
    ref, run = _curve(1.0, 300), _curve(1.2, 150)
    run[-2]["val_mae"] *= 3.0  # one bad validation epoch inside the window
    assert projection.tracking_ratio(run, ref, window=5) == pytest.approx(1.2, rel=1e-12)


def test_runs_that_share_no_epoch_are_refused():
    with pytest.raises(ValueError, match="share no logged epoch"):
        projection.tracking_ratio(_curve(1.0, 10), [{"epoch": 50, "val_mae": 0.5}])


def test_the_power_law_in_schedule_length_is_recovered():
    def law(t):
        return 2.0 * t ** -0.3

    alpha = projection.schedule_exponent((100, law(100)), (300, law(300)))
    assert alpha == pytest.approx(0.3, rel=1e-12)
    t = projection.epochs_for(law(700), 300, law(300), alpha)
    assert t == pytest.approx(700, rel=1e-9)
    assert projection.epochs_for(0.5, 300, 0.4, alpha) == 300  # already at the goal
    assert math.isinf(projection.epochs_for(0.3, 300, 0.4, 0.0))
    with pytest.raises(ValueError):
        projection.schedule_exponent((300, 0.4), (100, 0.5))


def test_backtest_is_exact_for_a_constant_ratio_and_measures_a_drift():
    logs = {"a": _curve(1.0, 300), "b": _curve(1.1, 200)}
    rows = projection.backtest(logs, at=110)
    assert {(r["reference"], r["run"]) for r in rows} == {("a", "b"), ("b", "a")}
    assert all(r["to"] == 200 and abs(r["error"]) < 1e-12 for r in rows)
    # b drifts to 1.2 × a after epoch 110: reading b from a at epoch 110 underestimates by 1 − 1.1/1.2
    drift = [dict(r, val_mae=r["val_mae"] * (1.2 / 1.1 if r["epoch"] > 110 else 1.0)) for r in logs["b"]]
    row = next(r for r in projection.backtest({"a": logs["a"], "b": drift}, at=110) if r["run"] == "b")
    assert row["error"] == pytest.approx(1.1 / 1.2 - 1, rel=1e-9)


def test_only_the_cpu_profile_has_a_fixed_end():
    assert fixed_schedule("cpu") == (100, 300)
    assert fixed_schedule("quick") is None
    assert fixed_schedule("cpu", "bp") is None


def test_chapter_rows_read_finished_first_stage_and_second_stage_runs():
    logs = {"schnet-energy-cpu-fold0": _curve(1.0, 300), "schnet-energy-cpu-fold1": _curve(1.1, 150),
            "schnet-energy-cpu-fold2": _curve(1.3, 100), "schnet-dipole-cpu-fold0": _curve(0.07, 150),
            "bp-energy-cpu-fold0": _curve(1.0, 150)}
    rows = {r["run"]: r for r in report.projection_rows(logs, CPU, GOALS["cpu"])}
    assert set(rows) == {n for n in logs if n.startswith("schnet")}
    assert rows["schnet-energy-cpu-fold0"]["finished"] and rows["schnet-energy-cpu-fold0"]["projected"] == pytest.approx(0.4)
    one = rows["schnet-energy-cpu-fold1"]
    assert one["reference"] == "schnet-energy-cpu-fold0" and one["projected"] == pytest.approx(0.44)
    assert one["goal epoch"] is None and one["epochs for goal"] > 300  # 0.44 > the 0.40 goal
    assert rows["schnet-energy-cpu-fold2"]["projected"] is None  # still in the first stage
    dip = rows["schnet-dipole-cpu-fold0"]  # no dipole run finished: read against the energy run's schedule
    assert dip["reference"] == "schnet-energy-cpu-fold0" and dip["projected"] == pytest.approx(0.028)
    assert dip["goal epoch"] is not None and dip["goal epoch"] <= 300  # 0.028 ≤ the 0.030 goal
    alpha = projection.schedule_exponent((100, logs["schnet-energy-cpu-fold0"][99]["val_mae"]), (300, 0.4))
    assert one["exponent"] == pytest.approx(alpha)
    assert one["epochs for goal"] == pytest.approx(300 * (0.44 / 0.4) ** (1 / alpha))
    assert not rows["schnet-energy-cpu-fold2"]["stage 2"]


def test_a_profile_without_a_fixed_end_projects_nothing():
    assert report.projection_rows({"schnet-energy-quick-fold0": _curve(1.0, 4)}, fixed_schedule("quick")) == []


def test_learning_curves_mark_the_projected_end_and_the_goal():
    from atomint_helpers import plots

    logs = {"schnet-energy-cpu-fold0": _curve(1.0, 300), "schnet-energy-cpu-fold1": _curve(1.1, 150)}
    fig = plots.learning_curves(logs, projections={"schnet-energy-cpu-fold1": (300, 0.44)}, goals={"energy": 0.4})
    ax = fig.axes[0]
    marker = next(ln for ln in ax.get_lines() if ln.get_label() == "schnet-cpu-fold1: projected end")
    assert list(marker.get_xdata()) == [300] and list(marker.get_ydata()) == [0.44]
    assert any(set(ln.get_ydata()) == {0.4} for ln in ax.get_lines())
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any(t.startswith("goal 0.40") for t in legend) and "schnet-cpu-fold1: projected end" in legend


def test_projected_ends_are_the_runs_still_training():
    logs = {"schnet-energy-cpu-fold0": _curve(1.0, 300), "schnet-energy-cpu-fold1": _curve(1.1, 150),
            "schnet-energy-cpu-fold2": _curve(1.3, 100)}
    ends = report.projected_ends(report.projection_rows(logs, CPU, GOALS["cpu"]))
    assert set(ends) == {"schnet-energy-cpu-fold1"}
    assert ends["schnet-energy-cpu-fold1"][0] == 300
    assert ends["schnet-energy-cpu-fold1"][1] == pytest.approx(0.44)


def test_goals_are_written_as_they_were_set():
    from atomint_helpers.properties import goal_text

    assert [goal_text(g) for g in (0.4, 0.03, 0.025, 0.35, 0.073)] == ["0.40", "0.030", "0.025", "0.35", "0.073"]


def test_a_finished_run_says_where_it_reached_its_goal_or_what_schedule_would():
    logs = {"schnet-energy-cpu-fold0": _curve(1.0, 300), "schnet-energy-cpu-fold1": _curve(1.1, 300),
            "schnet-energy-cpu-fold2": _curve(0.9, 300)}
    rows = {r["run"]: r for r in report.projection_rows(logs, CPU, {"energy": 0.4})}
    assert all(r["finished"] for r in rows.values())
    at = rows["schnet-energy-cpu-fold0"]  # ends exactly at the goal
    assert at["goal epoch"] == 300
    below = rows["schnet-energy-cpu-fold2"]  # 0.9 × the curve: the first epoch at or below 0.40, by brute force
    assert below["goal epoch"] == min(r["epoch"] for r in logs["schnet-energy-cpu-fold2"] if r["val_mae"] <= 0.4)
    above = rows["schnet-energy-cpu-fold1"]  # ends at 0.44: its own curve's exponent gives the schedule needed
    own = logs["schnet-energy-cpu-fold1"]
    alpha = projection.schedule_exponent((100, min(r["val_mae"] for r in own[:100])), (300, own[-1]["val_mae"]))
    assert above["goal epoch"] is None and above["exponent"] == pytest.approx(alpha)
    assert above["epochs for goal"] == pytest.approx(300 * (0.44 / 0.4) ** (1 / alpha))


def test_a_finished_run_that_dipped_below_its_goal_but_ended_above_reads_as_above():
    log = _curve(1.1, 300)
    log[250]["val_mae"] = 0.39  # one noisy epoch below the goal
    row = report.projection_rows({"schnet-energy-cpu-fold1": log}, CPU, {"energy": 0.4})[0]
    assert row["goal epoch"] is None and row["epochs for goal"] > 300


def test_an_extended_run_is_read_from_the_epoch_it_ended():
    """A run extended 100 epochs past the schedule (training.extension) ends at epoch 400: the schedule that
    would reach its goal is counted from there."""
    log = _curve(1.1, 300) + [{"epoch": e, "val_mae": 0.43, "lr": 1e-5} for e in range(301, 401)]
    row = report.projection_rows({"schnet-energy-cpu-fold2": log}, CPU, {"energy": 0.4})[0]
    assert row["finished"] and row["ended"] == 400 and row["final epoch"] == 300
    alpha = projection.schedule_exponent((100, min(r["val_mae"] for r in log[:100])), (300, log[299]["val_mae"]))
    assert row["exponent"] == pytest.approx(alpha)
    assert row["epochs for goal"] == pytest.approx(400 * (0.43 / 0.4) ** (1 / alpha))


def _extended(tmp_path, name: str, before: float, after: float, epochs=(300, 400)):
    import json

    folder = tmp_path / name
    folder.mkdir()
    prov = {"model": "schnet", "epochs": epochs[1], "metrics": {"test": {"mae": after}},
            "profile_settings": {"extension": "cycle2", "extend": {"schnet": {"cycles": [[epochs[0], 1e-4]]}}},
            "extended_from": {"epochs": epochs[0], "metrics": {"test": {"mae": before}, "val": {}}}}
    (folder / "provenance.json").write_text(json.dumps(prov))
    return folder


def test_an_adopted_extension_reports_each_folds_gain_and_projects_the_folds_above_the_goal(tmp_path):
    """Before → after per fold from the provenance; a fold above the goal gets the schedule length of the
    power law through its two test MAEs (brute force below); a cycle that did not lower the error is said so,
    never 'about inf epochs'; no extended run: no paragraph."""
    present = {"schnet-energy-cpu-fold0": _extended(tmp_path, "a", 0.3928, 0.3746),
               "schnet-energy-cpu-fold2": _extended(tmp_path, "b", 0.4385, 0.4200)}
    text = report.extension_what_we_see(present, {"energy": 0.40}, {"energy": "kcal/mol"}.get)
    assert "fold 0 0.393 → **0.375** and fold 2 0.439 → **0.420**" in text
    assert "from epoch 300 to 400, peak learning rate 0.0001" in text
    alpha = math.log(0.4385 / 0.4200) / math.log(400 / 300)
    need = 400 * (0.42 / 0.40) ** (1 / alpha)
    first = next(t for t in range(400, 100_000) if 0.42 * (t / 400) ** (-alpha) <= 0.40)  # by brute force
    assert first - 1 < need <= first
    assert f"(exponent {alpha:.2f} from 300 to 400), puts the goal at about {need:,.0f} epochs" in text
    assert "Test MAE (kcal/mol)" in text and "Goal ≤ 0.40 kcal/mol: fold 2 stays above it" in text
    assert "fold 0 stays above" not in text
    worse = {"schnet-energy-cpu-fold1": _extended(tmp_path, "c", 0.41, 0.42)}
    assert "did not lower its error" in report.extension_what_we_see(worse, {"energy": 0.40})
    met = report.extension_what_we_see({"schnet-energy-cpu-fold0": present["schnet-energy-cpu-fold0"]},
                                       {"energy": 0.40})
    assert met.endswith("Goal ≤ 0.40: met on every fold.")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "provenance.json").write_text('{"model": "schnet", "epochs": 300, "metrics": {"test": {"mae": 0.4}}}')
    assert report.extension_what_we_see({"schnet-energy-cpu-fold1": plain}, {"energy": 0.40}) == ""
