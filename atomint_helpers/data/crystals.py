"""Materials Project crystals with DFT formation energy per atom (eV/atom), for Fig. 7.

36,737 periodic structures over 87 elements (MP snapshot of about 2018, the CGCNN formation-energy
set; Jain et al., APL Mater. 1, 011002 (2013); CC BY 4.0).

Where the data come from (:func:`load_crystals`): an explicit path, ``$ATOMINT_DATA/mp/mp.npz``, the
cache filled by ``atomint data fetch --crystals`` (CGCNN-format CIFs + ``id_prop.csv``, converted with
ase), or the embedded real sample (1,500 structures covering every element), with a visible note.
"""
from __future__ import annotations

import csv
import os
import sys
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import AtomintError, MissingError
from .arrayset import ArraySet
from .checksums import recorded_checksum, write_checksum
from ..io import sha256_file
from .paths import SAMPLE_DIR, cache_dir, data_root, find_file

KNOWN_SHA256 = {
    "d873a4bf9caef70069c8fd07b1b48d9c7ede5773ae5b56db0b99d3a740e0321c": "mp.npz",
    "d688212652e72fd82e209fc19760ba65dab97f0c64827fa9b443171fe7e20220": "mp_sample.npz",
}
#: Entries with unphysical formation energies (< -5 eV/atom) in the source; dropped by :meth:`Crystals.clean`.
BAD_ENTRIES = ("mp-778012", "mp-690564", "mp-693892", "mp-775201")
N_STRUCTURES_FULL = 36_737


def _hint() -> str:
    return "run `atomint data fetch --crystals`, or set ATOMINT_DATA to a folder holding mp/mp.npz"


@dataclass
class Crystals(ArraySet):
    """Periodic structures as concatenated arrays: structure ``s`` owns atoms ``offsets[s]:offsets[s+1]``.

    ``Z`` atomic numbers, ``frac`` fractional coordinates, ``cell`` [S,3,3] lattice vectors as rows (Å),
    ``e_form`` formation energy per atom (eV/atom), ``mp_id`` Materials Project ids.
    """

    def __len__(self) -> int:
        return len(self.arrays["n_atoms"])

    @property
    def offsets(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.arrays["n_atoms"].astype(np.int64))])

    @property
    def positions(self) -> np.ndarray:
        """Cartesian positions (Å), ``frac @ cell`` of each atom's structure, float64."""
        s = np.repeat(np.arange(len(self)), self.arrays["n_atoms"].astype(np.int64))
        return np.einsum("ni,nij->nj", self.arrays["frac"].astype(np.float64),
                         self.arrays["cell"].astype(np.float64)[s])

    @property
    def elements(self) -> np.ndarray:
        return np.unique(self.arrays["Z"]).astype(np.int64)

    def describe(self, with_path: bool = False) -> str:
        """Counts and where the data came from, in words (``with_path``: the file too, for the command line)."""
        from .qm9 import SOURCE_WORDS

        note = " — EMBEDDED SAMPLE, not the full set" if self.is_sample else ""
        where = f" ({self.path})" if with_path else ""
        return (f"Materials Project crystals: {len(self):,} structures, {len(self.arrays['Z']):,} atoms, "
                f"{len(self.elements)} elements, from {SOURCE_WORDS.get(self.source, self.source)}{where}{note}")

    def subset(self, rows) -> "Crystals":
        from .qm9 import ranges

        rows = np.asarray(rows, dtype=np.int64)
        off = self.offsets
        atom_rows = ranges(off[rows], self.arrays["n_atoms"][rows].astype(np.int64))
        out = {k: v[rows] for k, v in self.arrays.items() if k not in ("Z", "frac")}
        out["Z"], out["frac"] = self.arrays["Z"][atom_rows], self.arrays["frac"][atom_rows]
        return Crystals(out, self.source, self.path, self.sha256)

    def clean(self) -> "Crystals":
        """Without the 4 source entries whose formation energy is unphysical (< -5 eV/atom)."""
        keep = ~np.isin(self.arrays["mp_id"], BAD_ENTRIES) & (self.arrays["e_form"] > -5.0)
        return self.subset(np.flatnonzero(keep))

    def rows_of(self, ids) -> np.ndarray:
        """Array row of each ``src_index`` id (the source's CIF number), −1 for an id this set does not hold."""
        src = np.asarray(self.arrays["src_index"], dtype=np.int64)
        ids = np.asarray(ids, dtype=np.int64)
        if len(src) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        order = np.argsort(src, kind="stable")
        pos = np.clip(np.searchsorted(src[order], ids), 0, len(src) - 1)
        return np.where(src[order][pos] == ids, order[pos], -1)

    def atoms(self, row: int):
        """Structure ``row`` as a periodic ``ase.Atoms`` (``info``: mp_id, e_form in eV/atom)."""
        from ase import Atoms

        off = self.offsets
        s = slice(int(off[row]), int(off[row + 1]))
        at = Atoms(numbers=self.arrays["Z"][s].astype(int), cell=self.arrays["cell"][row].astype(np.float64),
                   scaled_positions=self.arrays["frac"][s].astype(np.float64), pbc=True)
        at.info.update(mp_id=str(self.arrays["mp_id"][row]), e_form=float(self.arrays["e_form"][row]))
        return at


def read_npz(path: str | os.PathLike, source: str = "path", verify: bool = True) -> Crystals:
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"crystal data file {path} does not exist; {_hint()}")
    digest = ""
    if verify:
        digest = sha256_file(path)
        if digest not in KNOWN_SHA256 and digest != recorded_checksum(path):
            raise AtomintError(f"checksum mismatch for {path} (sha256 {digest}): it matches neither the published "
                               f"file nor its recorded checksum; delete it and {_hint()}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise AtomintError(f"crystal data file {path} is corrupt ({e}); delete it and {_hint()}") from None
    missing = [k for k in ("Z", "frac", "cell", "n_atoms", "e_form", "mp_id") if k not in arrays]
    if missing:
        raise AtomintError(f"crystal data file {path} lacks the arrays {missing}; {_hint()}")
    return Crystals(arrays, source, path, digest)


def load_crystals(path: str | os.PathLike | None = None, *, allow_sample: bool = True,
                  quiet: bool = False) -> Crystals:
    """Load the crystal set from the first source that has it (see module docstring)."""
    if path is not None:
        p = find_file(Path(path), "mp.npz", "mp")
        if p is None:
            raise MissingError(f"no mp.npz in {path}; {_hint()}")
        return read_npz(p, "path")
    root = data_root()
    if root is not None and (p := find_file(root, "mp.npz", "mp")) is not None:
        return read_npz(p, "ATOMINT_DATA")
    cached = cache_dir() / "mp" / "mp.npz"
    if cached.is_file():
        return read_npz(cached, "cache")
    if not allow_sample:
        raise MissingError(f"the full crystal set was not found; {_hint()}")
    if not quiet:
        warnings.warn("atomint: using the EMBEDDED Materials Project SAMPLE (1,500 real crystals), not the full "
                      "36,737 — set ATOMINT_DATA or run `atomint data fetch --crystals`", stacklevel=2)
    return read_npz(SAMPLE_DIR / "mp_sample.npz", "sample")


def convert_cgcnn_folder(src: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert a CGCNN-format folder (``<i>.cif``, ``id_prop.csv``, optional ``material_id_hash.csv``)
    into ``mp.npz`` (atomic write, sha256 recorded beside it)."""
    import ase.io

    from .convert import save_npz

    src, out_dir = Path(src), Path(out_dir)
    prop = src / "id_prop.csv"
    if not prop.is_file():
        raise AtomintError(f"{prop} is missing: not a CGCNN-format crystal folder")
    with open(prop, newline="") as f:
        energies = {k: float(v) for k, v in csv.reader(f)}
    ids_file = src / "material_id_hash.csv"
    ids = {}
    if ids_file.is_file():
        with open(ids_file, newline="") as f:
            ids = {k: v.strip() for k, v in csv.reader(f)}
    keys = sorted(energies, key=int)
    Z, frac, cell = [], [], []
    for k in keys:
        try:
            at = ase.io.read(src / f"{k}.cif", format="cif")
        except Exception as e:  # ase raises many kinds for broken CIFs
            raise AtomintError(f"{src / (k + '.cif')}: unreadable CIF ({e})") from None
        Z.append(at.get_atomic_numbers().astype(np.int8))
        frac.append(at.get_scaled_positions(wrap=False).astype(np.float32))
        cell.append(at.cell.array.astype(np.float32))
    arrays = dict(Z=np.concatenate(Z), frac=np.concatenate(frac), cell=np.stack(cell),
                  n_atoms=np.array([len(z) for z in Z], dtype=np.int16),
                  e_form=np.array([energies[k] for k in keys], dtype=np.float32),
                  mp_id=np.array([ids.get(k, f"src-{k}") for k in keys]),
                  src_index=np.array([int(k) for k in keys], dtype=np.int32))
    out_dir.mkdir(parents=True, exist_ok=True)
    npz = out_dir / "mp.npz"
    save_npz(npz, arrays)
    write_checksum(npz, sha256_file(npz))
    print(f"atomint: wrote {npz} ({len(keys):,} structures)", file=sys.stderr)
    return npz
