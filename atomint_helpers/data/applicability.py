"""Can the models judge this structure? One applicability check, run before any model sees a structure.

:func:`check_applicability` returns an :class:`Applicability`: a tuple of :class:`Finding` (``code``,
``message``, ``atoms`` — the atom indices concerned —, ``refuse``). A finding with ``refuse=True`` means the
models cannot judge the structure (a prediction would be a number without meaning); ``refuse=False`` is a
warning (the models extrapolate, e.g. to a larger molecule than any in QM9). Every tool — ``atomint
explain``, :class:`~atomint_helpers.calculator.AtomintCalculator`, the spatial exports and the chapters — calls
:meth:`Applicability.enforce`, which raises one :class:`~atomint_helpers.AtomintError` line for refused
structures unless ``allow_outside`` is set (then the findings come back as warnings and every output row
is marked).

Refused (``refuse=True``), with the bound each rule uses:

* ``empty``: no atoms; ``non_finite``: a coordinate is NaN or infinite; ``far``: a coordinate beyond
  ±:data:`MAX_COORDINATE` Å (these three and ``budget`` are refused even with ``allow_outside``: there is
  no number to compute);
* ``element``: an element the model has no parameters for (default: QM9's H, C, N, O, F);
* ``too_close``: two atoms closer than the shortest distance of that element pair anywhere in QM9
  (:data:`BOUNDS` ``min_distance``, Å), periodic images included;
* ``isolated``: an atom whose nearest neighbour is farther than the longest nearest-neighbour distance of
  its element in QM9 (``max_nearest``, Å) — a lone atom has no atomization energy to predict;
* ``fragments``: atoms that fall into groups farther apart than any two parts of a QM9 molecule
  (``max_gap``: over QM9, the longest edge of each molecule's minimum spanning tree, Å), naming the groups;
* ``open_shell``: an odd number of electrons (Σ Z − net charge), or unpaired electrons stated by the input
  (``atoms.info['radical_electrons']``, from SMILES/SDF); ``charged``: a net charge stated by the input
  (``atoms.info['charge']``, else the sum of ``atoms.info['formal_charges']``, set by the SDF and SMILES
  readers). Formal charges that sum to zero (a nitro group written N⁺–O⁻) describe a neutral molecule, as in
  QM9, and pass;
* ``periodic``: a periodic cell (QM9 holds isolated molecules);
* ``budget``: more atoms than :data:`MAX_ATOMS` (the memory a model's pair list needs grows with the atom
  count; the message gives the estimate and what to change). Not lifted by ``allow_outside``.

Warnings (``refuse=False``): ``size`` — more heavy atoms or more atoms than any QM9 molecule (says how far
outside), fewer atoms than the smallest QM9 molecule.

The bounds are computed from the full QM9 (130,831 molecules) by :func:`compute_bounds` and stored in
``qm9_bounds.json`` beside this module (``python -m atomint_helpers.data.applicability QM9.npz`` rewrites it).
Distances are rounded outward (shortest down, longest up, to 1e-4 Å) so no QM9 molecule is refused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import AtomintError

BOUNDS_PATH = Path(__file__).with_name("qm9_bounds.json")
#: largest structure a tool evaluates (atoms); above it the pair list of a 5 Å cutoff needs GiBs
MAX_ATOMS = 2_000
#: bytes per atom pair a model's forward pass holds (SchNet 128 filters × 3 tensors + 25 Gaussians, float32,
#: with autograd): the memory estimate of a refusal
BYTES_PER_PAIR = 4 * (3 * 128 + 25) * 2
OUTSIDE_MARK = "outside QM9"
#: refused even with ``allow_outside``: there is no number to compute
HARD = ("empty", "non_finite", "far", "budget")
#: the largest |coordinate| (Å) a structure may have: float32 models resolve 1e-3 Å there, and squared
#: distances of larger coordinates overflow
MAX_COORDINATE = 1e4
#: ``atoms.info`` key a tool sets when its user asked for numbers outside QM9 (``--allow-outside``), so the
#: checks inside the analysis functions it calls (probe, ESP) warn instead of refusing
ALLOW_KEY = "allow_outside"


@dataclass(frozen=True)
class Finding:
    """One reason a structure is outside what the models were trained on.

    ``code``: a short name (see the module docstring); ``message``: one plain-language sentence;
    ``atoms``: the indices (0-based) of the atoms concerned, empty for the structure as a whole;
    ``refuse``: True where the models cannot judge the structure, False for a warning."""

    code: str
    message: str
    atoms: tuple[int, ...] = ()
    refuse: bool = True


@dataclass(frozen=True)
class Applicability:
    """The findings of :func:`check_applicability` for one structure called ``name``."""

    name: str
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def inside(self) -> bool:
        """True when nothing refuses the structure (warnings may remain)."""
        return not any(f.refuse for f in self.findings)

    @property
    def refusals(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.refuse)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.refuse)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def line(self) -> str:
        """The refusals as one line (empty when inside)."""
        return "; ".join(f.message for f in self.refusals)

    def enforce(self, allow_outside: bool = False) -> list[str]:
        """Raise one :class:`AtomintError` line for a refused structure, or, with ``allow_outside``, return
        every finding's message as a warning (the caller prints them and marks its output). The
        :data:`HARD` findings (no atoms, non-finite coordinates, the size budget) are refused either way: no
        model output exists for them."""
        hard = [f for f in self.refusals if f.code in HARD]
        if hard:
            raise AtomintError(f"{self.name}: {hard[0].message}")
        if self.refusals and not allow_outside:
            raise AtomintError(f"{self.name}: the models cannot judge this structure: {self.line()}. "
                               f"Pass --allow-outside (allow_outside=True) to get numbers anyway, marked as "
                               f"{OUTSIDE_MARK!r}")
        return [f.message for f in self.findings]


# ------------------------------------------------------------------------------------------ bounds
def _mst_bottleneck(d: np.ndarray) -> np.ndarray:
    """Longest edge of the minimum spanning tree of each molecule of a distance stack ``d`` [m, n, n]:
    vectorized Prim's algorithm."""
    m, n, _ = d.shape
    ar = np.arange(m)
    in_tree = np.zeros((m, n), dtype=bool)
    in_tree[:, 0] = True
    best = d[:, 0, :].copy()
    worst = np.zeros(m)
    for _ in range(n - 1):
        cand = np.where(in_tree, np.inf, best)
        k = cand.argmin(axis=1)
        worst = np.maximum(worst, cand[ar, k])
        in_tree[ar, k] = True
        best = np.minimum(best, d[ar, k, :])
    return worst


def compute_bounds(ds, chunk: int = 20_000) -> dict:
    """The applicability bounds of a QM9 set ``ds`` (any ``QM9``): per element pair the shortest distance
    (Å, rounded down to 1e-4), per element the longest distance from an atom to its nearest neighbour
    (Å, rounded up), the longest minimum-spanning-tree edge of any molecule (Å, rounded up), the elements,
    and the ranges of atom and heavy-atom counts. Vectorized per molecule size."""
    from ase.data import chemical_symbols

    Z = np.asarray(ds.arrays["Z"], dtype=np.int64)
    R = np.asarray(ds.arrays["R"], dtype=np.float64)
    off = np.asarray(ds.arrays["offsets"], dtype=np.int64)
    n_atoms = np.diff(off)
    zmax = int(Z.max()) + 1
    short, nearest, gap = np.full((zmax, zmax), np.inf), np.zeros(zmax), 0.0
    for n in np.unique(n_atoms):
        mols = np.flatnonzero(n_atoms == n)
        for c in range(0, len(mols), chunk):
            g = off[mols[c:c + chunk]][:, None] + np.arange(n)
            p, z = R[g], Z[g]
            d = np.sqrt(((p[:, :, None] - p[:, None]) ** 2).sum(-1))
            d[:, np.arange(n), np.arange(n)] = np.inf
            a, b = np.minimum(z[:, :, None], z[:, None]), np.maximum(z[:, :, None], z[:, None])
            np.minimum.at(short, (a.ravel(), b.ravel()), d.ravel())
            np.maximum.at(nearest, z.ravel(), d.min(axis=2).ravel())
            gap = max(gap, float(_mst_bottleneck(d).max()))
    elements = sorted(int(e) for e in np.unique(Z))
    heavy = np.add.reduceat((Z > 1).astype(np.int64), off[:-1])
    down = lambda x: float(np.floor(x * 1e4) / 1e4)  # noqa: E731
    up = lambda x: float(np.ceil(x * 1e4) / 1e4)  # noqa: E731
    return {
        "source": f"{getattr(ds, 'source', '?')}: {len(n_atoms):,} molecules, sha256 {getattr(ds, 'sha256', None)}",
        "elements": [chemical_symbols[e] for e in elements],
        "min_distance": {f"{chemical_symbols[a]}-{chemical_symbols[b]}": down(short[a, b])
                         for a in elements for b in elements if a <= b and np.isfinite(short[a, b])},
        "max_nearest": {chemical_symbols[e]: up(nearest[e]) for e in elements},
        "max_gap": up(gap),
        "n_atoms": [int(n_atoms.min()), int(n_atoms.max())],
        "n_heavy": [int(heavy.min()), int(heavy.max())],
    }


@lru_cache(maxsize=1)
def bounds() -> dict:
    """The committed bounds (``qm9_bounds.json``), with the pair table as a [119, 119] array (``min_table``,
    Å; 0 where the pair never occurs in QM9) and ``nearest_table`` [119] (Å; the largest of all elements
    where an element never occurs)."""
    from ase.data import atomic_numbers

    b = json.loads(BOUNDS_PATH.read_text(encoding="utf-8"))
    t = np.zeros((119, 119))
    for pair, d in b["min_distance"].items():
        x, y = (atomic_numbers[s] for s in pair.split("-"))
        t[x, y] = t[y, x] = d
    near = np.full(119, max(b["max_nearest"].values()))
    for s, d in b["max_nearest"].items():
        near[atomic_numbers[s]] = d
    b["min_table"], b["nearest_table"] = t, near
    b["Z"] = tuple(atomic_numbers[s] for s in b["elements"])
    return b


# ------------------------------------------------------------------------------------------ the check
def _symbol(z: int) -> str:
    from ase.data import chemical_symbols

    return chemical_symbols[z] if 0 <= z < len(chemical_symbols) else f"Z={z}"


def _atom_names(Z, idx, limit: int = 6) -> str:
    idx = [int(i) for i in idx]
    names = ", ".join(f"{_symbol(int(Z[i]))}{i}" for i in idx[:limit])
    return names + (f" and {len(idx) - limit} more" if len(idx) > limit else "")


def input_charge(atoms) -> tuple[int, list[int]]:
    """(net charge in e, indices of atoms with a formal charge) as the input stated it: ``atoms.info['charge']``
    (set by readers from SDF ``M  CHG`` or SMILES) and ``atoms.info['formal_charges']`` (per atom)."""
    formal = atoms.info.get("formal_charges")
    charged = [int(i) for i in np.flatnonzero(np.asarray(formal))] if formal is not None else []
    net = atoms.info.get("charge")
    if net is None:
        net = int(np.sum(formal)) if formal is not None else 0
    return int(round(float(net))), charged


def _pairs(atoms, cutoff: float):
    """(i, j, d) of every pair within ``cutoff`` Å, i < j for molecules; periodic images included (i may equal j)."""
    from ase.neighborlist import neighbor_list

    if np.any(atoms.pbc):
        i, j, d = neighbor_list("ijd", atoms, cutoff, self_interaction=False)
        keep = i <= j
        return i[keep], j[keep], d[keep]
    pos = np.asarray(atoms.positions, dtype=np.float64)
    if len(pos) <= DENSE_ATOMS:  # QM9-sized: all distances at once beat building a tree
        i, j = np.triu_indices(len(pos), 1)
        d = np.linalg.norm(pos[i] - pos[j], axis=1)
        keep = d <= cutoff
        return i[keep], j[keep], d[keep]
    from scipy.spatial import cKDTree

    pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
    if not len(pairs):
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    i, j = pairs[:, 0], pairs[:, 1]
    return i, j, np.linalg.norm(pos[i] - pos[j], axis=1)


#: up to this many atoms, pairs and fragments come from dense n × n arrays (faster than a tree or sparse graph)
DENSE_ATOMS = 64


def _components(n: int, i: np.ndarray, j: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of the graph of ``n`` atoms with edges ``i``–``j``: (count, label per atom)."""
    if n > DENSE_ATOMS:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        return connected_components(coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)), directed=False)
    reach = np.eye(n, dtype=bool)
    reach[i, j] = reach[j, i] = True
    for _ in range(max(1, int(np.ceil(np.log2(n))))):  # paths of length 2^k after k squarings
        reach = (reach.astype(np.int32) @ reach.astype(np.int32)) > 0
    first = reach.argmax(axis=1)  # the lowest atom index of each atom's component
    _, label = np.unique(first, return_inverse=True)
    return int(label.max()) + 1, label


def check_applicability(atoms, name: str = "molecule", elements=None, max_atoms: int = MAX_ATOMS) -> Applicability:
    """The :class:`Applicability` of ``atoms`` (``ase.Atoms``, Å) for models trained on QM9.

    ``elements``: atomic numbers the model has parameters for (default: QM9's). ``max_atoms``: the budget
    (atoms) above which the structure is refused whatever the other findings. Runs in O(atoms) time and
    memory (a k-d tree / ASE neighbour list within the longest bound, about 2.2 Å)."""
    b = bounds()
    Z = np.asarray(atoms.numbers, dtype=np.int64)
    n = len(Z)
    out: list[Finding] = []
    if n == 0:
        return Applicability(name, (Finding("empty", "no atoms"),))
    if n > max_atoms:
        pairs_est = n * 60  # organic matter within a 5 Å cutoff: about 60 neighbours per atom
        gib = pairs_est * BYTES_PER_PAIR / 2 ** 30
        return Applicability(name, (Finding(
            "budget", f"{n:,} atoms is above the budget of {max_atoms:,} atoms a model evaluates here (a model "
                      f"would need about {gib:,.1f} GiB for its pair list); cut the structure into molecules of "
                      f"at most {max_atoms:,} atoms"),))
    pos = np.asarray(atoms.positions, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(pos).all(axis=1))
    if len(bad):
        return Applicability(name, (Finding("non_finite", f"non-finite coordinates (NaN or inf) on atom(s) "
                                                          f"{_atom_names(Z, bad)}", tuple(int(i) for i in bad)),))
    far = np.flatnonzero(np.abs(pos).max(axis=1) > MAX_COORDINATE)
    if len(far):
        return Applicability(name, (Finding("far", f"coordinates beyond ±{MAX_COORDINATE:,.0f} Å on atom(s) "
                                                   f"{_atom_names(Z, far)}, where a float32 model cannot resolve "
                                                   f"distances; are the coordinates in Å? Centre the structure",
                                            tuple(int(i) for i in far)),))
    known = tuple(b["Z"]) if elements is None else tuple(int(e) for e in elements)
    other = np.flatnonzero(~np.isin(Z, known))
    if len(other):
        syms = sorted({_symbol(int(Z[i])) for i in other})
        out.append(Finding("element", f"element(s) {', '.join(syms)} do not occur in QM9 (H, C, N, O, F only): the "
                                      f"models have nothing trained for them", tuple(int(i) for i in other)))
    periodic = bool(np.any(atoms.pbc))
    if periodic:
        out.append(Finding("periodic", "the structure is periodic; QM9 holds isolated molecules only"))
    zc = np.clip(Z, 0, 118)
    reach = max(float(b["max_gap"]), float(b["nearest_table"].max()), float(b["min_table"].max()))
    if periodic and np.linalg.matrix_rank(np.asarray(atoms.cell.array)) < int(np.sum(atoms.pbc)):
        out.append(Finding("periodic", "the periodic cell is degenerate (zero volume)"))
        return Applicability(name, tuple(out))
    i, j, d = _pairs(atoms, reach)
    bound = b["min_table"][zc[i], zc[j]]
    short = np.flatnonzero(d < bound)
    if len(short):
        order = short[np.argsort(d[short] / np.maximum(bound[short], 1e-9))][:4]
        parts = [f"{_symbol(int(Z[i[k]]))}{i[k]}–{_symbol(int(Z[j[k]]))}{j[k]} {d[k]:.3f} Å (QM9 shortest "
                 f"{bound[k]:.3f} Å)" + (" across the cell" if i[k] == j[k] else "") for k in order]
        more = f" and {len(short) - 4} more" if len(short) > 4 else ""
        atoms_short = tuple(sorted({int(x) for k in short for x in (i[k], j[k])}))
        out.append(Finding("too_close", f"{len(short)} interatomic distance(s) are shorter than any of that element "
                                         f"pair in QM9: {'; '.join(parts)}{more}", atoms_short))
    if n == 1:
        out.append(Finding("isolated", f"a lone {_symbol(int(Z[0]))} atom: its atomization energy is 0 by "
                                       f"definition and the models have nothing to judge", (0,)))
    elif not periodic:
        other_pair = i != j
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, i[other_pair], d[other_pair])
        np.minimum.at(nearest, j[other_pair], d[other_pair])
        lonely = np.flatnonzero(nearest > b["nearest_table"][zc])
        if len(lonely):
            first = f"{b['nearest_table'][zc[lonely[0]]]:.2f} Å for {_symbol(int(Z[lonely[0]]))}"
            out.append(Finding("isolated", f"atom(s) {_atom_names(Z, lonely)} have no neighbour within the longest "
                                           f"nearest-neighbour distance of their element in QM9 (e.g. "
                                           f"{first}); "
                                           f"are the coordinates in Å?", tuple(int(x) for x in lonely)))
        near = d <= b["max_gap"]
        k, label = _components(n, i[near], j[near])
        if k > 1:
            groups = [np.flatnonzero(label == g) for g in range(k)]
            groups.sort(key=len, reverse=True)
            desc = "; ".join(f"[{_atom_names(Z, g, 4)}]" for g in groups[:4]) + (
                f" and {k - 4} more" if k > 4 else "")
            out.append(Finding("fragments", f"{k} fragments farther apart than {b['max_gap']:.2f} Å (the widest "
                                            f"gap inside any QM9 molecule): {desc}",
                               tuple(int(x) for g in groups[1:] for x in g)))
    net, charged = input_charge(atoms)
    if net:
        where = f" (formal charges on {_atom_names(Z, charged)})" if charged else ""
        out.append(Finding("charged", f"net charge {net:+d} e{where}: QM9 holds neutral molecules only",
                           tuple(charged)))
    electrons = int(Z.sum()) - net
    radicals = int(atoms.info.get("radical_electrons", 0) or 0)
    if electrons % 2 or radicals:
        what = (f"{electrons} electrons (an odd number)" if electrons % 2
                else f"{radicals} unpaired electron(s) in the input")
        out.append(Finding("open_shell", f"{what}: an open-shell species (radical); QM9 holds closed-shell "
                                         f"molecules only"))
    heavy = int((Z > 1).sum())
    lo_n, hi_n = b["n_atoms"]
    hi_heavy = b["n_heavy"][1]
    if heavy > hi_heavy:
        out.append(Finding("size", f"{heavy} heavy (non-hydrogen) atoms: QM9 molecules have at most {hi_heavy}, so "
                                   f"the models extrapolate to a larger molecule than any they were trained on.",
                           refuse=False))
    if n > hi_n:
        out.append(Finding("size", f"{n} atoms, {n - hi_n} more than the largest QM9 molecule ({hi_n} atoms)",
                           refuse=False))
    elif 1 < n < lo_n:
        out.append(Finding("size", f"{n} atoms, fewer than the smallest QM9 molecule ({lo_n} atoms)", refuse=False))
    return Applicability(name, tuple(out))


def main(argv=None) -> int:
    """Rewrite ``qm9_bounds.json`` from a QM9 npz: ``python -m atomint_helpers.data.applicability QM9.npz``."""
    import sys

    from ..io import atomic_write_text
    from .qm9 import load_qm9

    argv = sys.argv[1:] if argv is None else argv
    ds = load_qm9(argv[0] if argv else None, allow_sample=False)
    b = compute_bounds(ds)
    atomic_write_text(BOUNDS_PATH, json.dumps(b, indent=1) + "\n")
    print(f"wrote {BOUNDS_PATH}: {b['source']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
