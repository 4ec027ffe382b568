"""Figures of the spatial maps (Figs. 5 and 6): cuts, surfaces, the probe figure, the 3D view; the shared cut and
colour-scale helpers that :mod:`.esp` (Fig. 6) draws with."""
from __future__ import annotations

import numpy as np

from .style import _element_color, _figure, paper_style


# ------------------------------------------------------------------------------------------ spatial (Figs. 5, 6)
def _symmetric_limit(values, mask=None, q: float = 98.0) -> float:
    """A colour limit symmetric around 0: the ``q``-th percentile of |values| (finite, inside ``mask``)."""
    v = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(v) if mask is None else (np.isfinite(v) & np.asarray(mask, dtype=bool))
    lim = float(np.percentile(np.abs(v[keep]), q)) if keep.any() else 1.0
    return lim if lim > 0 else 1.0


def _contour_levels(lim: float, n: int = 8) -> np.ndarray:
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
        lim = _symmetric_limit(v, q=q)
        return {"lo": -lim, "hi": lim, "levels": _contour_levels(lim), "cmap": "RdBu_r"}
    levels = mticker.MaxNLocator(nbins=14, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return {"lo": float(levels[0]), "hi": float(levels[-1]), "levels": levels,
            "cmap": "Reds" if lo > 0 else "Blues_r"}


def _draw_cut(ax, cut, values, atoms, *, dashed: str = "negative", scale: dict | None = None, mask=None,
              show_atoms: bool = True):
    """Filled contours of ``values`` [n, n] on a :class:`~atomint_helpers.interpret.grid.Cut` (``scale`` from
    :func:`colour_scale`), black contour lines at every other level with the ``dashed`` ("negative" or
    "positive") ones dashed and the zero line thicker, and the atoms projected onto the plane (element
    colours; faded with their distance from it). Returns the filled contour set."""
    from matplotlib.colors import Normalize

    v = np.asarray(values, dtype=np.float64)
    scale = scale or colour_scale(v, mask)
    lo, hi, levels = scale["lo"], scale["hi"], np.asarray(scale["levels"])
    S, T = np.meshgrid(cut.s, cut.t, indexing="ij")
    cf = ax.contourf(S, T, np.nan_to_num(v, posinf=hi, neginf=lo), levels=levels, cmap=scale["cmap"],
                     norm=Normalize(lo, hi), extend="both")
    # lines at every other level, not at the ends of the scale (where clipped values form a plateau)
    zero = int(np.argmin(np.abs(levels)))
    lines = np.array([lv for k, lv in enumerate(levels[1:-1], 1) if (k - zero) % 2 == 0])
    styles = ["dashed" if ((lv < 0) if dashed == "negative" else (lv > 0)) else "solid" for lv in lines]
    widths = [0.9 if lv == 0 else 0.45 for lv in lines]
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
            ax.add_patch(Circle(xy[i], 0.45 * covalent_radii[z] + 0.1, facecolor=_element_color(z),
                                edgecolor="white", lw=0.6, alpha=alpha, zorder=5))
    ax.set_aspect("equal")
    ax.set_xlim(cut.s[0], cut.s[-1])
    ax.set_ylim(cut.t[0], cut.t[-1])
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    return cf


def spatial_cut(cut, values, atoms, *, dashed: str = "negative", label: str = "", title: str = "", mask=None):
    """One contour cut (a PNG of ``atomint explain``): :func:`_draw_cut` with a colour bar."""
    with paper_style():
        fig, ax = _figure(width=3.6, height=3.2)
        cf = _draw_cut(ax, cut, values, atoms, dashed=dashed, mask=mask)
        cb = fig.colorbar(cf, ax=ax, fraction=0.046, pad=0.02)
        cb.set_label(label)
        if title:
            ax.set_title(title, fontsize=8)
    return fig


def _draw_surface(ax, surface, values, plane, scale: dict):
    """A 3D surface (vertices in the molecular-plane frame u, v, normal), faces coloured in the bands of
    ``scale``'s levels (as the cuts) with two shading steps for depth — few distinct colours keep the PNG small."""
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
    colors = plt.get_cmap(scale["cmap"])(Normalize(scale["lo"], scale["hi"])(centres[band]))
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    light = np.array([0.3, -0.5, 0.8])
    colors[:, :3] *= np.where(n @ (light / np.linalg.norm(light)) > 0.2, 1.0, 0.85)[:, None]
    ax.add_collection3d(Poly3DCollection(tri, facecolors=colors, edgecolors="none"))
    r = np.abs(local).max() * 0.8
    ax.set_xlim(-r, r)
    ax.set_ylim(-r, r)
    ax.set_zlim(-r, r)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=35, azim=-60)
    ax.set_axis_off()


def probe_figure(panels: list[dict], models: tuple[str, ...] = ("SchNet", "BP"), label: str = "Ω − b_C (kcal/mol)"):
    """Fig. 5: per molecule (rows) and model (column pairs) the probe potential on the isosurface (3D) and
    in the cut through the molecule (negative dashed); one colour scale per model (:func:`colour_scale` of
    its surface values). ``panels`` items: ``molecule``, ``model``, ``atoms``, ``surface``,
    ``surface_values``, ``cut``, ``cut_values`` (values relative to the reference)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    mols = list(dict.fromkeys(p["molecule"] for p in panels))
    models = tuple(m for m in models if any(p["model"] == m for p in panels))
    by = {(p["molecule"], p["model"]): p for p in panels}
    with paper_style():
        fig = plt.figure(figsize=(1.8 * 2 * len(models) + 0.3, 1.7 * len(mols) + 0.7))
        gs = fig.add_gridspec(len(mols) + 1, 2 * len(models), height_ratios=[1] * len(mols) + [0.07])
        for c, model in enumerate(models):
            scale = colour_scale(np.concatenate([p["surface_values"].ravel() for p in panels if p["model"] == model]))
            for r, mol in enumerate(mols):
                p = by.get((mol, model))
                if p is None:
                    continue
                ax3 = fig.add_subplot(gs[r, 2 * c], projection="3d")
                _draw_surface(ax3, p["surface"], p["surface_values"], p["cut"].plane, scale)
                ax = fig.add_subplot(gs[r, 2 * c + 1])
                _draw_cut(ax, p["cut"], p["cut_values"], p["atoms"], dashed="negative", scale=scale)
                if r == 0:
                    ax3.set_title(f"{model}: surface", fontsize=8)
                    ax.set_title(f"{model}: cut", fontsize=8)
                if c == 0:
                    ax3.text2D(-0.08, 0.5, mol, transform=ax3.transAxes, rotation=90, va="center", ha="center",
                               fontsize=9)
            cax = fig.add_subplot(gs[-1, 2 * c:2 * c + 2])
            sm = plt.cm.ScalarMappable(norm=Normalize(scale["lo"], scale["hi"]), cmap=scale["cmap"])
            cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
            cb.set_label(f"{model}: {label}", fontsize=8)
            cb.ax.tick_params(labelsize=7)
    return fig


def probe_surface_plotly(panels: list[dict], label: str = "Ω − b_C (kcal/mol)", decimals: int = 3):
    """Interactive 3D view (plotly) of the probe potential on the isosurfaces of :func:`probe_figure`'s
    ``panels``: one mesh per molecule and model with the atoms as spheres; a menu picks which is shown. Each
    model has its own colour range (:func:`colour_scale`)."""
    import plotly.graph_objects as go
    from ase.data import covalent_radii

    colors = {1: "#d9d9d9", 6: "#404040", 7: "#2f56d6", 8: "#d62728", 9: "#2ca02c"}
    scales = {m: colour_scale(np.concatenate([p["surface_values"].ravel() for p in panels if p["model"] == m]))
              for m in dict.fromkeys(p["model"] for p in panels)}
    named = {"RdBu_r": ("RdBu", True), "Reds": ("Reds", False), "Blues_r": ("Blues", True)}
    fig = go.Figure()
    buttons, n_traces = [], 2
    for k, p in enumerate(panels):
        sc = scales[p["model"]]
        v, f = np.round(p["surface"].vertices, decimals), p["surface"].faces
        vals = np.round(np.clip(p["surface_values"], sc["lo"], sc["hi"]), decimals)
        at = p["atoms"]
        cs, rev = named[sc["cmap"]]
        fig.add_trace(go.Mesh3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1], k=f[:, 2], intensity=vals,
                                colorscale=cs, reversescale=rev, cmin=sc["lo"], cmax=sc["hi"], opacity=0.75,
                                colorbar=dict(title=label), visible=k == 0, name=f"{p['molecule']} {p['model']}",
                                hovertemplate="%{intensity:.2f} kcal/mol<extra></extra>"))
        pos = np.round(at.positions, decimals)
        fig.add_trace(go.Scatter3d(x=pos[:, 0], y=pos[:, 1], z=pos[:, 2], mode="markers",
                                   marker=dict(size=[18 * covalent_radii[z] for z in at.numbers],
                                               color=[colors.get(int(z), "#8c8c8c") for z in at.numbers],
                                               line=dict(width=0)),
                                   text=at.get_chemical_symbols(), hoverinfo="text", visible=k == 0, showlegend=False))
        vis = [False] * (n_traces * len(panels))
        vis[n_traces * k] = vis[n_traces * k + 1] = True
        buttons.append(dict(label=f"{p['molecule']} — {p['model']}", method="update", args=[{"visible": vis}]))
    fig.update_layout(updatemenus=[dict(buttons=buttons, direction="down", x=0.0, y=1.08, xanchor="left")],
                      scene=dict(aspectmode="data", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False),
                      margin=dict(l=0, r=0, t=40, b=0), height=520,
                      title=dict(text=f"Local chemical potential ({label}) on the isosurface", x=0.5, font_size=13))
    return fig
