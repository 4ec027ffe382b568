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
from .paths import cache_dir, ensure_targets
from ..io import part_prefix, remove_stale_temporaries, work_dir_prefix, writing

QM9_URL = "https://ndownloader.figshare.com/files/3195389"  # dsgdb9nsd.xyz.tar.bz2 (QM9, figshare)
MP_URL = ("https://github.com/kdmsit/crysxpp/archive/"
          "b12e52b8db9fd0cfff28fece39e1756cb96182e2.tar.gz")  # CGCNN MP set, crysxpp data/ folder

#: Largest download accepted, in bytes (1 GiB). Generous for the real archives — QM9's
#: ``dsgdb9nsd.xyz.tar.bz2`` is about 86 MB and the crysxpp snapshot (about 37,000 small CIF text files)
#: far less than this — while a wrong URL (an endless stream, a disk image) stops early, with nothing
#: kept. :func:`download`, :func:`fetch_qm9` and :func:`fetch_crystals` take ``max_bytes`` to change it.
MAX_DOWNLOAD_BYTES = 1 << 30

QM9_ARCHIVE = "dsgdb9nsd.xyz.tar.bz2"
QM9_OUTPUTS = ("qm9_smiles.csv.gz", "qm9.npz.sha256", "qm9.npz")  # npz last: it marks completion
MP_ARCHIVE = "crystals.tar.gz"
MP_OUTPUTS = ("mp.npz.sha256", "mp.npz")


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def _progress_bar(total: int | None, progress: bool | None, what: str):
    """A tqdm bar in bytes on stderr; ``progress`` None shows it only when stderr is a terminal."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else bool(progress)
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=what, file=sys.stderr,
                disable=not show, leave=False, mininterval=0.5)


def download(url: str, dest: Path, sha256: str | None = None, chunk: int = 1 << 20,
             max_bytes: int | None = MAX_DOWNLOAD_BYTES, progress: bool | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically; with ``sha256``, refuse (and delete) a mismatching file.
    ``progress``: a progress bar on stderr (None: only when stderr is a terminal).

    More than ``max_bytes`` (None: no limit) stops the download with a one-line error, and so does a
    server that announces a larger size; nothing is kept. The partial file is
    ``<dest>.pid<pid>@<host>.<random>.part`` beside ``dest``; a killed download's is removed by the next one."""
    dest = Path(dest)
    ensure_targets(dest.parent, [dest.name])
    remove_stale_temporaries(dest.parent, [dest.name])
    with writing(dest.parent, "write into"):
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=part_prefix(dest.name), suffix=".part")
    h = hashlib.sha256()
    too_big = (f"refusing to download {url}: it is larger than the limit of {_mib(max_bytes or 0)} "
               f"(atomint_helpers.data.fetch.MAX_DOWNLOAD_BYTES); check the URL; nothing was kept")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                r = urllib.request.urlopen(url, timeout=60)
            except (OSError, ValueError) as e:
                raise AtomintError(f"could not download {url}: {e}") from None
            with r:
                size = r.headers.get("Content-Length") if getattr(r, "headers", None) is not None else None
                if max_bytes is not None and size and size.isdigit() and int(size) > max_bytes:
                    raise AtomintError(too_big.replace("it is larger", f"it announces {_mib(int(size))}, more"))
                n = 0
                with _progress_bar(int(size) if size and size.isdigit() else None, progress, dest.name) as bar:
                    while True:
                        try:
                            block = r.read(chunk)
                        except (OSError, ValueError) as e:
                            raise AtomintError(f"could not download {url}: {e}") from None
                        if not block:
                            break
                        n += len(block)
                        bar.update(len(block))
                        if max_bytes is not None and n > max_bytes:
                            raise AtomintError(too_big)
                        with writing(tmp):
                            out.write(block)
                        h.update(block)
        if sha256 is not None and h.hexdigest() != sha256.lower():
            raise AtomintError(f"checksum mismatch for {url}: sha256 {h.hexdigest()}, expected {sha256}; "
                               f"nothing was kept")
        with writing(dest):
            os.replace(tmp, dest)
        return dest
    finally:
        try:
            os.unlink(tmp)
        except OSError:  # renamed (done) or already gone
            pass


def _work_dir(out_dir: Path) -> Path:
    """A fresh ``.fetch-<pid>@<host>-<random>`` folder in ``out_dir`` (removed at the end, or by the next fetch
    if this process is killed)."""
    with writing(out_dir, "write into"):
        return Path(tempfile.mkdtemp(dir=out_dir, prefix=work_dir_prefix()))


def _move_into(work: Path, out_dir: Path, names) -> None:
    for name in names:
        with writing(out_dir / name):
            os.replace(work / name, out_dir / name)


def fetch_qm9(url: str = QM9_URL, out_dir: str | os.PathLike | None = None, sha256: str | None = None,
              keep_archive: bool = False, max_bytes: int | None = MAX_DOWNLOAD_BYTES,
              progress: bool | None = None) -> Path:
    """Download QM9's original xyz archive, verify, convert to ``out_dir/qm9.npz`` (default: the cache
    folder that :func:`~atomint_helpers.data.qm9.load_qm9` reads). Returns the npz path. ``progress``: as
    in :func:`download`."""
    from . import convert
    from .qm9 import KNOWN_SHA256, N_MOLECULES_FULL, uncharacterized_indices

    out_dir = Path(out_dir) if out_dir else cache_dir() / "qm9"
    names = QM9_OUTPUTS + ((QM9_ARCHIVE,) if keep_archive else ())
    ensure_targets(out_dir, names)
    remove_stale_temporaries(out_dir, names + (QM9_ARCHIVE,))
    work = _work_dir(out_dir)
    try:
        archive = download(url, work / QM9_ARCHIVE, sha256, max_bytes=max_bytes, progress=progress)
        print(f"atomint: downloaded {url}; converting ...", file=sys.stderr, flush=True)
        npz = convert.convert(convert.read_xyz_tar(archive), work, exclude=uncharacterized_indices())
        import numpy as np

        with np.load(npz) as z:
            n = len(z["index"])
        digest = (npz.with_name("qm9.npz.sha256")).read_text().split()[0]
        if n == N_MOLECULES_FULL and digest not in KNOWN_SHA256:
            print(f"atomint: note — the converted file (sha256 {digest}) differs byte-wise from the published "
                  f"qm9pack conversion", file=sys.stderr)
        _move_into(work, out_dir, QM9_OUTPUTS)
        if keep_archive:
            _move_into(work, out_dir, [QM9_ARCHIVE])
        print(f"atomint: QM9 ({n:,} molecules) written to {out_dir / 'qm9.npz'}", file=sys.stderr)
        return out_dir / "qm9.npz"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch_crystals(url: str = MP_URL, out_dir: str | os.PathLike | None = None,
                   sha256: str | None = None, max_bytes: int | None = MAX_DOWNLOAD_BYTES,
                   progress: bool | None = None) -> Path:
    """Download the CGCNN-format Materials Project set (a tar of a folder with ``id_prop.csv`` and CIFs),
    verify, convert to ``out_dir/mp.npz`` (default: the cache folder ``load_crystals`` reads). ``progress``:
    as in :func:`download`."""
    from .crystals import convert_cgcnn_folder

    out_dir = Path(out_dir) if out_dir else cache_dir() / "mp"
    ensure_targets(out_dir, MP_OUTPUTS)
    remove_stale_temporaries(out_dir, MP_OUTPUTS + (MP_ARCHIVE,))
    work = _work_dir(out_dir)
    try:
        archive = download(url, work / MP_ARCHIVE, sha256, max_bytes=max_bytes, progress=progress)
        try:
            with tarfile.open(archive, "r:*") as tf:
                with writing(work / "src", "unpack the archive into"):
                    tf.extractall(work / "src", filter="data")
        except tarfile.TarError as e:
            raise AtomintError(f"{url}: not a readable tar archive ({e})") from None
        found = sorted((work / "src").rglob("id_prop.csv"))
        if not found:
            raise AtomintError(f"{url}: the archive holds no id_prop.csv (CGCNN format expected)")
        with writing(work, "write into"):
            npz = convert_cgcnn_folder(found[0].parent, work)
        _move_into(work, out_dir, MP_OUTPUTS)
        return out_dir / npz.name
    finally:
        shutil.rmtree(work, ignore_errors=True)
