"""Training profiles: everything that defines a run besides model, target and fold.

``quick`` (seconds on the embedded sample: tests, CI, nbval), ``cpu`` (full QM9 on a 2-core CPU: the
committed checkpoints) and ``paper`` (SchNet 128×6, the SchNet papers' QM9 size, through PyTorch Lightning, for GPUs);
:data:`CRYSTAL_PROFILES` for SchNet on Materials Project crystals (Fig. 7).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import AtomintError
from ..properties import CPU_GOALS
from . import budget as wall_budget


@dataclass
class Profile:
    """Everything that defines a training run besides model, target and fold."""

    name: str
    full_data: bool
    n_train: int
    n_val: int
    batch_size: int
    lr: float
    lr_factor: float = 0.5
    lr_patience: int = 5
    min_lr: float = 1e-6
    early_stop_patience: int = 15
    max_epochs: int | dict = 1000  # an int, or per model {"bp": …, "schnet": …}
    max_minutes: dict = field(default_factory=dict)  # per model: total training wall time (all resumes)
    schnet: dict = field(default_factory=dict)
    bp: dict = field(default_factory=dict)
    threads: int | None = None
    lightning: bool = False
    #: SchNet's interaction blocks through torch.compile (``SchNetAtomwise.compile_interactions``) when the
    #: run uses one torch thread: on a 2-core CPU a 64×3 training step ran 1.75× faster than eager with 1
    #: thread, but 0.59× with 2 (inductor's parallel scatter loops), so with more threads it stays eager
    compile: bool = False
    #: a second stage per model, e.g. ``{"schnet": {"from_epoch": 100, "lr": 1e-4, "ema_decay": 0.999}}``:
    #: from that epoch on the learning rate follows a cosine from ``lr`` down to ``min_lr`` at ``max_epochs``
    #: (no plateau halving, no early stopping: the schedule has a fixed end), and validation, the best
    #: weights and the test use an exponential moving average of the weights (decay per step)
    extend: dict = field(default_factory=dict)
    #: restart screening per model and target, e.g. ``{"schnet": {"dipole": {"candidates": 3, "epochs": 3}}}``:
    #: see :func:`screen_restarts`
    restarts: dict = field(default_factory=dict)
    #: the declared extension recipe a run continues with (:mod:`.extension`), recorded in provenance
    extension: str | None = None
    #: learning curves (:mod:`.curve`): train on a seeded random subset of this many of the fold's
    #: ``n_train`` molecules and validate on ``val_subset`` of its ``n_val``; the test set stays the fold's
    train_subset: int | None = None
    val_subset: int | None = None
    #: molecules an epoch draws at least: a training set smaller than this is passed over several times
    #: per epoch (each pass reshuffled), so that validation, the schedule's patience and the saves come
    #: every so many optimizer steps whatever the set's size
    epoch_molecules: int | None = None
    #: a wall-time budget (:mod:`.budget`): ``{"minutes", "peak_lr", "min_lr", "warmup", "start_factor",
    #: "ema_decay", "batch_size"}``; it replaces the profile's schedule (the learning rate per step from the
    #: time used, the weight average from the first step, no plateau halving, no early stopping, no second
    #: stage, no restart screening). Its constants: :data:`.budget.DEFAULT_RECIPE`, chosen by pilots
    budget: dict | None = None


PROFILES = {
    "quick": Profile("quick", full_data=False, n_train=1000, n_val=200, batch_size=50, lr=2e-3, lr_patience=2,
                     early_stop_patience=4, max_epochs=4, max_minutes={},
                     schnet=dict(n_atom_basis=32, n_interactions=2, n_rbf=16, cutoff=5.0),
                     bp=dict(n_radial=8, n_angular=3, zetas=(1,), cutoff=5.0, hidden=(32, 32), clip_features=True)),
    # cpu: an epoch budget (not a time budget), so that every fold gets the same schedule whatever else
    # runs on the machine; about 35 min (BP) and 2 h (SchNet) on an otherwise idle 2-core CPU.
    # BP without clip_features: the committed cpu folds were trained before the option existed. On 100,000
    # training molecules the training range covers nearly every test atom: for bp-energy-cpu-fold0, 162 of
    # 374,985 test atoms (120 of 20,831 molecules) leave it, and clamping them after training changed the
    # test MAE from 0.4562 to 0.4565 kcal/mol. The quick profile (1,000 molecules) needs it.
    #
    # SchNet: 300 epochs in two stages. Epochs 1–100 are the recipe above (Adam 5e-4, halved on a
    # validation plateau of 6 epochs). It left SchNet underfit (train MAE 0.49 ≈ val 0.53 kcal/mol at epoch
    # 100 of fold 0, val still falling while the learning rate was being halved). Epochs 101–300: a cosine
    # from 2e-4 to min_lr with an exponential moving average of the weights (decay 0.999 per step), which
    # validation, the kept weights and the test use. Chosen by a pilot on fold 0 (bench/RESULTS.md): from
    # epoch 100, the weight average alone took validation from 0.580 to 0.520 kcal/mol in one epoch, and
    # with the same 35 min of training a restart at 2e-4 ended lower than a cosine from 6e-5 (the rate stage
    # 1 ended with). Dipole runs first screen three seeds for 3 epochs (lowest validation MAE wins; see
    # training.screen_restarts) against the local mirror solution one fold's charges settled in.
    "cpu": Profile("cpu", full_data=True, n_train=100_000, n_val=10_000, batch_size=100, lr=5e-4,
                   lr_patience=6, early_stop_patience=20, max_epochs={"bp": 150, "schnet": 300},
                   max_minutes={}, compile=True,
                   extend={"schnet": {"from_epoch": 100, "lr": 2e-4, "ema_decay": 0.999}},
                   restarts={"schnet": {"dipole": {"candidates": 3, "epochs": 3}}},
                   schnet=dict(n_atom_basis=64, n_interactions=3, n_rbf=20, cutoff=5.0),
                   bp=dict(n_radial=16, n_angular=2, zetas=(1, 4), cutoff=5.0, hidden=(128, 64))),
    "paper": Profile("paper", full_data=True, n_train=100_000, n_val=10_000, batch_size=32, lr=1e-4,
                     lr_factor=0.8, lr_patience=25, early_stop_patience=100, max_epochs=5000, max_minutes={},
                     schnet=dict(n_atom_basis=128, n_interactions=6, n_rbf=50, cutoff=5.0),
                     bp=dict(n_radial=22, n_angular=5, zetas=(1, 4), cutoff=5.0, hidden=(256, 256), clip_features=True),
                     lightning=True),
}


#: Materials Project crystals (target ``crystals``, SchNet only). The clean set has 36,733 structures
#: (25.8 atoms and, at 5 Å, about 900 neighbour pairs each: roughly 3× a QM9 molecule). ``cpu`` is
#: SchNet 64×3 as for QM9 on a 29,000/3,500/4,233 split, a 100-minute budget by default (first 240: with
#: compiled interactions (~60 s epochs on one thread) the committed run's learning rate had decayed from
#: 5e-4 to 3.9e-6 by epoch 85, at 96 min, and its validation MAE moved from 0.0507 to 0.0503 eV/atom over
#: the last 10 epochs, so the budget was cut to 100 minutes). Its element
#: embeddings start at 0.1·N(0, 1) instead of N(0, 1): a first cpu run from N(0, 1) moved them by only
#: ~20 % of their norm in 40 epochs, so Fig. 7 showed mostly the random start (see notebooks/embeddings).
#: ``quick`` trains a tiny SchNet on the embedded 1,500-crystal sample (1,100/200/200) for up to 30 epochs,
#: under a minute.
CRYSTAL_PROFILES = {
    "quick": Profile("quick", full_data=False, n_train=1100, n_val=200, batch_size=50, lr=2e-3, lr_patience=3,
                     early_stop_patience=6, max_epochs=30, max_minutes={},
                     schnet=dict(n_atom_basis=32, n_interactions=2, n_rbf=16, cutoff=5.0)),
    "cpu": Profile("cpu", full_data=True, n_train=29_000, n_val=3_500, batch_size=32, lr=5e-4,
                   lr_patience=4, early_stop_patience=15, max_epochs=1000, max_minutes={"schnet": 100}, compile=True,
                   schnet=dict(n_atom_basis=64, n_interactions=3, n_rbf=25, cutoff=5.0, embedding_std=0.1)),
    "paper": Profile("paper", full_data=True, n_train=29_000, n_val=3_500, batch_size=32, lr=1e-4,
                     lr_factor=0.8, lr_patience=25, early_stop_patience=100, max_epochs=5000, max_minutes={},
                     schnet=dict(n_atom_basis=128, n_interactions=6, n_rbf=50, cutoff=5.0, embedding_std=0.1),
                     lightning=True),
}
#: the 87 elements of the Materials Project set: Z = 1…94 without Ne, Ar, Po, At, Rn, Fr, Ra
CRYSTAL_ELEMENTS = tuple(z for z in range(1, 95) if z not in (10, 18, 84, 85, 86, 87, 88))


#: per profile, SchNet's goals (test MAE; kcal/mol for energy, D for dipole): for ``cpu``, below BP on every fold
GOALS = {"cpu": {t: goal for (m, t), goal in CPU_GOALS.items() if m == "schnet"}}


def fixed_schedule(profile: str, model: str = "schnet") -> tuple[int, int] | None:
    """``(first-stage epochs, last epoch)`` of a profile whose schedule for ``model`` has a fixed end (a second
    stage with a cosine to ``max_epochs``), or ``None`` (plateau halving and early stopping: no fixed end,
    nothing to project against)."""
    prof = get_profile(profile)
    stage2 = prof.extend.get(model)
    if not stage2:
        return None
    final = prof.max_epochs[model] if isinstance(prof.max_epochs, dict) else prof.max_epochs
    return int(stage2["from_epoch"]), int(final)


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise AtomintError(f"unknown profile {name!r}; accepted: {', '.join(PROFILES)}")
    return PROFILES[name]



def resolve(name: str, model_name: str, target: str, overrides: dict | None = None,
            max_epochs: int | None = None, max_minutes: float | None = None,
            budget_minutes: float | None = None) -> Profile:
    """The profile a run uses: the crystal profile for target ``crystals``, ``overrides`` applied, and the
    epoch and time budgets in effect for ``model_name`` written into it (provenance records them). With
    ``budget_minutes`` (or ``overrides["budget"]`` giving its minutes) the run follows :mod:`.budget`."""
    prof = get_profile(name)
    if target == "crystals":
        prof = CRYSTAL_PROFILES[prof.name]
    if overrides:
        prof = replace(prof, **overrides)
    if budget_minutes is not None or prof.budget:
        prof = _with_budget(prof, budget_minutes, max_minutes)
        max_epochs = wall_budget.NO_EPOCH_LIMIT if max_epochs is None else max_epochs
    if max_epochs is None:
        max_epochs = prof.max_epochs[model_name] if isinstance(prof.max_epochs, dict) else prof.max_epochs
    prof = replace(prof, max_epochs=int(max_epochs))
    budget = max_minutes if max_minutes is not None else prof.max_minutes.get(model_name)
    if budget is not None:
        prof = replace(prof, max_minutes={**prof.max_minutes, model_name: float(budget)})
    return prof


def _with_budget(prof: Profile, minutes: float | None, max_minutes: float | None) -> Profile:
    """``prof`` with a wall-time budget in place of its own schedule (:func:`.budget.settings`)."""
    if max_minutes is not None:
        raise AtomintError("--budget-minutes and --max-minutes exclude each other: a budget run schedules its "
                           "learning rate to its own end; pass one of them")
    if prof.lightning:
        raise AtomintError(f"the {prof.name} profile trains through PyTorch Lightning, which has no budget "
                           f"schedule: use --budget-minutes with the quick or cpu profile")
    if prof.extension:
        raise AtomintError("--budget-minutes cannot continue a finished run with --extend; train a new run")
    b = wall_budget.settings(minutes, prof.budget, prof.batch_size)
    return replace(prof, budget=b, batch_size=b["batch_size"], lr=b["peak_lr"], min_lr=b["min_lr"], max_minutes={},
                   extend={}, restarts={})
