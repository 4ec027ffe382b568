"""Learning curves: nested subsets that keep the fold's test set, the points read back from provenance, and
the verdict of "especially advantageous with a large training set" on curves whose answer is known."""
import json

import numpy as np
import pandas as pd
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.data.splits import nested_subset, split
from atomint_helpers.report import table1
from atomint_helpers.store import curves
from atomint_helpers.training import curve, get_profile
from atomint_helpers.training.inputs import fold_split


def test_nested_subsets_are_nested_random_and_inside():
    ids = np.arange(5_000, 15_000)
    small, large = nested_subset(ids, 100, seed=1), nested_subset(ids, 1_000, seed=1)
    assert set(small) <= set(large) <= set(ids)
    assert len(set(large)) == 1_000
    assert not np.array_equal(nested_subset(ids, 100, seed=2), small)
    # random, not the lowest ids (QM9 ids are ordered by molecule size)
    assert large.max() - large.min() > 0.9 * (ids.max() - ids.min())
    with pytest.raises(AtomintError, match="cannot draw"):
        nested_subset(ids, 20_000, seed=1)


def test_curve_split_keeps_the_folds_test_set():
    from dataclasses import replace

    prof = get_profile("cpu")
    full = split(prof.n_train, prof.n_val, seed=2)
    sub = fold_split(replace(prof, train_subset=1_000, val_subset=200), 2, ds=None)
    assert np.array_equal(sub["test"], full["test"])
    assert set(sub["train"]) <= set(full["train"]) and len(sub["train"]) == 1_000
    assert set(sub["val"]) <= set(full["val"]) and len(sub["val"]) == 200


def test_curve_recipe_counts_steps_not_epochs():
    from atomint_helpers.training.loop import epoch_rows

    over = curve.overrides(curves.CurveRun("schnet", 1_000, 0))
    rows, how = epoch_rows(np.arange(1_000) * 3, 1, 4, over["epoch_molecules"])
    # an epoch of a 1,000-molecule curve run: 10 whole passes, each a permutation of the set
    assert len(rows) == curve.EPOCH and how == {"shuffle": False}
    for k in range(10):
        assert np.array_equal(np.sort(rows[k * 1_000:(k + 1) * 1_000]), np.arange(1_000) * 3)
    assert not np.array_equal(rows[:1_000], rows[1_000:2_000])
    # a set as large as an epoch, or a profile without epoch_molecules: one shuffled pass, as before
    assert len(epoch_rows(np.arange(10_000), 1, 4, over["epoch_molecules"])[0]) == 10_000
    assert epoch_rows(np.arange(500), 1, 4, None)[1] == {"shuffle": True, "seed": 1 * 100_003 + 4}
    assert curve.overrides(curves.CurveRun("bp", 1_000, 0))["bp"]["clip_features"] is True
    assert "bp" not in curve.overrides(curves.CurveRun("schnet", 3_000, 0))


def _write_point(root, run, mae, n_train=None, status="stopped: early stopping (no improvement for 20 epochs)"):
    folder = run.folder(root)
    folder.mkdir(parents=True)
    (folder / "provenance.json").write_text(json.dumps({
        "n_train": n_train or run.n_train, "epochs": 50, "status": status,
        "metrics": {"test": {"mae": mae, "rmse": 2 * mae, "n": 20_831}}}))


def test_points_read_finished_runs_only(tmp_path):
    _write_point(tmp_path, curves.CurveRun("bp", 1_000, 0), 5.0)
    _write_point(tmp_path, curves.CurveRun("bp", 3_000, 0), 3.0, status="training")
    pts = curves.points(tmp_path)
    assert [(p.model, p.n_train, p.mae, p.converged) for p in pts] == [("bp", 1_000, 5.0, True)]
    _write_point(tmp_path, curves.CurveRun("schnet", 1_000, 0), 4.0, n_train=999)
    with pytest.raises(AtomintError, match="does not hold the curve run"):
        curves.points(tmp_path)


def test_points_carry_the_fit_at_the_kept_weights(tmp_path):
    run = curves.CurveRun("schnet", 10_000, 1)
    _write_point(tmp_path, run, 2.0)
    prov = json.loads((run.folder(tmp_path) / "provenance.json").read_text())
    (run.folder(tmp_path) / "provenance.json").write_text(json.dumps({**prov, "best_epoch": 2}))
    (run.folder(tmp_path) / "log.csv").write_text(
        "epoch,wall_s,lr,train_loss,train_mae,val_mae,val_rmse\n"
        "1,1,0.0004,9,3.0,3.5,4\n2,2,0.0002,8,1.8,2.0,3\n3,3,0.00005,7,1.7,2.1,3\n")
    (p,) = curves.points(tmp_path)
    assert (p.train_mae, p.val_mae) == (1.8, 2.0)  # epoch 2's, the kept weights', not the last epoch's
    assert p.lr_halvings == pytest.approx(3.0)      # 4e-4 → 5e-5


@pytest.mark.parametrize("fit, named", [(0.95, True), (0.6, False)])
def test_the_underfit_confound_is_named_only_above_its_ratio(fit, named):
    d = _frame(lambda n, f: 1.0)
    d["fit"], d["halvings"] = 0.3, 2.0
    d.loc[(d["model"] == "SchNet") & (d["n_train"] == 10_000), ["fit", "halvings"]] = (fit, 7.0)
    d.loc[d["recipe"] == "committed", ["fit", "halvings"]] = np.nan
    text = table1.curve_fit(d, [0, 1, 2])
    assert f"SchNet 0.30, 0.30, {fit:.2f}" in text
    assert ("SchNet on 10,000 (0.95, its learning rate halved 7 times" in text) == named
    assert "underfits" in text if named else "underfits" not in text
    assert table1.curve_fit(d.drop(columns=["fit"]), [0]) == ""


def _frame(ratio_of_n, folds=(0, 1, 2)):
    """SchNet's MAE falls as N^-0.5; BP's is ratio_of_n(N, fold) times SchNet's."""
    rows = []
    for f in folds:
        for n in (*curves.SIZES, table1.FULL_SET):
            s = 30 * n ** -0.5
            rows.append({"model": "SchNet", "fold": f, "n_train": n, "MAE": s})
            rows.append({"model": "BP", "fold": f, "n_train": n, "MAE": s * ratio_of_n(n, f)})
    d = pd.DataFrame(rows)
    d["recipe"] = np.where(d["n_train"] == table1.FULL_SET, "committed", "curve")
    d["converged"], d["epochs"] = True, 10
    return d


@pytest.mark.parametrize("ratio, verdict", [
    (lambda n, f: 1 + 0.1 * np.log10(n), "holds"),        # the advantage grows
    (lambda n, f: 2 - 0.1 * np.log10(n), "differs"),      # it shrinks
    (lambda n, f: 1 + (0.1 if f else -0.1) * np.log10(n), "holds"),  # two of three folds grow
    (lambda n, f: 1.5 + 0.05 * np.log10(n) - 0.3 * (n == table1.FULL_SET), "inconclusive"),  # curve up, 100k down
])
def test_advantage_grows_verdicts(ratio, verdict):
    row = table1.curve_row(_frame(ratio), quick=False)
    assert row["verdict"] == verdict
    assert [t["name"] for t in row["tests"]] == ["curve slope", "1k → 100k"]
    assert (row["cause"] is None) == (verdict == "holds")
    assert row["budget"]["verdict"] == "untested" and row["stages"] == []
    if verdict != "holds":  # a row that does not hold says in its cause why it has no training-stage reading
        assert row["cause"].endswith("Training budget: untested (decided on learning curves over the training-set "
                                     "size, not on earlier training stages).")


def test_slope_is_exact_on_a_power_law():
    measured, folds = table1.curve_measurements(_frame(lambda n, f: 2 * n ** 0.1))
    assert folds == [0, 1, 2]
    assert measured["curve slope"].pooled == pytest.approx(0.1)
    assert measured["1k → 100k"].folds[0] == pytest.approx(100 ** 0.1)


def test_unfinished_curve_is_not_comparable():
    d = _frame(lambda n, f: 1.0)
    d = d[~((d["model"] == "BP") & (d["n_train"] == 1_000))]
    row = table1.curve_row(d, quick=False)
    assert row["verdict"] == "not comparable" and "still training" in row["note"]


def test_the_curve_figure_draws_the_ratio_it_is_decided_on():
    from atomint_helpers.plots.training import training_set_curves

    frame = _frame(lambda n, f: 2 * n ** 0.1)
    fig = training_set_curves(frame)
    a, b = fig.axes
    assert a.get_xscale() == b.get_xscale() == "log" and "kcal/mol" in a.get_ylabel()
    mean = next(ln for ln in b.get_lines() if ln.get_label() == "learning curve")
    assert np.allclose(mean.get_ydata(), [2 * n ** 0.1 for n in curves.SIZES])


def test_the_curve_figure_draws_a_curve_still_training():
    from atomint_helpers.plots.training import training_set_curves

    frame = _frame(lambda n, f: 1.2)
    partial = frame[(frame["model"] == "BP") | (frame["recipe"] == "committed")]  # no SchNet curve point yet
    fig = training_set_curves(partial)
    assert len(fig.axes) == 2
    only_bp = frame[(frame["model"] == "BP") & (frame["n_train"] == 1_000)]
    training_set_curves(only_bp)
