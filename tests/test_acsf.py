"""ACSF / wACSF (atomint_helpers.descriptors.acsf) against dscribe and basic physics, on real QM9 molecules.

The pair lists here come from a brute-force numpy helper (``pairs_within``); the package's own fast
pair builder lives in ``atomint_helpers/data/batch.py`` and is tested elsewhere.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atomint_helpers.descriptors import ACSF, FeatureStandardizer, neighbor_pairs_to_triples

SAMPLE = Path(__file__).parents[1] / "atomint_helpers/data/sample/qm9_sample.npz"
MP_SAMPLE = Path(__file__).parents[1] / "atomint_helpers/data/sample/mp_sample.npz"
CUTOFF = 5.0
BENZENE, FLUORINATED = 6, 337  # positions in the sample: QM9 #214 (C6H6) and QM9 #22037 (contains F)
# 20 real molecules: methane, ammonia, propane, benzene, four F-containing ones, and a spread of the rest
MOLECULES = [0, 1, 2, BENZENE, 10, 57, 150, 300, FLUORINATED, 361, 500, 777, 901, 1111, 1250, 1400,
             1600, 1800, 1994, 1999]


@pytest.fixture(scope="module")
def qm9():
    return np.load(SAMPLE)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These batches are small: one intra-op thread is as fast, and on a busy 2-core machine it avoids
    OpenMP barriers waiting for a descheduled second thread (index_add_ then takes ~100 ms a call)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def molecule(data, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Atomic numbers (int64) and positions (float64, Å) of molecule ``m`` of the sample."""
    a, b = data["offsets"][m], data["offsets"][m + 1]
    return data["Z"][a:b].astype(np.int64), data["R"][a:b].astype(np.float64)


def pairs_within(R: np.ndarray, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs (i, j), i != j, of one molecule closer than ``cutoff`` (brute force)."""
    dist = np.linalg.norm(R[:, None, :] - R[None, :, :], axis=-1)
    i, j = np.nonzero((dist < cutoff) & ~np.eye(len(R), dtype=bool))
    return i, j


def batch(mols: list[tuple[np.ndarray, np.ndarray]], cutoff: float = CUTOFF, shuffle: int | None = 0,
          dtype=torch.float64) -> dict:
    """Concatenate molecules into the project's batch format; pairs shuffled unless ``shuffle`` is None."""
    Z, R, I, J, M = [], [], [], [], []
    start = 0
    for m, (z, r) in enumerate(mols):
        i, j = pairs_within(r, cutoff)
        Z.append(z), R.append(r), I.append(i + start), J.append(j + start), M.append(np.full(len(z), m))
        start += len(z)
    idx_i, idx_j = np.concatenate(I), np.concatenate(J)
    if shuffle is not None:
        perm = np.random.default_rng(shuffle).permutation(len(idx_i))
        idx_i, idx_j = idx_i[perm], idx_j[perm]
    return dict(Z=torch.as_tensor(np.concatenate(Z)), R=torch.as_tensor(np.concatenate(R), dtype=dtype),
                idx_i=torch.as_tensor(idx_i), idx_j=torch.as_tensor(idx_j),
                idx_m=torch.as_tensor(np.concatenate(M)))


def features(acsf: ACSF, b: dict) -> torch.Tensor:
    return acsf(b["Z"], b["R"], b["idx_i"], b["idx_j"], b.get("offsets"))


# ----------------------------------------------------------------------------------- dscribe
def dscribe_reference(acsf: ACSF, periodic: bool = False):
    """A dscribe ACSF with exactly our parameters, and the dscribe column of each of our columns.

    dscribe 2.1.2 (ext/acsf.cpp): G2 = sum exp(-eta (r - Rs)^2) fc; G4 = 2^(1-zeta) sum_{k<j}
    (1 + lambda cos)^zeta exp(-eta (r_ij^2 + r_ik^2 + r_jk^2)) fc fc fc(r_jk) (written as
    2 ((1 + lambda cos) / 2)^zeta); G5 the same without the r_jk terms; fc = 0.5 (cos(pi r / rc) + 1).
    Layout: per neighbour element (sorted Z) [G1, G2…, G3…], then per element pair in lower-triangle
    order its = a (a + 1) / 2 + b (a >= b) [G4…, G5…]. G1 (sum of fc) has no counterpart here.
    """
    from dscribe.descriptors import ACSF as DscribeACSF

    assert not acsf.weighted
    g2 = np.stack([acsf.radial_eta.numpy(), acsf.radial_mu.numpy()], axis=1)
    angular = np.array([[eta, zeta, lam]
                        for lam, zeta in zip(acsf.angular_lambda.tolist(), acsf.angular_zeta.tolist())
                        for eta in acsf.angular_eta.tolist()])
    kw = {"g4_params": angular} if acsf.crossterms else {"g5_params": angular}
    ref = DscribeACSF(r_cut=acsf.cutoff, g2_params=g2, species=list(acsf.elements), periodic=periodic, **kw)
    n_el, n_r, n_a = acsf.n_elements, acsf.n_radial, len(angular)
    radial = [e * (1 + n_r) + 1 + k for e in range(n_el) for k in range(n_r)]
    rows, cols = np.triu_indices(n_el)  # ours: a <= b, upper-triangle order
    its = cols * (cols + 1) // 2 + rows
    ang = [n_el * (1 + n_r) + p * n_a + k for p in its for k in range(n_a)]
    columns = np.array(radial + ang)
    assert len(columns) == acsf.n_features and ref.get_number_of_features() == n_el * (1 + n_r) + len(its) * n_a
    return ref, columns


CONFIGS = {
    "default-G5-moments": dict(),
    "G5-triples": dict(angular_method="triples"),
    "G4-crossterms": dict(crossterms=True),
    "centered-zetas1248-triples": dict(centered=True, zetas=(1, 2, 4, 8)),
    "zetas124-moments": dict(zetas=(1, 2, 4), angular_method="moments"),
    "G4-zetas1248": dict(crossterms=True, zetas=(1, 2, 4, 8), n_radial=8, n_angular=3),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_dscribe_on_qm9(qm9, name):
    from ase import Atoms

    acsf = ACSF(**CONFIGS[name])
    mols = [molecule(qm9, m) for m in MOLECULES]
    ours = features(acsf, batch(mols)).numpy()  # all 20 molecules in one batch, shuffled pairs
    ref, columns = dscribe_reference(acsf)
    theirs = np.concatenate([ref.create(Atoms(numbers=z, positions=r)) for z, r in mols])[:, columns]
    assert np.abs(theirs).max() > 1.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-10)
    # the reference values are not trivially zero in the F and aromatic blocks
    names = acsf.feature_names()
    f_cols = [k for k, n in enumerate(names) if "F" in n.split()[0]]
    assert np.abs(theirs[:, f_cols]).max() > 1e-3


def test_matches_dscribe_periodic_crystal():
    """``offsets`` path: a small Materials Project crystal (periodic images, self-images) vs dscribe."""
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    mp = np.load(MP_SAMPLE)
    starts = np.concatenate([[0], np.cumsum(mp["n_atoms"])])
    s = int(np.argmax(mp["n_atoms"] == 2))  # first two-atom crystal
    Z = mp["Z"][starts[s]:starts[s + 1]].astype(np.int64)
    cell = mp["cell"][s].astype(np.float64)
    atoms = Atoms(numbers=Z, scaled_positions=mp["frac"][starts[s]:starts[s + 1]], cell=cell, pbc=True)
    acsf = ACSF(elements=sorted(set(Z.tolist())), cutoff=6.0, n_radial=6, n_angular=3, zetas=(1, 2))
    i, j, S = neighbor_list("ijS", atoms, 6.0)
    assert (i == j).any() and len(i) > 30  # periodic images of the atom itself are neighbours too
    ours = acsf(torch.as_tensor(Z), torch.as_tensor(atoms.positions), torch.as_tensor(i), torch.as_tensor(j),
                torch.as_tensor(S @ atoms.cell.array)).numpy()
    ref, columns = dscribe_reference(acsf, periodic=True)
    theirs = ref.create(atoms)[:, columns]
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-10)


# ----------------------------------------------------------------------------------- wACSF
def test_wacsf_is_z_weighted_sum_of_element_resolved_acsf(qm9):
    """wACSF = sum_X Z_X G2[X] and sum_{X<=Y} Z_X Z_Y G5[XY] of the standard ACSF (same grid)."""
    mols = [molecule(qm9, m) for m in (BENZENE, FLUORINATED, 1994)]
    b = batch(mols)
    for method in ("moments", "triples"):
        plain = ACSF(angular_method=method)
        weighted = ACSF(weighted=True, angular_method=method)
        G, W = features(plain, b), features(weighted, b)
        z = torch.tensor(plain.elements, dtype=torch.float64)
        radial = G[:, : plain.n_radial_features].view(-1, plain.n_elements, plain.n_radial)
        angular = G[:, plain.n_radial_features:].view(-1, plain.n_element_pairs, plain.n_theta * plain.n_angular)
        zz = z[plain.pair_rows] * z[plain.pair_cols]
        expected = torch.cat([(radial * z[:, None]).sum(1), (angular * zz[:, None]).sum(1)], dim=1)
        torch.testing.assert_close(W, expected, rtol=1e-10, atol=1e-10)


def test_wacsf_feature_count_independent_of_elements(qm9):
    few = ACSF(elements=(1, 6, 7, 8, 9), weighted=True)
    many = ACSF(elements=(1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 35), weighted=True)
    assert few.n_features == many.n_features == 22 + 5 * 2 == 32
    assert ACSF(elements=(1, 6), weighted=True, zetas=(1, 2, 4, 8)).n_features == 22 + 5 * 8
    b = batch([molecule(qm9, BENZENE)])
    torch.testing.assert_close(features(few, b), features(many, b))
    # the standard ACSF does grow: n_radial E + n_angular n_theta E (E + 1) / 2
    assert ACSF().n_features == 22 * 5 + 5 * 2 * 15 == 260
    assert ACSF(elements=(1, 6)).n_features == 22 * 2 + 5 * 2 * 3


# ----------------------------------------------------------------------------------- physics
def random_rotation(q: list[float]) -> np.ndarray:
    """Rotation matrix of the (normalized) quaternion ``q``."""
    w, x, y, z = np.asarray(q) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


quaternions = st.lists(st.floats(-1, 1, allow_nan=False), min_size=4, max_size=4).filter(
    lambda q: np.linalg.norm(q) > 0.1)


@settings(max_examples=8, deadline=None)
@given(q=quaternions, shift=st.lists(st.floats(-20, 20), min_size=3, max_size=3), seed=st.integers(0, 2**16),
       which=st.sampled_from([BENZENE, FLUORINATED, 1994]), weighted=st.booleans())
def test_invariance_rotation_translation_permutation(q, shift, seed, which, weighted):
    data = np.load(SAMPLE)
    Z, R = molecule(data, which)
    acsf = ACSF(weighted=weighted, crossterms=bool(seed % 2), zetas=(1, 2))
    G = features(acsf, batch([(Z, R)]))
    perm = np.random.default_rng(seed).permutation(len(Z))
    R2 = (R @ random_rotation(q).T + np.asarray(shift))[perm]
    G2 = features(acsf, batch([(Z[perm], R2)], shuffle=seed))
    torch.testing.assert_close(G2, G[perm], rtol=1e-9, atol=1e-9)


def test_gradcheck_small_molecule(qm9):
    """Analytic (autograd) gradients w.r.t. R match finite differences, both angular methods."""
    b = batch([molecule(qm9, 1), molecule(qm9, 10)])  # ammonia (4 atoms) and a 12-atom C/N/H molecule
    for kw in (dict(), dict(angular_method="triples", zetas=(1, 2)), dict(crossterms=True, zetas=(1, 4)),
               dict(weighted=True, centered=True)):
        acsf = ACSF(n_radial=4, n_angular=2, **kw)
        R0 = b["R"].clone().requires_grad_(True)
        # fast mode checks random projections of the Jacobian (a full Jacobian needs one backward per output)
        assert torch.autograd.gradcheck(lambda x: acsf(b["Z"], x, b["idx_i"], b["idx_j"]), (R0,),
                                        eps=1e-6, atol=1e-6, rtol=1e-5, fast_mode=True)
    ammonia = batch([molecule(qm9, 1)])  # full Jacobian on the smallest case
    for method in ("moments", "triples"):
        acsf = ACSF(elements=(1, 7), n_radial=3, n_angular=2, zetas=(1, 2), angular_method=method)
        R0 = ammonia["R"].clone().requires_grad_(True)
        assert torch.autograd.gradcheck(lambda x: acsf(ammonia["Z"], x, ammonia["idx_i"], ammonia["idx_j"]), (R0,),
                                        eps=1e-6, atol=1e-6, rtol=1e-5)


def test_gradients_finite_on_benzene(qm9):
    b = batch([molecule(qm9, BENZENE), molecule(qm9, FLUORINATED)])
    for kw in (dict(), dict(crossterms=True, zetas=(1, 2, 4, 8)), dict(weighted=True)):
        R = b["R"].clone().requires_grad_(True)
        G = ACSF(**kw)(b["Z"], R, b["idx_i"], b["idx_j"])
        (G**2).sum().backward()
        assert torch.isfinite(R.grad).all() and R.grad.abs().max() > 0
        # sum of forces from a translation-invariant function vanishes per molecule
        torch.testing.assert_close(R.grad[:12].sum(0), torch.zeros(3, dtype=R.dtype), atol=1e-8, rtol=0)


def test_float32_matches_float64(qm9):
    mols = [molecule(qm9, m) for m in MOLECULES[:8]]
    for kw in (dict(), dict(crossterms=True, zetas=(1, 2, 4, 8)), dict(weighted=True), dict(zetas=(1, 2, 4))):
        acsf = ACSF(**kw)
        G64 = features(acsf, batch(mols, dtype=torch.float64))
        G32 = features(acsf, batch(mols, dtype=torch.float32))
        assert G32.dtype == torch.float32 and G64.dtype == torch.float64
        scale = G64.abs().max()
        torch.testing.assert_close(G32.double(), G64, rtol=1e-4, atol=2e-6 * float(scale))


def test_batch_equals_molecules_alone(qm9):
    mols = [molecule(qm9, m) for m in (0, BENZENE, FLUORINATED, 1500, 1999)]
    for kw in (dict(), dict(angular_method="triples"), dict(weighted=True, crossterms=True)):
        acsf = ACSF(**kw)
        together = features(acsf, batch(mols, shuffle=3))
        alone = torch.cat([features(acsf, batch([m], shuffle=None)) for m in mols])
        torch.testing.assert_close(together, alone, rtol=1e-12, atol=1e-12)


def test_moments_equal_triples(qm9):
    b = batch([molecule(qm9, m) for m in MOLECULES])
    for kw in (dict(), dict(zetas=(1, 2, 3, 4)), dict(weighted=True, zetas=(1, 2))):
        G_m = features(ACSF(angular_method="moments", **kw), b)
        G_t = features(ACSF(angular_method="triples", **kw), b)
        torch.testing.assert_close(G_m, G_t, rtol=1e-9, atol=1e-9)


def test_pairs_beyond_cutoff_and_empty_neighbourhoods(qm9):
    Z, R = molecule(qm9, BENZENE)
    acsf = ACSF(cutoff=3.0)
    close = features(acsf, batch([(Z, R)], cutoff=3.0))
    everything = features(acsf, batch([(Z, R)], cutoff=100.0))  # extra pairs are dropped
    torch.testing.assert_close(everything, close)
    lone = acsf(torch.tensor([1, 6]), torch.zeros(2, 3, dtype=torch.float64),
                torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long))
    assert lone.shape == (2, acsf.n_features) and not lone.any()


def test_one_way_probe_atoms(qm9):
    """Probe atoms appear only as receivers (idx_i): molecule rows unchanged, probe rows = the same atom
    inside the full system."""
    Z, R = molecule(qm9, BENZENE)
    probes_z = np.array([6, 1, 8])
    probes_r = R.mean(0) + np.array([[0.0, 0.0, 1.5], [1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    n = len(Z)
    i, j = pairs_within(R, CUTOFF)
    pi, pj = [], []
    for p, r in enumerate(probes_r):  # probe p <- every molecule atom within the cutoff
        near = np.nonzero(np.linalg.norm(R - r, axis=1) < CUTOFF)[0]
        pi.append(np.full(len(near), n + p)), pj.append(near)
    acsf = ACSF()
    G = acsf(torch.as_tensor(np.concatenate([Z, probes_z])), torch.as_tensor(np.concatenate([R, probes_r])),
             torch.as_tensor(np.concatenate([i, *pi])), torch.as_tensor(np.concatenate([j, *pj])))
    torch.testing.assert_close(G[:n], features(acsf, batch([(Z, R)])))
    for p in range(len(probes_z)):
        full = features(acsf, batch([(np.append(Z, probes_z[p]), np.vstack([R, probes_r[p]]))]))
        torch.testing.assert_close(G[n + p], full[n])


def test_triples_enumerate_each_unordered_pair_once():
    idx_i = torch.tensor([2, 0, 2, 1, 0, 2, 0, 2])  # centre 0: 3 pairs, 1: 1, 2: 4
    centre, p_j, p_k = neighbor_pairs_to_triples(idx_i, 4)
    assert centre.tolist() == [0] * 3 + [2] * 6
    assert bool((idx_i[p_j] == centre).all() and (idx_i[p_k] == centre).all() and (p_j != p_k).all())
    found = {(int(c), *sorted((int(a), int(b)))) for c, a, b in zip(centre, p_j, p_k)}
    assert len(found) == 9


# ----------------------------------------------------------------------------------- API
def test_unknown_element_names_it(qm9):
    acsf = ACSF(elements=(1, 6, 7, 8))
    b = batch([molecule(qm9, FLUORINATED)])
    with pytest.raises(ValueError, match=r"\bF \(Z=9\)"):
        features(acsf, b)
    with pytest.raises(ValueError, match=r"\bS \(Z=16\)"):
        acsf(torch.tensor([16, 1]), torch.zeros(2, 3), torch.tensor([0, 1]), torch.tensor([1, 0]))


def test_feature_names():
    acsf = ACSF()
    names = acsf.feature_names()
    assert len(names) == acsf.n_features == 260 and len(set(names)) == len(names)
    assert names[0] == "G2[H] eta=13.78 mu=0.5"
    assert names[22 * 5].startswith("G5[H-H] eta=0.5 zeta=1 lambda=-1")
    assert "G4[C-O]" in " ".join(ACSF(crossterms=True).feature_names())
    w = ACSF(weighted=True).feature_names()
    assert len(w) == 32 and w[0].startswith("wG2") and w[-1].startswith("wG5")
    assert ACSF().state_dict() == {}  # everything is rebuilt from the constructor arguments


def test_standardizer_zero_mean_unit_std_per_element(qm9):
    acsf = ACSF()
    chunks = []
    for lo in range(0, 2000, 500):  # 4 batches of 30 molecules spread over the sample, one pass
        b = batch([molecule(qm9, m) for m in range(lo, lo + 30)], dtype=torch.float32, shuffle=None)
        with torch.no_grad():
            chunks.append((b["Z"], features(acsf, b)))
    scaler = FeatureStandardizer(acsf.n_features, max_z=9).fit(chunks)
    Z = torch.cat([z for z, _ in chunks])
    G = torch.cat([g for _, g in chunks])
    assert scaler(Z, G).dtype == torch.float32
    S = scaler(Z, G).double()
    for z in (1, 6, 7, 8):
        sel = Z == z
        raw_std = G[sel].double().std(0, unbiased=False)
        varying = raw_std > 1e-3 * raw_std.max()
        torch.testing.assert_close(S[sel].mean(0), torch.zeros(acsf.n_features, dtype=torch.float64),
                                   atol=1e-4, rtol=0)
        torch.testing.assert_close(S[sel][:, varying].std(0, unbiased=False),
                                   torch.ones(int(varying.sum()), dtype=torch.float64), atol=1e-4, rtol=0)
    # statistics live in the state_dict and travel with the model
    state = scaler.state_dict()
    assert set(state) == {"mean", "std"} and state["mean"].shape == (10, acsf.n_features)
    assert bool((state["std"] > 0).all())
    fresh = FeatureStandardizer(acsf.n_features, max_z=9)
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh(Z, G), scaler(Z, G))
    # an element never seen keeps mean 0 / std 1 (no boron in QM9)
    assert bool((state["std"][5] == 1).all()) and not state["mean"][5].any()
    with pytest.raises(ValueError, match=r"Cl \(Z=17\)"):
        scaler.fit([(torch.tensor([17]), torch.zeros(1, acsf.n_features))])


def test_standardizer_clip_keeps_inputs_in_the_training_range(qm9):
    """``clip=True``: features are clamped to each element's training range before standardizing. A feature
    that never varied in training (here every F-related term: the fit sees no fluorine neighbours) stays at
    its training constant, standardized 0, instead of (value - 0) / eps ~ 10^5; inside the range nothing
    changes."""
    acsf = ACSF()
    mols = [molecule(qm9, m) for m in range(2000)]
    has_f = [9 in set(np.asarray(m[0]).tolist()) for m in mols]
    train = [m for m, f in zip(mols, has_f) if not f][:60]
    test = [m for m, f in zip(mols, has_f) if f][:10]
    assert len(test) == 10
    b_train = batch(train, dtype=torch.float64, shuffle=None)
    b_test = batch(test, dtype=torch.float64, shuffle=None)
    with torch.no_grad():
        G_train, G_test = features(acsf, b_train), features(acsf, b_test)
    plain = FeatureStandardizer(acsf.n_features, max_z=9).fit([(b_train["Z"], G_train)])
    clipped = FeatureStandardizer(acsf.n_features, max_z=9, clip=True).fit([(b_train["Z"], G_train)])
    # on the training atoms themselves the two agree exactly
    torch.testing.assert_close(clipped(b_train["Z"], G_train), plain(b_train["Z"], G_train), rtol=0, atol=0)
    # the range is the training min / max per element and feature
    for z in (1, 6):
        sel = b_train["Z"] == z
        torch.testing.assert_close(clipped.low[z], G_train[sel].min(0).values)
        torch.testing.assert_close(clipped.high[z], G_train[sel].max(0).values)
    # a fluorine-containing molecule: without clipping its F features blow up, with clipping they cannot
    Zt = b_test["Z"]
    seen = (Zt == 1) | (Zt == 6) | (Zt == 7) | (Zt == 8)
    assert float(plain(Zt, G_test)[seen].abs().max()) > 1e4
    S = clipped(Zt, G_test)[seen]
    bound = ((torch.maximum(clipped.high[Zt[seen]] - clipped.mean[Zt[seen]],
                            clipped.mean[Zt[seen]] - clipped.low[Zt[seen]])) / clipped.std[Zt[seen]])
    assert bool((S.abs() <= bound + 1e-9).all())
    f_cols = torch.tensor(["[F" in n or "-F]" in n for n in acsf.feature_names()])
    assert bool((S[:, f_cols] == 0).all())  # constant (zero) in training → standardized 0
    # the bounds travel in the state_dict; a standardizer without clip keeps the old two buffers
    assert set(clipped.state_dict()) == {"mean", "std", "low", "high"}
    assert set(plain.state_dict()) == {"mean", "std"}
    fresh = FeatureStandardizer(acsf.n_features, max_z=9, clip=True)
    fresh.load_state_dict(clipped.state_dict())
    torch.testing.assert_close(fresh(Zt, G_test), clipped(Zt, G_test))
    # unseen elements (F here) have no bounds
    assert bool(torch.isinf(clipped.low[9]).all()) and bool(torch.isinf(clipped.high[9]).all())
