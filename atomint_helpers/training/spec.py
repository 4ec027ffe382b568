"""What one run is asked to do, checked once: :class:`RunSpec`.

:func:`atomint_helpers.training.train` builds a spec from its arguments (:meth:`RunSpec.build`, the one place
where a run's model, target, fold, profile, name, data folder and process count are checked), and every layer
below (restart screening, the processes of a data-parallel run, the epoch loop) trusts it. The model config a
run stores (``config.json``) and the profile it records (``provenance.json``'s ``profile_settings``) are
functions of the spec alone (:meth:`RunSpec.config`, :meth:`RunSpec.profile_settings`), so a resumed run is
compared against exactly what the same command would write today.
"""
from __future__ import annotations

import copy
import json
import numbers
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .. import AtomintError, store
from ..data.elements import QM9_ELEMENTS
from ..properties import MODEL_ORDER, target as get_target
from .inputs import check_name_and_data
from .profiles import CRYSTAL_ELEMENTS, Profile, resolve

#: Profile fields left out of ``provenance.json``'s ``profile_settings``: the architectures are in ``config.json``
ARCHITECTURE_FIELDS = ("schnet", "bp")


@dataclass(frozen=True)
class RunSpec:
    """One run as asked and checked: which model learns which target on which fold, with which settings, into
    which folder. Frozen: nothing below :func:`~atomint_helpers.training.train` changes what a run is, except
    the seed restart screening picks (a new spec, :func:`dataclasses.replace`)."""

    model: str                     # "bp" (Behler–Parrinello) or "schnet"
    target: str                    # "energy" (kcal/mol), "dipole" (|μ|, D) or "crystals" (eV/atom)
    fold: int                      # the split's seed
    profile: str                   # the profile's name as asked ("quick", "cpu", "paper")
    prof: Profile                  # that profile resolved: crystal profile, overrides, epoch and time budgets
    folder: Path                   # the run's checkpoint folder
    models_dir: Path               # the folder it lies in (its INDEX.md is rewritten at the end)
    data_dir: str | os.PathLike | None = None   # QM9 / Materials Project folder; None: ATOMINT_DATA or the cache
    threads: int | None = None     # torch threads per process; None: the profile's, else torch's default
    seed: int | None = None        # weights' seed; None: restart screening, else the fold's own
    name: str | None = None        # the folder's name when not the standard one
    devices: str | int = "auto"    # paper profile (Lightning): GPUs or processes
    overrides: dict | None = None  # Profile fields replaced (a recipe's pilots, the learning curve)
    head: dict | None = None       # output-head options kept in the config, e.g. {"charge_seed": "none"}
    processes: int = 1             # data-parallel CPU processes (DDP over gloo)
    progress: bool = True          # progress bar and one line per epoch on stderr

    @classmethod
    def build(cls, model_name: str, target: str, fold: int = 0, profile: str = "quick", models_dir="models",
              data_dir=None, max_minutes: float | None = None, max_epochs: int | None = None,
              threads: int | None = None, progress: bool = True, name: str | None = None, seed: int | None = None,
              devices="auto", overrides: dict | None = None, head: dict | None = None,
              processes: int = 1, budget_minutes: float | None = None) -> "RunSpec":
        """The spec of :func:`~atomint_helpers.training.train`'s arguments (the same names), or an
        AtomintError naming the first bad one and what to pass instead."""
        get_target(target)
        if model_name not in MODEL_ORDER:
            raise AtomintError(f"unknown model {model_name!r}; accepted: {', '.join(MODEL_ORDER)}")
        if target == "crystals" and model_name != "schnet":
            raise AtomintError("target 'crystals' (Materials Project formation energies) is trained with SchNet "
                               "only: use --model schnet")
        if not isinstance(fold, numbers.Integral) or isinstance(fold, bool) or fold < 0:
            raise AtomintError(f"fold must be a whole number ≥ 0 (the split's seed), got {fold!r}")
        check_name_and_data(name, data_dir)
        prof = resolve(profile, model_name, target, overrides, max_epochs, max_minutes, budget_minutes)
        if not isinstance(processes, int) or isinstance(processes, bool) or processes < 1:
            raise AtomintError(f"processes must be a whole number ≥ 1, got {processes!r}")
        if processes > 1 and prof.lightning:
            raise AtomintError(f"the {prof.name} profile trains through PyTorch Lightning: use --devices N for several "
                               f"processes or GPUs instead of --processes")
        if processes > 1 and threads is None:
            threads = 1  # one torch thread per process (and SchNet's compiled interaction blocks)
        # a budget run is named after its budget, so that it never resumes (or meets) the profile's own run
        default = store.run_name(model_name, target, profile, fold)
        if prof.budget:
            default += f"-{prof.budget['minutes']:g}min"
        folder = Path(models_dir) / (name or default)
        return cls(model=model_name, target=target, fold=int(fold), profile=profile, prof=prof, folder=folder,
                   models_dir=Path(models_dir), data_dir=data_dir, threads=threads, seed=seed, name=name,
                   devices=devices, overrides=copy.deepcopy(overrides), head=copy.deepcopy(head),
                   processes=processes, progress=progress)

    @property
    def screens_restarts(self) -> dict | None:
        """The profile's restart screening of this model and target (``{"candidates", "epochs"}``) when the
        run's seed is left to it: no seed and no name given; else None."""
        if self.seed is not None or self.name is not None:
            return None
        return self.prof.restarts.get(self.model, {}).get(self.target) or None

    def candidate(self, seed: int, epochs: int) -> "RunSpec":
        """The spec of one restart-screening candidate: this run's settings with ``seed``, ``epochs`` epochs,
        no screening and no second stage, in ``<run>/restarts/seed<seed>``."""
        return RunSpec.build(self.model, self.target, self.fold, self.profile, self.folder / "restarts",
                             self.data_dir, max_epochs=epochs, threads=self.threads, progress=self.progress,
                             name=f"seed{seed}", seed=seed,
                             overrides={**(self.overrides or {}), "restarts": {}, "extend": {}},
                             processes=self.processes)

    def seeded(self, seed: int | None = None) -> "RunSpec":
        """This spec with its weights' seed decided: ``seed`` (restart screening's choice), else the one asked,
        else the fold's own."""
        return replace(self, seed=int(seed if seed is not None else self.fold if self.seed is None else self.seed))

    @property
    def elements(self) -> tuple[int, ...]:
        """Atomic numbers the model is built for: QM9's H, C, N, O, F, or the 87 of the Materials Project set."""
        return CRYSTAL_ELEMENTS if self.target == "crystals" else QM9_ELEMENTS

    def requested_config(self) -> dict:
        """The model config asked for, before the model fills in its defaults (:func:`..models.build`)."""
        config = {"model": self.model, "target": self.target, "elements": list(self.elements),
                  "representation": copy.deepcopy(getattr(self.prof, self.model))}
        if self.head:
            config["head"] = dict(self.head)
        return config

    def config(self) -> dict:
        """The model config the run stores in ``config.json`` (its first save writes it), as JSON reads it
        back: the model is built (cheap, on CPU) so that its own defaults are filled in."""
        from ..models import build

        return json.loads(json.dumps(build(self.requested_config()).config))

    def profile_settings(self) -> dict:
        """``provenance.json``'s ``profile_settings`` of this run (:func:`profile_settings`)."""
        return profile_settings(self.prof)


def profile_settings(prof: Profile) -> dict:
    """``provenance.json``'s ``profile_settings``: the resolved profile without the architectures, and without
    ``budget`` unless the run has one (so a run without a budget records what runs recorded before it existed)."""
    return {k: v for k, v in asdict(prof).items()
            if k not in ARCHITECTURE_FIELDS and not (k == "budget" and v is None)}
