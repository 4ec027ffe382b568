"""The schedule of a wall-time budget (training.budget): warm-up, one cosine to the budget, the stop rule."""
import numpy as np
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.training.budget import budget_lr, progress, stops_before_next_epoch


def test_budget_schedule_warms_up_then_decays_to_the_end_of_the_budget():
    peak, low = 2e-3, 1e-6
    p = np.linspace(0, 1, 2001)
    lr = np.array([budget_lr(x, peak, low, warmup=0.05, start_factor=0.1) for x in p])
    up, down = lr[p <= 0.05], lr[p >= 0.05]
    assert lr[0] == pytest.approx(2e-4) and budget_lr(0.05, peak, low) == pytest.approx(peak)
    assert np.all(np.diff(up) > 0) and np.all(np.diff(down) <= 0)  # one cycle: up, then down
    assert lr.max() == pytest.approx(peak) and lr[-1] == pytest.approx(low)
    assert budget_lr(0.525, peak, low) == pytest.approx((peak + low) / 2)  # the cosine's midpoint
    # outside the budget the rate holds its ends (a resumed run past its budget, a clock before its start)
    assert budget_lr(1.3, peak, low) == pytest.approx(low) and budget_lr(-0.1, peak, low) == pytest.approx(2e-4)
    # continuous: no jump at the end of the warm-up
    assert abs(budget_lr(0.05 - 1e-9, peak, low) - budget_lr(0.05 + 1e-9, peak, low)) < 1e-9
    # without warm-up it starts at the peak
    assert budget_lr(0.0, peak, low, warmup=0.0) == pytest.approx(peak)


@pytest.mark.parametrize("kwargs", [dict(peak_lr=1e-3, min_lr=2e-3), dict(peak_lr=1e-3, min_lr=0.0),
                                    dict(peak_lr=1e-3, min_lr=1e-6, warmup=1.0),
                                    dict(peak_lr=1e-3, min_lr=1e-6, start_factor=0.0)])
def test_bad_budget_schedules_are_named(kwargs):
    with pytest.raises(AtomintError, match="a budget schedule needs"):
        budget_lr(0.5, **kwargs)


def test_a_budget_run_stops_before_an_epoch_that_would_overrun():
    assert not stops_before_next_epoch(0.0, 3600, [])
    assert stops_before_next_epoch(3600, 3600, [])
    assert not stops_before_next_epoch(3500, 3600, [80, 90])  # 100 s left, mean epoch 85 s: one more
    assert stops_before_next_epoch(3530, 3600, [80, 90])  # 70 s left: stop


def test_progress_within_an_epoch_comes_from_shared_numbers():
    """Rank-independent: the epoch's start (rank 0's clock, broadcast) plus steps at the previous epoch's
    mean step time; a resumed run picks up at its recorded wall time."""
    assert progress(1800.0, 0, 0.05, 3600.0) == pytest.approx(0.5)
    assert progress(1800.0, 720, 0.05, 3600.0) == pytest.approx(0.51)
    assert progress(0.0, 500, None, 3600.0) == 0.0  # first epoch: no step time known yet
    with pytest.raises(AtomintError, match="a time budget must be positive"):
        progress(0.0, 0, None, 0.0)


# --- a budget run: atomint train --budget-minutes M (quick profile, the embedded sample) ---------------------

import torch  # noqa: E402

from atomint_helpers import EXIT_INPUT, store  # noqa: E402
from atomint_helpers.training import budget, read_log, run as run_module, train  # noqa: E402

#: 1,000 training molecules in global batches of 25: 40 optimizer steps per epoch, so the first epoch is
#: timed over budget.FIRST_STEPS (20) steps after budget.WARM_STEPS (10) and then paced; a long warm-up so that steps fall on it
RECIPE = {"batch_size": 25, "warmup": 0.3, "ema_decay": 0.9}
MINUTES = 0.11  # 6.6 s of the fake clock: epochs of 3, 1, 1 ticks, then the next would overrun it
#: a budget run's folder is named after its budget, beside the profile's own run
RUN = "schnet-energy-quick-fold0-0.11min"
STEPS = 40


class TickClock:
    """A clock that advances one second per reading: a run's timing as a function of what it does."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def _budget_run(folder, monkeypatch, kill_after: int | None = None) -> list[float]:
    """Train the quick SchNet energy model with the budget on a fake clock; the learning rate the optimizer
    used at every step (Adam's own param group), in order. ``kill_after``: interrupt after that epoch's save."""
    lrs = []
    step = torch.optim.Adam.step

    def recording_step(self, *a, **k):
        lrs.append(self.param_groups[0]["lr"])
        return step(self, *a, **k)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    monkeypatch.setattr(budget, "clock", TickClock())
    if kill_after is not None:
        epoch = run_module.train_epoch

        def epoch_then_interrupt(r, *args, **kw):
            epoch(r, *args, **kw)
            if r.epoch == kill_after:
                raise KeyboardInterrupt

        monkeypatch.setattr(run_module, "train_epoch", epoch_then_interrupt)
    try:
        train("schnet", "energy", 0, "quick", folder, progress=False, threads=1, budget_minutes=MINUTES,
              overrides={"budget": RECIPE})
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    return lrs


def _expected_lrs(log: list[dict]) -> list[float]:
    """The schedule step by step from the epoch log alone: progress = (wall at the epoch's start + step ×
    the previous epoch's seconds per step) / budget; in the first epoch, 0 until step 30, then the mean of
    steps 10–29 (1 tick / 20 on the fake clock)."""
    b = {**budget.DEFAULT_RECIPE, **RECIPE}
    budget_s, walls, out = MINUTES * 60, [0.0] + [r["wall_s"] for r in log], []
    for e in range(1, len(log) + 1):
        start = walls[e - 1]
        step_s = 1.0 / budget.FIRST_STEPS if e == 1 else (walls[e - 1] - walls[e - 2]) / STEPS
        for k in range(STEPS):
            p = 0.0 if e == 1 and k < budget.WARM_STEPS + budget.FIRST_STEPS else (start + k * step_s) / budget_s
            out.append(budget_lr(p, b["peak_lr"], b["min_lr"], b["warmup"], b["start_factor"]))
    return out


@pytest.fixture(scope="module")
def budget_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("budget")
    with pytest.MonkeyPatch.context() as mp:
        lrs = _budget_run(folder, mp)
    return folder / RUN, lrs


def test_a_budget_run_sets_the_schedules_rate_at_every_step_and_ends_within_its_budget(budget_run):
    folder, lrs = budget_run
    log, prov = read_log(folder), store.provenance(folder)
    assert [r["wall_s"] for r in log] == [3.0, 4.0, 5.0]  # 6.6 s: a fourth epoch (mean 1.67 s) would overrun
    assert prov["status"].startswith("stopped: finished its time budget of 0.11 min")
    assert prov["profile_settings"]["budget"] == {**budget.DEFAULT_RECIPE, **RECIPE, "minutes": MINUTES}
    assert prov["profile_settings"]["batch_size"] == 25 and prov["profile_settings"]["extend"] == {}
    assert len(lrs) == 3 * STEPS
    assert np.allclose(lrs, _expected_lrs(log), rtol=1e-9, atol=0)
    peak = budget.DEFAULT_RECIPE["peak_lr"]
    assert lrs[0] == pytest.approx(peak * budget.DEFAULT_RECIPE["start_factor"])  # warm-up from its start
    assert max(lrs) < peak and lrs[-1] < lrs[STEPS]  # past the peak (p = 0.3), decaying
    # the log's rate is the epoch's last step's: no plateau halving on top
    assert [r["lr"] for r in log] == pytest.approx([lrs[STEPS - 1], lrs[2 * STEPS - 1], lrs[-1]], rel=1e-5)
    # the weight average from the first step is what was validated and kept (the last epoch is the best)
    st = torch.load(folder / store.STATE, weights_only=True)
    assert prov["best_epoch"] == 3 and st["done"]
    kept = store.load_model(folder)  # the kept weights, verified against provenance
    names = [n for n, p in kept.named_parameters() if p.requires_grad]
    assert len(names) == len(st["ema"])
    for name, avg in zip(names, st["ema"]):
        assert torch.equal(kept.state_dict()[name], avg) and not torch.equal(st["model"][name], avg), name


def test_a_budget_run_resumed_after_a_kill_continues_its_schedule(budget_run, tmp_path, monkeypatch):
    folder, lrs = budget_run
    first = _budget_run(tmp_path, monkeypatch, kill_after=2)
    resumed = tmp_path / RUN
    assert [r["epoch"] for r in read_log(resumed)] == [1, 2]
    assert np.allclose(first, lrs[:2 * STEPS], rtol=1e-12, atol=0)
    after = _budget_run(tmp_path, monkeypatch)  # a fresh clock: only the durations it measures count
    assert [r["wall_s"] for r in read_log(resumed)] == [r["wall_s"] for r in read_log(folder)]
    assert np.allclose(after, lrs[2 * STEPS:], rtol=1e-12, atol=0)  # epoch 3 as the uninterrupted run's


@pytest.mark.parametrize("kwargs, before", [(dict(budget_minutes=0.5), "0.11"), (dict(), "0.11")])
def test_a_run_continues_only_under_the_budget_it_was_trained_with(budget_run, tmp_path, kwargs, before):
    import shutil

    folder = shutil.copytree(budget_run[0], tmp_path / "run")
    with pytest.raises(AtomintError, match=f"was trained with the time budget .*'minutes': {before}.* re-run it as it was"):
        train("schnet", "energy", 0, "quick", tmp_path, progress=False, threads=1, name="run", **kwargs)
    assert read_log(folder) == read_log(budget_run[0])


def test_a_budget_run_stops_before_overrunning_a_real_clock_beside_the_profiles_own_run(tmp_path):
    own = train("schnet", "energy", 0, "quick", tmp_path, progress=False, threads=1, max_epochs=1)
    before = (own / store.LOG).read_bytes()
    folder = train("schnet", "energy", 0, "quick", tmp_path, progress=False, threads=1, budget_minutes=0.05)
    assert folder == tmp_path / "schnet-energy-quick-fold0-0.05min"  # never resumes the profile's run
    assert (own / store.LOG).read_bytes() == before
    log = read_log(folder)
    epochs = np.diff([0.0] + [r["wall_s"] for r in log])
    assert log[-1]["wall_s"] <= 0.05 * 60 + epochs.max()
    assert store.provenance(folder)["status"].startswith("stopped: finished its time budget")


def test_two_processes_set_identical_rates_in_a_budget_run(tmp_path):
    """Both ranks pace their steps by rank 0's numbers: a rank setting another rate would change its weights,
    which the ranks compare (sha256) after every epoch before anything is saved."""
    folder = train("schnet", "energy", 0, "quick", tmp_path, progress=False, processes=2, max_epochs=2,
                   budget_minutes=30, overrides={"budget": {"batch_size": 25}})
    log = read_log(folder)
    assert [r["epoch"] for r in log] == [1, 2] and store.provenance(folder)["processes"] == 2
    assert log[1]["lr"] > log[0]["lr"]  # still warming up: the rate follows the time, not a plateau


@pytest.mark.parametrize("kwargs, message", [
    (dict(budget_minutes=0), "--budget-minutes must be a finite number of minutes > 0"),
    (dict(budget_minutes=-5), "--budget-minutes must be a finite number of minutes > 0"),
    (dict(budget_minutes=float("nan")), "--budget-minutes must be a finite number of minutes > 0"),
    (dict(budget_minutes=60, max_minutes=30), "--budget-minutes and --max-minutes exclude each other"),
    (dict(budget_minutes=60, profile="paper"), "the paper profile trains through PyTorch Lightning"),
    (dict(budget_minutes=60, overrides={"budget": {"peak": 1e-3}}), "unknown budget recipe constants peak"),
    (dict(budget_minutes=60, overrides={"budget": {"ema_decay": 1.0}}), "ema_decay .* must lie in"),
    (dict(overrides={"budget": {"peak_lr": 1e-3}}), "--budget-minutes must be a finite number"),
])
def test_bad_budgets_are_named(tmp_path, kwargs, message):
    args = {"profile": "quick", **kwargs}
    with pytest.raises(AtomintError, match=message):
        train("schnet", "energy", 0, models_dir=tmp_path, progress=False, **args)
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_the_command_line_refuses_a_bad_budget_in_one_line(tmp_path, capsys):
    from atomint_helpers.cli import main

    for argv in (["--budget-minutes", "0"], ["--budget-minutes", "60", "--max-minutes", "30"]):
        rc = main(["train", "--model", "schnet", "--target", "energy", "--models-dir", str(tmp_path), *argv])
        err = capsys.readouterr().err.strip()
        assert rc == EXIT_INPUT and err.startswith("atomint: error: --budget-minutes") and "\n" not in err


def test_the_pilot_choice_takes_the_lowest_validation_mae_and_the_gentler_recipe_among_ties():
    """The declared rule both ways: a clear winner wins whatever its recipe; within the tie margin the smaller
    peak learning rate (then batch) wins; no pilot is an error naming what to run."""
    from atomint_helpers.training.budget_pilots import TIE_KCAL, PilotResult, choose

    gentle, bold = PilotResult("a", 1e-3, 100, 0.62), PilotResult("b", 2.83e-3, 200, 0.55)
    assert choose([gentle, bold]) is bold
    near = PilotResult("b", 2.83e-3, 200, 0.62 - TIE_KCAL / 2)
    assert choose([near, gentle]) is gentle
    same_lr = PilotResult("c", 1e-3, 200, 0.62 - TIE_KCAL / 2)
    assert choose([same_lr, gentle]) is gentle
    with pytest.raises(AtomintError, match="no finished pilot"):
        choose([])
