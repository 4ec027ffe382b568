r"""Where spatial quantities are evaluated: 3D boxes, planar cuts and a surface around a molecule.

Everything here is geometry only (numpy, Å); :mod:`.probe` and :mod:`.esp` evaluate a model or the
latent charges at the points these functions return.

* :func:`box_grid` — a regular 3D grid around the molecule (``Grid``: origin, spacing, shape), the
  layout of a Gaussian cube file (x outermost, z innermost);
* :func:`molecular_plane` / :func:`plane_cut` — a square 2D grid in a plane through the molecule's
  centre: the best-fit plane of the heavy atoms by SVD (the ring plane for benzene, pyrazine and
  toluene; the C–C–C plane of propane), or the H–C–H plane when there are fewer than three heavy atoms
  (methane);
* :func:`level_function`, :func:`vdw_level` and :func:`isosurface` — a closed surface around the
  molecule on which the probe potential is shown (Fig. 5).

The surface.  The paper shows the potential on the level set ``Σ_i |r − r_i|² = const``. Note the
identity ``Σ_i |r − r_i|² = N |r − c|² + Σ_i |r_i − c|²`` (``c`` the unweighted centroid of the
``N`` atoms): that level set is exactly a **sphere** around the centroid, which for an elongated or
flat molecule (propane, benzene) lies far from the atoms in some directions. ``kind="sum_sq"``
gives it as written; ``kind="inverse_sq"`` (the default of :func:`isosurface`) is the molecule-shaped
level set ``Σ_i |r − r_i|⁻² = const`` of the same distances, which follows the atoms like a van der
Waals surface. For both, :func:`vdw_level` picks the level *just outside the van der Waals surface*:
the level whose surface encloses every atom's van der Waals sphere (Bondi radii: H 1.20, C 1.70,
N 1.55, O 1.52, F 1.47 Å) scaled by ``vdw_scale`` (default 1.0) — the extreme value of the level
function over 1,000 points per atom sampled on the exposed parts of those spheres (so the surface may
touch a sphere to within ~10⁻³ Å).

The surface is triangulated by casting rays from the centroid (a latitude–longitude mesh of
directions) and finding the outermost crossing of the level on each ray by a coarse scan and
bisection: exact for star-shaped surfaces (both kinds, for the molecules of the book), an outer
envelope otherwise. No marching-cubes dependency is needed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import AtomintError

#: Bondi van der Waals radii (Å); elements not listed use 1.8 Å
VDW_RADII = {1: 1.20, 5: 1.92, 6: 1.70, 7: 1.55, 8: 1.52, 9: 1.47, 14: 2.10, 15: 1.80, 16: 1.80, 17: 1.75,
             35: 1.85, 53: 1.98}
DEFAULT_VDW = 1.8
LEVEL_KINDS = ("inverse_sq", "sum_sq")
#: resident memory of a probe grid per point (bytes), beside the ~0.35 GB of the loaded libraries: measured as
#: the peak of an 855,000-point grid (0.6 GB in all)
GRID_BYTES_PER_POINT = 300
#: refuse grids with more points than this unless asked: 4 M × :data:`GRID_BYTES_PER_POINT` ≈ 1.2 GB of the
#: grid's own memory, which a 2-core, 24 GiB machine shared with training can hold
MAX_GRID_POINTS = 4_000_000
#: bytes in a GB as the grid's memory messages count them (decimal)
GB = 1e9
#: a box edge whose length is a whole number of spacings up to float rounding (in spacings) gets that many
EDGE_ROUNDING = 1e-9


def vdw_radii(numbers) -> np.ndarray:
    return np.array([VDW_RADII.get(int(z), DEFAULT_VDW) for z in numbers], dtype=np.float64)


def _positions(atoms_or_positions) -> np.ndarray:
    pos = np.asarray(getattr(atoms_or_positions, "positions", atoms_or_positions), dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) == 0:
        raise AtomintError(f"expected atom positions of shape (n_atoms, 3) with n_atoms ≥ 1, got {pos.shape}")
    return pos


def check_points(points) -> np.ndarray:
    """``points`` as a float64 array [..., 3] of finite coordinates (Å)."""
    pts = np.ascontiguousarray(points, dtype=np.float64)
    if pts.ndim == 0 or pts.shape[-1] != 3:
        raise AtomintError(f"grid points must have shape (..., 3) in Å, got {pts.shape}")
    if not np.isfinite(pts).all():
        raise AtomintError("grid points contain NaN or infinite coordinates")
    return pts


# ------------------------------------------------------------------------------------------ 3D box
@dataclass(frozen=True)
class Grid:
    """A regular grid ``origin + i·spacing·x̂ + j·spacing·ŷ + k·spacing·ẑ`` (Å), ``shape = (nx, ny, nz)``.

    ``points()`` is [nx, ny, nz, 3] (x outermost, z innermost: the order of a cube file's data)."""

    origin: np.ndarray
    spacing: float
    shape: tuple[int, int, int]

    @property
    def n_points(self) -> int:
        return int(np.prod(self.shape))

    def axes(self) -> list[np.ndarray]:
        return [self.origin[d] + self.spacing * np.arange(n) for d, n in enumerate(self.shape)]

    def points(self) -> np.ndarray:
        x, y, z = self.axes()
        return np.stack(np.meshgrid(x, y, z, indexing="ij"), axis=-1)

    def cell(self) -> np.ndarray:
        """The cube-file cell: ``shape[d] · spacing`` along each axis (voxel vector = cell row / n)."""
        return np.diag([n * self.spacing for n in self.shape])


def box_grid(atoms, spacing: float = 0.2, padding: float = 3.0, max_points: int = MAX_GRID_POINTS) -> Grid:
    """A box around the atoms, ``padding`` Å beyond the outermost nuclei on every side, at ``spacing`` Å.

    Raises a one-line error for a bad spacing or a grid of more than ``max_points`` points (saying how
    many it would have) before anything large is allocated."""
    pos = _positions(atoms)
    try:
        spacing = float(spacing)
    except (TypeError, ValueError):
        raise AtomintError(f"grid spacing must be a number of Å, got {spacing!r}") from None
    if not np.isfinite(spacing) or spacing <= 0:
        raise AtomintError(f"grid spacing must be a positive number of Å, got {spacing}")
    if not np.isfinite(padding) or padding < 0:
        raise AtomintError(f"grid padding must be ≥ 0 Å, got {padding}")
    lo, hi = pos.min(0) - padding, pos.max(0) + padding
    shape = tuple(int(np.floor((h - l) / spacing + EDGE_ROUNDING)) + 1 for l, h in zip(lo, hi))
    n = int(np.prod(shape, dtype=np.float64))
    if n > max_points:
        raise AtomintError(f"a grid at spacing {spacing:g} Å with {padding:g} Å padding has "
                           f"{shape[0]}×{shape[1]}×{shape[2]} = {n:,} points, more than the limit of "
                           f"{max_points:,} (about {max_points * GRID_BYTES_PER_POINT / GB:.1f} GB); use a spacing of at least "
                           f"{spacing * (n / max_points) ** (1 / 3):.2f} Å (--spacing)")
    # centre the grid on the box so the padding is symmetric
    extent = (np.array(shape) - 1) * spacing
    origin = (lo + hi) / 2 - extent / 2
    return Grid(origin=origin, spacing=spacing, shape=shape)


# ------------------------------------------------------------------------------------------ planes
@dataclass(frozen=True)
class Plane:
    """A plane through ``centre`` spanned by the orthonormal ``u``, ``v``; ``normal = u × v``."""

    centre: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def normal(self) -> np.ndarray:
        return np.cross(self.u, self.v)

    def to_plane(self, points) -> np.ndarray:
        """In-plane coordinates (Å) of 3D points: [..., 2] (and the distance along the normal is dropped)."""
        d = np.asarray(points, dtype=np.float64) - self.centre
        return np.stack([d @ self.u, d @ self.v], axis=-1)

    def height(self, points) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) - self.centre) @ self.normal


def molecular_plane(atoms, indices=None) -> Plane:
    """The plane through the molecule's centre used for the contour cuts.

    ``indices`` (atom indices) picks the atoms that define it, e.g. a ring; by default the heavy atoms if
    there are at least three that are not on a line, else the first heavy atom with its two nearest
    hydrogens (methane: an H–C–H plane), else all atoms. The plane is the best fit by SVD through their
    centroid: ``u`` the direction of largest spread, ``normal`` the smallest."""
    pos = _positions(atoms)
    Z = np.asarray(getattr(atoms, "numbers", np.zeros(len(pos), int)))
    if indices is None:
        heavy = np.flatnonzero(Z > 1)
        sel = heavy
        if len(heavy) < 3 or np.linalg.svd(pos[heavy] - pos[heavy].mean(0), compute_uv=False)[1] < 1e-3:
            if len(heavy) >= 1 and len(pos) >= 3:
                h = np.flatnonzero(Z == 1)
                near = h[np.argsort(np.linalg.norm(pos[h] - pos[heavy[0]], axis=1))[:2]]
                sel = np.concatenate([heavy[:1], near]) if len(near) == 2 else np.arange(len(pos))
            else:
                sel = np.arange(len(pos))
    else:
        sel = np.asarray(indices, dtype=int)
    pts = pos[sel]
    if len(pts) < 3:
        # two atoms or one: any plane containing them
        centre = pts.mean(0)
        u = pts[-1] - pts[0] if len(pts) == 2 else np.array([1.0, 0, 0])
        u = u / (np.linalg.norm(u) or 1.0)
        helper = np.array([0, 0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0, 0])
        v = np.cross(helper, u)
        v /= np.linalg.norm(v)
        return Plane(centre, u, v)
    centre = pts.mean(0)
    _, _, vt = np.linalg.svd(pts - centre)
    u, v = vt[0], vt[1]
    # deterministic orientation: first nonzero component of u and v positive
    for vec in (u, v):
        k = np.flatnonzero(np.abs(vec) > 1e-8)[0]
        if vec[k] < 0:
            vec *= -1
    v = np.cross(np.cross(u, v), u)  # exact orthonormality, right-handed (normal = u × v)
    return Plane(centre, u / np.linalg.norm(u), v / np.linalg.norm(v))


@dataclass(frozen=True)
class Cut:
    """A square grid in a plane: ``points`` [n, n, 3] (Å), in-plane axes ``s`` and ``t`` (Å, [n])."""

    plane: Plane
    s: np.ndarray
    t: np.ndarray
    points: np.ndarray


def plane_cut(atoms, plane: Plane | None = None, spacing: float = 0.1, padding: float = 2.5,
              half_width: float | None = None) -> Cut:
    """Points of a square in ``plane`` (default :func:`molecular_plane`) that covers the atoms' projections
    plus ``padding`` Å (or ``±half_width`` Å around the plane's centre), at ``spacing`` Å."""
    plane = plane or molecular_plane(atoms)
    pos = _positions(atoms)
    if half_width is None:
        half_width = float(np.abs(plane.to_plane(pos)).max()) + padding
    if spacing <= 0:
        raise AtomintError(f"cut spacing must be a positive number of Å, got {spacing}")
    n = int(np.floor(2 * half_width / spacing + 1e-9)) + 1
    ax = (np.arange(n) - (n - 1) / 2) * spacing
    S, T = np.meshgrid(ax, ax, indexing="ij")
    pts = plane.centre + S[..., None] * plane.u + T[..., None] * plane.v
    return Cut(plane, ax, ax, pts)


# ------------------------------------------------------------------------------------------ surface
def level_function(points, positions, kind: str = "inverse_sq") -> np.ndarray:
    """``Σ_i |r − r_i|²`` (``"sum_sq"``, a sphere's level set) or ``Σ_i |r − r_i|⁻²`` (``"inverse_sq"``,
    molecule-shaped) at ``points`` [..., 3]; Å² or Å⁻²."""
    if kind not in LEVEL_KINDS:
        raise AtomintError(f"unknown surface kind {kind!r}; accepted: {', '.join(LEVEL_KINDS)}")
    pts = np.asarray(points, dtype=np.float64)
    pos = _positions(positions)
    d2 = ((pts[..., None, :] - pos) ** 2).sum(-1)
    if kind == "sum_sq":
        return d2.sum(-1)
    with np.errstate(divide="ignore"):
        return (1.0 / d2).sum(-1)


def _sphere_directions(n_theta: int, n_phi: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of a latitude–longitude mesh with both poles, and its triangles."""
    theta = np.linspace(0, np.pi, n_theta + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, n_phi, endpoint=False)
    T, P = np.meshgrid(theta, phi, indexing="ij")
    dirs = np.stack([np.sin(T) * np.cos(P), np.sin(T) * np.sin(P), np.cos(T)], -1).reshape(-1, 3)
    dirs = np.concatenate([[[0, 0, 1.0]], dirs, [[0, 0, -1.0]]])
    rings, faces = n_theta - 1, []
    north, south = 0, len(dirs) - 1

    def idx(r, c):
        return 1 + r * n_phi + (c % n_phi)

    for c in range(n_phi):
        faces.append((north, idx(0, c), idx(0, c + 1)))
        faces.append((south, idx(rings - 1, c + 1), idx(rings - 1, c)))
    for r in range(rings - 1):
        for c in range(n_phi):
            a, b, cc, d = idx(r, c), idx(r, c + 1), idx(r + 1, c), idx(r + 1, c + 1)
            faces.append((a, cc, b))
            faces.append((b, cc, d))
    return dirs, np.asarray(faces, dtype=np.int64)


def vdw_sample(atoms, scale: float, n_dirs: int = 1000) -> np.ndarray:
    """Points on the exposed parts of the (scaled) van der Waals spheres."""
    pos = _positions(atoms)
    r = vdw_radii(atoms.numbers) * scale
    # Fibonacci sphere
    k = np.arange(n_dirs) + 0.5
    th = np.arccos(1 - 2 * k / n_dirs)
    ph = np.pi * (1 + 5 ** 0.5) * k
    u = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1)
    pts = (pos[:, None, :] + r[:, None, None] * u[None]).reshape(-1, 3)
    d = np.linalg.norm(pts[:, None, :] - pos[None], axis=-1)
    exposed = (d >= r[None, :] - 1e-9).all(1)
    return pts[exposed]


def vdw_level(atoms, kind: str = "inverse_sq", vdw_scale: float = 1.0) -> float:
    """The level of :func:`level_function` whose surface just encloses the van der Waals spheres (radii ×
    ``vdw_scale``): the minimum of ``Σ|r − r_i|⁻²`` (``inverse_sq``) or the maximum of ``Σ|r − r_i|²``
    (``sum_sq``) over the exposed van der Waals surface."""
    f = level_function(vdw_sample(atoms, vdw_scale), atoms.positions, kind)
    return float(f.min() if kind == "inverse_sq" else f.max())


@dataclass(frozen=True)
class Surface:
    """A triangulated closed surface: ``vertices`` [n, 3] (Å), ``faces`` [m, 3] vertex indices."""

    vertices: np.ndarray
    faces: np.ndarray
    kind: str
    level: float


def isosurface(atoms, kind: str = "inverse_sq", level: float | None = None, vdw_scale: float = 1.0,
               resolution: tuple[int, int] = (36, 72), frame=None) -> Surface:
    """The level set ``level_function(r) = level`` (default :func:`vdw_level`) around the atoms, by rays
    from the centroid on a ``resolution = (n_theta, n_phi)`` latitude–longitude mesh; for each ray the
    outermost crossing (coarse scan inwards from far outside, then 50 bisection steps). ``frame`` (3×3,
    orthonormal rows) turns the mesh so that its poles lie along the third row (e.g. ``(u, v, normal)`` of a
    :class:`Plane`: the equator then runs parallel to that plane); default the z axis."""
    pos = _positions(atoms)
    if level is None:
        level = vdw_level(atoms, kind, vdw_scale)
    centre = pos.mean(0)
    dirs, faces = _sphere_directions(*resolution)
    if frame is not None:
        dirs = dirs @ np.asarray(frame, dtype=np.float64)
    if kind == "sum_sq":  # exactly a sphere: N|r - c|^2 + S = level
        s0 = ((pos - centre) ** 2).sum()
        radius = np.sqrt(max(level - s0, 0.0) / len(pos))
        return Surface(centre + radius * dirs, faces, kind, float(level))
    # inverse_sq: inside (near atoms) the function is above the level, far outside below
    r_far = float(np.linalg.norm(pos - centre, axis=1).max()) + 1.0 / np.sqrt(level / len(pos)) + 1.0
    radii = np.linspace(r_far, 0.0, 400)
    vals = level_function(centre + radii[None, :, None] * dirs[:, None, :], pos, kind)  # [n_dirs, n_r]
    above = vals >= level
    first = np.argmax(above, axis=1)  # first sample (from outside) at or above the level
    if not above[np.arange(len(dirs)), first].all():
        raise AtomintError("isosurface: a ray from the centroid never reaches the level; pick a smaller level")
    lo = radii[first]  # inside (f >= level)
    hi = radii[np.maximum(first - 1, 0)]  # outside
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        f = level_function(centre + mid[:, None] * dirs, pos, kind)
        inside = f >= level
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    radius = 0.5 * (lo + hi)
    return Surface(centre + radius[:, None] * dirs, faces, kind, float(level))


def outside_vdw(points, atoms, vdw_scale: float = 1.0) -> np.ndarray:
    """Boolean mask [...]: points outside every atom's van der Waals sphere (radius × ``vdw_scale``)."""
    pts = np.asarray(points, dtype=np.float64)
    r = vdw_radii(atoms.numbers) * vdw_scale
    d = np.linalg.norm(pts[..., None, :] - _positions(atoms), axis=-1)
    return (d > r).all(-1)
