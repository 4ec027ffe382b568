r"""Fig. 5's maps and the numbers behind the paper's sentences about them (no verdicts, no drawing).

:func:`figure_panels` evaluates the probe potential Ω (kcal/mol, :mod:`.probe`) of every model on the
isosurface and on a cut through each molecule, relative to a stated reference: by default the probe's
**far-field value** Ω(∞) (the same probe with no molecule atom within the cutoff), so negative means "the
probe is more stable here than far away from the molecule".

The measures below take the potential as a *callable* ``omega(points [..., 3] Å) → kcal/mol`` (a
:class:`~.probe.ProbePotential`, or a constructed function in the tests) and the molecule; each is
stated with its unit. The verdicts built on them live in :mod:`atomint_helpers.report.probe`.

* :func:`symmetry_error` — for each in-plane point-group operation ``g`` of the molecule that maps the
  cut onto itself (:func:`plane_symmetries`), ``P95_r |Ω(g·r) − Ω(r)|`` over the cut divided by the
  cut's ``P95(Ω) − P5(Ω)`` (dimensionless; the largest over the operations). Points within
  ``CORE`` Å of a nucleus are left out (the probe sits on an atom there).
* :func:`separability` — Otsu's separability ``η = σ²_between / σ²_total`` of the area-weighted values on
  the isosurface, at the best two-class threshold (dimensionless, 0…1): 1 for two sharp levels, 0.75 for
  a uniform spread, 2/π ≈ 0.64 for one Gaussian, 0.81 for two equal Gaussians 4σ apart (0.75 at 3σ).
* :func:`gradient_contrast` — contour-line density is ``|∇Ω|`` (kcal/mol/Å) divided by the level
  spacing; the ratio ``median |∇Ω|`` at ``NEAR`` (0.5–1.5 Å from the nearest atom) over ``median |∇Ω|``
  at ``FAR`` (2.0–3.0 Å), on the cut (dimensionless).
* :func:`atom_influence` — how much Ω at a point moves when one atom moves: ``s_B(r) = rms_xyz |Ω(r; R_B +
  δ e) − Ω(r)| / δ`` (kcal/mol/Å, δ = 0.02 Å) for every atom B at surface points, with the distance
  ``|r − R_B|``; :func:`influence_ratio` is ``median s`` for pairs ``≥ 4 Å`` apart over ``median s`` for
  pairs ``< 2 Å`` apart (dimensionless).
* :func:`carbon_sites` — each carbon's site value: the mean of Ω over the points of its van der Waals
  sphere (1.70 Å) outside every other atom's van der Waals sphere, and its kind: ``saturated`` (four
  bonded neighbours) or ``aromatic`` (three, in a six-membered ring); bonds from the geometry
  (:data:`~atomint_helpers.data.bonds.COV_FACTOR`).
"""
from __future__ import annotations

import numpy as np

from .grid import isosurface, plane_cut
from .probe_sites import (AROMATIC, SATURATED, atom_sites, bonded_neighbours,
                          carbon_sites, fold_sites, group_gap)

#: points closer than this to a nucleus are left out of the cut measures (Å)
CORE = 0.5
#: distance bands (Å, from the nearest atom) of :func:`gradient_contrast`
NEAR, FAR = (0.5, 1.5), (2.0, 3.0)
#: distance bands (Å, point to moved atom) of :func:`influence_ratio`
INFLUENCE_NEAR, INFLUENCE_FAR = 2.0, 4.0


# ------------------------------------------------------------------------------------------ panels
def figure_panels(models: dict, molecules: dict, probe="C", *, cut_spacing: float = 0.1,
                  surface_resolution: tuple[int, int] = (36, 72), reference: str = "isolated",
                  padding: float = 1.5) -> list[dict]:
    """For each molecule (``{name: atoms}``) and model (``{label: energy model}``): the isosurface just
    outside the van der Waals surface and the cut through the molecule (one square half-width for every
    molecule, so all cuts share their Å axes; the surface mesh has its poles along the cut plane's normal, so
    a half surface ends on a clean equator), with ``Ω − reference`` on both (kcal/mol). Each panel holds
    ``potential`` (the :class:`~.probe.ProbePotential`), ``reference`` (absolute, kcal/mol), ``isolated``
    (Ω(∞) − reference) and ``bonds`` (atom index pairs, from the geometry)."""
    from .grid import molecular_plane
    from .probe import ProbePotential

    planes = {mol: molecular_plane(at) for mol, at in molecules.items()}
    half = max(float(np.abs(planes[m].to_plane(at.positions)).max()) for m, at in molecules.items()) + padding
    panels = []
    for mol, atoms in molecules.items():
        plane = planes[mol]
        surf = isosurface(atoms, resolution=surface_resolution, frame=np.stack([plane.u, plane.v, plane.normal]))
        cut = plane_cut(atoms, plane, spacing=cut_spacing, half_width=half)
        bonds = np.argwhere(np.triu(bonded_neighbours(atoms)))
        for label, model in models.items():
            pp = ProbePotential(model, atoms, probe)
            ref = pp.reference(reference)
            panels.append({"molecule": mol, "model": label, "atoms": atoms, "bonds": bonds, "surface": surf, "cut": cut, "reference": ref,
                               "reference_kind": reference, "potential": pp, "surface_values": pp(surf.vertices) - ref,
                               "cut_values": pp(cut.points) - ref, "isolated": pp.isolated() - ref})
    return panels


def exactness_table(models: dict, atoms, probe="C", spacing: float = 0.4):
    """The probe's contract, per model, on a coarse cut through ``atoms`` (kcal/mol): the batched grid
    against the model's plain forward pass with the probes appended (default table path and the exact path,
    the model's filter networks on every pair), and how far the probes move the molecule's own atomic energies."""
    import pandas as pd

    from .probe import (
        ProbePotential,
        full_forward_potential,
        molecule_energies_with_probes,
    )

    pts = plane_cut(atoms, spacing=spacing).points
    rows = []
    for label, m in models.items():
        plain = full_forward_potential(m, atoms, pts, probe)
        rows.append({"model": label, "probe points": pts.shape[0] * pts.shape[1],
                     "max |batched − plain| (kcal/mol)": np.abs(ProbePotential(m, atoms, probe)(pts) - plain).max(),
                     "max |exact − plain| (kcal/mol)":
                         np.abs(ProbePotential(m, atoms, probe, method="exact")(pts) - plain).max(),
                     "max |ΔE_i of the molecule| (kcal/mol)": np.abs(molecule_energies_with_probes(m, atoms, pts, probe)
                                                                     - m.predict(atoms)["atomic_energies"]).max()})
    return pd.DataFrame(rows).set_index("model")


# ------------------------------------------------------------------------------------------ symmetry
def _ops_candidates(atoms, plane):
    """3×3 orthogonal maps about the centroid that keep the cut plane: rotations about its normal by
    2π m/k (k = 2, 3, 4, 6) and mirrors through planes containing the normal, along each atom's in-plane
    direction and the bisectors between neighbouring directions."""
    n = plane.normal
    rel = atoms.positions - atoms.positions.mean(0)
    ang = np.arctan2(rel @ plane.v, rel @ plane.u)
    ang = np.sort(np.mod(ang[np.hypot(rel @ plane.u, rel @ plane.v) > 1e-3], np.pi))
    mirror_angles = np.concatenate([ang, (ang + np.roll(ang, -1) + np.pi * (np.arange(len(ang)) == len(ang) - 1)) / 2])
    ops = []
    for k in (2, 3, 4, 6):
        for m in range(1, k):
            a = 2 * np.pi * m / k
            ops.append(np.cos(a) * (np.outer(plane.u, plane.u) + np.outer(plane.v, plane.v))
                       + np.sin(a) * (np.outer(plane.v, plane.u) - np.outer(plane.u, plane.v)) + np.outer(n, n))
    for a in mirror_angles:
        w = -np.sin(a) * plane.u + np.cos(a) * plane.v  # in-plane normal of the mirror
        ops.append(np.eye(3) - 2 * np.outer(w, w))
    return ops


def plane_symmetries(atoms, plane, tol: float = 0.1) -> list[np.ndarray]:
    """The non-identity operations of :func:`_ops_candidates` that map every atom onto an atom of the same
    element within ``tol`` Å (about the centroid of all atoms); of candidates that differ by less than 0.05
    in every matrix entry (the same operation found along two nearby directions) the best-matching one."""
    c = atoms.positions.mean(0)
    rel = atoms.positions - c
    same = atoms.numbers[:, None] == atoms.numbers[None, :]
    scored = []
    for g in _ops_candidates(atoms, plane):
        d = np.linalg.norm((rel @ g.T)[:, None, :] - rel[None], axis=-1)
        scored.append((float(np.where(same, d, np.inf).min(1).max()), g))
    found = []
    for miss, g in sorted(scored, key=lambda x: x[0]):  # the best-matching of near-identical candidates
        if miss <= tol and not any(np.allclose(g, h, atol=0.05) for h in found):
            found.append(g)
    return found


def symmetry_errors(omega, atoms, cut, tol: float = 0.1) -> dict:
    """Two symmetry errors over the in-plane operations of :func:`plane_symmetries` (the largest over them),
    on the cut's points outside ``CORE`` Å of every nucleus: ``p95`` = ``P95 |Ω(g·r) − Ω(r)|`` divided by
    ``P95(Ω) − P5(Ω)``; ``rms`` = ``rms(Ω(g·r) − Ω(r))`` divided by the standard deviation of Ω; and
    ``n_ops``. NaN errors if the molecule has no such operation."""
    ops = plane_symmetries(atoms, cut.plane, tol)
    pts = cut.points.reshape(-1, 3)
    pts = pts[np.linalg.norm(pts[:, None] - atoms.positions[None], axis=-1).min(1) > CORE]
    if not ops or not len(pts):
        return {"p95": float("nan"), "rms": float("nan"), "n_ops": 0}
    c = atoms.positions.mean(0)
    v = np.asarray(omega(pts), dtype=np.float64)
    spread = float(np.percentile(v, 95) - np.percentile(v, 5)) or 1.0
    std = float(v.std()) or 1.0
    diffs = [np.asarray(omega((pts - c) @ g.T + c), dtype=np.float64) - v for g in ops]
    return {"p95": float(max(np.percentile(np.abs(d), 95) for d in diffs) / spread),
            "rms": float(max(np.sqrt(np.mean(d ** 2)) for d in diffs) / std), "n_ops": len(ops)}


def symmetry_error(omega, atoms, cut, tol: float = 0.1) -> tuple[float, int]:
    """``(error, n_operations)``: the ``p95`` error of :func:`symmetry_errors`; NaN if the molecule has no
    in-plane operation."""
    e = symmetry_errors(omega, atoms, cut, tol)
    return e["p95"], e["n_ops"]


# ------------------------------------------------------------------------------------------ separation
def vertex_areas(surface) -> np.ndarray:
    """Area (Å²) attributed to each vertex: a third of every triangle it belongs to."""
    tri = surface.vertices[surface.faces]
    a = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    return np.bincount(surface.faces.ravel(), weights=np.repeat(a / 3, 3), minlength=len(surface.vertices))


def separability(values, weights=None) -> float:
    """Otsu's ``η = max_t σ²_between(t) / σ²_total`` of ``values`` (weighted), dimensionless in [0, 1]."""
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    order = np.argsort(v)
    v, w = v[order], w[order] / w.sum()
    mean = float((w * v).sum())
    total = float((w * (v - mean) ** 2).sum())
    if total <= 0:
        return 0.0
    w0, m0 = np.cumsum(w)[:-1], np.cumsum(w * v)[:-1]
    w1 = 1.0 - w0
    ok = (w0 > 0) & (w1 > 0)
    between = (m0[ok] / w0[ok] - mean) ** 2 * w0[ok] + ((mean - m0[ok]) / w1[ok] - mean) ** 2 * w1[ok]
    return float(between.max() / total) if ok.any() else 0.0


def bimodality_coefficient(values, weights=None) -> float:
    """Sarle's bimodality coefficient of ``values`` (weighted, large-sample form): ``(γ² + 1) / κ`` with γ
    the skewness and κ the (non-excess) kurtosis; dimensionless, in (0, 1]: 1/3 for one Gaussian, 5/9 for a
    uniform spread (the usual threshold: above it, two modes), → 1 for two sharp levels. NaN for
    constant values."""
    v = np.asarray(values, dtype=np.float64).ravel()
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    w = w / w.sum()
    mu = float((w * v).sum())
    var = float((w * (v - mu) ** 2).sum())
    if var <= 0:
        return float("nan")
    z = (v - mu) / np.sqrt(var)
    return float(((w * z ** 3).sum() ** 2 + 1) / (w * z ** 4).sum())


# ------------------------------------------------------------------------------------------ contours
def gradient_contrast(values, atoms, cut) -> dict:
    """``|∇Ω|`` on the cut (kcal/mol/Å, central differences) against the distance to the nearest atom:
    ``near`` and ``far`` medians (bands :data:`NEAR`, :data:`FAR`), their ``ratio``, and ``rho``: the
    Spearman correlation of ``|∇Ω|`` with that distance over the points from 0.5 to 3.0 Å (< 0: steeper
    nearer the atoms)."""
    v = np.asarray(values, dtype=np.float64)
    h = float(cut.s[1] - cut.s[0])
    gs, gt = np.gradient(v, h, h)
    g = np.hypot(gs, gt).ravel()
    d = np.linalg.norm(cut.points.reshape(-1, 3)[:, None] - atoms.positions[None], axis=-1).min(1)
    near = np.median(g[(d >= NEAR[0]) & (d < NEAR[1])])
    far = np.median(g[(d >= FAR[0]) & (d < FAR[1])])
    band = (d >= NEAR[0]) & (d < FAR[1])
    from scipy.stats import spearmanr

    rho = float(spearmanr(g[band], d[band]).statistic) if band.sum() > 2 else float("nan")
    return {"near": float(near), "far": float(far), "ratio": float(near / far) if far > 0 else float("inf"),
            "rho": rho}


# ------------------------------------------------------------------------------------------ locality
def atom_influence(make_omega, atoms, points, delta: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """``(s, d)`` [n_atoms, n_points]: ``s`` the rms over x, y, z of ``|ΔΩ(r)| / δ`` (kcal/mol/Å) when atom B
    moves by ``δ`` Å; ``d`` the distance ``|r − R_B|`` (Å). ``make_omega(atoms)`` returns the callable for a
    molecule (a new :class:`~.probe.ProbePotential` for the moved one)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    base = np.asarray(make_omega(atoms)(pts), dtype=np.float64)
    s = np.zeros((len(atoms), len(pts)))
    for b in range(len(atoms)):
        for e in np.eye(3):
            moved = atoms.copy()
            moved.positions[b] += delta * e
            s[b] += ((np.asarray(make_omega(moved)(pts)) - base) / delta) ** 2
    d = np.linalg.norm(pts[None] - atoms.positions[:, None], axis=-1)
    return np.sqrt(s / 3), d


def influence_ratio(s, d, near_below: float = INFLUENCE_NEAR, far_from: float = INFLUENCE_FAR) -> dict:
    """``median s`` over pairs ``d ≥ INFLUENCE_FAR`` and ``d < INFLUENCE_NEAR`` (kcal/mol/Å) and their
    ``ratio`` (NaN when a band is empty). ``s``, ``d``: arrays (or lists of arrays, pooled)."""
    s = np.concatenate([np.ravel(x) for x in s]) if isinstance(s, (list, tuple)) else np.ravel(s)
    d = np.concatenate([np.ravel(x) for x in d]) if isinstance(d, (list, tuple)) else np.ravel(d)
    near, far = s[d < near_below], s[d >= far_from]
    if not len(near) or not len(far):
        return {"near": float("nan"), "far": float("nan"), "ratio": float("nan"), "n_far": len(far)}
    return {"near": float(np.median(near)), "far": float(np.median(far)),
            "ratio": float(np.median(far) / np.median(near)), "n_far": len(far)}


def surface_sample(surface, n: int = 240) -> np.ndarray:
    """About ``n`` vertices of a surface, evenly spread over its vertex list (Å)."""
    step = max(1, len(surface.vertices) // n)
    return surface.vertices[::step]


# ------------------------------------------------------------------------------------------ all of them
def map_measures(panels: list[dict], influence_points: int = 240) -> dict:
    """Every measure above for every model of :func:`figure_panels`' ``panels``:
    ``{model: {"symmetry": {molecule: (error, n_ops)}, "separability": {molecule: η},
    "contrast": {molecule: gradient_contrast}, "influence": {molecule: influence_ratio}, "influence_all":
    influence_ratio pooled over the molecules, "carbons": {molecule: carbon_sites}, "reference": the panels' reference (kcal/mol)}}``."""
    from .probe import ProbePotential

    out: dict = {}
    for p in panels:
        m = out.setdefault(p["model"], {"symmetry": {}, "symmetry_rms": {}, "separability": {}, "bimodality": {},
                                        "contrast": {}, "influence": {}, "influence_cutoff": {}, "carbons": {},
                                        "_s": [], "_d": []})
        pp, at, mol = p["potential"], p["atoms"], p["molecule"]
        e = symmetry_errors(pp, at, p["cut"])
        m["symmetry"][mol], m["symmetry_rms"][mol] = (e["p95"], e["n_ops"]), e["rms"]
        m["separability"][mol] = separability(p["surface_values"], vertex_areas(p["surface"]))
        m["bimodality"][mol] = bimodality_coefficient(p["surface_values"], vertex_areas(p["surface"]))
        m["contrast"][mol] = gradient_contrast(p["cut_values"], at, p["cut"])
        s, d = atom_influence(lambda a, pp=pp: ProbePotential(pp.model, a, pp.z), at,
                              surface_sample(p["surface"], influence_points))
        m["influence"][mol] = influence_ratio(s, d)
        m["influence_cutoff"][mol] = influence_ratio(s, d, far_from=float(pp.cutoff))
        m["cutoff"] = float(pp.cutoff)
        m["_s"].append(s)
        m["_d"].append(d)
        m["carbons"][mol] = carbon_sites(pp, at)
        m["reference"] = p["reference"]
    for m in out.values():
        s_, d_ = m.pop("_s"), m.pop("_d")
        m["influence_all"] = influence_ratio(s_, d_)
        m["influence_cutoff_all"] = influence_ratio(s_, d_, far_from=m["cutoff"])
    return out


__all__ = [
    "AROMATIC",
    "CORE",
    "FAR",
    "NEAR",
    "SATURATED",
    "atom_influence",
    "atom_sites",
    "bimodality_coefficient",
    "fold_sites",
    "bonded_neighbours",
    "carbon_sites",
    "exactness_table",
    "figure_panels",
    "gradient_contrast",
    "group_gap",
    "influence_ratio",
    "map_measures",
    "plane_symmetries",
    "separability",
    "surface_sample",
    "symmetry_error",
    "symmetry_errors",
    "vertex_areas",
]
