"""The data layer under bad conditions: QM9's own xyz files, stale temporaries of killed runs, failed
renames, files where folders belong (and back), read-only folders, and where the full-QM9 tests find data."""
import os
import shutil

import numpy as np
import pytest

from atomint_helpers import EXIT_INPUT, AtomintError
from atomint_helpers.cli import main
from atomint_helpers.data import convert, qm9
from atomint_helpers.data.convert import SCALARS
from atomint_helpers.data.paths import cache_dir
from atomint_helpers.io import part_prefix, remove_stale_temporaries
from atomint_helpers.data.qm9 import NAMED, SYMBOLS, load_qm9, qm9pack_cache
from atomint_helpers.data.xyz import parse_xyz, read_xyz


from conftest import dead_pid as _dead_pid  # noqa: E402
from conftest import one_line_stderr as _one_line  # noqa: E402


def _fortran(x: float) -> str:
    m, e = f"{x:.8e}".split("e")
    return f"{m}*^{int(e)}"


def qm9_record(ds, idx: int, star_in: str = "x") -> str:
    """Molecule ``idx`` in QM9's extended xyz format (tabs, a trailing tab on the property line, Mulliken
    column, ``*^`` exponents in the properties, in the charges and in one coordinate)."""
    row = int(ds.rows([idx])[0])
    s = ds.atom_slice(row)
    props = "\t".join(_fortran(float(ds.arrays[name][row])) for name, *_ in SCALARS)
    lines = [str(s.stop - s.start), f"gdb {idx}\t{props}\t"]
    for k, (z, r, q) in enumerate(zip(ds.Z[s], ds.R[s], ds.mulliken[s])):
        xyz = [f"{float(v):.10f}" for v in r]
        if k == 0:
            xyz["xyz".index(star_in)] = _fortran(float(r["xyz".index(star_in)]))
        lines.append("\t".join([SYMBOLS[int(z)], *xyz, _fortran(float(q))]))
    n = 3 * (s.stop - s.start) - 6
    lines += ["\t".join(f"{f:.4f}" for f in np.linspace(1341.307, 3151.7078, max(n, 1))),
              "C\tC", "InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ QM9's xyz files
def test_xyz_reader_reads_qm9s_own_file(sample, tmp_path):
    """Methane, dsgdb9nsd_000001.xyz: 5 atoms, so line 8 is the frequency line that used to stop the reader
    ('line 8: expected the number of atoms')."""
    idx = NAMED["methane"]
    path = tmp_path / "dsgdb9nsd_000001.xyz"
    path.write_text(qm9_record(sample, idx, star_in="z"))
    assert "*^" in path.read_text().splitlines()[2]
    (at,) = read_xyz(path)
    ref = sample.atoms(idx)
    assert at.get_chemical_formula() == "CH4"
    np.testing.assert_allclose(at.positions, ref.positions, rtol=0, atol=1e-9)
    assert at.info["qm9_index"] == idx and at.info["smiles"] == "C" and at.info["inchi"] == "InChI=1S/CH4/h1H4"


def test_xyz_reader_reads_concatenated_qm9_files(sample):
    text = qm9_record(sample, NAMED["toluene"]) + qm9_record(sample, NAMED["pyrazine"], star_in="y") + \
        "3\nplain water\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
    frames = parse_xyz(text, "all.xyz")
    assert [f.get_chemical_formula() for f in frames] == ["C7H8", "C4H4N2", "H2O"]
    np.testing.assert_allclose(frames[1].positions, sample.atoms(NAMED["pyrazine"]).positions, atol=1e-9)
    assert "qm9_index" not in frames[2].info


def test_truncated_qm9_file_is_a_one_line_error(sample):
    text = qm9_record(sample, NAMED["methane"])
    cut = "\n".join(text.splitlines()[:8]) + "\n"  # frequencies only: no SMILES / InChI lines
    with pytest.raises(AtomintError, match="f.xyz, line 8") as e:
        parse_xyz(cut, "f.xyz")
    assert "\n" not in str(e.value)


def test_xyz_path_that_is_a_folder(tmp_path):
    with pytest.raises(AtomintError, match="is a folder, but an xyz file is expected"):
        read_xyz(tmp_path)


# ------------------------------------------------------------------------------------ data info --dir FILE
def test_data_info_dir_that_is_a_file_does_not_blame_the_file(tmp_path, capsys, sample):
    mol = tmp_path / "mol.xyz"
    mol.write_text(qm9_record(sample, NAMED["methane"]))
    before = mol.read_bytes()
    assert main(["data", "info", "--dir", str(mol)]) == EXIT_INPUT
    err = _one_line(capsys, str(mol), "is a file, but a folder is expected")
    assert "delete" not in err and "corrupt" not in err
    assert mol.read_bytes() == before
    with pytest.raises(AtomintError, match="is a file, but a folder is expected"):
        load_qm9(mol)


def test_explicit_npz_paths_still_load(sample):
    assert len(load_qm9(qm9.sample_path())) == len(sample)


# ------------------------------------------------------------------------------------ temporaries
def _small_mols(ds, n=5):
    out = []
    for row in range(n):
        s = ds.atom_slice(row)
        out.append({"index": int(ds.index[row]), "Z": ds.Z[s].astype(int).tolist(), "R": ds.R[s].astype(np.float64),
                    "mulliken": ds.mulliken[s].astype(np.float64),
                    "props": {name: float(ds.arrays[name][row]) for name, *_ in SCALARS},
                    "smiles_gdb": "C", "inchi_gdb": "InChI=1S/x"})
    return out


def test_conversion_removes_temporaries_of_killed_runs(sample, tmp_path):
    out = tmp_path / "qm9"
    out.mkdir()
    dead, alive = _dead_pid(), os.getppid()
    stale = [out / f"qm9.npz.tmp{dead}", out / f"qm9_smiles.csv.gz.tmp{dead}", out / f"qm9.npz.sha256.tmp{dead}",
             out / f".qm9.npz.sha256.tmp{dead}"]
    kept = [out / f"qm9.npz.tmp{alive}", out / f"thesis.tex.tmp{dead}"]
    for p in stale + kept:
        p.write_bytes(b"half a file")
    npz = convert.convert(_small_mols(sample), out)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)
    assert len(qm9.read_npz(npz)) == 5


def test_data_convert_cleans_even_when_the_data_are_there(tmp_path, capsys):
    """``atomint data convert --dir`` on a folder that already holds qm9.npz (no conversion) still removes a
    killed conversion's temporary."""
    out = tmp_path / "qm9"
    out.mkdir()
    shutil.copy(qm9.sample_path(), out / "qm9.npz")
    stale = out / f"qm9.npz.tmp{_dead_pid()}"
    stale.write_bytes(b"x")
    assert main(["data", "convert", "--dir", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "qm9.npz")
    assert not stale.exists()


def test_failed_rename_deletes_the_temporary(sample, tmp_path):
    """A rename that fails (here: a folder stands where the file goes) leaves no temporary, and says what is
    wrong in one line."""
    target = tmp_path / "qm9.npz"
    (target / "inside").mkdir(parents=True)
    arrays, text = convert.pack(_small_mols(sample))
    with pytest.raises(AtomintError, match="qm9.npz: it is a folder, but a file is expected"):
        convert.save_npz(target, arrays)
    with pytest.raises(AtomintError, match="it is a folder, but a file is expected"):
        convert.write_smiles(target, text, arrays["index"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qm9.npz"]


def test_remove_stale_temporaries_keeps_what_is_not_a_known_temporary(tmp_path):
    dead = _dead_pid()
    (tmp_path / f"qm9.npz.tmp{dead}").write_bytes(b"")
    (tmp_path / f".fetch-{dead}-abc").mkdir()
    (tmp_path / f".fetch-{os.getpid()}-abc").mkdir()  # this process: in use
    (tmp_path / f"{part_prefix('qm9.npz')}x1.part").write_bytes(b"")  # this process: in use
    (tmp_path / "qm9.npz.tmpxyz").write_bytes(b"")
    removed = remove_stale_temporaries(tmp_path, ["qm9.npz"])
    assert sorted(p.name for p in removed) == sorted([f"qm9.npz.tmp{dead}", f".fetch-{dead}-abc"])
    assert len(list(tmp_path.iterdir())) == 3
    assert remove_stale_temporaries(tmp_path / "absent") == []


# ------------------------------------------------------------------------------------ file-system errors
def test_data_convert_dir_that_is_a_file(tmp_path, capsys):
    afile = tmp_path / "mol.xyz"
    afile.write_text("keep me")
    assert main(["data", "convert", "--dir", str(afile)]) == EXIT_INPUT
    _one_line(capsys, str(afile), "is a file, but a folder is expected")
    assert main(["data", "convert", "--dir", str(afile / "sub")]) == EXIT_INPUT
    _one_line(capsys, str(afile), "is a file, but a folder is expected")
    assert afile.read_text() == "keep me"


def test_data_convert_dir_where_qm9_npz_is_a_folder(tmp_path, capsys):
    if not _qm9pack_installed():
        pytest.skip("qm9pack is not installed")
    out = tmp_path / "out"
    (out / "qm9.npz").mkdir(parents=True)
    assert main(["data", "convert", "--dir", str(out)]) == EXIT_INPUT  # refused before the slow conversion
    _one_line(capsys, str(out / "qm9.npz"), "is a folder, but a file is expected")


def _qm9pack_installed() -> bool:
    try:
        convert.qm9pack_csv_paths()
    except AtomintError:
        return False
    return True


def test_conversion_into_a_read_only_folder(sample, tmp_path, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    if os.geteuid() != 0:  # root writes anyway: then only the simulated refusal below runs
        out.chmod(0o500)
        try:
            with pytest.raises(AtomintError, match="permission denied"):
                convert.convert(_small_mols(sample), out)
        finally:
            out.chmod(0o700)
    import zipfile

    def refuse(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(AtomintError, match=r"cannot write .*qm9\.npz: permission denied \(a read-only folder\?\)"):
        convert.convert(_small_mols(sample), out)
    assert not list(out.glob("*.tmp*"))


def test_cache_that_is_a_file(tmp_path, monkeypatch):
    afile = tmp_path / "cache"
    afile.write_text("")
    monkeypatch.setenv("ATOMINT_CACHE", str(afile))
    with pytest.raises(AtomintError, match=r"ATOMINT_CACHE.*is a file, but a folder is expected"):
        cache_dir()
    assert cache_dir(create=False) == afile


def test_qm9pack_cache_dir_that_is_a_file(tmp_path):
    afile = tmp_path / "f"
    afile.write_text("")
    with pytest.raises(AtomintError, match="is a file, but a folder is expected"):
        qm9pack_cache(out_dir=afile)


# ------------------------------------------------------------------------------------ full-QM9 lookup
def test_full_qm9_is_found_in_the_users_cache(full_qm9, tmp_path, monkeypatch):
    """The full-QM9 tests run without ATOMINT_DATA when the user's atomint cache holds the full QM9;
    a cache holding less (e.g. the sample) is passed over."""
    from conftest import find_full_qm9

    monkeypatch.delenv("ATOMINT_DATA", raising=False)
    cache = tmp_path / "user-cache"
    (cache / "qm9").mkdir(parents=True)
    (cache / "qm9" / "qm9.npz").symlink_to(full_qm9.path)
    ds = find_full_qm9(cache, convert_into=None)
    assert ds is not None and len(ds) == qm9.N_MOLECULES_FULL and ds.sha256 == full_qm9.sha256

    small = tmp_path / "small-cache"
    (small / "qm9").mkdir(parents=True)
    shutil.copy(qm9.sample_path(), small / "qm9" / "qm9.npz")
    assert find_full_qm9(small, convert_into=None) is None
    assert find_full_qm9(tmp_path / "no-cache", convert_into=None) is None
