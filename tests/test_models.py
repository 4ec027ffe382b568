"""Models: invariances and equivariances, exact sums of latent terms, batch = single, unknown elements."""
import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy.spatial.transform import Rotation

from atomint_helpers import AtomintError
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.data.qm9 import NAMED
from atomint_helpers.models import atoms_to_batch, build
from atomint_helpers.units import E_ANGSTROM_TO_DEBYE

SMALL = {"schnet": dict(n_atom_basis=16, n_interactions=2, n_rbf=12),
         "bp": dict(n_radial=6, n_angular=2, zetas=(1, 2), hidden=(16,))}
COMBOS = [(m, t) for m in ("bp", "schnet") for t in ("energy", "dipole")]


@pytest.fixture(scope="module")
def data(sample):
    return qm9_atoms_data(sample)


@pytest.fixture(scope="module")
def models(data):
    out = {}
    for m, t in COMBOS:
        torch.manual_seed(0)
        model = build({"model": m, "target": t, "representation": SMALL[m]}).double()
        model.fit_statistics(data, np.arange(300))
        # perturb the zero-initialised parts so that outputs depend on geometry
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn_like(p))
        model.eval()
        out[(m, t)] = model
    return out


def _batch(atoms, model):
    b = atoms_to_batch(atoms, model.cutoff, dtype=torch.float64)
    return b


def _rotated(atoms, rot, shift=np.zeros(3), perm=None):
    at = atoms.copy()
    at.positions = atoms.positions @ rot.T + shift
    if perm is not None:
        at = at[perm]
    return at


@pytest.mark.parametrize("combo", COMBOS)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_invariance_and_equivariance(models, sample, combo, seed):
    model = models[combo]
    rng = np.random.default_rng(seed)
    atoms = sample.atoms(NAMED["toluene"])
    rot = Rotation.random(random_state=seed).as_matrix()
    perm = rng.permutation(len(atoms))
    moved = _rotated(atoms, rot, rng.normal(size=3) * 3, perm)
    with torch.no_grad():
        a, b = model(_batch(atoms, model)), model(_batch(moved, model))
    if combo[1] == "energy":
        assert float(b["energy"]) == pytest.approx(float(a["energy"]), abs=1e-8)
        assert np.allclose(b["atomic_energies"].numpy(), a["atomic_energies"].numpy()[perm], atol=1e-8)
    else:
        assert float(b["dipole_moment"]) == pytest.approx(float(a["dipole_moment"]), abs=1e-8)
        assert np.allclose(b["dipole_vector"].numpy()[0], rot @ a["dipole_vector"].numpy()[0], atol=1e-8)
        assert np.allclose(b["partial_charges"].numpy(), a["partial_charges"].numpy()[perm], atol=1e-10)


@pytest.mark.parametrize("combo", COMBOS)
def test_latent_terms_sum_to_output(models, data, combo):
    model = models[combo]
    batch = data.batch(np.arange(40, 60))
    for k in ("_positions", "_offsets"):
        batch[k] = batch[k].double()
    with torch.no_grad():
        out = model(batch)
    idx_m, R = batch["_idx_m"].numpy(), batch["_positions"].numpy()
    if combo[1] == "energy":
        sums = np.bincount(idx_m, weights=out["atomic_energies"].numpy())
        assert np.allclose(sums, out["energy"].numpy(), rtol=0, atol=1e-9)
    else:
        q = out["partial_charges"].numpy()
        assert np.allclose(np.bincount(idx_m, weights=q), 0.0, atol=1e-12)
        # μ = Σ q_i r_i (origin-free because Σ q = 0), in Debye
        mu = np.stack([np.bincount(idx_m, weights=q * R[:, c]) for c in range(3)], 1) * E_ANGSTROM_TO_DEBYE
        assert np.allclose(mu, out["dipole_vector"].numpy(), atol=1e-9)
        assert np.allclose(np.linalg.norm(mu, axis=1), out["dipole_moment"].numpy(), atol=1e-9)


@pytest.mark.parametrize("combo", COMBOS)
def test_batch_equals_single(models, data, combo):
    model = models[combo]
    rows = np.array([3, 77, 500, 1999])
    batch = data.batch(rows)
    batch = {k: (v.double() if v.is_floating_point() else v) for k, v in batch.items()}
    with torch.no_grad():
        together = model(batch)
        key = model.target_key
        for k, r in enumerate(rows):
            single = data.batch([r])
            single = {kk: (v.double() if v.is_floating_point() else v) for kk, v in single.items()}
            alone = model(single)
            assert float(alone[key][0]) == pytest.approx(float(together[key][k]), abs=1e-9)


@pytest.mark.parametrize("combo", COMBOS)
def test_finite_gradients(models, sample, combo):
    model = models[combo]
    b = _batch(sample.atoms(NAMED["pyrazine"]), model)
    b["_positions"].requires_grad_(True)
    out = model(b)[model.target_key].sum()
    (g,) = torch.autograd.grad(out, b["_positions"])
    assert torch.isfinite(g).all() and g.abs().sum() > 0
    if combo[1] == "energy":  # forces of an isolated molecule sum to zero (translation invariance)
        assert torch.allclose(g.sum(0), torch.zeros(3, dtype=g.dtype), atol=1e-8)


@pytest.mark.parametrize("model_name", ["bp", "schnet"])
def test_unknown_element_is_named(models, model_name):
    from ase import Atoms

    model = models[(model_name, "energy")]
    with pytest.raises(AtomintError, match=r"no .* for element\(s\) Si \(it knows H, C, N, O, F\)"):
        model.predict(Atoms("SiH4", positions=[[0, 0, 0], [0.9, 0.9, 0.9], [-0.9, -0.9, 0.9],
                                                [0.9, -0.9, -0.9], [-0.9, 0.9, -0.9]]))


def test_predict_units_and_types(models, sample):
    m = models[("schnet", "dipole")]
    out = m.predict(sample.atoms(NAMED["toluene"]))
    assert isinstance(out["dipole_moment"], float) and out["partial_charges"].shape == (15,)
    assert out["dipole_vector"].shape == (3,)
    assert out["dipole_moment"] == pytest.approx(np.linalg.norm(out["dipole_vector"]))
    e = models[("bp", "energy")].predict(sample.atoms(NAMED["methane"]))
    assert e["atomic_energies"].sum() == pytest.approx(e["energy"], abs=1e-9)


def test_build_rejects_bad_config():
    with pytest.raises(AtomintError, match="unknown model 'painn'"):
        build({"model": "painn", "target": "energy"})
    with pytest.raises(AtomintError, match="unknown target 'gap'"):
        build({"model": "bp", "target": "gap"})


def test_energy_head_shifts_fit_element_counts(data):
    """Per-element shifts are the least-squares fit of E to element counts: the untrained residual is
    centred on zero, so the latent E_i start at their element's typical contribution."""
    m = build({"model": "bp", "target": "energy", "representation": SMALL["bp"]})
    rows = np.arange(2000)
    m.fit_statistics(data, rows)
    shift = m.head.shift.numpy()
    assert shift[6] < shift[1] < 0  # C binds more atomization energy than H (kcal/mol)
    counts = np.stack([np.bincount(np.repeat(np.arange(len(rows)), data.n_atoms),
                                   weights=(np.asarray(data.Z) == z).astype(float)) for z in (1, 6, 7, 8, 9)], 1)
    resid = data.targets["energy"] - counts @ shift[[1, 6, 7, 8, 9]]
    assert abs(resid.mean()) < 1.0


@pytest.mark.parametrize("target", ["energy", "dipole"])
def test_schnet_filters_by_unique_distance_equal_schnetpack_forward(models, data, target, monkeypatch):
    """The training forward (filters once per distinct distance) gives schnetpack's own SchNet outputs and
    parameter gradients (molecules here; crystals in test_crystals_model.py)."""
    from atomint_helpers.models.schnet import SchNetAtomwise

    model = models[("schnet", target)]
    b = data.batch(np.arange(40))

    def run(shared):
        monkeypatch.setattr(SchNetAtomwise, "share_filters_by_distance", shared)
        model.zero_grad()
        out = model(b)[model.target_key]
        out.sum().backward()
        return out.detach().clone(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    ref, g_ref = run(False)
    fast, g_fast = run(True)
    # Two code paths (filters per distinct distance vs per pair): the same formula, but vectorised kernels may
    # round a value differently depending on where it sits in a tensor, so compare to float32 rounding of the
    # float32 positions, with the absolute tolerance scaled to the outputs (dipoles ~1 D, energies ~10^3).
    torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-6 * float(ref.abs().max()))
    assert len(g_ref) == len(g_fast)
    g_scale = max(float(c.abs().max()) for c in g_ref)  # some gradients vanish analytically (e.g. a bias the
    for a, c in zip(g_fast, g_ref):                   # charge neutralisation cancels): scale to the largest
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6 * g_scale)
    model.zero_grad()


def test_dipole_head_starts_from_electronegativity_and_needs_its_offsets(data):
    """The element charge offsets start on the chemical side (H > 0 > C > N > O > F, from Pauling
    electronegativity) and keep every molecule neutral; a state dict without them is refused (the model knows
    one format: earlier checkpoints get zero offsets from ``store.migrate``, tests/test_migrate.py)."""
    from atomint_helpers.models.heads import DipoleHead

    torch.manual_seed(0)
    model = build({"model": "schnet", "target": "dipole", "representation": SMALL["schnet"]})
    model.fit_statistics(data, np.arange(len(data)))  # all sample molecules: H, C, N, O and F
    c = model.head.element_charge.detach()
    assert c[1] > 0 and c[6] == 0 and 0 > c[7] > c[8] > c[9]
    b = data.batch(np.arange(20))
    with torch.no_grad():
        q = model(b)["partial_charges"].double()
    sums = torch.zeros(20, dtype=torch.float64).index_add(0, b["_idx_m"], q)
    assert sums.abs().max() < 1e-5
    old = {k: v for k, v in model.state_dict().items() if not k.endswith("element_charge")}
    fresh = build(model.config)
    assert isinstance(fresh.head, DipoleHead)
    with pytest.raises(RuntimeError, match="element_charge"):
        fresh.load_state_dict(old)


def _schnet_outputs_and_grads(model, b):
    model.zero_grad()
    out = model(b)["energy"]
    out.sum().backward()
    return out.detach().clone(), [p.grad.clone() for p in model.parameters() if p.grad is not None]


def test_compiled_schnet_interactions_equal_schnetpack_forward(data, monkeypatch):
    """``compile_interactions`` (torch.compile, used by the cpu profile's training) gives schnetpack's own
    SchNet outputs and parameter gradients to float32 rounding, and stays right when the batch size
    changes (dynamic shapes, no stale specialisation)."""
    import shutil

    from atomint_helpers.models.schnet import SchNetAtomwise

    if shutil.which("g++") is None and shutil.which("c++") is None:
        pytest.skip("no C++ compiler: torch.compile's CPU backend needs one (make env installs build-essential)")
    torch.manual_seed(0)
    model = build({"model": "schnet", "target": "energy", "representation": SMALL["schnet"]})
    model.fit_statistics(data, np.arange(300))
    eager = copy.deepcopy(model)
    assert model.representation.compile_interactions()
    assert all(p.grad is None for p in model.parameters())  # compiling leaves the training state alone
    monkeypatch.setattr(SchNetAtomwise, "share_filters_by_distance", True)
    for rows in (np.arange(40), np.arange(100, 117)):
        b = data.batch(rows)
        monkeypatch.setattr(eager.representation, "share_filters_by_distance", False)  # schnetpack's forward
        ref, g_ref = _schnet_outputs_and_grads(eager, b)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # a fallback to eager would not test the compiled path
            out, g = _schnet_outputs_and_grads(model, b)
        torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-3)  # kcal/mol, outputs of order 10^3
        assert len(g) == len(g_ref)
        for a, c in zip(g, g_ref):
            torch.testing.assert_close(a, c, rtol=1e-4, atol=1e-4 * float(c.abs().max()))


def test_compile_failure_falls_back_to_eager_with_a_warning(data, monkeypatch):
    """Where torch.compile cannot build (e.g. no C++ compiler), compile_interactions warns and says so, and
    the model runs eagerly from then on, without a warning per call."""
    torch.manual_seed(0)
    model = build({"model": "schnet", "target": "energy", "representation": SMALL["schnet"]})
    model.fit_statistics(data, np.arange(300))
    b = data.batch(np.arange(30))
    with torch.no_grad():
        ref = model(b)["energy"]

    def broken_compile(fn, **kwargs):
        def run(*args):
            raise RuntimeError("InductorError: C++ compiler not found")
        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    with pytest.warns(RuntimeWarning, match="torch.compile failed .*C\\+\\+ compiler not found"):
        assert not model.representation.compile_interactions()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # warned once, at compile_interactions; now eager
        with torch.no_grad():
            out = model(b)["energy"]
    assert torch.equal(out, ref)  # the very eager code that made ref: bit identity holds
    assert all(p.grad is None for p in model.parameters())
