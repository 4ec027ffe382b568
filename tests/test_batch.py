"""Neighbour pairs against brute force, and batches built by slicing against per-molecule builds."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from atomint_helpers.data.batch import cached_pairs, molecule_pairs, periodic_pairs, qm9_atoms_data
from atomint_helpers.properties import IDX_I, IDX_J, IDX_M, OFFSETS, R_KEY, Z_KEY
from atomint_helpers.data.crystals import BAD_ENTRIES, load_crystals


def brute_force_pairs(R, offsets, cutoff):
    out = set()
    for m in range(len(offsets) - 1):
        a, b = offsets[m], offsets[m + 1]
        for i, j in itertools.permutations(range(a, b), 2):
            if np.linalg.norm(R[i] - R[j]) < cutoff:
                out.add((i, j))
    return out


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), cutoff=st.floats(1.0, 6.0))
def test_molecule_pairs_equal_brute_force(seed, cutoff):
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 12, size=rng.integers(1, 8))
    offsets = np.concatenate([[0], np.cumsum(n)])
    R = rng.normal(scale=2.0, size=(offsets[-1], 3))
    p = molecule_pairs(R, offsets, cutoff)
    got = list(zip(p.idx_i.tolist(), p.idx_j.tolist()))
    assert len(got) == len(set(got))
    assert set(got) == brute_force_pairs(R, offsets, cutoff)
    # sorted by (i, j) and ptr delimits each molecule's pairs
    assert got == sorted(got)
    for m in range(len(n)):
        sl = slice(p.ptr[m], p.ptr[m + 1])
        assert np.all((p.idx_i[sl] >= offsets[m]) & (p.idx_i[sl] < offsets[m + 1]))


def test_molecule_pairs_on_real_molecules(sample):
    sub = sample.subset(np.arange(0, 2000, 40))
    p = molecule_pairs(sub.R, sub.offsets, 5.0)
    assert set(zip(p.idx_i.tolist(), p.idx_j.tolist())) == brute_force_pairs(sub.R.astype(float), sub.offsets, 5.0)


def test_batches_slice_correctly(sample):
    data = qm9_atoms_data(sample, cutoff=4.0)
    rows = np.array([5, 1, 1999, 42])
    b = data.batch(rows)
    assert b[IDX_M].tolist() == np.repeat(np.arange(4), sample.n_atoms[rows]).tolist()
    for k, r in enumerate(rows):
        single = data.batch([r])
        sel = (b[IDX_M] == k).nonzero().squeeze(1)
        first = int(sel[0])
        assert np.array_equal(b[Z_KEY][sel], single[Z_KEY]) and np.allclose(b[R_KEY][sel], single[R_KEY])
        mine = b[IDX_M][b[IDX_I]] == k
        assert np.array_equal(b[IDX_I][mine] - first, single[IDX_I])
        assert np.array_equal(b[IDX_J][mine] - first, single[IDX_J])
        assert float(b["energy"][k]) == pytest.approx(sample.atomization_energy()[r])
    # pairs never cross molecules
    assert np.array_equal(b[IDX_M][b[IDX_I]], b[IDX_M][b[IDX_J]])
    # every molecule is seen once per epoch, shuffled deterministically
    seen = np.concatenate([bb["ids"].numpy() for bb in data.batches(batch_size=300, shuffle=True, seed=3)])
    seen2 = np.concatenate([bb["ids"].numpy() for bb in data.batches(batch_size=300, shuffle=True, seed=3)])
    assert np.array_equal(np.sort(seen), sample.index) and np.array_equal(seen, seen2)


def test_pair_cache_round_trip(sample, tmp_path):
    a = cached_pairs(sample.R, sample.offsets, 5.0, cache=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1
    b = cached_pairs(sample.R, sample.offsets, 5.0, cache=tmp_path)
    assert np.array_equal(a.idx_i, b.idx_i) and np.array_equal(a.ptr, b.ptr)
    files[0].write_bytes(b"broken")  # a corrupt cache entry is recomputed
    c = cached_pairs(sample.R, sample.offsets, 5.0, cache=tmp_path)
    assert np.array_equal(a.idx_j, c.idx_j)
    # a different cutoff is a different entry
    cached_pairs(sample.R, sample.offsets, 4.0, cache=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2


def _supercell_reference(frac, cell, cutoff):
    """All (i, j, shift) with |r_j + n·cell − r_i| < cutoff by enumerating enough images."""
    pos = frac @ cell
    # number of images along each axis: enough to cover the cutoff sphere
    inv = np.linalg.inv(cell)
    reach = np.ceil(cutoff * np.linalg.norm(inv, axis=0)).astype(int) + 1
    out = set()
    for n in itertools.product(*(range(-r, r + 1) for r in reach)):
        shift = np.array(n) @ cell
        d = np.linalg.norm(pos[None, :, :] + shift - pos[:, None, :], axis=-1)
        for i, j in zip(*np.nonzero(d < cutoff)):
            if i == j and n == (0, 0, 0):
                continue
            out.add((int(i), int(j), n))
    return out


def test_periodic_pairs_equal_supercell_reference():
    cr = load_crystals(quiet=True)
    rows = [0, 3, 50, 321, 777, 1499]
    sub = cr.subset(rows)
    off = sub.offsets
    p = periodic_pairs(sub.frac, sub.cell, off, 4.0)
    for s in range(len(rows)):
        sl = slice(p.ptr[s], p.ptr[s + 1])
        cell = sub.cell[s].astype(np.float64)
        frac = sub.frac[off[s]:off[s + 1]].astype(np.float64)
        n_img = np.rint(p.shifts[sl].astype(np.float64) @ np.linalg.inv(cell)).astype(int)
        got = {(int(i) - off[s], int(j) - off[s], tuple(k)) for i, j, k in zip(p.idx_i[sl], p.idx_j[sl], n_img)}
        ref = _supercell_reference(frac, cell, 4.0)
        assert got == ref, sub.mp_id[s]
        # r_ij = R_j - R_i + shift is within the cutoff
        R = sub.positions
        rij = R[p.idx_j[sl]] - R[p.idx_i[sl]] + p.shifts[sl]
        assert np.all(np.linalg.norm(rij, axis=1) < 4.0 + 1e-4)


def test_crystal_batches_carry_offsets():
    from atomint_helpers.data.batch import crystal_atoms_data

    cr = load_crystals(quiet=True).subset(np.arange(20))
    data = crystal_atoms_data(cr, cutoff=4.0)
    b = data.batch(np.arange(5))
    rij = b[R_KEY][b[IDX_J]] - b[R_KEY][b[IDX_I]] + b[OFFSETS]
    assert float(rij.norm(dim=1).max()) < 4.0 + 1e-4
    assert b["formation_energy"].shape == (5,)


def test_crystals_clean_drops_bad_entries():
    from atomint_helpers.data.crystals import read_npz
    from atomint_helpers.data.paths import SAMPLE_DIR

    cr = read_npz(SAMPLE_DIR / "mp_sample.npz", "sample")
    assert len(cr) == 1500 and len(cr.elements) == 87
    assert not np.isin(cr.clean().mp_id, BAD_ENTRIES).any()


def test_full_crystal_set_counts():
    import os
    from pathlib import Path

    env = os.environ.get("ATOMINT_DATA")
    if not env or not (Path(env) / "mp" / "mp.npz").is_file():
        pytest.skip("full crystal set not available (set ATOMINT_DATA)")
    cr = load_crystals(env)
    assert len(cr) == 36_737 and len(cr.Z) == 949_393 and len(cr.elements) == 87
    clean = cr.clean()
    assert len(clean) == 36_733 and clean.e_form.min() > -5
