"""Element embeddings (Fig. 7): periodic-table bookkeeping, a deterministic PCA, the paper's readings as
numbers on synthetic embeddings with a known answer, the random-initialisation baseline, and errors."""
from pathlib import Path

import numpy as np
import pytest
import torch

from atomint_helpers import AtomintError
from atomint_helpers.interpret import embedding_study as es
from atomint_helpers.data import elements
from atomint_helpers.interpret import embeddings as em
from atomint_helpers.report import embeddings as report
from atomint_helpers.training import CRYSTAL_ELEMENTS

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "models" / "schnet-mp-quick-fold0"


@pytest.mark.parametrize("symbol,group,period", [
    ("H", 1, 1), ("He", 18, 1), ("Li", 1, 2), ("B", 13, 2), ("Ne", 18, 2), ("Al", 13, 3), ("K", 1, 4),
    ("Sc", 3, 4), ("Ga", 13, 4), ("Kr", 18, 4), ("Sb", 15, 5), ("Xe", 18, 5), ("Cs", 1, 6), ("Ba", 2, 6),
    ("La", None, 6), ("Lu", None, 6), ("Hf", 4, 6), ("Tl", 13, 6), ("Bi", 15, 6), ("Rn", 18, 6),
    ("Fr", 1, 7), ("Ac", None, 7), ("Pu", None, 7)])
def test_group_and_period(symbol, group, period):
    from ase.data import atomic_numbers

    z = atomic_numbers[symbol]
    assert em.group_of(z) == group and em.period_of(z) == period


def test_main_group_elements_of_the_crystal_set():
    Z = elements.main_group_elements(CRYSTAL_ELEMENTS)
    assert len(Z) == 37
    assert em.symbols(Z[:4]) == ["H", "He", "Li", "Be"]
    assert not {"Ne", "Ar", "Po", "Rn", "Fe", "La"} & set(em.symbols(Z))


def _synthetic(rng, dim=16, noise=0.05):
    """Main-group embeddings with a built-in periodic table: a direction per group plus a shared
    light-to-heavy direction scaled by the period, and H far from everything."""
    Z = elements.main_group_elements(CRYSTAL_ELEMENTS)
    groups = np.array([em.group_of(z) for z in Z])
    periods = np.array([em.period_of(z) for z in Z])
    gdir = {g: 3.0 * rng.normal(size=dim) for g in elements.MAIN_GROUPS}
    heavy = rng.normal(size=dim)
    X = np.stack([gdir[g] + 0.6 * p * heavy for g, p in zip(groups, periods)]) + noise * rng.normal(size=(len(Z), dim))
    X[Z == 1] += 12.0 * rng.normal(size=dim)
    return Z, X


def test_pca_is_deterministic_and_order_independent():
    rng = np.random.default_rng(0)
    Z, X = _synthetic(rng)
    a, b = em.embedding_pca(Z, X), em.embedding_pca(Z, X.copy())
    assert np.array_equal(a.coords, b.coords) and np.array_equal(a.explained, b.explained)
    perm = rng.permutation(len(Z))
    c = em.embedding_pca(Z[perm], X[perm])
    assert np.allclose(c.coords, a.coords[perm], atol=1e-10)
    assert np.allclose(c.explained, a.explained)
    # sign convention: each component's largest loading is positive
    assert np.all(a.components[np.arange(2), np.abs(a.components).argmax(1)] > 0)
    # the same numbers as scikit-learn, up to that sign
    from sklearn.decomposition import PCA

    ref = PCA(2, svd_solver="full").fit(X)
    assert np.allclose(a.explained, ref.explained_variance_ratio_)
    assert np.allclose(np.abs(a.coords), np.abs(ref.transform(X)), atol=1e-10)
    assert np.allclose(a.project(X), a.coords)
    assert list(a.frame().columns) == ["Z", "group", "period", "PC1", "PC2"]


def test_readings_on_embeddings_with_a_known_answer():
    Z, X = _synthetic(np.random.default_rng(1))
    pca = em.embedding_pca(Z, X)
    for g in (1, 2, 15):
        r = em.group_ordering(pca, g)
        assert r["n"] == 5 and r["abs_rho"] == pytest.approx(1.0), r
    assert em.group_ordering(pca, 1)["order"] == ["Li", "Na", "K", "Rb", "Cs"]
    h = em.hydrogen_apart(pca)
    assert h["ratio"] > 2 and h["n_alkali"] == 5
    s = em.clustering_scores(X[Z != 1], [em.group_of(z) for z in Z[Z != 1]])
    assert s["silhouette"] > 0.3 and s["nn_agreement"] > 0.9


def test_readings_on_random_embeddings_are_near_chance():
    rng = np.random.default_rng(2)
    Z = elements.main_group_elements(CRYSTAL_ELEMENTS)
    groups = [em.group_of(z) for z in Z]
    X = rng.normal(size=(len(Z), 64))
    s = em.clustering_scores(X, groups)
    assert s["silhouette"] < 0.05 and s["nn_agreement"] < 0.5
    assert 0.05 < em.chance_nn_agreement(groups) < 0.2
    assert em.permutation_p(X, groups, n_perm=300) > 0.01


def test_random_embeddings_are_schnets_initialisation():
    W = em.random_embeddings(100, 8, seed=5)
    torch.manual_seed(5)
    ref = torch.nn.Embedding(100, 8).weight.detach().double().numpy()
    assert np.array_equal(W, ref)
    state = torch.random.get_rng_state()
    em.random_embeddings(100, 8, seed=6)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is untouched


def test_quick_checkpoint_embeddings():
    """The committed quick crystal checkpoint: its initialisation is rebuilt exactly from the stored seed
    (rows no structure can contain are still at it), and the learned-vs-random table is complete."""
    if not QUICK.is_dir():
        pytest.fail(f"{QUICK} is missing: run `atomint train --model schnet --target crystals --profile quick`")
    model, prov = em.load_checkpoint(ROOT / "models", "quick", 0)
    W = em.embedding_matrix(model)
    assert W.shape[0] >= 95
    W0 = em.initial_embeddings(model.config, prov["seed"])
    assert np.array_equal(W[[0, 10, 18, 96]], W0[[0, 10, 18, 96]])  # never trained: still the init
    seen = em.trained_elements(model, prov["seed"])
    assert set(seen) <= set(CRYSTAL_ELEMENTS) and len(seen) >= 80
    Z = elements.main_group_elements(seen)
    table, base = es.learned_vs_random(model, Z, seed=prov["seed"], seeds=range(5))
    assert len(base) == 5 and {"silhouette", "nn_agreement"} <= set(table.columns)
    assert "trained embeddings" in table.index and "learned displacement (trained − init)" in table.index
    with pytest.raises(AtomintError, match="rebuilt initial embeddings do not match"):
        em.trained_elements(model, prov["seed"] + 1)
    pca = em.embedding_pca(Z, W[Z])
    values = em.pc1_values(model, pca)
    assert len(values) == 87 and all(np.isfinite(list(values.values())))


def test_errors_are_named(tmp_path):
    with pytest.raises(AtomintError) as ei:
        em.checkpoint_folder(tmp_path, "cpu", 0)
    msg = str(ei.value)
    assert "\n" not in msg and "schnet-mp-cpu-fold0" in msg and "--target crystals --profile cpu" in msg
    with pytest.raises(AtomintError, match="more than 2 elements"):
        em.embedding_pca([1, 3], np.zeros((2, 4)))
    with pytest.raises(AtomintError, match="one embedding row per element"):
        em.embedding_pca([1, 3, 11], np.zeros((2, 4)))
    from atomint_helpers.models import build

    with pytest.raises(AtomintError, match="SchNet models only"):
        em.embedding_matrix(build({"model": "bp", "target": "energy",
                                   "representation": {"n_radial": 4, "n_angular": 1, "zetas": (1,), "hidden": (8,)}}))


def test_one_swapped_pair_of_five_meets_the_ordering_criterion():
    """Li, Na, K, Cs, Rb along a line: one neighbouring pair out of order, Spearman ρ = 0.9 exactly (scipy
    computes 0.8999999999999998), which the criterion |ρ| ≥ 0.9 is meant to accept; two swaps (ρ = 0.8) not."""
    Z = np.array([3, 11, 19, 37, 55])
    for pos, rho in (([0.0, 1.0, 2.0, 4.0, 3.0], 0.9), ([1.0, 0.0, 2.0, 4.0, 3.0], 0.8)):
        coords = np.stack([np.asarray(pos), 0.1 * np.asarray(pos) ** 2], axis=1)
        pca = em.EmbeddingPCA(Z, coords, np.array([0.6, 0.2]), np.eye(2), np.zeros(2))
        r = em.group_ordering(pca, 1)
        assert r["abs_rho"] == rho
        assert (r["abs_rho"] >= report.ORDER_MIN_RHO) == (rho >= 0.9)
