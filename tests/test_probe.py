"""Probe atoms (local chemical potential, Fig. 5): contract, batching, symmetry, bad input, cube export.

Models are built untrained with fixed seeds (the properties tested hold for any weights); the energy head
gets a non-trivial shift/scale so the head is exercised too.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms

from atomint_helpers import AtomintError
from atomint_helpers.interpret import grid, probe

SMALL_SCHNET = {"model": "schnet", "target": "energy",
                "representation": {"n_atom_basis": 16, "n_interactions": 2, "n_rbf": 12, "cutoff": 4.0}}
SMALL_BP = {"model": "bp", "target": "energy",
            "representation": {"n_radial": 6, "n_angular": 2, "zetas": [1, 2], "cutoff": 4.0, "hidden": [16, 16]}}


def _model(config, seed=0):
    from atomint_helpers.models import build

    torch.manual_seed(seed)
    m = build(config).eval()
    with torch.no_grad():
        m.head.shift[torch.tensor([1, 6, 7, 8])] = torch.tensor([-60.0, -140.0, -110.0, -95.0], dtype=torch.float64)
        m.head.scale.fill_(5.0)
        if config["model"] == "bp":  # non-trivial standardization
            g = torch.Generator().manual_seed(seed)
            m.representation.standardize.mean.copy_(torch.rand(m.representation.standardize.mean.shape, generator=g,
                                                               dtype=torch.float64))
            m.representation.standardize.std.copy_(0.5 + torch.rand(m.representation.standardize.std.shape,
                                                                     generator=g, dtype=torch.float64))
    return m


@pytest.fixture(scope="module")
def schnet():
    return _model(SMALL_SCHNET)


@pytest.fixture(scope="module")
def bp():
    return _model(SMALL_BP)


@pytest.fixture(scope="module")
def toluene():
    from atomint_helpers.data.qm9 import NAMED, load_sample

    return load_sample().atoms(NAMED["toluene"])


def _points(atoms, n=200, seed=0, spread=2.5):
    rng = np.random.default_rng(seed)
    return atoms.positions.mean(0) + rng.normal(size=(n, 3)) * spread


# ------------------------------------------------------------------------------------------ contract
def test_probe_pairs_only_receive(schnet, toluene):
    b = probe.probe_batch(schnet, toluene, _points(toluene, 50), "C")
    n_mol = len(toluene)
    probe_i = b["_idx_i"] >= n_mol
    assert probe_i.any()
    assert (b["_idx_j"] < n_mol).all(), "a probe is a sender"
    assert not ((b["_idx_i"] < n_mol) & (b["_idx_j"] >= n_mol)).any()


def test_molecule_unchanged_schnet_bit_for_bit(schnet, toluene):
    alone = schnet.predict(toluene)["atomic_energies"]
    with_probes = probe.molecule_energies_with_probes(schnet, toluene, _points(toluene, 300), "C")
    np.testing.assert_array_equal(with_probes, alone)
    pp = probe.ProbePotential(schnet, toluene, "C", method="exact")
    np.testing.assert_array_equal(pp.molecule_outputs.double().numpy(), alone)


def test_molecule_unchanged_bp(bp, toluene):
    # same pairs and arithmetic for the molecule's atoms; only the size of the per-element matrix products
    # changes with the probes appended, which may move the last bit of float32
    alone = bp.predict(toluene)["atomic_energies"]
    with_probes = probe.molecule_energies_with_probes(bp, toluene, _points(toluene, 300), "C")
    np.testing.assert_allclose(with_probes, alone, rtol=0, atol=1e-4)


@pytest.mark.parametrize("which", ["schnet", "bp"])
def test_batched_equals_plain_forward(which, request, toluene):
    m = request.getfixturevalue(which)
    pts = _points(toluene, 400).reshape(20, 20, 3)
    plain = probe.full_forward_potential(m, toluene, pts, "C")
    exact = probe.ProbePotential(m, toluene, "C", method="exact")(pts)
    table = probe.ProbePotential(m, toluene, "C")(pts)
    assert exact.shape == table.shape == (20, 20)
    if which == "schnet":
        np.testing.assert_array_equal(exact, plain)  # schnetpack's modules on the same pairs: bit for bit
    else:
        np.testing.assert_allclose(exact, plain, rtol=0, atol=1e-4)
    np.testing.assert_allclose(table, plain, rtol=0, atol=1e-4)  # table: float32 precision of the output


@pytest.mark.parametrize("which", ["schnet", "bp"])
def test_batched_equals_one_at_a_time(which, request, toluene):
    m = request.getfixturevalue(which)
    pts = _points(toluene, 60, seed=3)
    batched = probe.ProbePotential(m, toluene, "C")(pts, chunk_size=7)  # several uneven chunks
    one_by_one = probe.naive_probe_potential(m, toluene, pts, "C")
    np.testing.assert_allclose(batched, one_by_one, rtol=0, atol=1e-4)
    # chunking does not change the values
    np.testing.assert_array_equal(probe.ProbePotential(m, toluene, "C")(pts, chunk_size=1000),
                                  probe.ProbePotential(m, toluene, "C")(pts, chunk_size=13))


def test_probes_do_not_see_each_other(schnet, toluene):
    pts = _points(toluene, 40)
    pp = probe.ProbePotential(schnet, toluene, "C", method="exact")
    together = pp(pts)
    np.testing.assert_array_equal(pp(pts[:1]), together[:1])
    np.testing.assert_array_equal(pp(pts[::-1])[::-1], together)


def test_far_probe_is_isolated_value(schnet, toluene):
    pp = probe.ProbePotential(schnet, toluene, "C")
    far = toluene.positions.mean(0) + np.array([[30.0, 0, 0], [0, -40.0, 0]])
    np.testing.assert_allclose(pp(far), pp.isolated(), atol=1e-6)
    assert pp.reference("shift") == pytest.approx(-140.0)


@pytest.mark.parametrize("which", ["schnet", "bp"])
def test_potential_rotates_with_molecule(which, request, toluene):
    from scipy.spatial.transform import Rotation

    m = request.getfixturevalue(which)
    pts = _points(toluene, 150, seed=5)
    rot = Rotation.from_euler("xyz", [0.3, -1.1, 2.0]).as_matrix()
    shift = np.array([1.5, -2.0, 0.7])
    turned = toluene.copy()
    turned.positions = toluene.positions @ rot.T + shift
    a = probe.ProbePotential(m, toluene, "C")(pts)
    b = probe.ProbePotential(m, turned, "C")(pts @ rot.T + shift)
    np.testing.assert_allclose(a, b, rtol=0, atol=2e-3)


def test_other_probe_elements(schnet, bp, toluene):
    pts = _points(toluene, 20)
    for m in (schnet, bp):
        h = probe.probe_potential(m, toluene, pts, "H")
        o = probe.probe_potential(m, toluene, pts, 8)
        assert np.isfinite(h).all() and np.isfinite(o).all() and not np.allclose(h, o)


# ------------------------------------------------------------------------------------------ bad input
def test_unknown_probe_element(schnet, bp, toluene):
    for m in (schnet, bp):
        with pytest.raises(AtomintError, match="Cl"):
            probe.probe_potential(m, toluene, _points(toluene, 3), "Cl")
    with pytest.raises(AtomintError, match="Qq"):
        probe.probe_potential(schnet, toluene, _points(toluene, 3), "Qq")


def test_bad_molecules(schnet):
    with pytest.raises(AtomintError, match="no atoms"):
        probe.probe_potential(schnet, Atoms(), np.zeros((2, 3)))
    overlapping = Atoms("CH", positions=[[0, 0, 0], [0, 0, 0.01]])
    with pytest.raises(AtomintError, match="apart"):
        probe.probe_potential(schnet, overlapping, np.ones((2, 3)))
    with pytest.raises(AtomintError, match="no molecule found"):
        from atomint_helpers.data.xyz import parse_xyz

        parse_xyz("\n\n", "empty.xyz")


def test_bad_points_and_models(schnet, toluene):
    with pytest.raises(AtomintError, match="shape"):
        probe.probe_potential(schnet, toluene, np.zeros((4, 2)))
    with pytest.raises(AtomintError, match="NaN"):
        probe.probe_potential(schnet, toluene, np.full((2, 3), np.nan))
    from atomint_helpers.models import build

    dip = build({**SMALL_SCHNET, "target": "dipole"})
    with pytest.raises(AtomintError, match="energy model"):
        probe.probe_potential(dip, toluene, np.zeros((1, 3)))
    with pytest.raises(AtomintError, match="method"):
        probe.ProbePotential(schnet, toluene, "C", method="fast")


def test_grid_too_large(schnet, toluene):
    pp = probe.ProbePotential(schnet, toluene, "C", max_memory_gb=0.01)
    with pytest.raises(AtomintError, match=r"needs about .* GB") as e:
        pp(np.zeros((1_000_000, 3)))
    assert "1,000,000 points" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(AtomintError, match="points, more than the limit"):
        grid.box_grid(toluene, spacing=0.001)
    with pytest.raises(AtomintError, match="positive"):
        grid.box_grid(toluene, spacing=0)


# ------------------------------------------------------------------------------------------ grids
def test_isosurface_outside_vdw(toluene):
    for kind in grid.LEVEL_KINDS:
        s = grid.isosurface(toluene, kind=kind, resolution=(12, 24))
        np.testing.assert_allclose(grid.level_function(s.vertices, toluene.positions, kind), s.level, rtol=1e-6)
        assert grid.outside_vdw(s.vertices, toluene, vdw_scale=0.999).all()  # the level comes from a sample
    # the sum-of-squares level set is a sphere around the centroid
    s = grid.isosurface(toluene, kind="sum_sq", resolution=(8, 16))
    r = np.linalg.norm(s.vertices - toluene.positions.mean(0), axis=1)
    np.testing.assert_allclose(r, r[0], rtol=1e-9)


def test_plane_of_ring(toluene):
    plane = grid.molecular_plane(toluene)
    ring = toluene.numbers == 6
    assert np.abs(plane.height(toluene.positions[ring])).max() < 0.05
    cut = grid.plane_cut(toluene, spacing=0.5)
    assert np.abs(plane.height(cut.points)).max() < 1e-9


def test_write_spatial_cube_roundtrip(tmp_path, schnet, toluene):
    from atomint_helpers.exports import read_cube, write_spatial

    toluene = toluene.copy()
    toluene.info["name"] = "toluene"
    paths = write_spatial(toluene, [schnet], tmp_path, "C", False, 0.5)
    cube = [p for p in paths if p.suffix == ".cube"]
    assert len(cube) == 1 and any(p.suffix == ".png" for p in paths)
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert not list(tmp_path.glob(".*tmp*"))
    data, atoms, origin, spacing = read_cube(cube[0])
    g = grid.box_grid(toluene, spacing=0.5, padding=3.0)
    assert data.shape == g.shape
    np.testing.assert_allclose(origin, g.origin, atol=1e-5)
    assert spacing == pytest.approx(0.5, abs=1e-6)
    np.testing.assert_allclose(atoms.positions, toluene.positions, atol=1e-5)
    assert (atoms.numbers == toluene.numbers).all()
    expected = probe.ProbePotential(schnet, toluene, "C")(g.points())
    np.testing.assert_allclose(data, expected, rtol=1e-5)
    # and through ase's generic reader
    import ase.io

    back = ase.io.read(cube[0], format="cube")
    assert len(back) == len(toluene)


def test_write_spatial_checks_the_molecule_once(tmp_path, schnet, toluene, monkeypatch):
    """The molecule is screened once, at the entry (write_spatial, or its caller with ``checked``), and
    neither the probe function below nor the grids made from the molecule are checked again; a caller that
    checked says whether the molecule is outside QM9 and every file is marked so; a molecule write_spatial
    refuses is refused before any file is written."""
    from atomint_helpers.data import applicability
    from atomint_helpers.exports import write_spatial
    from atomint_helpers.interpret import probe

    screens, point_checks = [], []
    real_screen, real_points = applicability.check_applicability, probe.check_points
    monkeypatch.setattr(applicability, "check_applicability", lambda *a, **k: screens.append(1) or real_screen(*a, **k))
    monkeypatch.setattr(probe, "check_points", lambda *a, **k: point_checks.append(1) or real_points(*a, **k))
    one = write_spatial(toluene, [schnet], tmp_path / "one", "C", False, 1.0)
    assert (len(screens), len(point_checks)) == (1, 0)
    two = write_spatial(toluene, [schnet], tmp_path / "two", "C", False, 1.0, checked=True, outside=True)
    assert (len(screens), len(point_checks)) == (1, 0)
    cube = [p for p in two if p.suffix == ".cube"]
    assert "[outside QM9]" in cube[0].read_text()[:400]
    assert "[outside QM9]" not in next(p for p in one if p.suffix == ".cube").read_text()[:400]
    with pytest.raises(AtomintError, match="apart"):
        write_spatial(Atoms("CH", positions=[[0, 0, 0], [0, 0, 0.01]]), [schnet], tmp_path / "bad", "C", False, 1.0)
    assert not (tmp_path / "bad").exists()


def test_write_spatial_errors(tmp_path, schnet, toluene):
    from atomint_helpers.exports import write_spatial

    with pytest.raises(AtomintError, match="nothing to write"):
        write_spatial(toluene, [schnet], tmp_path, None, False, 0.5)
    with pytest.raises(AtomintError, match="dipole model"):
        write_spatial(toluene, [schnet], tmp_path, None, True, 0.5)
    with pytest.raises(AtomintError, match="positive"):
        write_spatial(toluene, [schnet], tmp_path, "C", False, -1)


# ------------------------------------------------------------------------------------------ models/probe.py
def _with_atom(atoms, z, point):
    from ase import Atom

    both = atoms.copy()
    both.append(Atom(int(z), point))
    return both


@pytest.mark.parametrize("which,n_interactions", [("schnet", 1), ("bp", None)])
@pytest.mark.parametrize("method", ["table", "exact"])
def test_probe_forward_known_answer(which, n_interactions, method, toluene):
    """The receiver-only probe forward against the plain forward with answers known by construction: the
    molecule's atoms get exactly their energies without the probe, and a single probe gets the energy the
    plain forward gives the same atom appended as an ordinary atom (pairs both ways) — equal here because
    what a probe receives does not depend on what it would send: BP's symmetry functions of an atom depend
    only on its neighbours' positions, and with one SchNet interaction the messages come from the
    embeddings alone."""
    from atomint_helpers.models import atoms_to_batch
    from atomint_helpers.models.probe import ProbeForward

    cfg = SMALL_SCHNET if which == "schnet" else SMALL_BP
    if n_interactions:
        cfg = {**cfg, "representation": {**cfg["representation"], "n_interactions": n_interactions}}
    m = _model(cfg, seed=2)
    point = toluene.positions[0] + np.array([1.1, -0.4, 0.9])  # near the molecule: many neighbours
    alone = m.predict(toluene)["atomic_energies"]
    plain_both = m.predict(_with_atom(toluene, 6, point))["atomic_energies"]
    with torch.inference_mode():
        fwd = ProbeForward(m, atoms_to_batch(toluene, m.cutoff), 6, method=method)
        e = fwd(torch.tensor(point[None], dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(e[:len(toluene)], alone, rtol=0, atol=1e-4)
    np.testing.assert_allclose(e[-1], plain_both[-1], rtol=0, atol=1e-4)
    assert np.abs(plain_both[:len(toluene)] - alone).max() > 1e-3  # an ordinary atom does act back


def test_probe_forward_differs_from_ordinary_atom_with_two_interactions(schnet, toluene):
    """The contrast: with two SchNet interactions the molecule's features at the second layer depend on an
    ordinary neighbour, so its energy differs from the receiver-only probe's (the test above is not vacuous);
    the ordinary batch with the atom's outgoing pairs deleted gives the probe forward's energies."""
    from atomint_helpers.models import atoms_to_batch
    from atomint_helpers.models.probe import ProbeForward

    point = toluene.positions[0] + np.array([1.1, -0.4, 0.9])
    both = _with_atom(toluene, 6, point)
    plain_both = schnet.predict(both)["atomic_energies"]
    with torch.inference_mode():
        e = ProbeForward(schnet, atoms_to_batch(toluene, schnet.cutoff), 6)(torch.tensor(point[None], dtype=torch.float32))
        # the same atom made receiver-only by deleting its outgoing pairs from the ordinary batch
        b = atoms_to_batch(both, schnet.cutoff)
        keep = b["_idx_j"] != len(toluene)
        b.update({k: b[k][keep] for k in ("_idx_i", "_idx_j", "_offsets")})
        receiver_only = schnet(b)["atomic_energies"].double().numpy()
    assert abs(float(e[-1]) - plain_both[-1]) > 1e-3
    np.testing.assert_allclose(e.double().numpy(), receiver_only, rtol=0, atol=1e-4)


@pytest.mark.parametrize("which", ["schnet", "bp"])
def test_probe_forward_molecule_unchanged_over_a_grid(which, request, toluene):
    m = request.getfixturevalue(which)
    pp = probe.ProbePotential(m, toluene, "C")
    pp(_points(toluene, 300), chunk_size=70)
    np.testing.assert_allclose(pp.molecule_outputs.double().numpy(), m.predict(toluene)["atomic_energies"],
                               rtol=0, atol=1e-4)
    assert pp.molecule_change <= 1e-4


def test_probe_inputs_are_checked_once_at_the_entry(toluene):
    """ProbeForward trusts its caller; the public entry refuses what it would not handle: a dipole model, an
    unknown method, and an element the model lacks, in the probe or in a molecule allowed outside QM9."""
    from atomint_helpers.data.applicability import ALLOW_KEY
    from atomint_helpers.models import build

    dip = build({**SMALL_SCHNET, "target": "dipole"})
    with pytest.raises(AtomintError, match="energy model"):
        probe.ProbePotential(dip, toluene, "C")
    m = build(SMALL_BP)
    with pytest.raises(AtomintError, match="method"):
        probe.ProbePotential(m, toluene, "C", method="fast")
    with pytest.raises(AtomintError, match="Cl"):
        probe.ProbePotential(m, toluene, 17)
    outsider = toluene.copy()
    outsider.numbers[np.flatnonzero(outsider.numbers == 1)[0]] = 17
    outsider.info[ALLOW_KEY] = True
    with pytest.raises(AtomintError, match="Cl"):
        probe.ProbePotential(m, outsider, "C")
