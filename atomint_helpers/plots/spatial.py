"""The shared helpers of the spatial maps (Figs. 5 and 6): cuts, surfaces and colour scales. The figures
themselves are drawn in :mod:`.probe` (Fig. 5) and :mod:`.esp` (Fig. 6)."""
from __future__ import annotations

import numpy as np

from .style import element_color, figure, paper_style


# ------------------------------------------------------------------------------------------ spatial (Figs. 5, 6)
def symmetric_limit(values, mask=None, q: float = 98.0) -> float:
    """A colour limit symmetric around 0: the ``q``-th percentile of |values| (finite, inside ``mask``)."""
    v = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(v) if mask is None else (np.isfinite(v) & np.asarray(mask, dtype=bool))
    lim = float(np.percentile(np.abs(v[keep]), q)) if keep.any() else 1.0
    return lim if lim > 0 else 1.0


def contour_levels(lim: float, n: int = 8) -> np.ndarray:
    """Nice levels in ``[-lim, lim]`` that include 0 (``n`` on each side at most)."""
    import matplotlib.ticker as mticker

    step = mticker.MaxNLocator(nbins=n, steps=[1, 2, 2.5, 5, 10]).tick_values(0, lim)
    step = float(step[1] - step[0]) if len(step) > 1 else lim / n
    k = max(1, int(np.floor(lim / step + 1e-9)))
    return np.arange(-k, k + 1) * step


def colour_scale(values, mask=None, q: float = 99.0) -> dict:
    """Colour scale of a spatial map: symmetric around 0 with a diverging map (blue negative, red positive)
    when the values change sign; when they all have one sign (e.g. BP's probe potential, far above the
    reference everywhere near the molecule) a sequential map over the ``100 − q``…``q`` percentile range,
    so the spatial structure stays visible. Returns ``lo``, ``hi``, ``levels`` (for fills and lines) and
    ``cmap``."""
    import matplotlib.ticker as mticker

    v = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(v) if mask is None else (np.isfinite(v) & np.asarray(mask, dtype=bool))
    v = v[keep] if keep.any() else np.zeros(1)
    lo, hi = float(np.percentile(v, 100 - q)), float(np.percentile(v, q))
    if lo < 0 < hi or lo == hi:
        lim = symmetric_limit(v, q=q)
        return {"lo": -lim, "hi": lim, "levels": contour_levels(lim), "cmap": "RdBu_r"}
    levels = mticker.MaxNLocator(nbins=14, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return {"lo": float(levels[0]), "hi": float(levels[-1]), "levels": levels,
            "cmap": "Reds" if lo > 0 else "Blues_r"}


def draw_cut(ax, cut, values, atoms, *, dashed: str = "negative", scale: dict | None = None, mask=None,
              show_atoms: bool = True, norm=None, line_every: int = 2, axes_in_angstrom: bool = False,
              line_width: float = 0.45, atoms_as: str = "circles"):
    """Filled contours of ``values`` [n, n] on a :class:`~atomint_helpers.interpret.grid.Cut` (``scale`` from
    :func:`colour_scale`), black contour lines at every other level with the ``dashed`` ("negative" or
    "positive") ones dashed and the zero line thicker, and the atoms projected onto the plane (element
    colours; faded with their distance from it). ``norm`` replaces the linear ``Normalize(lo, hi)`` (e.g. a
    ``BoundaryNorm`` on uneven levels), ``line_every`` draws a line at every n-th level, and
    ``axes_in_angstrom`` keeps the in-plane Å ticks, ``line_width`` (pt) thins or thickens the lines.
    ``atoms_as="letters"`` marks the atoms by their element symbols (white, black outline: readable on both
    ends of a diverging map) instead of element-coloured circles. Returns the filled contour set."""
    from matplotlib.colors import Normalize

    v = np.asarray(values, dtype=np.float64)
    scale = scale or colour_scale(v, mask)
    lo, hi, levels = scale["lo"], scale["hi"], np.asarray(scale["levels"])
    S, T = np.meshgrid(cut.s, cut.t, indexing="ij")
    cf = ax.contourf(S, T, np.nan_to_num(v, posinf=hi, neginf=lo), levels=levels, cmap=scale["cmap"],
                     norm=norm or Normalize(lo, hi), extend="both")
    # lines at every other level, not at the ends of the scale (where clipped values form a plateau)
    zero = int(np.argmin(np.abs(levels)))
    lines = np.array([lv for k, lv in enumerate(levels[1:-1], 1) if (k - zero) % line_every == 0])
    # dashes 3 pt long with 2-pt gaps whatever the line width (matplotlib scales a dash pattern by the width)
    dash = (0, (3.0 / line_width, 2.0 / line_width))
    styles = [dash if ((lv < 0) if dashed == "negative" else (lv > 0)) else "solid" for lv in lines]
    widths = [2 * line_width if lv == 0 else line_width for lv in lines]
    if len(lines):
        ax.contour(S, T, np.clip(v, lo, hi), levels=lines, colors="k", linestyles=styles, linewidths=widths)
    if show_atoms:
        from ase.data import covalent_radii
        from matplotlib.patches import Circle

        xy = cut.plane.to_plane(atoms.positions)
        h = np.abs(cut.plane.height(atoms.positions))
        for i in np.argsort(-h):
            z = int(atoms.numbers[i])
            alpha = float(np.clip(1.0 - h[i] / 2.0, 0.25, 1.0))
            if atoms_as == "letters":
                draw_element_letter(ax, xy[i], atoms[i].symbol, alpha=alpha)
                continue
            ax.add_patch(Circle(xy[i], 0.45 * covalent_radii[z] + 0.1, facecolor=element_color(z),
                                edgecolor="white", lw=0.6, alpha=alpha, zorder=5))
    ax.set_aspect("equal")
    ax.set_xlim(cut.s[0], cut.s[-1])
    ax.set_ylim(cut.t[0], cut.t[-1])
    if not axes_in_angstrom:
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
    return cf


def draw_element_letter(ax, xy, symbol: str, *, alpha: float = 1.0, size: float = 9, zorder: float = 6) -> None:
    """An atom marked by its element symbol at ``xy`` (data units; x, y, z on a 3D axes): bold white with a
    black outline, so it reads on the dark and the light ends of a diverging map alike; ``alpha`` fades atoms
    off the plane, ``size`` in pt."""
    from matplotlib import patheffects

    outline = patheffects.withStroke(linewidth=2.2, foreground="black", alpha=alpha)
    ax.text(*xy, symbol, ha="center", va="center_baseline", fontsize=size, fontweight="bold", color="white",
            alpha=alpha, zorder=zorder, path_effects=[outline])


def scale_bar(ax, length: float = 2.0, loc: str = "lower left") -> None:
    """A length scale of ``length`` Å (in the axes' data units, Å) labelled in 9-pt type, in the corner ``loc``."""
    from matplotlib import patheffects
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    bar = AnchoredSizeBar(ax.transData, length, f"{length:g} Å", loc, pad=0.3, borderpad=0.2, sep=2,
                          frameon=False, size_vertical=0.0, color="black", fontproperties={"size": 9})
    bar.size_bar.get_children()[0].set_linewidth(2.0)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    bar.size_bar.get_children()[0].set_path_effects(halo)
    bar.txt_label.get_children()[0].set_path_effects(halo)
    ax.add_artist(bar)


def spatial_cut(cut, values, atoms, *, dashed: str = "negative", label: str = "", title: str = "", mask=None):
    """One contour cut (a PNG of ``atomint explain``): :func:`draw_cut` with a colour bar."""
    with paper_style():
        fig, ax = figure(width=3.6, height=3.2)
        cf = draw_cut(ax, cut, values, atoms, dashed=dashed, mask=mask)
        cb = fig.colorbar(cf, ax=ax, fraction=0.046, pad=0.02)
        cb.set_label(label)
        if title:
            ax.set_title(title, fontsize=9)
    return fig


def draw_surface(ax, surface, values, plane, scale: dict, *, norm=None, keep_faces=None, view=(35, -60)):
    """A 3D surface (vertices in the molecular-plane frame u, v, normal), faces coloured in the bands of
    ``scale``'s levels (as the cuts) with two shading steps for depth — few distinct colours keep the PNG small.
    ``norm`` replaces ``Normalize(lo, hi)``, ``keep_faces`` (bool per face) draws only those faces, ``view`` is
    (elevation, azimuth) in degrees."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    verts = surface.vertices - plane.centre
    local = np.stack([verts @ plane.u, verts @ plane.v, verts @ plane.normal], -1)
    tri = local[surface.faces]
    face_vals = np.asarray(values, dtype=np.float64)[surface.faces].mean(1)
    levels = np.asarray(scale["levels"])
    centres = 0.5 * (levels[1:] + levels[:-1])
    band = np.clip(np.searchsorted(levels, np.clip(face_vals, scale["lo"], scale["hi"])) - 1, 0, len(centres) - 1)
    colors = plt.get_cmap(scale["cmap"])((norm or Normalize(scale["lo"], scale["hi"]))(centres[band]))
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    light = np.array([0.3, -0.5, 0.8])
    colors[:, :3] *= np.where(n @ (light / np.linalg.norm(light)) > 0.2, 1.0, 0.85)[:, None]
    keep = slice(None) if keep_faces is None else np.asarray(keep_faces, dtype=bool)
    ax.add_collection3d(Poly3DCollection(tri[keep], facecolors=colors[keep], edgecolors="none", antialiased=False))
    r = np.abs(local).max() * 0.8
    ax.set_xlim(-r, r)
    ax.set_ylim(-r, r)
    ax.set_zlim(-r, r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=view[0], azim=view[1])
    ax.set_axis_off()
