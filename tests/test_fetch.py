"""`atomint data fetch` against local file:// URLs of archives in the original formats."""
import hashlib
import io
import tarfile

import numpy as np
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.cli import main
from atomint_helpers.data import fetch
from atomint_helpers.data.convert import SCALARS
from atomint_helpers.data.crystals import load_crystals, read_npz as read_crystals
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
    assert main(["data", "fetch", "--url", path.as_uri(), "--sha256", "0" * 64, "--dir", str(out)]) == 2
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
