"""A schedule for a wall-time budget: ``atomint train --budget-minutes M`` (issue 37).

A run with ``Profile.budget`` (:func:`settings`, set by ``train(..., budget_minutes=M)``) follows this
schedule instead of the profile's (:class:`Schedule`, driven from :func:`~atomint_helpers.training.run.train_epoch`).
Its constants (:data:`DEFAULT_RECIPE`: peak learning rate, warm-up, decay of the weight average; the
profile's batch size) were chosen by four declared pilots on fold 0's **validation** MAE after 30 minutes on
two idle processes (:mod:`.budget_pilots`, ``bench/pilot_budget.py``, bench/RESULTS.md). Its shape:

* **Progress is time.** ``p = trained seconds / budget seconds`` (:func:`progress`: ``Run.wall`` at the
  epoch's start, which ``state.pt`` keeps, plus the epoch's steps so far at the previous epoch's mean step
  time), so a resumed run continues the schedule where it stopped. The number of epochs is not known in
  advance (it depends on the machine, the number of processes and the load), so the schedule is a function of
  ``p``, not of the epoch; a budget run is reproducible in its recipe, not bit for bit. Within an epoch ``p``
  is interpolated from quantities every rank of a data-parallel run shares (``Run.wall`` is rank 0's clock,
  broadcast after every epoch), never read from a rank's own clock, so every rank sets the same rate.
* **Learning rate per optimizer step** (:func:`budget_lr`): a linear warm-up from ``peak_lr · start_factor`` to
  ``peak_lr`` over ``p ∈ [0, warmup]``, then a cosine from ``peak_lr`` down to ``min_lr`` at ``p = 1`` (one
  cycle). The peak is higher than the ``cpu`` recipe's 5e-4, which was set for 300 epochs.
* **Batch size with the learning rate scaled**: a global batch ``k`` times the profile's takes the peak
  learning rate ``√k`` times (Adam); with ``--processes 2`` a larger global batch also halves the number of
  all-reduces per epoch.
* **Weight average from the first step** (:class:`~atomint_helpers.training.stage2.WeightAverage`, as stage 2
  of the ``cpu`` profile): validation, the kept weights and the test use it; a decay per step whose horizon
  (``1 / (1 − decay)`` steps) is a few percent of the budget's steps.
* **Stop before overrunning** (:func:`stops_before_next_epoch`): the run ends when the time left is less than
  the mean epoch so far, so it never ends more than a fraction of an epoch past the budget; no plateau halving
  and no early stopping (the schedule has a fixed end), and the profile's epoch count does not apply (an
  epoch limit given explicitly does).
"""
from __future__ import annotations

import math
import numbers
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import AtomintError
from .stage2 import WeightAverage

if TYPE_CHECKING:
    from .parallel import Ranks

#: the clock a run's wall time is read from (seconds; rank 0's counts): tests replace it with a
#: deterministic one
clock = time.time

#: the recipe a budget run follows unless given another: peak and final learning rate, warm-up (fraction of
#: the budget), the warm-up's start (fraction of the peak), decay of the weight average per optimizer step;
#: the batch size is the profile's. Chosen by the declared pilots (:mod:`.budget_pilots`, bench/RESULTS.md):
#: of peaks 1e-3 and 2e-3 at batches of 100 and 200, the peak 2e-3 at the profile's batch of 100 ended
#: lowest (fold 0's validation MAE after 30 minutes on two processes: 0.679 against 0.799–1.092 kcal/mol)
DEFAULT_RECIPE = {"peak_lr": 2e-3, "min_lr": 1e-6, "warmup": 0.05, "start_factor": 0.1, "ema_decay": 0.999}
#: optimizer steps over which rank 0 times the first epoch's steps, after :data:`WARM_STEPS` untimed ones (the
#: first steps of a run also compile SchNet's interaction blocks); the rate before then: the warm-up's start
FIRST_STEPS = 20
WARM_STEPS = 10
#: the epoch limit of a budget run given none: it ends on its time budget
NO_EPOCH_LIMIT = 100_000


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


def settings(minutes: float | None, recipe: dict | None, batch_size: int) -> dict:
    """``Profile.budget`` of a run: :data:`DEFAULT_RECIPE` with ``recipe``'s constants (a pilot's, e.g.
    ``{"peak_lr": 2e-3, "batch_size": 200}``; it may give the ``minutes``), the profile's ``batch_size``
    unless the recipe gives one, and ``minutes`` of training wall time (all resumes together), checked."""
    recipe = dict(recipe or {})
    unknown = sorted(set(recipe) - set(DEFAULT_RECIPE) - {"batch_size", "minutes"})
    if unknown:
        raise AtomintError(f"unknown budget recipe constants {', '.join(unknown)}; accepted: "
                           f"{', '.join([*DEFAULT_RECIPE, 'batch_size', 'minutes'])}")
    out = {**DEFAULT_RECIPE, "batch_size": batch_size, **recipe}
    if minutes is not None:
        out["minutes"] = minutes
    m = out.get("minutes")
    if not isinstance(m, numbers.Real) or isinstance(m, bool) or not math.isfinite(m) or m <= 0:
        raise AtomintError(f"--budget-minutes must be a finite number of minutes > 0 (training wall time, all "
                           f"resumes together), got {m!r}")
    b = out["batch_size"]
    if not isinstance(b, numbers.Integral) or isinstance(b, bool) or b < 1:
        raise AtomintError(f"a budget's batch_size must be a whole number ≥ 1 (molecules per optimizer step), got {b!r}")
    if not 0 < out["ema_decay"] < 1:
        raise AtomintError(f"a budget's ema_decay (weight average, per step) must lie in (0, 1), got {out['ema_decay']}")
    budget_lr(0.0, out["peak_lr"], out["min_lr"], out["warmup"], out["start_factor"])  # names bad rates
    return {**{k: float(v) for k, v in out.items() if k != "batch_size"}, "batch_size": int(b)}


def check_resume(folder, budget: dict | None) -> None:
    """Refuse to continue the run in ``folder`` under another budget than the one it was trained with (none
    being one): its schedule is a function of its budget."""
    from .. import store

    path = Path(folder) / store.PROVENANCE
    if not path.is_file():
        return
    before = store.read_json(path).get("profile_settings", {}).get("budget")
    if before != budget:
        def said(b):
            return "no time budget" if not b else f"the time budget {b}"
        raise AtomintError(f"{Path(folder).name} was trained with {said(before)}, not {said(budget)}: re-run it as it "
                           f"was started (the same --budget-minutes and recipe), or train a new run with --name")


def stop_reason(wall_s: float, epochs: int, budget: dict) -> str | None:
    """Why a budget run that has trained ``epochs`` epochs in ``wall_s`` seconds (rank 0's clock, shared)
    ends now, or None: the next epoch, at the mean epoch so far, would overrun ``budget["minutes"]``."""
    budget_s = budget["minutes"] * 60
    if not stops_before_next_epoch(wall_s, budget_s, [wall_s / epochs] * epochs if epochs else []):
        return None
    return (f"finished its time budget of {budget['minutes']:g} min ({wall_s / 60:.1f} min trained in {epochs} "
            f"epoch{'s' if epochs != 1 else ''}; another would overrun it)")


class Schedule:
    """The budget schedule of one process of a run: per optimizer step the learning rate of
    :func:`budget_lr` at :func:`progress`, from numbers every rank shares (the wall time at the epoch's
    start, the previous epoch's seconds per step with validation and saving, or in the first epoch rank
    0's mean over :data:`FIRST_STEPS` steps after :data:`WARM_STEPS`, broadcast once), and the weight average from the
    first step. ``state()`` goes into ``state.pt``, so a resumed run continues the schedule."""

    def __init__(self, budget: dict, ranks: "Ranks"):
        self.budget, self.ranks = budget, ranks
        self.budget_s = budget["minutes"] * 60
        self.start = self.last_start = None  # wall time (s) at this epoch's start, at the previous epoch's
        self.step = self.last_steps = 0      # optimizer steps taken in this epoch, in the previous one
        self.step_s = self.t_first = None

    def state(self) -> dict:
        """What ``state.pt`` keeps of the epoch just trained (its start and its steps)."""
        return {"budget": {"epoch_start_s": self.start, "steps": self.step}}

    def restore(self, st: dict) -> None:
        """Continue after the epoch that ``state.pt``'s ``st`` records."""
        b = st.get("budget") or {}
        self.start, self.step = b.get("epoch_start_s"), int(b.get("steps", 0))

    def begin_epoch(self, run) -> None:
        """Before an epoch's first step: the weight average started, the pace of the previous epoch."""
        if run.ema is None:
            run.ema = WeightAverage(run.model, self.budget["ema_decay"])
        self.step_s = None
        if self.start is not None and self.step > 0 and run.wall > self.start:
            self.step_s = (run.wall - self.start) / self.step
        self.start, self.step = run.wall, 0

    def before_step(self, opt) -> float:
        """Set (and return) the learning rate of the epoch's next optimizer step."""
        if self.step_s is None:  # pace unknown: rank 0 times the first steps, every rank takes its number
            if self.step == WARM_STEPS:
                self.t_first = clock()
            elif self.step == WARM_STEPS + FIRST_STEPS:
                self.step_s = self.ranks.broadcast((clock() - self.t_first) / FIRST_STEPS)
        b = self.budget
        lr = budget_lr(progress(self.start, self.step, self.step_s, self.budget_s), b["peak_lr"], b["min_lr"],
                       b["warmup"], b["start_factor"])
        for g in opt.param_groups:
            g["lr"] = lr
        self.step += 1
        return lr
