"""`atomint data fetch` against local file:// URLs of archives in the original formats."""
import hashlib
import io
import os
import tarfile
import time

import numpy as np
import pytest

from atomint_helpers import EXIT_INPUT, AtomintError
from atomint_helpers.cli import main
from atomint_helpers.data import fetch
from atomint_helpers.data.convert import SCALARS
from atomint_helpers.data.crystals import load_crystals, read_npz as read_crystals
from atomint_helpers.io import host_tag
from atomint_helpers.data.qm9 import SYMBOLS, load_qm9, uncharacterized_indices

FREQ_LINE = "1.0 2.0 3.0"


def _fortran(x: float) -> str:
    """Gaussian/Fortran style number with '*^' exponent, as in the original QM9 files."""
    m, e = f"{x:.6e}".split("e")
    return f"{m}*^{int(e)}"


def _qm9_xyz(ds, row) -> str:
    s = ds.atom_slice(row)
    props = " ".join(_fortran(float(ds.arrays[name][row])) for name, *_ in SCALARS)
    lines = [str(s.stop - s.start), f"gdb {int(ds.index[row])}\t{props}"]
    for z, r, q in zip(ds.Z[s], ds.R[s], ds.mulliken[s]):
        lines.append(f"{SYMBOLS[int(z)]}\t{float(r[0])!r}\t{float(r[1])!r}\t{float(r[2])!r}\t{_fortran(float(q))}")
    smiles = ds.smiles[row]
    lines += [FREQ_LINE, f"{smiles}\t{smiles}", "InChI=1S/x\tInChI=1S/x"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def qm9_archive(tmp_path_factory, sample):
    """A small archive in QM9's original format, made from 12 real sample molecules plus one excluded id."""
    rows = list(range(0, 12))
    path = tmp_path_factory.mktemp("src") / "dsgdb9nsd.xyz.tar.bz2"
    with tarfile.open(path, "w:bz2") as tf:
        texts = [(int(sample.index[r]), _qm9_xyz(sample, r)) for r in rows]
        # an uncharacterized molecule: same content as row 0 but an excluded id → must be dropped
        bad = int(uncharacterized_indices()[0])
        texts.append((bad, _qm9_xyz(sample, 0).replace(f"gdb {int(sample.index[0])}\t", f"gdb {bad}\t")))
        for idx, text in texts:
            data = text.encode()
            info = tarfile.TarInfo(f"dsgdb9nsd_{idx:06d}.xyz")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path, rows


def test_fetch_qm9_from_file_url(qm9_archive, sample, tmp_path):
    path, rows = qm9_archive
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    out = tmp_path / "data"
    assert main(["data", "fetch", "--url", path.as_uri(), "--sha256", digest, "--dir", str(out)]) == 0
    ds = load_qm9(out)
    assert np.array_equal(ds.index, sample.index[rows])  # excluded id dropped
    sub = sample.subset(rows)
    for k in ("Z", "R", "mulliken", "U0", "mu", "homo", "Cv"):
        assert np.allclose(ds.arrays[k], sub.arrays[k], rtol=1e-6, atol=0), k
    assert (out / "qm9.npz.sha256").is_file() and (out / "qm9_smiles.csv.gz").is_file()
    assert list(ds.smiles) == list(sub.smiles)


def test_fetch_checksum_mismatch_leaves_nothing(qm9_archive, tmp_path, capsys):
    path, _ = qm9_archive
    out = tmp_path / "data"
    assert main(["data", "fetch", "--url", path.as_uri(), "--sha256", "0" * 64, "--dir", str(out)]) == EXIT_INPUT
    assert "checksum mismatch" in capsys.readouterr().err
    assert not any(p.is_file() for p in out.rglob("*"))


def test_fetch_unreachable_url(tmp_path):
    with pytest.raises(AtomintError, match="could not download"):
        fetch.fetch_qm9((tmp_path / "absent.tar.bz2").as_uri(), tmp_path / "out")
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*"))


def test_fetch_corrupt_archive(tmp_path):
    bad = tmp_path / "x.tar.bz2"
    bad.write_bytes(b"BZh9 definitely not bzip2")
    with pytest.raises(AtomintError, match="not a readable QM9 xyz archive"):
        fetch.fetch_qm9(bad.as_uri(), tmp_path / "out")
    assert not (tmp_path / "out" / "qm9.npz").exists()


def test_fetch_crystals_from_file_url(tmp_path):
    import ase.io

    cr = load_crystals(quiet=True)  # embedded sample
    rows = [0, 7, 100, 1234]
    src = tmp_path / "repo-abc" / "data"
    src.mkdir(parents=True)
    with open(src / "id_prop.csv", "w") as f, open(src / "material_id_hash.csv", "w") as g:
        for k, r in enumerate(rows):
            ase.io.write(src / f"{k}.cif", cr.atoms(r), format="cif")
            f.write(f"{k},{float(cr.e_form[r])!r}\n")
            g.write(f"{k},{cr.mp_id[r]}\n")
    archive = tmp_path / "mp.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(tmp_path / "repo-abc", arcname="repo-abc")
    out = tmp_path / "out"
    assert main(["data", "fetch", "--crystals", "--url", archive.as_uri(), "--dir", str(out)]) == 0
    got = read_crystals(out / "mp.npz")
    ref = cr.subset(rows)
    assert list(got.mp_id) == list(ref.mp_id)
    assert np.array_equal(got.Z, ref.Z)
    assert np.allclose(got.positions, ref.positions, atol=1e-4)
    assert np.allclose(got.e_form, ref.e_form)


# ------------------------------------------------------------------------------------ robustness
from conftest import dead_pid as _dead_pid  # noqa: E402
from conftest import one_line_stderr as _one_line  # noqa: E402


def test_download_larger_than_the_limit_is_refused(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 5000)
    out = tmp_path / "out"
    with pytest.raises(AtomintError, match="larger than the limit|more than the limit") as e:
        fetch.download(big.as_uri(), out / "big.bin", max_bytes=1000)
    assert "\n" not in str(e.value) and "nothing was kept" in str(e.value)
    assert list(out.iterdir()) == []
    assert fetch.download(big.as_uri(), out / "big.bin", max_bytes=5000).stat().st_size == 5000  # at the limit
    with pytest.raises(AtomintError, match="limit"):
        fetch.fetch_qm9(big.as_uri(), tmp_path / "q", max_bytes=1000)
    assert list((tmp_path / "q").iterdir()) == []  # no partial file, no work folder


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_download_stops_at_the_limit(tmp_path, capsys):
    """A source without a size (``file:///dev/zero`` once wrote 2.2 GB in 8 s) stops at the limit."""
    out = tmp_path / "out"
    with pytest.raises(AtomintError, match="larger than the limit"):
        fetch.download("file:///dev/zero", out / "x.tar.bz2", max_bytes=3 << 20)
    assert list(out.iterdir()) == []
    assert 86_000_000 * 5 < fetch.MAX_DOWNLOAD_BYTES < 2_200_000_000  # generous for QM9, stops /dev/zero early


def test_fetch_removes_temporaries_of_killed_runs(qm9_archive, tmp_path):
    """What a killed fetch or conversion left (named with its process id) is removed by the next fetch;
    temporaries of running processes and the user's own files stay."""
    path, rows = qm9_archive
    out = tmp_path / "data"
    out.mkdir()
    dead, alive, host = _dead_pid(), os.getppid(), host_tag()
    stale = [out / f"qm9.npz.tmp{dead}", out / f"qm9_smiles.csv.gz.tmp{dead}", out / f"qm9.npz.sha256.tmp{dead}",
             out / f"dsgdb9nsd.xyz.tar.bz2.pid{dead}@{host}.k2j_x9.part"]
    work = out / f".fetch-{dead}@{host}-abc123"  # a killed fetch's work folder, with its partial download
    work.mkdir()
    (work / f"dsgdb9nsd.xyz.tar.bz2.pid{dead}@{host}.q1w2e3.part").write_bytes(b"partial")
    old_foreign = out / f".fetch-{dead}@elsewhere-old123"  # another machine's, untouched for two days
    old_foreign.mkdir()
    kept = [out / f"qm9.npz.tmp{alive}", out / f"notes.txt.tmp{dead}", out / "mine.part",
            out / f"dsgdb9nsd.xyz.tar.bz2.pid{alive}@{host}.a1.part",
            out / f".fetch-{dead}@elsewhere-new123"]  # another machine's, maybe running: kept for a day
    for p in stale + kept:
        p.write_bytes(b"partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old_foreign, (two_days_ago, two_days_ago))
    fetch.fetch_qm9(path.as_uri(), out)
    assert not any(p.exists() for p in stale) and not work.exists() and not old_foreign.exists()
    assert all(p.exists() for p in kept)
    assert len(load_qm9(out)) == len(rows)
    assert [p.name for p in out.glob(".fetch-*")] == [f".fetch-{dead}@elsewhere-new123"]


def test_download_deletes_its_temporary_when_the_rename_fails(tmp_path, monkeypatch):
    src = tmp_path / "a.bin"
    src.write_bytes(b"abc")
    out = tmp_path / "out"
    real = os.replace

    def refuse(a, b, *args, **kwargs):
        if str(a).endswith(".part"):
            raise PermissionError(13, "Permission denied", str(a), None, str(b))
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(AtomintError, match=r"cannot write .*a\.bin: permission denied"):
        fetch.download(src.as_uri(), out / "a.bin")
    assert list(out.iterdir()) == []


def test_fetch_dir_that_is_a_file_or_holds_a_folder(qm9_archive, tmp_path, capsys):
    path, _ = qm9_archive
    afile = tmp_path / "mol.xyz"
    afile.write_text("keep me")
    assert main(["data", "fetch", "--url", path.as_uri(), "--dir", str(afile)]) == EXIT_INPUT
    _one_line(capsys, str(afile), "is a file, but a folder is expected")
    assert main(["data", "fetch", "--url", path.as_uri(), "--dir", str(afile / "sub")]) == EXIT_INPUT
    _one_line(capsys, str(afile), "is a file, but a folder is expected")
    assert afile.read_text() == "keep me"
    out = tmp_path / "out"
    (out / "qm9.npz").mkdir(parents=True)
    assert main(["data", "fetch", "--url", path.as_uri(), "--dir", str(out)]) == EXIT_INPUT
    _one_line(capsys, str(out / "qm9.npz"), "is a folder, but a file is expected")
    assert main(["data", "fetch", "--crystals", "--url", path.as_uri(), "--dir", str(afile)]) == EXIT_INPUT
    _one_line(capsys, "is a file, but a folder is expected")


def test_fetch_into_a_read_only_folder(qm9_archive, tmp_path, capsys, monkeypatch):
    path, _ = qm9_archive
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0:  # root writes anyway: then the refusal is simulated below only
        ro.chmod(0o500)
        try:
            assert main(["data", "fetch", "--url", path.as_uri(), "--dir", str(ro)]) == EXIT_INPUT
            _one_line(capsys, str(ro), "permission denied")
        finally:
            ro.chmod(0o700)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", kwargs.get("dir"))

    monkeypatch.setattr(fetch.tempfile, "mkdtemp", refuse)
    assert main(["data", "fetch", "--url", path.as_uri(), "--dir", str(ro)]) == EXIT_INPUT
    _one_line(capsys, str(ro), "permission denied", "choose a folder you can write to")
    assert list(ro.iterdir()) == []
