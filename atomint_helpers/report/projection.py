"""Where a run that is still training is heading: its validation MAE at the end of its schedule, projected
from a finished run of the same recipe.

Every SchNet ``cpu`` run follows one schedule (100 epochs of Adam halved on plateaus, then a cosine from
the stage-2 rate down to 1e-6 at epoch 300: ``training.fixed_schedule``), so a run that is still training
can be read against a finished run of that recipe (the *reference*, another fold):

* **Tracking ratio** ``r``: the median of ``val_run(e) / val_ref(e)`` over the run's last ``window`` logged
  epochs (epochs both logged).
* **Projected final** validation MAE: ``r · val_ref(T)``, with ``T`` the reference's last epoch. It assumes
  the run keeps its present ratio to the reference for the rest of the schedule.
* **Projected goal epoch**: the first epoch at which the reference, scaled by ``r``, is at or below the goal,
  or ``None`` when that does not happen within the schedule.
* **Epochs for the goal with a longer schedule** (:func:`epochs_for`): a power law in the schedule length,
  ``L(T) = L(T_1) · (T / T_1)^(-α)``, with ``α`` from the reference's best validation MAE after two schedule
  lengths (:func:`schedule_exponent`). This rests on two points of one fold, so it gives an order of
  magnitude, not a prediction.

The size of the tracking error is measured, not assumed: :func:`backtest` projects runs from each other as
if they had stopped at an earlier epoch, and compares with what they logged later.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """One run read against a finished reference run of the same recipe (validation MAE, the run's unit)."""

    epoch: int                      # the run's last logged epoch
    val_mae: float                  # its validation MAE there
    ratio: float                    # tracking ratio r (median over the window)
    final_epoch: int                # the reference's last epoch: the end of the schedule
    projected_final: float          # r · val_ref(final_epoch)
    goal: float | None              # the goal the run is read against
    goal_epoch: int | None          # first epoch with r · val_ref(e) ≤ goal; None if not within the schedule
    reached: bool                   # the run itself already logged a validation MAE ≤ goal


def _by_epoch(log: list[dict]) -> dict[int, float]:
    return {int(r["epoch"]): float(r["val_mae"]) for r in log}


def tracking_ratio(log: list[dict], reference: list[dict], *, window: int = 5, at: int | None = None) -> float:
    """Median of ``val_run(e) / val_ref(e)`` over the ``window`` last epochs both logged, up to epoch ``at``
    (default: the run's last logged epoch)."""
    run, ref = _by_epoch(log), _by_epoch(reference)
    at = max(run) if at is None else at
    common = sorted(e for e in run if e in ref and e <= at)[-window:]
    if not common:
        raise ValueError("the run and its reference share no logged epoch; pick a reference of the same recipe "
                         "that has trained at least as far")
    return float(np.median([run[e] / ref[e] for e in common]))


def project(log: list[dict], reference: list[dict], goal: float | None = None, *, window: int = 5) -> Projection:
    """Project ``log`` (a run's epoch rows, ``training.read_log``) to the end of the schedule that the
    finished ``reference`` ran, and find the epoch at which it would reach ``goal``."""
    if not log or not reference:
        raise ValueError("both the run and its reference need logged epochs")
    run, ref = _by_epoch(log), _by_epoch(reference)
    epoch = max(run)
    r = tracking_ratio(log, reference, window=window)
    final = max(ref)
    goal_epoch = None
    if goal is not None:
        goal_epoch = next((e for e in sorted(ref) if r * ref[e] <= goal), None)
    return Projection(epoch=epoch, val_mae=run[epoch], ratio=r, final_epoch=final,
                      projected_final=r * ref[final], goal=goal, goal_epoch=goal_epoch,
                      reached=goal is not None and min(run.values()) <= goal)


def schedule_exponent(short: tuple[int, float], long: tuple[int, float]) -> float:
    """``α`` of ``L(T) ∝ T^(-α)`` through two (schedule length in epochs, validation MAE) points."""
    (t1, l1), (t2, l2) = short, long
    if t2 <= t1 or min(l1, l2) <= 0:
        raise ValueError("give the shorter schedule first, both with positive errors")
    return math.log(l1 / l2) / math.log(t2 / t1)


def epochs_for(goal: float, length: int, mae: float, alpha: float) -> float:
    """Schedule length (epochs) at which ``L(T) = mae · (T / length)^(-α)`` reaches ``goal``; ``length`` when
    ``mae`` is already at or below it, ``inf`` when the power law does not fall (``α ≤ 0``)."""
    if mae <= goal:
        return float(length)
    if alpha <= 0:
        return math.inf
    return length * (mae / goal) ** (1.0 / alpha)


def backtest(logs: dict[str, list[dict]], at: int, *, window: int = 5, min_gap: int = 10) -> list[dict]:
    """Every ordered pair of runs in ``logs`` that share a schedule: project the second from the first as if it
    had stopped at epoch ``at``, to the last epoch both logged (at least ``min_gap`` epochs later), beside the
    validation MAE it logged there. Rows: reference, run, from, to, projected, reached, relative error."""
    out = []
    for ref_name, ref in logs.items():
        for name, log in logs.items():
            run_v, ref_v = _by_epoch(log), _by_epoch(ref)
            if name == ref_name or at not in run_v or at not in ref_v:
                continue
            to = min(max(run_v), max(ref_v))
            if to - at < min_gap or to not in run_v or to not in ref_v:
                continue
            projected = tracking_ratio(log, ref, window=window, at=at) * ref_v[to]
            out.append({"reference": ref_name, "run": name, "from": at, "to": to, "projected": projected,
                        "reached": run_v[to], "error": projected / run_v[to] - 1.0})
    return out
