"""AtomintCalculator (ASE), domain warnings, SMILES → 3D and the latent-term depiction: physics, not shapes.

Uses the committed ``quick``-profile checkpoints only (small and fast)."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("ase")
from ase.build import molecule  # noqa: E402
from ase.calculators.calculator import PropertyNotImplementedError  # noqa: E402

from atomint_helpers import AtomintError  # noqa: E402
from atomint_helpers.calculator import AtomintCalculator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
SCHNET_E = [MODELS / f"schnet-energy-quick-fold{k}" for k in range(3)]
SCHNET_Q = [MODELS / f"schnet-dipole-quick-fold{k}" for k in range(3)]
BP_E = MODELS / "bp-energy-quick-fold0"
PROPANE, METHANE = 13, 1  # QM9 ids, both in the embedded sample


@pytest.fixture(scope="module")
def energy_calc():
    return AtomintCalculator(SCHNET_E[0])


@pytest.fixture(scope="module")
def energy_ensemble():
    return AtomintCalculator("schnet-energy-quick", models_dir=MODELS)


@pytest.fixture(scope="module")
def dipole_ensemble():
    return AtomintCalculator(SCHNET_Q)


@pytest.fixture(scope="module")
def bp_calc():
    return AtomintCalculator(BP_E)


@pytest.fixture(scope="module")
def propane():
    from atomint_helpers.data.qm9 import load_sample

    return load_sample().atoms(PROPANE)


def _random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


FD_ATOMS = [0, 1, 3, 10]  # propane: two C, two H


def _fd_forces(atoms, calc, h: float, which=FD_ATOMS) -> np.ndarray:
    """−dE/dr of the atoms ``which`` by central differences (eV/Å), one coordinate at a time."""
    a = atoms.copy()
    a.calc = calc
    out = np.zeros((len(which), 3))
    for n, i in enumerate(which):
        for k in range(3):
            e = []
            for s in (h, -h):
                p = atoms.positions.copy()
                p[i, k] += s
                a.positions = p
                e.append(a.get_potential_energy())
            out[n, k] = -(e[0] - e[1]) / (2 * h)
    return out


# ----------------------------------------------------------------------------- energy models
@pytest.mark.parametrize("which", ["energy_ensemble", "bp_calc"])
def test_atomic_energies_sum_to_energy(which, propane, request):
    calc = request.getfixturevalue(which)
    a = propane.copy()
    a.calc = calc
    e = a.get_potential_energy()
    ei = calc.get_potential_energies(a)
    assert ei.shape == (len(a),)
    assert e == pytest.approx(ei.sum(), abs=1e-5)  # float32 sums in another order: ~1e-7 relative
    assert a.get_potential_energy(force_consistent=True) == pytest.approx(e)
    # the model's atomization energy in eV is the QM9 value (kcal/mol) to within a few eV
    from ase.units import kcal, mol

    assert e == pytest.approx(propane.info["atomization_energy_kcal_mol"] * kcal / mol, abs=2.0)


@pytest.mark.parametrize("which", ["energy_calc", "bp_calc"])
def test_forces_match_central_differences_float32(which, propane, request):
    calc = request.getfixturevalue(which)
    a = propane.copy()
    a.calc = calc
    f = a.get_forces()
    fd = _fd_forces(propane, calc, h=1e-3)
    f_all, f = f, f[FD_ATOMS]
    # float32 energies of ~40 eV carry ~4e-6 eV rounding: ~5e-3 eV/Å noise at h = 1e-3 Å
    assert np.abs(f - fd).max() < 2e-2 + 0.02 * np.abs(f).max()
    assert np.abs(f).max() > 0.05  # not trivially zero
    assert np.abs(f_all.sum(axis=0)).max() < 1e-3  # no net force on an isolated molecule


def test_forces_match_central_differences_float64(propane):
    calc = AtomintCalculator(SCHNET_E[0], dtype=torch.float64)
    a = propane.copy()
    a.calc = calc
    f = a.get_forces()[FD_ATOMS]
    fd = _fd_forces(propane, calc, h=1e-3)
    assert np.abs(f - fd).max() < 1e-4


def test_energy_invariant_forces_covariant_under_rotation_translation(energy_ensemble, propane, rng):
    a = propane.copy()
    a.calc = energy_ensemble
    e, f = a.get_potential_energy(), a.get_forces()
    rot = _random_rotation(rng)
    b = propane.copy()
    b.positions = propane.positions @ rot.T + np.array([3.0, -7.5, 12.25])
    b.calc = energy_ensemble
    assert b.get_potential_energy() == pytest.approx(e, abs=2e-4)
    np.testing.assert_allclose(b.get_forces(), f @ rot.T, atol=2e-3)
    np.testing.assert_allclose(energy_ensemble.get_potential_energies(b), energy_ensemble.get_potential_energies(a),
                               atol=2e-4)


def test_bfgs_relaxation_lowers_energy(propane, rng):
    from ase.optimize import BFGS

    a = propane.copy()
    a.positions += rng.normal(scale=0.05, size=a.positions.shape)
    # a rattle of 0.05 Å shortens some C–H bonds below QM9's shortest (1.06 Å): outside, so allowed explicitly
    a.calc = AtomintCalculator(SCHNET_E[0], allow_outside=True)
    with pytest.warns(UserWarning, match="QM9"):
        e0, f0 = a.get_potential_energy(), np.abs(a.get_forces()).max()
    BFGS(a, logfile=None).run(fmax=0.05, steps=15)
    assert a.get_potential_energy() < e0 - 1e-3
    assert np.abs(a.get_forces()).max() < f0


# ----------------------------------------------------------------------------- dipole models
def test_charges_neutral_and_dipole_is_sum_of_charges_times_positions(dipole_ensemble, rng):
    from atomint_helpers.data.qm9 import load_sample

    ds = load_sample()
    a = ds.atoms(int(ds.arrays["index"][3]))  # an O-containing QM9 molecule
    a.positions = a.positions @ _random_rotation(rng).T + 5.0  # away from the origin: COM matters not
    a.calc = dipole_ensemble
    q, mu = a.get_charges(), a.get_dipole_moment()
    assert abs(q.sum()) < 1e-5
    com = a.get_center_of_mass()
    np.testing.assert_allclose(mu, (q[:, None] * (a.positions - com)).sum(0), atol=1e-4)
    assert set(dipole_ensemble.results_std) == {"charges", "dipole"}
    assert np.all(dipole_ensemble.results_std["charges"] > 0)


def test_charge_sign_is_the_one_fixed_at_load_and_puts_oxygen_negative(dipole_ensemble):
    assert set(dipole_ensemble.charge_signs.values()) <= {1, -1}
    # schnet-dipole-quick-fold2 came out of training on the mirror solution: flipped at load
    assert dipole_ensemble.charge_signs[str(SCHNET_Q[2])] == -1
    assert dipole_ensemble.charge_signs[str(SCHNET_Q[0])] == 1
    for folder in SCHNET_Q:
        single = AtomintCalculator(folder)
        for name in ("H2O", "H2CO", "CH3OH"):
            a = molecule(name)
            a.calc = single
            assert a.get_charges()[a.numbers == 8].sum() < 0, (folder.name, name)


def test_missing_property_raises_ase_error(energy_calc, dipole_ensemble, propane):
    a = propane.copy()
    a.calc = energy_calc
    with pytest.raises(PropertyNotImplementedError):
        a.get_charges()
    with pytest.raises(PropertyNotImplementedError):
        a.get_dipole_moment()
    b = molecule("H2O")
    b.calc = dipole_ensemble
    with pytest.raises(PropertyNotImplementedError):
        b.get_potential_energy()
    with pytest.raises(PropertyNotImplementedError):
        b.get_forces()


# ----------------------------------------------------------------------------- ensembles
def test_ensemble_mean_and_std_match_single_folds(energy_ensemble, dipole_ensemble, propane):
    a = propane.copy()
    a.calc = energy_ensemble
    e, ei, f = a.get_potential_energy(), energy_ensemble.get_potential_energies(a), a.get_forces()
    singles = []
    for folder in SCHNET_E:
        b = propane.copy()
        b.calc = AtomintCalculator(folder)
        singles.append((b.get_potential_energy(), b.calc.get_potential_energies(b), b.get_forces()))
    es = np.array([s[0] for s in singles])
    assert e == pytest.approx(es.mean(), abs=1e-6)
    np.testing.assert_allclose(ei, np.mean([s[1] for s in singles], axis=0), atol=1e-6)
    np.testing.assert_allclose(f, np.mean([s[2] for s in singles], axis=0), atol=1e-5)
    std = energy_ensemble.results_std
    assert std["energy"] > 0 and np.all(std["energies"] > 0)
    assert std["energy"] == pytest.approx(es.std(ddof=1), rel=1e-6)
    assert AtomintCalculator(SCHNET_E[0]).results_std == {}

    w = molecule("CH3OH")
    w.calc = dipole_ensemble
    qs = []
    for folder in SCHNET_Q:
        c = AtomintCalculator(folder)
        qs.append(c.get_charges(w.copy()))
    np.testing.assert_allclose(w.get_charges(), np.mean(qs, axis=0), atol=1e-6)


def test_atom_table_and_large_spread_rule(energy_ensemble, propane):
    a = propane.copy()
    a.calc = energy_ensemble
    t = energy_ensemble.atom_table()
    assert list(t["element"]) == a.get_chemical_symbols()
    np.testing.assert_allclose(t["atomic_energy_eV"].sum(), a.get_potential_energy(), atol=1e-6)
    np.testing.assert_allclose(t[["x", "y", "z"]].to_numpy(), a.positions)
    typical = energy_ensemble.typical_std()
    assert {"H", "C", "N", "O"} <= set(typical) and all(v > 0 for v in typical.values())
    from atomint_helpers.calculator import SPREAD_FACTOR

    expected = t["atomic_energy_std_eV"] > SPREAD_FACTOR[energy_ensemble.model_name] * t["element"].map(typical)
    assert (t["large_spread"] == expected).all()


def test_element_reference_is_the_fold_mean_shift_and_carries_most_of_the_energy(energy_ensemble, propane):
    """b_Z is the energy heads' least-squares per-element energy: one value per element, the fold mean of
    the shifts, and together they account for most of a QM9 molecule's atomization energy."""
    from atomint_helpers.calculator import KCAL_MOL_IN_EV

    a = propane.copy()
    a.calc = energy_ensemble
    b = energy_ensemble.element_reference(a)
    for z in (1, 6):
        shifts = [float(m.head.shift[z]) * KCAL_MOL_IN_EV for m in energy_ensemble.models]
        np.testing.assert_allclose(b[a.numbers == z], np.mean(shifts), rtol=1e-12)
    E = a.get_potential_energy()
    assert abs(E - b.sum()) < 0.05 * abs(E)  # the per-atom remainder E_i − b_Z is a small correction


def test_explain_table_energies_relative_to_reference_and_neutral_charges(energy_ensemble, dipole_ensemble,
                                                                          propane):
    from atomint_helpers.report import explain

    a = propane.copy()
    a.calc = energy_ensemble
    t = explain.atom_table(energy_ensemble, dipole_ensemble, a)
    E = a.get_potential_energy()
    np.testing.assert_allclose(t[explain.E_COL].sum(), E - energy_ensemble.element_reference(a).sum(), atol=1e-6)
    assert abs(t[explain.Q_COL].sum()) < 1e-5
    flagged = energy_ensemble.atom_table(a)["large_spread"].to_numpy()
    assert (t["large spread"].str.contains("energy").to_numpy() == flagged).all()
    assert (t[[explain.E_STD, explain.Q_STD]].to_numpy() > 0).all()


def test_element_reference_refuses_a_dipole_model(dipole_ensemble, propane):
    with pytest.raises(AtomintError) as e:
        dipole_ensemble.element_reference(propane)
    assert "energy" in str(e.value) and "\n" not in str(e.value)


# ----------------------------------------------------------------------------- errors
def test_unknown_element_is_one_line_error(energy_calc):
    a = molecule("SiH4")
    a.calc = energy_calc
    with pytest.raises(AtomintError) as e:
        a.get_potential_energy()
    assert "Si" in str(e.value) and "\n" not in str(e.value)


def test_unknown_name_is_one_line_error():
    with pytest.raises(AtomintError) as e:
        AtomintCalculator("schnet-energy-nosuchprofile", models_dir=MODELS)
    msg = str(e.value)
    assert "\n" not in msg and "schnet-energy-nosuchprofile" in msg and "schnet-energy-quick" in msg


def test_mixed_targets_refused():
    with pytest.raises(AtomintError, match="one model and target"):
        AtomintCalculator([SCHNET_E[0], SCHNET_Q[0]])


# ----------------------------------------------------------------------------- domain
def test_bad_smiles_is_one_line_error():
    from atomint_helpers.data.smiles import smiles_to_atoms

    with pytest.raises(AtomintError) as e:
        smiles_to_atoms("C1CC(=O")
    assert "C1CC(=O" in str(e.value) and "\n" not in str(e.value)


def test_domain_warnings_aspirin_versus_qm9_molecules(energy_calc, propane):
    from atomint_helpers.data.qm9 import load_sample
    from atomint_helpers.data.smiles import smiles_to_atoms
    from atomint_helpers.models.domain import domain_warnings
    from atomint_helpers.store import load_model

    aspirin, warning = smiles_to_atoms("CC(=O)Oc1ccccc1C(=O)O")
    assert aspirin.get_chemical_formula() == "C9H8O4"
    assert "B3LYP" in warning and "force-field" in warning
    w = domain_warnings(aspirin, energy_calc)
    assert any("13 heavy" in x for x in w) and any("B3LYP" in x for x in w)
    a2, _ = smiles_to_atoms("CC(=O)Oc1ccccc1C(=O)O")
    np.testing.assert_allclose(a2.positions, aspirin.positions, atol=1e-6)  # fixed seed

    assert domain_warnings(load_sample().atoms(METHANE), energy_calc) == []
    assert domain_warnings(propane, load_model(BP_E)) == []  # propane is in this BP fold's training split
    with pytest.raises(AtomintError, match="loaded models") as e:  # finding checkpoints is the caller's job
        domain_warnings(propane, BP_E)
    assert "\n" not in str(e.value)


def test_domain_warnings_short_distance_and_bound_source(propane):
    from atomint_helpers.data.qm9 import load_sample
    from atomint_helpers.models.domain import domain_warnings, min_distance_table

    a = propane.copy()
    h = int(np.flatnonzero(a.numbers == 1)[0])
    c = int(np.argmin(np.linalg.norm(a.positions[a.numbers == 6] - a.positions[h], axis=1)))
    v = a.positions[h] - a.positions[c]
    a.positions[h] = a.positions[c] + 0.9 * v / np.linalg.norm(v)  # C–H 0.90 Å < QM9's 1.06 Å
    w = domain_warnings(a)
    assert len(w) == 1 and "shorter" in w[0] and "C" in w[0] and "H" in w[0]
    # the table comes from the full QM9: every minimum of the (sub)sample lies at or above it
    sample_min, bound = _pair_minima(load_sample()), min_distance_table()
    have = bound > 0
    assert np.all(sample_min[have] >= bound[have]) and np.all(np.isfinite(sample_min[have]))


# ----------------------------------------------------------------------------- depiction
def test_depiction_writes_png(dipole_ensemble, tmp_path):
    from atomint_helpers.depict import depict_latent

    a = molecule("CH3CH2OH")
    a.calc = dipole_ensemble
    path = depict_latent(a, a.get_charges(), "latent charge q_i", "e", tmp_path / "q.png")
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.png"]  # no temporary file left
    with pytest.raises(AtomintError):
        depict_latent(a, np.zeros(len(a) + 1), "x", "e", tmp_path / "bad.png")

    tree = ast.parse((ROOT / "atomint_helpers" / "depict.py").read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [al.name for n in ast.walk(tree) if isinstance(n, ast.Import) for al in n.names]
    assert not any("interpret" in m for m in imported)


def _pair_minima(ds) -> np.ndarray:
    """Shortest distance (Å) of every element pair over all atom pairs of the molecules of ``ds``, by atomic
    numbers ([10, 10], inf where a pair never occurs): scipy's pdist, molecule by molecule — an implementation
    independent of the vectorised one that made the committed table."""
    from scipy.spatial.distance import pdist

    Z, R, off = ds.arrays["Z"], ds.arrays["R"], ds.arrays["offsets"]
    best = np.full((10, 10), np.inf)
    for s, e in zip(off[:-1], off[1:]):
        z = np.asarray(Z[s:e])
        i, j = np.triu_indices(len(z), 1)
        a, b = np.minimum(z[i], z[j]), np.maximum(z[i], z[j])
        np.minimum.at(best, (a, b), pdist(np.asarray(R[s:e], dtype=np.float64)))
    return np.minimum(best, best.T)


def test_min_distance_table_is_full_qm9(full_qm9):
    """QM9_MIN_DISTANCE is the full QM9's per-pair minimum, rounded down to 1e-4 Å (skips without the data)."""
    from atomint_helpers.models.domain import min_distance_table

    full, bound = _pair_minima(full_qm9), min_distance_table()
    have = bound > 0
    np.testing.assert_allclose(np.floor(full[have] * 1e4) / 1e4, bound[have], atol=1.5e-4)
    assert np.all(full[have] >= bound[have])


# ----------------------------------------------------------------------------- not a force field
def test_cpu_ensemble_warns_when_a_relaxation_leaves_the_equilibrium_geometries(propane):
    """At propane's DFT geometry the committed cpu SchNet folds agree (no geometry warning); a BFGS
    relaxation from a 0.1 Å rattle walks where they disagree, and the calculator says so (once per
    molecule), or raises with on_spread='raise'."""
    import warnings

    from ase.optimize import BFGS

    from atomint_helpers.calculator import GEOMETRY_SPREAD_EV_PER_ATOM

    calc = AtomintCalculator("schnet-energy-cpu", models_dir=MODELS, allow_outside=True)
    assert calc.spread_limit == GEOMETRY_SPREAD_EV_PER_ATOM["schnet"]
    a = propane.copy()
    a.calc = calc
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        a.get_potential_energy()
    assert calc.results["spread_warning"] is False and not [w for w in seen if "force field" in str(w.message)]
    b = propane.copy()
    b.positions += np.random.default_rng(0).normal(scale=0.1, size=b.positions.shape)
    b.calc = calc
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        BFGS(b, logfile=None).run(fmax=0.05, steps=20)
    spread = [w for w in seen if "not a force field" in str(w.message)]
    assert len(spread) == 1 and calc.results["spread_warning"]  # once per molecule, and it stays flagged
    strict = AtomintCalculator("schnet-energy-cpu", models_dir=MODELS, allow_outside=True, on_spread="raise")
    b.calc = strict
    with pytest.raises(AtomintError, match="not a force field"):
        b.get_potential_energy()
    with pytest.raises(AtomintError, match="on_spread"):
        AtomintCalculator("schnet-energy-cpu", models_dir=MODELS, on_spread="ignore")


def test_depiction_text_contrasts_with_the_atom_colour():
    """Symbols on the dark ends of the diverging map are white, on its light middle black."""
    import matplotlib

    from atomint_helpers.depict import CMAP, contrasting_text_colour

    cmap = matplotlib.colormaps[CMAP]
    assert contrasting_text_colour(cmap(0.0)) == "white" and contrasting_text_colour(cmap(1.0)) == "white"
    assert contrasting_text_colour(cmap(0.5)) == "black" and contrasting_text_colour((1, 1, 1)) == "black"
