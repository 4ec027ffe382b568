"""Data layer: counts, ids, units, atomization energies, splits, the bad-input errors."""
import subprocess
import sys

import numpy as np
import pytest

from atomint_helpers import EXIT_MISSING, AtomintError, units
from atomint_helpers.data import convert, qm9
from atomint_helpers.data.qm9 import NAMED, load_qm9, read_npz
from atomint_helpers.data.splits import load_split, save_split, split, split_hash
from atomint_helpers.data.xyz import check_molecule, parse_xyz, read_xyz

SHARED = qm9.SAMPLE_DIR


def test_units_round_trip():
    for a, b in [("hartree", "eV"), ("eV", "kcal/mol"), ("kcal/mol", "hartree")]:
        x = np.array([-1.5, 0.0, 3.25])
        assert np.allclose(units.convert_energy(units.convert_energy(x, a, b), b, a), x, rtol=1e-14)
    assert units.convert_energy(1.0, "hartree", "kcal/mol") == pytest.approx(627.5095)
    assert units.convert_energy(1.0, "eV", "kcal/mol") == pytest.approx(23.0605, abs=1e-4)
    assert units.E_ANGSTROM_TO_DEBYE * units.DEBYE_TO_E_ANGSTROM == pytest.approx(1.0)
    # QM9's README: 1 D = 0.20819434 e·Å
    assert units.DEBYE_TO_E_ANGSTROM == pytest.approx(0.20819434, rel=1e-5)
    with pytest.raises(ValueError, match="unknown energy unit"):
        units.convert_energy(1.0, "hartree", "joule")


def test_sample_counts_and_named(sample):
    assert len(sample) == 2000 and sample.n_atoms_total == 36_227
    assert sample.is_sample
    assert np.all(np.diff(sample.index) > 0)
    assert not np.isin(sample.index, qm9.uncharacterized_indices()).any()
    assert set(NAMED.values()) <= set(sample.index.tolist())
    benzene = sample.atoms(NAMED["benzene"])
    assert benzene.get_chemical_formula() == "C6H6"
    assert sample.atoms(NAMED["pyrazine"]).get_chemical_formula() == "C4H4N2"
    assert sample.atoms(NAMED["phloroglucinol"]).get_chemical_formula() == "C6H6O3"


def test_all_indices_known_without_data():
    ids = qm9.all_indices()
    assert len(ids) == qm9.N_MOLECULES_FULL == 130_831
    assert len(qm9.uncharacterized_indices()) == qm9.N_UNCHARACTERIZED == 3_054


def test_full_counts_and_ids(full_qm9):
    assert len(full_qm9) == 130_831 and full_qm9.n_atoms_total == 2_359_210
    assert np.array_equal(full_qm9.index, qm9.all_indices())
    assert not np.isin(qm9.uncharacterized_indices(), full_qm9.index).any()
    counts = np.bincount(full_qm9.Z.astype(int), minlength=10)
    assert counts[[1, 6, 7, 8, 9]].tolist() == [1_208_486, 831_925, 132_498, 183_265, 3_036]
    # the sample is a real subset: same numbers for the same molecules
    from atomint_helpers.data.qm9 import load_sample

    s = load_sample()
    rows = full_qm9.rows(s.index)
    sub = full_qm9.subset(rows)
    assert np.array_equal(sub.R, s.R) and np.array_equal(sub.U0, s.U0)


def test_methane_atomization_energy(sample):
    # QM9 methane: U0 = -40.478930 Ha; references C -37.846772, H -0.500273 Ha
    expected = -40.478930 - (-37.846772 + 4 * -0.500273)
    row = sample.rows([1])[0]
    assert sample.atomization_energy("hartree")[row] == pytest.approx(expected, abs=1e-6)
    assert sample.atomization_energy("kcal/mol")[row] == pytest.approx(expected * 627.5095, abs=1e-3)
    assert sample.atomization_energy("eV")[row] == pytest.approx(expected * 27.211386, abs=1e-4)


def test_atoms_round_trip(sample):
    at = sample.atoms(NAMED["toluene"])
    s = sample.atom_slice(int(sample.rows([930])[0]))
    assert np.allclose(at.positions, sample.R[s]) and np.array_equal(at.numbers, sample.Z[s])
    assert at.info["mu"] == pytest.approx(0.325, abs=1e-3)
    with pytest.raises(AtomintError, match="QM9 index \\[3\\] not in the embedded sample"):
        sample.rows([3])


def test_qm9pack_rows_match_published(sample):
    mols = list(convert.read_qm9pack(limit=200))
    arrays, _ = convert.pack(mols)
    ref = sample
    common = np.intersect1d(arrays["index"], ref.index)
    assert len(common) >= 1
    a_rows = np.searchsorted(arrays["index"], common)
    for r, idx in zip(a_rows, common):
        s = ref.atom_slice(int(ref.rows([idx])[0]))
        o = arrays["offsets"]
        assert np.array_equal(arrays["R"][o[r]:o[r + 1]], ref.R[s])
        assert arrays["U0"][r] == ref.U0[ref.rows([idx])[0]]


def test_qm9pack_cache_is_byte_identical(tmp_path, monkeypatch):
    """Path 2: the installed qm9pack package converted once into the cache (full QM9, ~15 s)."""
    monkeypatch.delenv("ATOMINT_DATA", raising=False)
    monkeypatch.setenv("ATOMINT_CACHE", str(tmp_path))
    ds = load_qm9()
    assert ds.source == "qm9pack cache" and len(ds) == 130_831
    assert ds.sha256 == "32fbcf352e44a90127dac75d87f702d604db2a5bda6e152e3a57480eaaa16ab9"
    assert not list((tmp_path / "qm9").glob("*.tmp*"))
    assert load_qm9().source == "qm9pack cache"  # second call: no conversion


def test_sample_fallback_is_announced(tmp_path, monkeypatch):
    monkeypatch.delenv("ATOMINT_DATA", raising=False)
    monkeypatch.setenv("ATOMINT_CACHE", str(tmp_path))
    with pytest.warns(UserWarning, match="EMBEDDED QM9 SAMPLE"):
        ds = load_qm9(convert_qm9pack=False)
    assert ds.is_sample and "EMBEDDED SAMPLE" in ds.describe()


# ------------------------------------------------------------------------------------ bad input
def test_missing_data_file(tmp_path, monkeypatch):
    with pytest.raises(AtomintError, match="no qm9.npz in .*atomint data fetch"):
        load_qm9(tmp_path)
    with pytest.raises(AtomintError, match="does not exist; run `atomint data fetch`"):
        read_npz(tmp_path / "qm9.npz")
    monkeypatch.setenv("ATOMINT_DATA", str(tmp_path))
    with pytest.raises(AtomintError, match=f"ATOMINT_DATA={tmp_path} holds no qm9.npz"):
        load_qm9()


def test_corrupt_data_file(tmp_path):
    src = qm9.sample_path().read_bytes()
    bad = tmp_path / "qm9.npz"
    bad.write_bytes(src[: len(src) // 2])  # truncated
    with pytest.raises(AtomintError, match="checksum mismatch for .*qm9.npz"):
        read_npz(bad)
    with pytest.raises(AtomintError, match="is corrupt"):
        read_npz(bad, verify=False)


def test_tampered_data_file_is_refused(tmp_path):
    d = dict(np.load(qm9.sample_path()))
    d["U0"] = d["U0"] + 1e-3
    p = tmp_path / "qm9.npz"
    convert.save_npz(p, d)
    with pytest.raises(AtomintError, match="checksum mismatch"):
        read_npz(p)


def test_unknown_element_in_xyz(tmp_path):
    p = tmp_path / "m.xyz"
    p.write_text("3\nwater-ish\nO 0 0 0\nH 0 0 0.96\nQq 0.9 0 0\n")
    with pytest.raises(AtomintError, match=r"line 5: unknown element 'Qq'"):
        read_xyz(p)


@pytest.mark.parametrize("text,match", [
    ("two\nx\nH 0 0 0\n", "line 1: expected the number of atoms"),
    ("2\nx\nH 0 0 0\nH 0 0 zero\n", "line 4: coordinates are not numbers"),
    ("2\nx\nH 0 0 0\nH 0 0\n", "line 4: expected 'symbol x y z'"),
    ("3\nx\nH 0 0 0\nH 0 0 0.7\n", "line 5: 3 atoms announced but the file ends after 2"),
    ("", "no molecule found"),
])
def test_malformed_xyz(text, match):
    with pytest.raises(AtomintError, match=match):
        parse_xyz(text, "f.xyz")


def test_xyz_reads_qm9_format_and_frames():
    text = ("2\ngdb 1\nC 0.0 0.0 1.2*^-1 -0.5\nO 0 0 1.3 0.5\n"
            "1\nsecond\nH 0 0 0\n")
    frames = parse_xyz(text)
    assert [f.get_chemical_formula() for f in frames] == ["CO", "H"]
    assert frames[0].positions[0, 2] == pytest.approx(0.12)
    with pytest.raises(AtomintError, match="apart"):
        check_molecule(parse_xyz("2\nx\nH 0 0 0\nH 0 0 0.01\n")[0])


def test_missing_xyz_file(tmp_path):
    with pytest.raises(AtomintError, match="does not exist"):
        read_xyz(tmp_path / "nope.xyz")


# ------------------------------------------------------------------------------------ splits
def test_split_determinism_and_disjointness():
    a, b = split(100_000, 10_000, seed=0), split(100_000, 10_000, seed=0)
    c = split(100_000, 10_000, seed=1)
    for k in a:
        assert np.array_equal(a[k], b[k])
    assert not np.array_equal(a["train"], c["train"])
    assert len(a["train"]) == 100_000 and len(a["val"]) == 10_000 and len(a["test"]) == 20_831
    allids = np.concatenate(list(a.values()))
    assert len(np.unique(allids)) == len(allids) == 130_831
    assert np.array_equal(np.sort(allids), qm9.all_indices())
    assert split_hash(a) == split_hash(b) != split_hash(c)


def test_split_save_load(tmp_path, sample):
    parts = split(1500, 250, seed=3, universe=sample.index)
    save_split(tmp_path / "split.npz", parts, 3)
    back = load_split(tmp_path / "split.npz")
    assert all(np.array_equal(parts[k], back[k]) for k in parts)
    with pytest.raises(AtomintError, match="cannot split 2,000"):
        split(1900, 250, universe=sample.index)
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(AtomintError, match="corrupt"):
        load_split(tmp_path / "bad.npz")


def test_cli_error_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "atomint_helpers.cli", "data", "info", "--dir", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == EXIT_MISSING
    assert r.stderr.strip().startswith("atomint: error: no qm9.npz in")
    assert "Traceback" not in r.stderr
