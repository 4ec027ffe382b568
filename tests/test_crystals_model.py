"""SchNet on periodic crystals: invariances of the formation energy, the intensive head, unknown elements,
and `atomint train --target crystals --profile quick` end to end.

The periodic neighbour pairs themselves are checked against a brute-force supercell in test_batch.py;
here the whole model must give the same formation energy for every description of the same crystal:
another unit-cell origin (atoms translated, wrapped into the cell or not), another atom order, another
but equivalent choice of lattice vectors (a → a + b) and a supercell.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from atomint_helpers import AtomintError, store
from atomint_helpers.data.batch import crystal_atoms_data
from atomint_helpers.models import atoms_to_batch, build
from atomint_helpers.training import CRYSTAL_ELEMENTS, predict, run_name

SMALL = dict(n_atom_basis=16, n_interactions=2, n_rbf=12, cutoff=4.0)
#: the model runs in float64, but periodic cell shifts are stored as float32 (Pairs.shifts), so two
#: descriptions of one crystal agree to ~1e-8 eV/atom; a missing or wrong cell shift or a mislabelled atom
#: moves distances by ångströms and the output by far more than this tolerance
TOL = 1e-7


@pytest.fixture(scope="module")
def crystals():
    """The embedded sample (what the quick profile trains on), whatever ATOMINT_DATA says."""
    from atomint_helpers.data.crystals import read_npz
    from atomint_helpers.data.paths import SAMPLE_DIR

    return read_npz(SAMPLE_DIR / "mp_sample.npz", "sample").clean()


@pytest.fixture(scope="module")
def small_rows(crystals):
    """A few small but varied crystals (2–8 atoms, different elements)."""
    n = crystals.n_atoms.astype(int)
    rows = np.flatnonzero((n >= 2) & (n <= 8))
    return rows[np.linspace(0, len(rows) - 1, 6).astype(int)]


@pytest.fixture(scope="module")
def model(crystals):
    torch.manual_seed(0)
    m = build({"model": "schnet", "target": "crystals", "elements": list(CRYSTAL_ELEMENTS),
               "representation": SMALL}).double()
    data = crystal_atoms_data(crystals.subset(np.arange(300)), cutoff=m.cutoff)
    m.fit_statistics(data, np.arange(300))
    with torch.no_grad():  # make the output depend on geometry everywhere
        for p in m.parameters():
            p.add_(0.05 * torch.randn_like(p))
    m.eval()
    return m


def _run(model, atoms):
    with torch.no_grad():
        out = model(atoms_to_batch(atoms, model.cutoff, dtype=torch.float64))
    return float(out["formation_energy"][0]), out["atomic_energies"].numpy()


def test_head_is_the_mean_of_atomic_contributions(model, crystals, small_rows):
    data = crystal_atoms_data(crystals.subset(small_rows), cutoff=model.cutoff)
    b = data.batch(np.arange(len(small_rows)))
    b = {k: (v.double() if v.is_floating_point() else v) for k, v in b.items()}
    with torch.no_grad():
        out = model(b)
    mean = torch.zeros(len(small_rows), dtype=torch.float64).index_add(0, b["_idx_m"], out["atomic_energies"])
    mean = mean / b["_n_atoms"]
    assert torch.allclose(out["formation_energy"], mean, atol=1e-12)
    assert model.unit == "eV/atom" and model.target_key == "formation_energy"
    # batch = single structure
    for k, row in enumerate(small_rows):
        e, _ = _run(model, crystals.atoms(int(row)))
        assert e == pytest.approx(float(out["formation_energy"][k]), abs=TOL)


@pytest.mark.parametrize("wrap", [True, False], ids=["wrapped", "unwrapped"])
def test_invariant_to_unit_cell_origin(model, crystals, small_rows, wrap):
    rng = np.random.default_rng(7)
    for row in small_rows:
        at = crystals.atoms(int(row))
        e0, a0 = _run(model, at)
        moved = at.copy()
        moved.translate(rng.normal(scale=3.0, size=3))
        if wrap:
            moved.wrap()
        e1, a1 = _run(model, moved)
        assert e1 == pytest.approx(e0, abs=TOL), at.info["mp_id"]
        assert np.allclose(a1, a0, atol=TOL)


def test_invariant_to_atom_order_and_rotation(model, crystals, small_rows):
    rng = np.random.default_rng(3)
    for row in small_rows:
        at = crystals.atoms(int(row))
        e0, a0 = _run(model, at)
        perm = rng.permutation(len(at))
        e1, a1 = _run(model, at[perm])
        assert e1 == pytest.approx(e0, abs=TOL)
        assert np.allclose(a1, a0[perm], atol=TOL)  # atomic contributions travel with their atoms
        rot = Rotation.random(random_state=int(row)).as_matrix()
        turned = at.copy()
        turned.set_cell(at.cell.array @ rot.T, scale_atoms=True)
        e2, _ = _run(model, turned)
        assert e2 == pytest.approx(e0, abs=TOL)


@pytest.mark.parametrize("M", [[[1, 1, 0], [0, 1, 0], [0, 0, 1]],     # a → a + b
                               [[0, 1, 0], [1, 0, 0], [0, 0, -1]],    # a ↔ b, c → −c
                               [[1, 0, 0], [0, 1, 0], [-1, 2, 1]]],   # c → c − a + 2b
                         ids=["a+b", "swap", "c-a+2b"])
def test_invariant_to_equivalent_lattice_vectors(model, crystals, small_rows, M):
    """A unimodular change of basis (integer matrix, det ±1) describes the same lattice: same crystal,
    same atoms at the same Cartesian positions, same formation energy."""
    M = np.array(M, dtype=float)
    assert abs(abs(np.linalg.det(M)) - 1) < 1e-12
    for row in small_rows:
        at = crystals.atoms(int(row))
        e0, a0 = _run(model, at)
        other = at.copy()
        other.set_cell(M @ at.cell.array, scale_atoms=False)
        e1, a1 = _run(model, other)
        assert e1 == pytest.approx(e0, abs=TOL), at.info["mp_id"]
        assert np.allclose(a1, a0, atol=TOL)


@pytest.mark.parametrize("reps", [(2, 1, 1), (1, 2, 2)])
def test_supercell_gives_the_same_energy_per_atom(model, crystals, small_rows, reps):
    for row in small_rows[:4]:
        at = crystals.atoms(int(row))
        e0, a0 = _run(model, at)
        e1, a1 = _run(model, at.repeat(reps))
        assert e1 == pytest.approx(e0, abs=TOL)
        assert np.allclose(a1, np.tile(a0, int(np.prod(reps))), atol=TOL)


@pytest.mark.parametrize("formula,named", [("NeO", "Ne"), ("AmO2", "Am")])
def test_element_outside_the_embedding_table_is_named(model, formula, named):
    from ase.build import bulk

    at = bulk("NaCl", "rocksalt", a=5.0)
    at.set_chemical_symbols(["Ne", "O"] if named == "Ne" else ["Am", "O"])
    with pytest.raises(AtomintError, match=rf"has no trained embedding for element\(s\) {named} \(it knows H, He, Li"):
        model.predict(at)


def test_formation_head_fits_composition_fractions():
    """The per-element shifts are the least-squares fit on composition fractions: a target that is exactly
    linear in the fractions is reproduced with a zero residual."""
    from atomint_helpers.models.heads import FormationEnergyHead

    rng = np.random.default_rng(0)
    elements = np.array([3, 8, 26, 29])
    n = rng.integers(1, 9, size=200)
    Z = rng.choice(elements, size=int(n.sum()))
    offsets = np.concatenate([[0], np.cumsum(n)])
    b_true = np.zeros(101)
    b_true[elements] = [-0.5, -2.0, 0.3, 0.1]
    frac = np.stack([np.bincount(np.repeat(np.arange(len(n)), n), weights=(Z == z).astype(float),
                                 minlength=len(n)) for z in elements], 1) / n[:, None]
    e = frac @ b_true[elements]
    head = FormationEnergyHead(max_z=100)
    head.fit(Z, offsets, e + 1e-3 * rng.normal(size=len(n)))
    assert np.allclose(head.shift.numpy()[elements], b_true[elements], atol=5e-3)
    assert float(head.scale) == pytest.approx(1e-3, rel=0.3)
    assert float(head.shift[1]) == 0.0  # an element absent from training keeps zero


def test_crystal_target_needs_schnet():
    from atomint_helpers.training import train

    with pytest.raises(AtomintError, match="SchNet only"):
        train("bp", "crystals", profile="quick")
    with pytest.raises(AtomintError, match="SchNet only"):
        build({"model": "bp", "target": "crystals"})
    assert run_name("schnet", "crystals", "cpu", 0) == "schnet-mp-cpu-fold0"
    assert run_name("schnet", "energy", "cpu", 0) == "schnet-energy-cpu-fold0"  # QM9 names unchanged


def test_train_crystals_quick_end_to_end(tmp_path, crystals):
    cmd = [sys.executable, "-m", "atomint_helpers.cli", "train", "--model", "schnet", "--target", "crystals",
           "--profile", "quick", "--max-epochs", "2", "--threads", "1", "--quiet", "--models-dir", str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    folder = tmp_path / "schnet-mp-quick-fold0"
    for f in (store.WEIGHTS, store.CONFIG, store.PROVENANCE, store.LOG, store.SPLIT, store.STATE):
        assert (folder / f).is_file(), f
    cfg = json.loads((folder / store.CONFIG).read_text())
    assert cfg["target"] == "crystals" and cfg["elements"] == list(CRYSTAL_ELEMENTS) and len(cfg["elements"]) == 87
    assert cfg["representation"]["max_z"] >= 95
    prov = store.provenance(folder)
    assert prov["unit"] == "eV/atom" and prov["epochs"] == 2
    assert prov["data"]["source"] == "sample" and prov["data"]["n_structures"] == 1500
    assert (prov["n_train"], prov["n_val"], prov["n_test"]) == (1100, 200, 200)
    # the split is over src_index ids of the sample, disjoint and complete, and deterministic from the fold
    from atomint_helpers.data.splits import load_split
    from atomint_helpers.training import CRYSTAL_PROFILES, crystal_rows, crystal_split

    parts = load_split(folder / store.SPLIT)
    ids = np.concatenate([parts["train"], parts["val"], parts["test"]])
    assert len(np.unique(ids)) == 1500 and set(ids) == set(crystals.src_index.tolist())
    again = crystal_split(CRYSTAL_PROFILES["quick"], 0, crystals)
    assert all(np.array_equal(parts[k], again[k]) for k in parts)
    # the recorded test MAE is reproduced from the checkpoint
    model = store.load_model(folder)
    data = crystal_atoms_data(crystals, cutoff=model.cutoff)
    rows = crystal_rows(crystals, parts["test"])
    mae = float(np.mean(np.abs(predict(model, data, rows) - crystals.e_form[rows])))
    assert mae == pytest.approx(prov["metrics"]["test"]["mae"], rel=1e-5)
    assert 0 < mae < 1.5  # eV/atom
    out = model.predict(crystals.atoms(0))
    assert isinstance(out["formation_energy"], float)
    assert out["formation_energy"] == pytest.approx(float(np.mean(out["atomic_energies"])), abs=1e-6)


def test_filters_by_unique_distance_equal_schnetpack_forward_on_crystals(model, crystals, small_rows, monkeypatch):
    """Periodic pairs (an atom with its own images, several images of one neighbour): the training forward
    that evaluates the filters once per distinct distance equals schnetpack's own SchNet forward."""
    from atomint_helpers.models.schnet import SchNetAtomwise

    data = crystal_atoms_data(crystals.subset(small_rows), cutoff=model.cutoff)
    b = data.batch(np.arange(len(small_rows)))
    b = {k: (v.double() if v.is_floating_point() else v) for k, v in b.items()}
    outs = []
    for shared in (False, True):
        monkeypatch.setattr(SchNetAtomwise, "share_filters_by_distance", shared)
        with torch.no_grad():
            outs.append(model(b)["atomic_energies"])
    assert torch.equal(outs[0], outs[1])


def test_embedding_std_scales_the_initial_embeddings_only():
    """``embedding_std`` rescales SchNet's N(0, 1) embedding draw without consuming random numbers, so every
    other initial weight is the same; the rebuilt initialisation (embeddings analysis) follows it."""
    from atomint_helpers.interpret.embeddings import initial_embeddings

    base = {"model": "schnet", "target": "crystals", "elements": list(CRYSTAL_ELEMENTS), "representation": SMALL}
    scaled = {**base, "representation": {**SMALL, "embedding_std": 0.1}}
    torch.manual_seed(3)
    a = build(base).state_dict()
    torch.manual_seed(3)
    b = build(scaled).state_dict()
    for k in a:
        if k.endswith("embedding.weight"):
            assert torch.allclose(b[k], 0.1 * a[k], rtol=1e-6, atol=0)
        else:
            assert torch.equal(a[k], b[k]), k
    emb = b["representation.representation.embedding.weight"].double().numpy()
    assert np.array_equal(initial_embeddings(scaled, 3), emb)
    with pytest.raises(AtomintError, match="embedding_std"):
        build({**base, "representation": {**SMALL, "embedding_std": 0.0}})
