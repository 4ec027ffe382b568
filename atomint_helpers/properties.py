"""Shared names: the batch keys every model reads and, per training target, its output keys and units.

Batch keys are schnetpack 2.x's ``properties`` names, so schnetpack modules take our batches directly.
A target (``energy``, ``dipole``, ``crystals``) names what a model is trained on; :data:`TARGETS` says
which output holds the molecular value, which holds the latent per-atom terms, and their units. Every
other module asks here instead of spelling the keys again.
"""
from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------------------------------- batch keys
Z_KEY, R_KEY, IDX_M, N_ATOMS = "_atomic_numbers", "_positions", "_idx_m", "_n_atoms"
IDX_I, IDX_J, OFFSETS, CELL = "_idx_i", "_idx_j", "_offsets", "_cell"
ACSF_KEY = "_acsf"


@dataclass(frozen=True)
class Target:
    """One training target: the molecular output key and unit, the latent per-atom key and unit, the
    column name latent tables use, and plain-language labels."""

    name: str
    key: str            # model output holding the molecular value (also the data target key)
    unit: str           # unit of ``key``
    latent_key: str     # model output holding the latent per-atom terms
    latent_unit: str
    column: str         # column of latent tables (interpret.atom_terms)
    label: str          # e.g. "atomization energy"
    latent_label: str   # e.g. "atomic energies"


TARGETS = {
    "energy": Target("energy", "energy", "kcal/mol", "atomic_energies", "kcal/mol", "atomic_energy",
                     "atomization energy", "atomic energies"),
    "dipole": Target("dipole", "dipole_moment", "D", "partial_charges", "e", "charge",
                     "dipole moment |μ|", "partial charges"),
    "crystals": Target("crystals", "formation_energy", "eV/atom", "atomic_energies", "eV/atom", "atomic_energy",
                       "formation energy per atom", "atomic formation energies"),
}
#: molecular outputs (one value per molecule or crystal), as opposed to per-atom ones
MOLECULAR_KEYS = ("energy", "dipole_moment", "formation_energy")
#: display names of the two architectures, in the paper's order of Table 1
MODEL_LABELS = {"bp": "BP", "schnet": "SchNet"}
MODEL_ORDER = ("bp", "schnet")
#: the test MAE each model of the ``cpu`` profile aims for on every fold, in the target's unit (kcal/mol, D):
#: BP at least the paper's BP (its dipole) or better; SchNet below BP on every fold, and below 0.40 kcal/mol
#: for the energy. The one set of goals every page shows (Table 1's notes, the training appendix).
CPU_GOALS = {("bp", "energy"): 0.60, ("bp", "dipole"): 0.073, ("schnet", "energy"): 0.40, ("schnet", "dipole"): 0.030}


def goal_text(goal: float) -> str:
    """An error goal written as it was set, to two significant digits (0.4 → '0.40', 0.03 → '0.030'), for
    the tables, texts and figure legends that show one."""
    import math

    return f"{goal:.{max(2, 1 - math.floor(math.log10(abs(goal))))}f}"


def target(name: str) -> Target:
    """The :class:`Target` called ``name`` (an AtomintError lists the accepted names)."""
    if name not in TARGETS:
        from . import AtomintError

        raise AtomintError(f"unknown target {name!r}; accepted: {', '.join(TARGETS)}")
    return TARGETS[name]
