"""ESP from latent charges (Fig. 6): formula against a double loop, units, cube export, checks, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from atomint_helpers import AtomintError
from atomint_helpers.interpret import esp, grid
from atomint_helpers.units import COULOMB_EV_ANGSTROM, EV_TO_KCAL_MOL

DIPOLE_SCHNET = {"model": "schnet", "target": "dipole",
                 "representation": {"n_atom_basis": 16, "n_interactions": 2, "n_rbf": 12, "cutoff": 4.0}}


@pytest.fixture(scope="module")
def molecules():
    from atomint_helpers.data.qm9 import NAMED, load_sample

    s = load_sample()
    return {name: s.atoms(i) for name, i in NAMED.items()}


@pytest.fixture(scope="module")
def dipole_model():
    from atomint_helpers.models import build

    torch.manual_seed(1)
    m = build(DIPOLE_SCHNET).eval()
    with torch.no_grad():
        m.head.scale.fill_(0.3)
    return m


def test_esp_matches_double_loop(molecules):
    at = molecules["pyrazine"]
    q = np.random.default_rng(0).normal(size=len(at))
    q -= q.mean()
    pts = grid.box_grid(at, spacing=1.1, padding=2.0).points()
    expected = np.zeros(pts.shape[:-1])
    for idx in np.ndindex(*pts.shape[:-1]):
        for i in range(len(at)):
            expected[idx] += COULOMB_EV_ANGSTROM * q[i] * 1.0 / np.linalg.norm(pts[idx] - at.positions[i])
    np.testing.assert_allclose(esp.esp(at.positions, q, pts), expected, rtol=1e-12)
    np.testing.assert_allclose(esp.esp(at.positions, q, pts, chunk=7), expected, rtol=1e-12)  # tiny chunks
    np.testing.assert_allclose(esp.esp(at.positions, q, pts, unit="kcal/mol"), expected * EV_TO_KCAL_MOL, rtol=1e-12)
    np.testing.assert_allclose(esp.esp(at.positions, q, pts, probe_charge=-2.0), -2 * expected, rtol=1e-12)


def test_point_charge_value():
    v = esp.esp(np.zeros((1, 3)), [1.0], np.array([[2.0, 0, 0]]))
    assert v[0] == pytest.approx(COULOMB_EV_ANGSTROM / 2)


def test_latent_charges_and_model_esp(dipole_model, molecules):
    at = molecules["phloroglucinol"]
    q = esp.latent_charges(dipole_model, at)
    assert q.shape == (len(at),) and abs(q.sum()) < 1e-5
    pts = grid.plane_cut(at, spacing=0.7).points
    np.testing.assert_allclose(esp.model_esp(dipole_model, at, pts), esp.esp(at.positions, q, pts))
    qn = esp.normalize_charges(q)
    assert np.abs(qn).max() == pytest.approx(1.0)
    np.testing.assert_allclose(esp.model_esp(dipole_model, at, pts, normalize=True), esp.esp(at.positions, qn, pts))


def test_correlation_and_sign_symmetry(dipole_model, molecules):
    at = molecules["toluene"]
    pts = grid.box_grid(at, spacing=0.8).points()
    q = esp.latent_charges(dipole_model, at)
    mask = grid.outside_vdw(pts, at)
    v = esp.esp(at.positions, q, pts)
    assert esp.esp_correlation(v, 3.0 * v, mask) == pytest.approx(1.0)
    assert esp.esp_correlation(v, -v, mask) == pytest.approx(-1.0)  # a global sign flip of the charges
    assert np.isnan(esp.esp_correlation(v, np.ones_like(v), mask))


def test_sign_checks(molecules):
    charges = {}
    for name, at in molecules.items():  # chemically signed toy charges: H +, heavy atoms −
        q = np.where(at.numbers == 1, 0.1, -0.2)
        charges[name] = q
    c = esp.sign_checks(charges, molecules)
    assert c["hc_holds"] and c["o_holds"] and c["h_pos"] == c["h_total"] and c["o_neg"] == 3
    flipped = esp.sign_checks({k: -v for k, v in charges.items()}, molecules)
    assert not flipped["hc_holds"] and not flipped["o_holds"]


def test_esp_cube_roundtrip(tmp_path, dipole_model, molecules):
    from atomint_helpers.exports import read_cube, write_spatial

    at = molecules["benzene"].copy()
    at.info["name"] = "benzene"
    paths = write_spatial(at, [dipole_model], tmp_path, None, True, 0.6)
    cube = [p for p in paths if p.suffix == ".cube"][0]
    assert cube.name.startswith("benzene-") and cube.name.endswith("-esp.cube")
    data, atoms, origin, spacing = read_cube(cube)
    g = grid.box_grid(at, spacing=0.6, padding=3.0)
    np.testing.assert_allclose(origin, g.origin, atol=1e-5)
    expected = esp.model_esp(dipole_model, at, g.points())
    np.testing.assert_allclose(data, expected, rtol=1e-5, atol=1e-9)


def test_bad_input(dipole_model, molecules):
    from atomint_helpers.models import build

    at = molecules["methane"]
    with pytest.raises(AtomintError, match="dipole model"):
        esp.latent_charges(build({**DIPOLE_SCHNET, "target": "energy"}), at)
    with pytest.raises(AtomintError, match="unit"):
        esp.esp(at.positions, np.zeros(len(at)), np.zeros((1, 3)), unit="hartree")
    with pytest.raises(AtomintError, match="charges"):
        esp.esp(at.positions, np.zeros(2), np.zeros((1, 3)))
    with pytest.raises(AtomintError, match="shape"):
        esp.esp(at.positions, np.zeros(len(at)), np.zeros((4, 2)))
    from ase import Atoms

    with pytest.raises(AtomintError, match="no atoms"):
        esp.latent_charges(dipole_model, Atoms())
