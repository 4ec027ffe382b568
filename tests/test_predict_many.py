"""AtomintCalculator.predict_many: many molecules in batched forward passes give what one calculator call per
molecule gives, with the applicability check on every molecule."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.calculator import AtomintCalculator
from atomint_helpers.data.qm9 import load_sample

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def sample_molecules():
    ds = load_sample()
    rows = np.random.default_rng(7).choice(len(ds), 20, replace=False)
    return [ds.atoms(int(ds.arrays["index"][r])) for r in rows]


@pytest.mark.parametrize("name, prop", [("schnet-energy-quick", "energy"), ("bp-energy-quick", "energy"),
                                        ("schnet-dipole-quick", "dipole"), ("bp-dipole-quick", "dipole")])
def test_predict_many_matches_one_call_per_molecule(sample_molecules, name, prop):
    """Per fold: the batched molecule totals equal a one-fold calculator's result on each molecule
    (1e-4 relative), and the table's mean and std are those of the fold columns."""
    folders = AtomintCalculator(name, models_dir=MODELS).folders
    table = AtomintCalculator(name, models_dir=MODELS).predict_many(sample_molecules, chunk_size=7)
    unit = "eV" if prop == "energy" else "eA"
    for k, folder in enumerate(folders):
        calc = AtomintCalculator(folder)
        one = []
        for atoms in sample_molecules:
            calc.calculate(atoms.copy(), [prop])
            one.append(calc.results["energy"] if prop == "energy" else np.linalg.norm(calc.results["dipole"]))
        np.testing.assert_allclose(table[f"{prop}_{unit}_fold{k}"], one, rtol=1e-4, atol=1e-6)
    folds = table[[f"{prop}_{unit}_fold{k}" for k in range(len(folders))]].to_numpy()
    np.testing.assert_allclose(table[f"{prop}_{unit}"], folds.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(table[f"{prop}_std_{unit}"], folds.std(axis=1, ddof=1), rtol=1e-9)
    assert list(table["formula"]) == [a.get_chemical_formula() for a in sample_molecules]
    assert not table["outside_qm9"].any()


def test_predict_many_energy_mean_is_the_calculators(sample_molecules):
    """The ensemble's fold mean is the calculator's energy (the same number ASE's get_potential_energy gives)."""
    calc = AtomintCalculator("schnet-energy-quick", models_dir=MODELS)
    table = calc.predict_many(sample_molecules[:5])
    for atoms, e in zip(sample_molecules[:5], table["energy_eV"]):
        atoms = atoms.copy()
        atoms.calc = calc
        assert atoms.get_potential_energy() == pytest.approx(e, rel=1e-4)


def test_predict_many_refuses_a_bad_molecule(sample_molecules):
    """The applicability check runs on every molecule: one line naming the bad one; allow_outside marks it."""
    bad = sample_molecules[3].copy()
    bad.positions[1] = bad.positions[0] + [0.3, 0, 0]  # two atoms 0.3 Å apart
    mols = [*sample_molecules[:3], bad]
    with pytest.raises(AtomintError, match=r"molecule 3 \(") as ei:
        AtomintCalculator("schnet-energy-quick", models_dir=MODELS).predict_many(mols)
    assert "\n" not in str(ei.value)
    with pytest.warns(UserWarning):
        table = AtomintCalculator("schnet-energy-quick", models_dir=MODELS, allow_outside=True).predict_many(mols)
    assert table["outside_qm9"].tolist() == [False, False, False, True]


def _periodic(atoms):
    atoms = atoms.copy()
    atoms.cell, atoms.pbc = [20, 20, 20], True
    return atoms


@pytest.mark.parametrize("kwargs, words", [(dict(device="tpu9"), "not a torch device"),
                                           (dict(chunk_size=0), "chunk_size"), (dict(molecules=[]), "at least one"),
                                           (dict(molecules="periodic"), "molecule 1 is periodic")])
def test_predict_many_bad_arguments(sample_molecules, kwargs, words):
    calc = AtomintCalculator("schnet-energy-quick", models_dir=MODELS)
    with pytest.raises(AtomintError, match=words):
        mols = kwargs.pop("molecules", sample_molecules[:2])
        calc.predict_many([sample_molecules[0], _periodic(sample_molecules[1])] if mols == "periodic" else mols,
                          **kwargs)


def test_predict_many_dipole_vector_is_the_calculators(sample_molecules):
    """For a dipole ensemble the table's mean vector is calculate()'s results["dipole"] (e·Å), and the mean of
    the folds' |μ| is at least the length of that mean vector (triangle inequality)."""
    calc = AtomintCalculator("schnet-dipole-quick", models_dir=MODELS)
    table = calc.predict_many(sample_molecules[:6])
    vectors = table[["dipole_x_eA", "dipole_y_eA", "dipole_z_eA"]].to_numpy()
    for atoms, v in zip(sample_molecules[:6], vectors):
        calc.calculate(atoms.copy(), ["dipole"])
        np.testing.assert_allclose(v, calc.results["dipole"], rtol=1e-4, atol=1e-6)
    assert np.all(table["dipole_eA"].to_numpy() >= np.linalg.norm(vectors, axis=1) - 1e-9)
