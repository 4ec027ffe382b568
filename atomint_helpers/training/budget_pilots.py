"""The pilots that chose the wall-time budget recipe (:data:`.budget.DEFAULT_RECIPE`, issue 37), and the rule
that read the choice off them, both declared before any pilot ran (the outcome: bench/RESULTS.md).

Every pilot trains SchNet (the ``cpu`` architecture, 64×3) on the energy of fold 0 from scratch, on idle cores
with two data-parallel processes of one thread each, to a budget of :data:`PILOT_MINUTES`, under one recipe of
:data:`PILOTS`; the warm-up (5 % of the budget from 0.1 × the peak), ``min_lr`` and the weight average's decay
are the same in every pilot (those of :data:`~.budget.DEFAULT_RECIPE`), so the pilots vary the two settings
a short budget is most sensitive to: the peak learning rate and the batch (a batch ``k`` times the profile's
with the peak scaled by √k, as Adam's noise scale asks). ``bench/pilot_budget.py --plan N`` runs pilot ``N``.

The rule (:func:`choose`): the pilot with the lowest **validation** MAE of its kept weights wins; pilots within
:data:`TIE_KCAL` of the lowest are tied (the epoch-to-epoch noise of a validation MAE near 0.5 kcal/mol), and
among tied pilots the gentler recipe wins (the smaller peak learning rate, then the smaller batch). The test
MAE that every run records is never read.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import AtomintError

#: each pilot's wall-time budget (minutes)
PILOT_MINUTES = 30.0
#: data-parallel processes of every pilot (one torch thread each): the setup the recipe is chosen for
PILOT_PROCESSES = 2


@dataclass(frozen=True)
class Pilot:
    """One candidate recipe: ``peak_lr`` at the profile's batch size, the batch ``batch_scale`` times the
    profile's (the peak then scaled by √``batch_scale``)."""

    peak_lr: float
    batch_scale: int


#: the declared pilots, in the order they run
PILOTS = (Pilot(1e-3, 1), Pilot(2e-3, 1), Pilot(1e-3, 2), Pilot(2e-3, 2))
#: validation MAEs (kcal/mol) closer than this to the lowest are tied
TIE_KCAL = 0.01


@dataclass(frozen=True)
class PilotResult:
    """A finished pilot: its recipe as run (``peak_lr`` already scaled by √k), batch size and the best
    validation MAE of its kept weights (kcal/mol)."""

    name: str
    peak_lr: float
    batch_size: int
    best_val_mae: float


def choose(results: list[PilotResult]) -> PilotResult:
    """The chosen pilot by the declared rule (module docstring)."""
    if not results:
        raise AtomintError("no finished pilot to choose from; run them first: python bench/pilot_budget.py --plan N")
    best = min(r.best_val_mae for r in results)
    tied = [r for r in results if r.best_val_mae - best < TIE_KCAL]
    return min(tied, key=lambda r: (r.peak_lr, r.batch_size))
