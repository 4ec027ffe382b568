"""Output heads: turn one latent scalar per atom into a molecular property and its latent terms.

Energy head — ``E = Σ_i E_i`` with ``E_i = b_{Z_i} + s · y_i`` (kcal/mol).
    The target is the atomization energy (U0 minus QM9's B3LYP atom references). The per-element
    shifts ``b_Z`` are the least-squares fit of the training energies to the element counts
    (E ≈ Σ_Z n_Z b_Z), and ``s`` is the standard deviation of that fit's residual per atom. The network
    thus learns only the deviation from an element's typical contribution, and the latent atomic
    energies ``E_i`` stay in kcal/mol on the atomization-energy scale, directly comparable between
    BP and SchNet (Fig. 2). ``Σ_i E_i`` equals ``energy`` exactly (same index_add).

Dipole head — ``μ = Σ_i q_i (r_i − r_COM)`` (e·Å, reported in Debye; 1 e·Å = 4.80320 D).
    The latent charges are ``q_i = s_q · y_i − (1/N_m) Σ_{k∈m} s_q · y_k``: the excess charge of a
    molecule is spread evenly over its atoms so that every molecule is exactly neutral (schnetpack's
    ``correct_charges``). Neutrality makes μ independent of the origin, so the centre of mass is a
    convention that only matters for charged systems. The model is trained on |μ| (``dipole_moment``),
    as in the paper, and also outputs ``dipole_vector`` and ``partial_charges`` (e).

Formation-energy head (crystals, Fig. 7) — ``E_f = (1/N) Σ_i e_i`` with ``e_i = b_{Z_i} + s · y_i`` (eV/atom).
    The Materials Project target is intensive (formation energy per atom), so the crystal's value is the
    **mean**, not the sum, of the latent atomic contributions; a supercell therefore gets the same value
    as its unit cell. The per-element shifts ``b_Z`` are the least-squares fit of the training formation
    energies to the composition fractions (E_f ≈ Σ_Z x_Z b_Z with x_Z = n_Z / N, which sum to one, so no
    intercept is needed); elements absent from the training split keep ``b_Z = 0``. ``s`` is the standard
    deviation of that fit's residual (not divided by √N as for the extensive energy: the atoms of a
    crystal are symmetry-equivalent in large groups, so their deviations are far from independent).
    ``atomic_energies`` (eV/atom) are the latent ``e_i``; their mean per crystal equals
    ``formation_energy`` exactly (same index_add, divided by N).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..properties import IDX_M, N_ATOMS, R_KEY, Z_KEY
from ..units import E_ANGSTROM_TO_DEBYE


def molecule_sum(values: torch.Tensor, idx_m: torch.Tensor, n_molecules: int) -> torch.Tensor:
    out = torch.zeros((n_molecules, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add(0, idx_m, values)


def element_composition_fit(Z, offsets, y, *, per_atom: bool):
    """Least-squares per-element reference values: ``y ≈ Σ_e c_e b_e`` with ``c_e`` the count of element
    ``e`` in each structure (``per_atom=False``, extensive ``y``) or its fraction (``per_atom=True``,
    intensive ``y``). Returns ``(elements, b, residuals, n_atoms)``."""
    Z = np.asarray(Z, dtype=np.int64)
    n_atoms = np.diff(offsets)
    owner = np.repeat(np.arange(len(n_atoms)), n_atoms)
    elements = np.unique(Z)
    comp = np.zeros((len(n_atoms), len(elements)))
    np.add.at(comp, (owner, np.searchsorted(elements, Z)), 1.0)
    if per_atom:
        comp /= n_atoms[:, None]
    y = np.asarray(y, dtype=np.float64)
    b, *_ = np.linalg.lstsq(comp, y, rcond=None)
    return elements, b, y - comp @ b, n_atoms


class _ElementShiftHead(nn.Module):
    """Shared part of the energy heads: ``e_i = shift[Z_i] + scale · y_i`` with per-element shifts and one
    scale fitted from the training data before training (buffers ``shift`` and ``scale``)."""

    def __init__(self, max_z: int = 100):
        super().__init__()
        self.register_buffer("shift", torch.zeros(max_z + 1, dtype=torch.float64))
        self.register_buffer("scale", torch.ones((), dtype=torch.float64))

    def _set(self, elements: np.ndarray, shifts: np.ndarray, scale: float) -> None:
        self.shift.zero_()
        self.shift[torch.as_tensor(elements)] = torch.as_tensor(shifts, dtype=torch.float64)
        self.scale.fill_(float(scale) or 1.0)

    def atomic_energies(self, batch: dict[str, torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        return self.shift.to(y.dtype)[batch[Z_KEY]] + self.scale.to(y.dtype) * y


class EnergyHead(_ElementShiftHead):
    """``energy`` (kcal/mol) and ``atomic_energies`` (kcal/mol) from latent scalars."""

    target = "energy"
    outputs = ("energy", "atomic_energies")
    unit = "kcal/mol"

    @torch.no_grad()
    def fit(self, Z: np.ndarray, offsets: np.ndarray, energy: np.ndarray) -> None:
        """Per-element shifts by least squares on element counts; scale = residual std per atom."""
        elements, b, resid, n_atoms = element_composition_fit(Z, offsets, energy, per_atom=False)
        self._set(elements, b, np.std(resid / np.sqrt(n_atoms)))

    def forward(self, batch: dict[str, torch.Tensor], y: torch.Tensor) -> dict[str, torch.Tensor]:
        e_i = self.atomic_energies(batch, y)
        n_mol = len(batch[N_ATOMS])
        return {"energy": molecule_sum(e_i, batch[IDX_M], n_mol), "atomic_energies": e_i}


#: Pauling electronegativities of common elements of organic molecules, for the starting charges below
PAULING = {1: 2.20, 3: 0.98, 5: 2.04, 6: 2.55, 7: 3.04, 8: 3.44, 9: 3.98, 11: 0.93, 14: 1.90, 15: 2.19,
           16: 2.58, 17: 3.16, 35: 2.96, 53: 2.66}
#: starting charge per unit of electronegativity below carbon's (e per Pauling unit): H +0.07, N −0.10,
#: O −0.18, F −0.29 e
CHARGE_PER_PAULING = 0.2
#: how the dipole head's per-element charge offsets start (model config ``"head": {"charge_seed": …}``):
#: ``electronegativity`` (the default, every committed checkpoint) or ``none`` (all start at 0, the
#: control run of the ESP chapter that measures what the seed does to the charges' signs)
CHARGE_SEEDS = ("electronegativity", "none")


def seed_charge(z: int) -> float:
    """The starting charge offset of element ``z`` (e): ``CHARGE_PER_PAULING · (χ_C − χ_Z)``, 0 without a
    tabulated electronegativity."""
    return CHARGE_PER_PAULING * (PAULING[6] - PAULING[int(z)]) if int(z) in PAULING else 0.0


class DipoleHead(nn.Module):
    """``dipole_moment`` |μ| (Debye), ``dipole_vector`` (Debye) and ``partial_charges`` (e).

    ``q_i = c[Z_i] + scale · y_i``, then shifted so that every molecule is neutral. The per-element
    offsets ``c`` are trainable parameters that start from electronegativity
    (``CHARGE_PER_PAULING · (χ_C − χ_Z)``). The loss sees only |μ|, which is unchanged when every charge
    flips sign, so a network can settle on either sign, or in a frustrated mixture (one element's charges
    with one sign convention, another's with the other) that fits |μ| worse. Starting every element on the
    chemical side removes both.
    ``charge_seed="none"`` (config ``"head": {"charge_seed": "none"}``) starts every offset at 0 instead,
    to measure what the electronegativity start does (:data:`CHARGE_SEEDS`).
    """

    target = "dipole_moment"
    outputs = ("dipole_moment", "dipole_vector", "partial_charges")
    unit = "D"
    #: +1 or −1, multiplies the charges (and so μ's direction, never |μ|); set when a checkpoint is loaded
    #: (``store.load_model``) so that every chapter and tool sees a checkpoint's charges with one sign
    charge_sign: float = 1.0

    def __init__(self, max_z: int = 100, charge_seed: str = "electronegativity"):
        super().__init__()
        from ase.data import atomic_masses

        from .. import AtomintError

        if charge_seed not in CHARGE_SEEDS:
            raise AtomintError(f"unknown charge_seed {charge_seed!r}; accepted: {', '.join(CHARGE_SEEDS)}")
        self.charge_seed = charge_seed

        masses = torch.ones(max_z + 1, dtype=torch.float64)
        n = min(len(atomic_masses), max_z + 1)
        masses[:n] = torch.as_tensor(atomic_masses[:n], dtype=torch.float64)
        self.register_buffer("masses", masses)
        self.register_buffer("scale", torch.ones((), dtype=torch.float64))
        self.element_charge = nn.Parameter(torch.zeros(max_z + 1))

    @torch.no_grad()
    def fit(self, Z: np.ndarray, offsets: np.ndarray, dipole_moment: np.ndarray) -> None:
        """Charge scale from the data: |μ| / (e·Å) per atom, so initial charges are O(0.1 e); the element
        offsets start from electronegativity (elements without a tabulated value start at 0), or all at 0
        with ``charge_seed="none"``."""
        n_atoms = np.diff(offsets)
        scale = np.sqrt(np.mean((np.asarray(dipole_moment) / E_ANGSTROM_TO_DEBYE) ** 2 / n_atoms))
        self.scale.fill_(float(scale) or 1.0)
        self.element_charge.zero_()
        if self.charge_seed == "none":
            return
        for z in np.unique(np.asarray(Z, dtype=np.int64)):
            if z < len(self.element_charge):
                self.element_charge[int(z)] = seed_charge(int(z))

    def forward(self, batch: dict[str, torch.Tensor], y: torch.Tensor) -> dict[str, torch.Tensor]:
        Z, R, idx_m = batch[Z_KEY], batch[R_KEY], batch[IDX_M]
        n_mol = len(batch[N_ATOMS])
        n_atoms = batch[N_ATOMS].to(y.dtype)
        q = self.element_charge.to(y.dtype)[Z] + self.scale.to(y.dtype) * y
        q = q - (molecule_sum(q, idx_m, n_mol) / n_atoms)[idx_m]  # Σ_i q_i = 0 per molecule
        if self.charge_sign != 1.0:
            q = self.charge_sign * q
        m = self.masses.to(R.dtype)[Z]
        com = molecule_sum(m[:, None] * R, idx_m, n_mol) / molecule_sum(m, idx_m, n_mol)[:, None]
        mu = molecule_sum(q[:, None] * (R - com[idx_m]), idx_m, n_mol) * E_ANGSTROM_TO_DEBYE
        return {"dipole_moment": torch.linalg.vector_norm(mu, dim=1), "dipole_vector": mu, "partial_charges": q}


class FormationEnergyHead(_ElementShiftHead):
    """``formation_energy`` (eV/atom, intensive) and ``atomic_energies`` (eV/atom) from latent scalars:
    the crystal's value is the mean of its atomic contributions (see the module docstring)."""

    target = "formation_energy"
    outputs = ("formation_energy", "atomic_energies")
    unit = "eV/atom"

    @torch.no_grad()
    def fit(self, Z: np.ndarray, offsets: np.ndarray, formation_energy: np.ndarray) -> None:
        """Per-element shifts by least squares on composition fractions; scale = residual std."""
        elements, b, resid, _ = element_composition_fit(Z, offsets, formation_energy, per_atom=True)
        self._set(elements, b, np.std(resid))

    def forward(self, batch: dict[str, torch.Tensor], y: torch.Tensor) -> dict[str, torch.Tensor]:
        e_i = self.atomic_energies(batch, y)
        n = batch[N_ATOMS]
        return {"formation_energy": molecule_sum(e_i, batch[IDX_M], len(n)) / n.to(y.dtype),
                "atomic_energies": e_i}


HEADS = {"energy": EnergyHead, "dipole": DipoleHead, "crystals": FormationEnergyHead}
