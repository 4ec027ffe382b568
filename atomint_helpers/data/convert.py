"""Convert QM9 from its original sources into atomint's ``qm9.npz`` layout.

Two sources are read (numpy only):

* the PyPI package ``qm9pack`` 1.0.3 (R. Ramakrishnan, QM9's first author), whose wheel ships the
  130,831 consistency-checked molecules as CSV (``qm9pack/data/qm9_part{1,2,3}.csv``);
* the original figshare archive ``dsgdb9nsd.xyz.tar.bz2`` (133,885 ``dsgdb9nsd_NNNNNN.xyz`` files in
  QM9's extended xyz format, Fortran exponents such as ``1.2*^-6`` included); the 3,054 molecules listed
  in ``uncharacterized.txt`` are dropped.

The npz writer is deterministic (fixed zip timestamps), so converting qm9pack 1.0.3 gives a file
byte-identical to the published conversion (sha256 in :data:`atomint_helpers.data.qm9.KNOWN_SHA256`).
"""
from __future__ import annotations

import csv
import gzip
import io
import os
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .. import AtomintError, MissingError
from ..io import atomic_path, remove_stale_temporaries
from .checksums import write_checksum
from .paths import ensure_targets

#: The files :func:`convert` writes into its folder (what a killed run left, ``<name>.tmp<pid>``, is removed
#: by the next run).
OUTPUT_NAMES = ("qm9.npz", "qm9_smiles.csv.gz", "qm9.npz.sha256")

SYMBOL_TO_Z = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}

# Scalar properties in the order of line 2 of the original xyz files
# ("gdb <index> A B C mu alpha homo lumo gap r2 zpve U0 U H G Cv"): name, qm9pack column, dtype, unit.
SCALARS = [
    ("A", "RotA_GHz", np.float64, "GHz"),
    ("B", "RotB_GHz", np.float64, "GHz"),
    ("C", "RotC_GHz", np.float64, "GHz"),
    ("mu", "Dipole_debye", np.float32, "Debye"),
    ("alpha", "Polarizability_bohr3", np.float32, "bohr^3"),
    ("homo", "HOMO_au", np.float32, "Hartree"),
    ("lumo", "LUMO_au", np.float32, "Hartree"),
    ("gap", "HOMO_LUMO_gap_au", np.float32, "Hartree"),
    ("r2", "R2_bohr2", np.float32, "bohr^2"),
    ("zpve", "ZPVE_au", np.float64, "Hartree"),
    ("U0", "InternalEnergy_0K_au", np.float64, "Hartree"),
    ("U", "InternalEnergy_298K_au", np.float64, "Hartree"),
    ("H", "Enthalphy_298K_au", np.float64, "Hartree"),
    ("G", "GibbsFreeEnergy_298K_au", np.float64, "Hartree"),
    ("Cv", "Heatcapacity_Cv_cal_mol_K", np.float32, "cal/(mol K)"),
]
TEXT_COLUMNS = ("smiles_gdb", "inchi_gdb")


def _f(s: str) -> float:
    """Parse a number written by Gaussian/Fortran ('1.2*^-6' -> 1.2e-6)."""
    return float(s.replace("*^", "e"))


def _floats(s: str) -> list[float]:
    return [_f(t) for t in s.replace("[", " ").replace("]", " ").replace(",", " ").split()]


# ------------------------------------------------------------------------------------------ readers
def qm9pack_csv_paths() -> list[Path]:
    """The three CSV files inside the installed ``qm9pack`` package."""
    # Located through the distribution's metadata, without importing qm9pack (its __init__ needs
    # pkg_resources, which current setuptools no longer ships).
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        root = Path(str(distribution("qm9pack").locate_file("qm9pack/data")))
    except PackageNotFoundError:
        raise MissingError("the package qm9pack==1.0.3 is not installed; run `make test` or "
                           "`pip install qm9pack==1.0.3` (or set ATOMINT_DATA)") from None
    paths = [root / f"qm9_part{i}.csv" for i in (1, 2, 3)]
    for p in paths:
        if not p.is_file():
            raise MissingError(f"qm9pack is installed but {p} is missing; reinstall qm9pack==1.0.3")
    return paths


def read_qm9pack(paths: Iterable[Path] | None = None, limit: int | None = None) -> Iterator[dict]:
    """Molecules of qm9pack's CSV files (all 130,831, or the first ``limit``)."""
    csv.field_size_limit(1 << 30)
    n = 0
    for p in paths or qm9pack_csv_paths():
        with open(p, encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream):
                if limit is not None and n >= limit:
                    return
                elements = re.findall(r"[A-Z][a-z]?", row["Elements"])
                xyz = np.array(_floats(row["XYZ_Ang"]), dtype=np.float64).reshape(-1, 3)
                q = np.array(_floats(row["Mulliken_pop"]), dtype=np.float64)
                if not (len(elements) == int(row["N_atoms"]) == len(xyz) == len(q)):
                    raise AtomintError(f"{p}: inconsistent atom count for molecule {row['Index']}")
                yield {
                    "index": int(row["Index"]),
                    "Z": [SYMBOL_TO_Z[e] for e in elements],
                    "R": xyz,
                    "mulliken": q,
                    "props": {name: _f(row[col]) for name, col, _, _ in SCALARS},
                    "smiles_gdb": row["SMILES"],
                    "inchi_gdb": row["InChi"],
                }
                n += 1


def parse_qm9_xyz(text: str, name: str = "<xyz>") -> dict:
    """One molecule in QM9's extended xyz format (line 2: 'gdb <index> <15 properties>';
    atom lines carry a Mulliken charge; then frequencies, SMILES and InChI lines)."""
    lines = text.splitlines()
    try:
        n = int(lines[0])
        head = lines[1].split()
        if head[0] != "gdb" or len(head) < 17:
            raise ValueError("line 2 must read 'gdb <index> <15 properties>'")
        Z, R, q = [], [], []
        for k, line in enumerate(lines[2:2 + n], start=3):
            t = line.split()
            if len(t) < 5 or t[0] not in SYMBOL_TO_Z:
                raise ValueError(f"line {k}: expected 'symbol x y z charge', got {line!r}")
            Z.append(SYMBOL_TO_Z[t[0]])
            R.append([_f(t[1]), _f(t[2]), _f(t[3])])
            q.append(_f(t[4]))
        if len(Z) != n:
            raise ValueError(f"{n} atoms announced, {len(Z)} found")
        smi, inchi = lines[3 + n].split(), lines[4 + n].split()
        return {
            "index": int(head[1]),
            "Z": Z,
            "R": np.array(R, dtype=np.float64),
            "mulliken": np.array(q, dtype=np.float64),
            "props": {s[0]: _f(v) for s, v in zip(SCALARS, head[2:17])},
            "smiles_gdb": smi[0],
            "inchi_gdb": inchi[0],
        }
    except (ValueError, IndexError) as e:
        raise AtomintError(f"{name}: not a QM9 xyz file ({e})") from None


def read_xyz_tar(path: str | os.PathLike) -> Iterator[dict]:
    """Molecules of the original ``dsgdb9nsd.xyz.tar.bz2`` (or any tar of QM9 xyz files)."""
    try:
        with tarfile.open(path, "r:*") as tf:
            for m in tf:
                if m.isfile() and m.name.endswith(".xyz"):
                    yield parse_qm9_xyz(tf.extractfile(m).read().decode("utf-8"), f"{path}:{m.name}")
    except tarfile.TarError as e:
        raise AtomintError(f"{path}: not a readable QM9 xyz archive ({e})") from None


def read_uncharacterized(path: str | os.PathLike) -> np.ndarray:
    """The QM9 ids listed in QM9's ``uncharacterized.txt`` (plain or .gz)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    idx = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s+(\d+)\s+\S+", line)
            if m:
                idx.append(int(m.group(1)))
    return np.array(sorted(idx), dtype=np.int32)


# ------------------------------------------------------------------------------------------ writers
def pack(mols: Iterable[dict]) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Concatenate molecules (sorted by QM9 index) into the npz layout."""
    mols = sorted(mols, key=lambda m: m["index"])
    if not mols:
        raise AtomintError("no molecules to convert")
    n_atoms = np.array([len(m["Z"]) for m in mols], dtype=np.int16)
    out = {
        "index": np.array([m["index"] for m in mols], dtype=np.int32),
        "n_atoms": n_atoms,
        "offsets": np.concatenate([[0], np.cumsum(n_atoms, dtype=np.int64)]),
        "Z": np.concatenate([np.asarray(m["Z"], dtype=np.int8) for m in mols]),
        "R": np.concatenate([m["R"] for m in mols]).astype(np.float32),
        "mulliken": np.concatenate([m["mulliken"] for m in mols]).astype(np.float32),
    }
    for name, _, dtype, _ in SCALARS:
        out[name] = np.array([m["props"][name] for m in mols], dtype=dtype)
    return out, {k: [m[k] for m in mols] for k in TEXT_COLUMNS}


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> None:
    """Deterministic ``.npz`` (fixed zip timestamps, no pickle); written atomically."""
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(info, buf.getvalue(), compresslevel=9)


def write_smiles(path: str | os.PathLike, text: dict[str, list[str]], index: np.ndarray) -> None:
    """``index,smiles_gdb,inchi_gdb`` table (gzip with mtime 0 when the name ends in .gz); atomic."""
    path = Path(path)
    with atomic_path(path) as tmp:
        raw = gzip.GzipFile(tmp, "wb", compresslevel=9, mtime=0) if path.suffix == ".gz" else open(tmp, "wb")
        with io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["index", *TEXT_COLUMNS])
            for i, idx in enumerate(index):
                w.writerow([int(idx)] + [text[c][i] for c in TEXT_COLUMNS])


def convert(mols: Iterable[dict], out_dir: str | os.PathLike, exclude: np.ndarray | None = None) -> Path:
    """Write ``qm9.npz`` and ``qm9_smiles.csv.gz`` into ``out_dir`` (atomically), dropping ``exclude`` ids,
    and record the npz's sha256 beside it (``qm9.npz.sha256``). Returns the npz path.

    Before converting, the temporaries of killed earlier runs are removed from ``out_dir``, and a folder
    standing where a file will go is refused (one line, before any slow work)."""
    from ..io import sha256_file

    out_dir = ensure_targets(out_dir, OUTPUT_NAMES)
    remove_stale_temporaries(out_dir, OUTPUT_NAMES)
    if exclude is not None and len(exclude):
        bad = set(int(i) for i in exclude)
        mols = (m for m in mols if m["index"] not in bad)
    arrays, text = pack(mols)
    write_smiles(out_dir / "qm9_smiles.csv.gz", text, arrays["index"])
    npz = out_dir / "qm9.npz"
    save_npz(npz, arrays)
    write_checksum(npz, sha256_file(npz))
    return npz
