"""The two models of the paper behind one interface.

``build(config)`` returns an :class:`AtomisticModel`: a representation that gives one latent scalar
per atom (Behler–Parrinello or schnetpack's SchNet) and a head that turns those scalars into the
molecular property **and** its latent per-atom terms (``energy`` + ``atomic_energies`` in kcal/mol, or
``dipole_moment``/``dipole_vector`` in Debye + ``partial_charges`` in e, or — for Materials Project
crystals, target ``crystals`` — ``formation_energy`` + ``atomic_energies`` in eV/atom, a mean rather
than a sum; see :mod:`.heads`).

A config is a plain dict (stored as ``config.json`` beside every checkpoint)::

    {"model": "schnet" | "bp", "target": "energy" | "dipole" | "crystals",
     "elements": [1, 6, 7, 8, 9],
     "representation": {...SchNetConfig or BPConfig fields...}}

``elements`` lists the atomic numbers the model was trained for (QM9: H, C, N, O, F; crystals: the 87
elements of the Materials Project set); :meth:`AtomisticModel.check_elements` refuses any other element
with an :class:`~atomint_helpers.AtomintError` naming it, since its SchNet embedding row was never trained.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import AtomintError
from ..data.elements import QM9_ELEMENTS
from ..properties import IDX_I, IDX_J, IDX_M, N_ATOMS, OFFSETS, R_KEY, Z_KEY
from .charge_sign import ChargeSign
from .heads import HEADS, DipoleHead, EnergyHead, FormationEnergyHead

MODELS = ("bp", "schnet")
TARGETS = tuple(HEADS)
DEFAULT_ELEMENTS = QM9_ELEMENTS


def _representation(name: str, cfg: dict, elements) -> nn.Module:
    if name == "schnet":
        from .schnet import SchNetAtomwise

        return SchNetAtomwise(cfg)
    if name == "bp":
        from .bp import BehlerParrinello

        return BehlerParrinello({**cfg, "elements": tuple(elements)})
    raise AtomintError(f"unknown model {name!r}; accepted: {', '.join(MODELS)}")


@dataclass(frozen=True)
class LoadedFrom:
    """Where a model's weights were read, recorded by the loader (:func:`atomint_helpers.store.load_model`):
    the checkpoint ``folder``, the sha256 of its ``weights.pt``, and for a dipole model the charge sign
    applied at load (:mod:`.charge_sign`; ``None`` for other targets or a load without it)."""

    folder: Path
    weights_sha256: str
    charge_sign: ChargeSign | None = None


class AtomisticModel(nn.Module):
    """Representation + head. ``forward(batch)`` returns the head's outputs (see module docstring).

    The config's model and target are checked here: :func:`build` is the entry for configs read from disk
    (``config.json``) and written by users; a training run's config comes from a checked ``RunSpec``."""

    #: where the weights were read (:class:`LoadedFrom`, set by the loader); ``None`` for a model built in memory
    loaded_from: LoadedFrom | None = None

    def __init__(self, config: dict):
        super().__init__()
        config = copy.deepcopy(config)
        if config.get("target") not in HEADS:
            raise AtomintError(f"unknown target {config.get('target')!r}; accepted: {', '.join(TARGETS)}")
        if config["target"] == "crystals" and config.get("model") == "bp":
            raise AtomintError("target 'crystals' (formation energy per atom of periodic structures) is built for "
                               "SchNet only; use model 'schnet'")
        elements = tuple(int(z) for z in config.get("elements", DEFAULT_ELEMENTS))
        config["elements"] = list(elements)
        self.representation = _representation(config.get("model"), config.get("representation", {}), elements)
        config["representation"] = self.representation.config_dict()
        self.config = config
        max_z = max(100, max(elements))
        self.head = HEADS[config["target"]](max_z=max_z, **config.get("head", {}))  # options, e.g. charge_seed
        known = torch.zeros(max_z + 1, dtype=torch.bool)
        known[list(elements)] = True
        self.register_buffer("known_elements", known, persistent=False)

    @property
    def cutoff(self) -> float:
        return self.representation.cutoff

    @property
    def checkpoint(self) -> Path | None:
        """The checkpoint folder the weights were read from, or ``None`` for a model built in memory."""
        return self.loaded_from.folder if self.loaded_from is not None else None

    @property
    def charge_sign(self) -> int:
        """+1 or −1: the sign the dipole head applies to the latent charges (the convention of
        :mod:`.charge_sign`, applied at load); 1 for a model without charges (nothing to flip)."""
        return int(self.head.charge_sign) if isinstance(self.head, DipoleHead) else 1

    @property
    def target_key(self) -> str:
        return self.head.target

    @property
    def unit(self) -> str:
        return self.head.unit

    def check_elements(self, Z: torch.Tensor) -> None:
        """Error naming any element this model was not built for."""
        Zc = Z.clamp(0, len(self.known_elements) - 1)
        ok = self.known_elements[Zc] & (Z == Zc)
        if not bool(ok.all()):
            from ase.data import chemical_symbols

            bad = sorted({chemical_symbols[int(z)] if 0 < int(z) < len(chemical_symbols) else str(int(z))
                          for z in Z[~ok].tolist()})
            have = ", ".join(chemical_symbols[z] for z in self.config["elements"])
            kind = "network" if self.config["model"] == "bp" else "trained embedding"
            raise AtomintError(f"this {self.config['model']} model has no {kind} for element(s) "
                               f"{', '.join(bad)} (it knows {have})")

    def latent(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """One latent scalar per atom, before the head."""
        return self.representation(batch)

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        self.check_elements(batch[Z_KEY])
        return self.head(batch, self.latent(batch))

    # ----------------------------------------------------------------- statistics from training data
    @torch.no_grad()
    def fit_statistics(self, data, rows: np.ndarray, batch_size: int = 500) -> None:
        """Fit the head's per-element shift/scale and (BP) the descriptor standardization on ``rows`` of
        an :class:`~atomint_helpers.data.batch.AtomsData` (the training set only)."""
        from ..data.qm9 import ranges

        rows = np.asarray(rows, dtype=np.int64)
        n = data.n_atoms[rows]
        Z = np.asarray(data.Z)[ranges(np.asarray(data.offsets)[rows], n)]
        offsets = np.concatenate([[0], np.cumsum(n)])
        self.head.fit(Z, offsets, np.asarray(data.targets[self.target_key])[rows])
        if self.config["model"] == "bp":
            rep = self.representation
            rep.standardize.fit((b[Z_KEY], rep.descriptors(b)) for b in data.batches(rows, batch_size))

    # ----------------------------------------------------------------- one molecule, for users
    @torch.no_grad()
    def predict(self, atoms) -> dict:
        """Outputs for one ``ase.Atoms`` as floats / numpy arrays (kcal/mol, Debye, e; positions in Å)."""
        dtype = next(self.parameters()).dtype
        batch = atoms_to_batch(atoms, self.cutoff, dtype=dtype)
        was = self.training
        self.eval()
        try:
            out = self(batch)
        finally:
            self.train(was)
        res = {}
        for k, v in out.items():
            v = v.detach().cpu().double().numpy()
            scalar = k in ("energy", "dipole_moment", "formation_energy")
            res[k] = float(v[0]) if scalar else (v[0] if k == "dipole_vector" else v)
        return res


def require_target(model, target: str, what: str) -> None:
    """Raise a clear error unless ``model`` is an atomint model trained on ``target``; ``what`` names the
    quantity that needs it (e.g. "the ESP"), so the message says why the model does not fit."""
    if not isinstance(model, AtomisticModel):
        raise AtomintError(f"{what} needs an atomint model (atomint_helpers.store.load_model), got "
                           f"{type(model).__name__}")
    if model.config.get("target") != target:
        name = model.checkpoint
        raise AtomintError(f"{what} needs {'an' if target[0] in 'aeiou' else 'a'} {target} model; "
                           f"{name or 'this model'} predicts {model.config.get('target')!r}")


def atoms_to_batch(atoms, cutoff: float, dtype=torch.float32) -> dict[str, torch.Tensor]:
    """A one-structure batch from ``ase.Atoms`` (periodic when ``atoms.pbc`` is set)."""
    from ..data.batch import molecule_pairs, periodic_pairs

    Z = np.asarray(atoms.numbers, dtype=np.int64)
    if len(Z) == 0:
        raise AtomintError("the structure has no atoms")
    R = np.asarray(atoms.positions, dtype=np.float64)
    offsets = np.array([0, len(Z)])
    if np.any(atoms.pbc):
        cell = np.asarray(atoms.cell.array, dtype=np.float64)[None]
        p = periodic_pairs(atoms.get_scaled_positions(wrap=False), cell, offsets, cutoff)
        shifts = torch.as_tensor(p.shifts, dtype=dtype)
    else:
        p = molecule_pairs(R, offsets, cutoff)
        shifts = torch.zeros(len(p), 3, dtype=dtype)
    return {Z_KEY: torch.as_tensor(Z), R_KEY: torch.as_tensor(R, dtype=dtype),
            IDX_M: torch.zeros(len(Z), dtype=torch.long), N_ATOMS: torch.tensor([len(Z)]),
            IDX_I: torch.as_tensor(p.idx_i, dtype=torch.long), IDX_J: torch.as_tensor(p.idx_j, dtype=torch.long),
            OFFSETS: shifts}


def build(config: dict) -> AtomisticModel:
    """The model described by ``config`` (see module docstring), untrained."""
    return AtomisticModel(config)


__all__ = ["AtomisticModel", "build", "atoms_to_batch", "EnergyHead", "DipoleHead", "FormationEnergyHead", "MODELS",
           "TARGETS"]
