"""QM9 (B3LYP/6-31G(2df,p)): 130,831 consistency-checked molecules.

Ramakrishnan, Dral, Rupp, von Lilienfeld, *Sci. Data* 1, 140022 (2014); CC BY 4.0.

Where the data come from, in this order (:func:`load_qm9`):

1. an explicit ``path``, or ``$ATOMINT_DATA`` holding ``qm9.npz`` (fastest; what CI uses);
2. the converted ``qm9pack`` cache (``$ATOMINT_CACHE/qm9/qm9.npz``), made once from the installed
   PyPI package ``qm9pack==1.0.3`` (atomic write, sha256 recorded);
3. a folder filled by ``atomint data fetch`` (the original archive, downloaded and converted; it writes
   into the same cache folder unless told otherwise);
4. the embedded real sample (2,000 molecules) — with a visible note that the sample is in use.

Per-atom arrays are concatenated: molecule ``m`` owns atoms ``offsets[m]:offsets[m+1]``.
Molecules are addressed by their **QM9 index** (1…133885, the number in ``dsgdb9nsd_NNNNNN.xyz``);
``row`` means the position in the arrays.
"""
from __future__ import annotations

import os
import sys
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import AtomintError, MissingError
from ..units import convert_energy
from .arrayset import ArraySet
from .checksums import recorded_checksum
from ..io import sha256_file
from .elements import QM9_ELEMENTS, QM9_SYMBOLS
from .paths import SAMPLE_DIR, cache_dir, data_root, ensure_targets, find_file
from ..io import remove_stale_temporaries

N_MOLECULES_FULL = 130_831
N_UNCHARACTERIZED = 3_054
MAX_INDEX = 133_885

#: sha256 of the published conversions; the converter reproduces
#: ``qm9.npz`` byte for byte from qm9pack 1.0.3.
KNOWN_SHA256 = {
    "32fbcf352e44a90127dac75d87f702d604db2a5bda6e152e3a57480eaaa16ab9": "qm9.npz (qm9pack 1.0.3)",
    "be54ac07e1480221df8cdd1d084258d2b642fcdc263451cde38ff14109f5df55": "qm9_sample.npz",
}

ELEMENTS = QM9_ELEMENTS
SYMBOLS = dict(zip(QM9_ELEMENTS, QM9_SYMBOLS))

#: QM9 atom reference energies (Hartree) for U0, U, H, G (QM9's atomref file; B3LYP/6-31G(2df,p)).
ATOM_REFERENCES_HARTREE = {
    "U0": {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730},
    "U": {1: -0.498857, 6: -37.845355, 7: -54.582445, 8: -75.063163, 9: -99.717314},
    "H": {1: -0.497912, 6: -37.844411, 7: -54.581501, 8: -75.062219, 9: -99.716370},
    "G": {1: -0.510927, 6: -37.861317, 7: -54.598897, 8: -75.079532, 9: -99.733544},
}

#: QM9 ids of named molecules used throughout the book (all in the embedded sample).
NAMED = {"methane": 1, "propane": 13, "benzene": 214, "pyrazine": 216, "toluene": 930,
         "phloroglucinol": 27916}

ATOM_KEYS = ("Z", "R", "mulliken")
MOL_KEYS = ("index", "n_atoms", "A", "B", "C", "mu", "alpha", "homo", "lumo", "gap", "r2", "zpve",
            "U0", "U", "H", "G", "Cv")


def _missing_hint() -> str:
    return ("run `atomint data fetch`, or set ATOMINT_DATA to a folder holding qm9/qm9.npz "
            "(see README, 'Data')")


_VERIFIED: dict[tuple, str] = {}


def verify_checksum(path: Path) -> str:
    """sha256 of ``path``; refuse a file that matches neither a published conversion nor the checksum
    recorded beside it when it was converted."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _VERIFIED:
        return _VERIFIED[key]
    digest = sha256_file(path)
    recorded = recorded_checksum(path)
    if digest not in KNOWN_SHA256 and digest != recorded:
        if recorded is not None:
            why = f"its recorded checksum is {recorded}"
        else:
            why = "it matches no published QM9 conversion and has no recorded checksum"
        raise AtomintError(f"checksum mismatch for {path}: sha256 {digest}, but {why}. The file is corrupt "
                           f"or was changed; delete it and {_missing_hint()}")
    _VERIFIED[key] = digest
    return digest


#: where a data set was read from (``read_npz``'s ``source``), in a reader's words
SOURCE_WORDS = {"path": "the data folder given", "ATOMINT_DATA": "the ATOMINT_DATA folder",
                "qm9pack cache": "the qm9pack wheel (converted once)", "cache": "the download cache",
                "sample": "the embedded sample"}


@dataclass
class QM9(ArraySet):
    """QM9 molecules as concatenated arrays (see module docstring).

    ``source`` says where they came from: ``'path'``, ``'ATOMINT_DATA'``, ``'qm9pack cache'`` or
    ``'sample'``; ``sha256`` is the data file's checksum (recorded in every model's provenance).
    """

    _row_of: dict = field(default_factory=dict, repr=False)

    # -------------------------------------------------------------- basic views (arrays as attributes:
    # ds.Z, ds.R, ds.U0, ...; see ArraySet)
    def __len__(self) -> int:
        return len(self.arrays["index"])

    @property
    def n_atoms_total(self) -> int:
        return int(self.arrays["offsets"][-1])

    def describe(self, with_path: bool = False) -> str:
        """Counts and where the data came from, in words (``with_path``: the file too, for the command line;
        never on a book page, where a path of the machine that built it means nothing to a reader)."""
        note = " — EMBEDDED SAMPLE, not the full QM9" if self.is_sample else ""
        where = f" ({self.path})" if with_path else ""
        return (f"QM9: {len(self):,} molecules, {self.n_atoms_total:,} atoms, from "
                f"{SOURCE_WORDS.get(self.source, self.source)}{where}{note}")

    # -------------------------------------------------------------- addressing
    def rows(self, qm9_indices) -> np.ndarray:
        """Array rows of the given QM9 indices; error naming any index that is not present."""
        idx = np.atleast_1d(np.asarray(qm9_indices, dtype=np.int64))
        pos = np.searchsorted(self.arrays["index"], idx)
        pos_c = np.minimum(pos, len(self) - 1)
        bad = self.arrays["index"][pos_c] != idx
        if bad.any():
            missing = idx[bad][:5].tolist()
            where = "the embedded sample" if self.is_sample else str(self.path)
            raise AtomintError(f"QM9 index {missing} not in {where} ({len(self):,} molecules)")
        return pos_c

    def contains(self, qm9_indices) -> np.ndarray:
        idx = np.asarray(qm9_indices, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.arrays["index"], idx), len(self) - 1)
        return self.arrays["index"][pos] == idx

    def atom_slice(self, row: int) -> slice:
        o = self.arrays["offsets"]
        return slice(int(o[row]), int(o[row + 1]))

    def subset(self, rows) -> "QM9":
        """A new QM9 holding only the given rows (in the given order)."""
        rows = np.asarray(rows, dtype=np.int64)
        o = self.arrays["offsets"]
        n = (o[rows + 1] - o[rows])
        atom_rows = ranges(o[rows], n)
        out = {k: self.arrays[k][atom_rows] for k in ATOM_KEYS}
        out.update({k: self.arrays[k][rows] for k in MOL_KEYS if k in self.arrays})
        out["offsets"] = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
        return QM9(out, self.source, self.path, self.sha256)

    # -------------------------------------------------------------- properties
    def atomization_energy(self, unit: str = "kcal/mol", prop: str = "U0") -> np.ndarray:
        """``prop`` − Σ atom references (QM9's B3LYP atom energies), per molecule, in ``unit``."""
        ref = np.zeros(10)
        for z, e in ATOM_REFERENCES_HARTREE[prop].items():
            ref[z] = e
        per_atom = ref[self.arrays["Z"].astype(np.int64)]
        ref_sum = np.add.reduceat(per_atom, self.arrays["offsets"][:-1])
        return convert_energy(self.arrays[prop] - ref_sum, "hartree", unit)

    @cached_property
    def smiles(self) -> np.ndarray:
        """GDB-17 SMILES per molecule (from the table beside the npz, or the sample's)."""
        import pandas as pd

        for p in (self.path.with_name("qm9_smiles.csv.gz"), self.path.with_name("qm9_sample_smiles.csv")):
            if p.is_file():
                t = pd.read_csv(p)
                s = dict(zip(t["index"].to_numpy(), t["smiles_gdb"].astype(str)))
                return np.array([s.get(int(i), "") for i in self.arrays["index"]], dtype=object)
        raise MissingError(f"no SMILES table beside {self.path} (expected qm9_smiles.csv.gz)")

    def atoms(self, qm9_index: int):
        """The molecule with this QM9 index as an ``ase.Atoms`` (Å; ``info`` holds index, U0 (Ha), mu (D),
        and the atomization energy in kcal/mol; ``mulliken`` as initial charges)."""
        from ase import Atoms

        row = int(self.rows([qm9_index])[0])
        s = self.atom_slice(row)
        at = Atoms(numbers=self.arrays["Z"][s].astype(int), positions=self.arrays["R"][s].astype(np.float64))
        at.set_initial_charges(self.arrays["mulliken"][s].astype(np.float64))
        at.info.update(qm9_index=int(qm9_index), U0=float(self.arrays["U0"][row]), mu=float(self.arrays["mu"][row]),
                       atomization_energy_kcal_mol=float(self.atomization_energy()[row]))
        return at


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + n)`` for each (s, n), without a Python loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + shift


def read_npz(path: str | os.PathLike, source: str = "path", verify: bool = True) -> QM9:
    """Read a converted ``qm9.npz``; clear errors for a missing, corrupt or tampered file."""
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"QM9 data file {path} does not exist; {_missing_hint()}")
    digest = verify_checksum(path) if verify else ""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise AtomintError(f"QM9 data file {path} is corrupt ({e}); delete it and {_missing_hint()}") from None
    missing = [k for k in ("index", "n_atoms", "offsets", "Z", "R", "U0", "mu") if k not in arrays]
    if missing:
        raise AtomintError(f"QM9 data file {path} lacks the arrays {missing}; {_missing_hint()}")
    return QM9(arrays, source, path, digest)


def qm9pack_cache(convert_if_missing: bool = True, out_dir: Path | None = None) -> Path | None:
    """Path of the qm9pack-converted ``qm9.npz`` in the cache, converting it (once, ~15 s–2 min) if asked.

    Temporaries a killed conversion left in the folder are removed; a file where the folder should be, a
    folder where ``qm9.npz`` should be, or a folder that cannot be written give one-line errors (before
    converting)."""
    from . import convert

    out_dir = Path(out_dir) if out_dir else cache_dir() / "qm9"
    if out_dir.is_file():
        raise AtomintError(f"{out_dir} is a file, but a folder is expected (where qm9.npz is written)")
    remove_stale_temporaries(out_dir, convert.OUTPUT_NAMES)
    npz = out_dir / "qm9.npz"
    if npz.is_file():
        return npz
    if not convert_if_missing:
        return None
    try:
        paths = convert.qm9pack_csv_paths()
    except AtomintError:
        return None
    ensure_targets(out_dir, convert.OUTPUT_NAMES)
    print(f"atomint: converting QM9 from the installed qm9pack package into {out_dir} (once) ...",
          file=sys.stderr, flush=True)
    convert.convert(convert.read_qm9pack(paths), out_dir, exclude=uncharacterized_indices())
    return npz


def uncharacterized_indices() -> np.ndarray:
    """The 3,054 QM9 ids that fail QM9's consistency check (shipped with the package)."""
    from .convert import read_uncharacterized

    return read_uncharacterized(SAMPLE_DIR / "uncharacterized.txt.gz")


def all_indices() -> np.ndarray:
    """The 130,831 QM9 ids of the consistency-checked set (known without the data)."""
    return np.setdiff1d(np.arange(1, MAX_INDEX + 1, dtype=np.int64), uncharacterized_indices())


def sample_path() -> Path:
    return SAMPLE_DIR / "qm9_sample.npz"


def load_qm9(path: str | os.PathLike | None = None, *, allow_sample: bool = True,
             convert_qm9pack: bool = True, quiet: bool = False) -> QM9:
    """Load QM9 from the first source that has it (see module docstring)."""
    if path is not None:
        p = find_file(Path(path), "qm9.npz", "qm9")
        if p is None:
            raise MissingError(f"no qm9.npz in {path}; {_missing_hint()}")
        return read_npz(p, "path")
    root = data_root()
    if root is not None:
        p = find_file(root, "qm9.npz", "qm9")
        if p is None:
            raise MissingError(f"ATOMINT_DATA={root} holds no qm9.npz (looked for {root}/qm9/qm9.npz and "
                               f"{root}/qm9.npz); unset it or {_missing_hint()}")
        return read_npz(p, "ATOMINT_DATA")
    p = qm9pack_cache(convert_if_missing=convert_qm9pack)
    if p is not None:
        return read_npz(p, "qm9pack cache")
    if not allow_sample:
        raise MissingError(f"full QM9 not found; {_missing_hint()}")
    ds = read_npz(sample_path(), "sample")
    msg = ("atomint: using the EMBEDDED QM9 SAMPLE (2,000 real molecules), not the full QM9 — "
           "set ATOMINT_DATA or run `atomint data fetch` for all 130,831")
    if not quiet:
        warnings.warn(msg, stacklevel=2)
    return ds


def load_sample() -> QM9:
    """The embedded real sample (2,000 molecules incl. methane, propane, benzene, pyrazine, toluene,
    phloroglucinol)."""
    return read_npz(sample_path(), "sample")
