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
