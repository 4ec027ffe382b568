"""``atomint data fetch``: download the original data, verify checksums, convert.

Nothing at run time needs the network: this is the optional path for users who want the full data
without ``qm9pack`` or ``ATOMINT_DATA``. Any URL urllib understands works, ``file://`` included
(that is how the tests exercise it).

* QM9: the original archive ``dsgdb9nsd.xyz.tar.bz2`` from its publisher (figshare, QM9's
  Sci. Data record), converted with :mod:`~atomint_helpers.data.convert`, the 3,054 uncharacterized
  molecules dropped. Checksums: the archive's sha256 when given (``--sha256``); the converted file is
  recorded beside it (``qm9.npz.sha256``) and, when it holds all 130,831 molecules, compared with the
  published conversion.
* Crystals: the CGCNN-format Materials Project folder (``<i>.cif``, ``id_prop.csv``,
  ``material_id_hash.csv``) from the crysxpp repository at a fixed commit, converted with ase.

Every write is atomic: the download goes to a temporary file that is deleted on any failure, and
the converted files appear only when complete.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

from .. import AtomintError
from .paths import cache_dir

QM9_URL = "https://ndownloader.figshare.com/files/3195389"  # dsgdb9nsd.xyz.tar.bz2 (QM9, figshare)
MP_URL = ("https://github.com/kdmsit/crysxpp/archive/"
          "b12e52b8db9fd0cfff28fece39e1756cb96182e2.tar.gz")  # CGCNN MP set, crysxpp data/ folder


def download(url: str, dest: Path, sha256: str | None = None, chunk: int = 1 << 20) -> Path:
    """Download ``url`` to ``dest`` atomically; with ``sha256``, refuse (and delete) a mismatching file."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as r:
                    while block := r.read(chunk):
                        out.write(block)
                        h.update(block)
            except (OSError, ValueError) as e:
                raise AtomintError(f"could not download {url}: {e}") from None
        if sha256 is not None and h.hexdigest() != sha256.lower():
            raise AtomintError(f"checksum mismatch for {url}: sha256 {h.hexdigest()}, expected {sha256}; "
                               f"nothing was kept")
        os.replace(tmp, dest)
        return dest
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch_qm9(url: str = QM9_URL, out_dir: str | os.PathLike | None = None, sha256: str | None = None,
              keep_archive: bool = False) -> Path:
    """Download QM9's original xyz archive, verify, convert to ``out_dir/qm9.npz`` (default: the cache
    folder that :func:`~atomint_helpers.data.qm9.load_qm9` reads). Returns the npz path."""
    from . import convert
    from .qm9 import KNOWN_SHA256, N_MOLECULES_FULL, uncharacterized_indices

    out_dir = Path(out_dir) if out_dir else cache_dir() / "qm9"
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out_dir, prefix=".fetch-"))
    try:
        archive = download(url, work / "dsgdb9nsd.xyz.tar.bz2", sha256)
        print(f"atomint: downloaded {url}; converting ...", file=sys.stderr, flush=True)
        npz = convert.convert(convert.read_xyz_tar(archive), work, exclude=uncharacterized_indices())
        import numpy as np

        with np.load(npz) as z:
            n = len(z["index"])
        digest = (npz.with_name("qm9.npz.sha256")).read_text().split()[0]
        if n == N_MOLECULES_FULL and digest not in KNOWN_SHA256:
            print(f"atomint: note — the converted file (sha256 {digest}) differs byte-wise from the published "
                  f"qm9pack conversion", file=sys.stderr)
        for name in ("qm9_smiles.csv.gz", "qm9.npz.sha256", "qm9.npz"):  # npz last: it marks completion
            os.replace(work / name, out_dir / name)
        if keep_archive:
            os.replace(archive, out_dir / archive.name)
        print(f"atomint: QM9 ({n:,} molecules) written to {out_dir / 'qm9.npz'}", file=sys.stderr)
        return out_dir / "qm9.npz"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch_crystals(url: str = MP_URL, out_dir: str | os.PathLike | None = None,
                   sha256: str | None = None) -> Path:
    """Download the CGCNN-format Materials Project set (a tar of a folder with ``id_prop.csv`` and CIFs),
    verify, convert to ``out_dir/mp.npz`` (default: the cache folder ``load_crystals`` reads)."""
    from .crystals import convert_cgcnn_folder

    out_dir = Path(out_dir) if out_dir else cache_dir() / "mp"
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out_dir, prefix=".fetch-"))
    try:
        archive = download(url, work / "crystals.tar.gz", sha256)
        try:
            with tarfile.open(archive, "r:*") as tf:
                tf.extractall(work / "src", filter="data")
        except tarfile.TarError as e:
            raise AtomintError(f"{url}: not a readable tar archive ({e})") from None
        found = sorted((work / "src").rglob("id_prop.csv"))
        if not found:
            raise AtomintError(f"{url}: the archive holds no id_prop.csv (CGCNN format expected)")
        npz = convert_cgcnn_folder(found[0].parent, work)
        for name in ("mp.npz.sha256", "mp.npz"):
            os.replace(work / name, out_dir / name)
        return out_dir / npz.name
    finally:
        shutil.rmtree(work, ignore_errors=True)
