"""Site values of Fig. 5's probe potential: each atom's mean Ω over its exposed van der Waals sphere, the
carbons' kinds (saturated, aromatic) from bonds found in the geometry, and the gap between two groups of
site values (no verdicts; they live in :mod:`atomint_helpers.report.probe`). Re-exported by
:mod:`.probe_maps`.
"""
from __future__ import annotations

import numpy as np

from .grid import VDW_RADII, vdw_radii

AROMATIC, SATURATED = "aromatic", "saturated"



def sphere_directions(n: int) -> np.ndarray:
    """``n`` unit vectors spread evenly over the sphere (the golden-angle spiral), ``(n, 3)``."""
    k = np.arange(n) + 0.5
    th, ph = np.arccos(1 - 2 * k / n), np.pi * (1 + 5 ** 0.5) * k
    return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1)

def bonded_neighbours(atoms) -> np.ndarray:
    """[n_atoms, n_atoms] bool: bonded pairs from the geometry (|r_i − r_j| ≤ COV_FACTOR (r_cov,i + r_cov,j))."""
    from ase.data import covalent_radii

    from ..data.bonds import COV_FACTOR

    d = np.linalg.norm(atoms.positions[:, None] - atoms.positions[None], axis=-1)
    r = covalent_radii[atoms.numbers]
    bonded = (d <= COV_FACTOR * (r[:, None] + r[None])) & ~np.eye(len(atoms), dtype=bool)
    return bonded


def _in_six_ring(bonded, i: int) -> bool:
    """Atom ``i`` lies on a ring of six atoms (a closed path i → … → i of six distinct bonded atoms)."""
    paths = [[i]]
    for _ in range(5):
        paths = [p + [j] for p in paths for j in np.flatnonzero(bonded[p[-1]]) if j not in p]
    return any(bonded[p[-1], i] for p in paths)


def carbon_sites(omega, atoms, n_dirs: int = 400) -> list[dict]:
    """Per carbon: ``index``, ``kind`` (``saturated``: four bonded neighbours; ``aromatic``: three and on a
    six-membered ring; else ``other``), ``value`` — the mean of Ω (kcal/mol) over its exposed van der Waals
    sphere (points of the 1.70 Å sphere outside every other atom's sphere; NaN if none) — and ``exposed``
    (that share of the sphere)."""
    u = sphere_directions(n_dirs)
    bonded = bonded_neighbours(atoms)
    radii = vdw_radii(atoms.numbers)
    out = []
    for i in np.flatnonzero(atoms.numbers == 6):
        pts = atoms.positions[i] + VDW_RADII[6] * u
        d = np.linalg.norm(pts[:, None] - atoms.positions[None], axis=-1)
        keep = np.delete(d > radii[None] - 1e-9, i, axis=1).all(1)
        nb = int(bonded[i].sum())
        kind = SATURATED if nb == 4 else AROMATIC if nb == 3 and _in_six_ring(bonded, i) else "other"
        val = float(np.mean(omega(pts[keep]))) if keep.any() else float("nan")
        out.append({"index": int(i), "kind": kind, "value": val, "exposed": float(keep.mean())})
    return out


def atom_sites(omega, atoms, n_dirs: int = 400) -> list[dict]:
    """Per atom: ``index``, ``element`` (atomic number), ``kind`` (for carbons as in :func:`carbon_sites`,
    else ``other``) and ``value`` — the mean of Ω (kcal/mol) over the part of the atom's own van der Waals
    sphere outside every other atom's sphere (NaN if none is exposed)."""
    u = sphere_directions(n_dirs)
    bonded = bonded_neighbours(atoms)
    radii = vdw_radii(atoms.numbers)
    out = []
    for i, z in enumerate(atoms.numbers):
        pts = atoms.positions[i] + radii[i] * u
        d = np.linalg.norm(pts[:, None] - atoms.positions[None], axis=-1)
        keep = np.delete(d > radii[None] - 1e-9, i, axis=1).all(1)
        nb = int(bonded[i].sum())
        kind = ("other" if z != 6 else SATURATED if nb == 4 else
                AROMATIC if nb == 3 and _in_six_ring(bonded, i) else "other")
        out.append({"index": int(i), "element": int(z), "kind": kind,
                    "value": float(np.mean(omega(pts[keep]))) if keep.any() else float("nan")})
    return out


def fold_sites(models_dir, profile: str, folds, molecules: dict, probe="C",
               models=(("schnet", "SchNet"), ("bp", "BP"))) -> dict:
    """``{label: {fold: {molecule: atom_sites}}}`` for every energy checkpoint of ``folds`` that exists,
    each relative to that model's far-field value Ω(∞) (kcal/mol)."""
    from pathlib import Path

    from .. import store
    from .probe import ProbePotential

    out: dict = {}
    for key, label in models:
        out[label] = {}
        for k in folds:
            folder = Path(models_dir) / store.run_name(key, "energy", profile, k)
            if not store.is_checkpoint(folder):
                continue
            model = store.load_model(folder)
            out[label][int(k)] = {}
            for mol, at in molecules.items():
                pp = ProbePotential(model, at, probe)
                ref = pp.reference("isolated")
                out[label][int(k)][mol] = [{**x, "value": x["value"] - ref} for x in atom_sites(pp, at)]
    return out


def group_gap(a, b) -> dict:
    """Two groups of site values (kcal/mol): ``gap`` = mean(a) − mean(b), ``separate`` — every value of
    one group lies on the same side of every value of the other (no overlap) — and ``margin``, the distance
    between the groups' ranges (> 0: no overlap; < 0: the depth of the overlap)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if not len(a) or not len(b):
        return {"gap": float("nan"), "separate": False, "margin": float("nan")}
    return {"gap": float(a.mean() - b.mean()), "separate": bool(a.max() < b.min() or a.min() > b.max()),
            "margin": float(max(b.min() - a.max(), a.min() - b.max()))}
