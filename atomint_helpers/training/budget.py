"""A schedule for a wall-time budget: the design of ``atomint train --budget-minutes M`` (issue 37).

Not wired into :func:`~atomint_helpers.training.run.train` yet: its constants (peak learning rate, warm-up,
batch size, decay of the weight average) are to be chosen by pilots on fold 0's **validation** MAE against
wall time, on idle cores (≤ 30 min each), and none has run. What is settled is its shape:

* **Progress is time.** ``p = trained seconds / budget seconds`` (:func:`progress`: ``Run.wall`` at the
  epoch's start, which ``state.pt`` keeps, plus the epoch's steps so far at the previous epoch's mean step
  time), so a resumed run continues the schedule where it stopped. The number of epochs is not known in
  advance (it depends on the machine, the number of processes and the load), so the schedule is a function of
  ``p``, not of the epoch; a budget run is reproducible in its recipe, not bit for bit. Within an epoch ``p``
  is interpolated from quantities every rank of a data-parallel run shares (``Run.wall`` is rank 0's clock,
  broadcast after every epoch), never read from a rank's own clock, so every rank sets the same rate.
* **Learning rate per optimizer step** (:func:`budget_lr`): a linear warm-up from ``peak_lr · start_factor`` to
  ``peak_lr`` over ``p ∈ [0, warmup]``, then a cosine from ``peak_lr`` down to ``min_lr`` at ``p = 1`` (one
  cycle). Candidates for the pilots: peak 1e-3 to 2e-3 (the ``cpu`` recipe's 5e-4 was set for 300 epochs),
  warm-up 2–5 % of the budget.
* **Batch size with the learning rate scaled**: a global batch ``k`` times the profile's takes the peak
  learning rate ``√k`` times (Adam); with ``--processes 2`` a larger global batch also halves the number of
  all-reduces per epoch.
* **Weight average from the first step** (:class:`~atomint_helpers.training.stage2.WeightAverage`, as stage 2
  of the ``cpu`` profile): validation, the kept weights and the test use it; a decay per step whose horizon
  (``1 / (1 − decay)`` steps) is a few percent of the budget's steps.
* **Stop before overrunning** (:func:`stops_before_next_epoch`): the run ends when the time left is less than
  the mean epoch so far, so it never ends more than a fraction of an epoch past the budget; no plateau halving
  and no early stopping (the schedule has a fixed end).
"""
from __future__ import annotations

import math

from .. import AtomintError


def budget_lr(progress: float, peak_lr: float, min_lr: float, warmup: float = 0.05,
              start_factor: float = 0.1) -> float:
    """Learning rate at ``progress`` (fraction of the time budget used, clipped to [0, 1]): a linear warm-up
    from ``peak_lr · start_factor`` to ``peak_lr`` over ``[0, warmup]``, then a cosine to ``min_lr`` at 1."""
    if not (0 < min_lr <= peak_lr) or not (0 <= warmup < 1) or not (0 < start_factor <= 1):
        raise AtomintError(f"a budget schedule needs 0 < min_lr ≤ peak_lr, 0 ≤ warmup < 1 and 0 < start_factor ≤ 1; "
                           f"got peak_lr={peak_lr}, min_lr={min_lr}, warmup={warmup}, start_factor={start_factor}")
    p = min(max(float(progress), 0.0), 1.0)
    if p < warmup:
        return peak_lr * (start_factor + (1.0 - start_factor) * p / warmup)
    t = (p - warmup) / (1.0 - warmup)
    return min_lr + 0.5 * (peak_lr - min_lr) * (1.0 + math.cos(math.pi * t))


def progress(wall_s: float, step: int, step_s: float | None, budget_s: float) -> float:
    """Fraction of the budget ``budget_s`` (seconds) used at optimizer step ``step`` (0-based) of an epoch that
    began after ``wall_s`` trained seconds, at ``step_s`` seconds per step: the previous epoch's mean, or in
    the first epoch rank 0's mean over its first steps, broadcast once (None until then: ``p`` stays at the
    epoch's start)."""
    if budget_s <= 0:
        raise AtomintError(f"a time budget must be positive, got {budget_s} s")
    return (wall_s + step * (step_s or 0.0)) / budget_s


def stops_before_next_epoch(wall_s: float, budget_s: float, epoch_s: list[float]) -> bool:
    """Whether a run that has trained ``wall_s`` seconds of its ``budget_s`` ends now: the time left is less
    than its mean epoch so far (``epoch_s``, seconds; none yet: only a spent budget stops it)."""
    left = budget_s - wall_s
    if not epoch_s:
        return left <= 0
    return left < sum(epoch_s) / len(epoch_s)
