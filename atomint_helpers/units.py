"""Units: one table of conversion constants, nothing else.

Internal conventions: lengths in Å, energies reported in kcal/mol (QM9 stores Hartree),
dipoles in Debye (computed in e·Å), charges in e.
Values as used by QM9's documentation and ASE (CODATA 2014).
"""
HARTREE_TO_EV = 27.211386
HARTREE_TO_KCAL_MOL = 627.5095
EV_TO_KCAL_MOL = HARTREE_TO_KCAL_MOL / HARTREE_TO_EV  # 23.06055
KCAL_MOL_TO_EV = 1.0 / EV_TO_KCAL_MOL
BOHR_TO_ANGSTROM = 0.52917721
ANGSTROM_TO_BOHR = 1.0 / BOHR_TO_ANGSTROM
# 1 e·Å = 4.80320 D; QM9's README gives 1 D = 0.20819434 e·Å.
E_ANGSTROM_TO_DEBYE = 4.80320
DEBYE_TO_E_ANGSTROM = 1.0 / E_ANGSTROM_TO_DEBYE
# Coulomb constant: e² / (4 π ε0 Å) in eV (so V [eV] = COULOMB_EV_ANGSTROM * q_i q_j / r[Å]).
COULOMB_EV_ANGSTROM = 14.399645

_ENERGY = {"hartree": 1.0, "ha": 1.0, "ev": HARTREE_TO_EV, "kcal/mol": HARTREE_TO_KCAL_MOL}


def convert_energy(value, from_unit: str, to_unit: str):
    """Convert an energy (scalar or array) between 'hartree', 'eV' and 'kcal/mol'."""
    try:
        f, t = _ENERGY[from_unit.lower()], _ENERGY[to_unit.lower()]
    except KeyError as e:
        raise ValueError(f"unknown energy unit {e.args[0]!r}; use one of 'hartree', 'eV', 'kcal/mol'") from None
    return value * (t / f)
