"""Fig. 5, the local chemical potential of a probe atom: the paper's layout (each molecule's surface over
its cut, three molecules to a row), one figure per model, and the interactive 3D page.

Colour: a diverging map around the stated reference (``Ω − reference``; blue below, red above), on levels
that double from ``±base`` outwards (:func:`doubling_levels`), so the steep rise of Ω near the atoms shows as
dense contour lines instead of one saturated colour; negative contours dashed, as in the paper.
"""
from __future__ import annotations

import numpy as np

from .spatial import draw_cut, draw_element_letter, draw_surface
from .style import COLUMN_WIDTH, paper_style

#: levels on each side of zero in :func:`doubling_levels`
N_SIDE = 7


def doubling_levels(values, n_side: int = N_SIDE, q: float = 99.0) -> dict:
    """Contour levels ``±base·2^k`` (k = 0…n_side−1) with ``base`` a power of two such that the largest level
    reaches the ``q``-th percentile of ``|values|`` (kcal/mol); the band ``(−base, base)`` is the white
    middle of the diverging map. Returns ``levels``, ``base``, ``lo``, ``hi``, ``cmap`` and a
    ``BoundaryNorm`` (``norm``) that gives each band its own colour."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm

    v = np.asarray(values, dtype=np.float64)
    lim = float(np.percentile(np.abs(v[np.isfinite(v)]), q)) if np.isfinite(v).any() else 1.0
    base = 2.0 ** np.ceil(np.log2(max(lim, 1e-6) / 2 ** (n_side - 1)))
    pos = base * 2.0 ** np.arange(n_side)
    levels = np.concatenate([-pos[::-1], pos])
    cmap = plt.get_cmap("RdBu_r")
    return {"levels": levels, "base": float(base), "lo": float(levels[0]), "hi": float(levels[-1]),
            "cmap": "RdBu_r", "norm": BoundaryNorm(levels, cmap.N, extend="both")}


def _off_nuclei(panel, core: float = 0.5) -> np.ndarray:
    """The cut's values at points farther than ``core`` Å from every nucleus (where the probe sits on an atom
    the values leave any useful colour range)."""
    pts = panel["cut"].points.reshape(-1, 3)
    far = np.linalg.norm(pts[:, None] - panel["atoms"].positions[None], axis=-1).min(1) > core
    return np.asarray(panel["cut_values"]).ravel()[far]


def figure_levels(panels: list[dict], model: str) -> dict:
    """:func:`doubling_levels` of one model's cut values off the nuclei: the colour scale of its Fig. 5."""
    return doubling_levels(np.concatenate([_off_nuclei(p) for p in panels if p["model"] == model]))


def _draw_molecule_3d(ax, atoms, plane, bonds):
    """Bonds (grey lines) and atoms in the plane frame, drawn over the surface; the atoms as their element
    symbols (white, black outline, as in the cuts), readable on both ends of the diverging map, faded with
    their distance from the plane (Å) as in the cuts."""
    rel = atoms.positions - plane.centre
    loc = np.stack([rel @ plane.u, rel @ plane.v, rel @ plane.normal], -1)
    for i, j in bonds:
        ax.plot(*loc[[i, j]].T, color="0.25", lw=1.0, zorder=10)
    symbols = atoms.get_chemical_symbols()
    for i in np.argsort(loc[:, 2]):  # the atoms nearer the viewer (above the plane) drawn last
        alpha = float(np.clip(1.0 - abs(loc[i, 2]) / 2.0, 0.25, 1.0))  # faded off the plane, as in the cuts
        draw_element_letter(ax, loc[i], symbols[i], alpha=alpha, zorder=12)


def probe_figure(panels: list[dict], model: str, label: str = "Ω − Ω(∞) (kcal/mol)", width: float = COLUMN_WIDTH,
                 per_row: int = 3):
    """Fig. 5 for one model: per molecule (``per_row`` molecules to a row, so each map is ~2 in wide at the
    column width) the potential on the lower half of the isosurface, seen from above with the molecule drawn
    over it (top), and in the cut through the molecule with in-plane Å axes and the atoms as element symbols
    (below it); one colour scale
    (:func:`doubling_levels` of the cut values) for all panels, its bar under the figure. ``panels`` items:
    ``molecule``, ``model``, ``atoms``, ``bonds``, ``surface``, ``surface_values``, ``cut``, ``cut_values``."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import Formatter

    ps = [p for p in panels if p["model"] == model]
    scale = figure_levels(panels, model)
    n = len(ps)
    n_cols = max(1, min(n, per_row))
    n_rows = -(-n // n_cols)
    col = width / n_cols
    with paper_style():
        fig = plt.figure(figsize=(width, n_rows * (0.8 * col + col + 0.55) + 0.6))
        gs = fig.add_gridspec(2 * n_rows + 1, n_cols, height_ratios=[0.8, 1.0] * n_rows + [0.06])
        cut_axes = []
        for k, p in enumerate(ps):
            r, c = divmod(k, n_cols)
            ax3 = fig.add_subplot(gs[2 * r, c], projection="3d", computed_zorder=False)
            plane = p["cut"].plane
            height = (p["surface"].vertices[p["surface"].faces].mean(1) - plane.centre) @ plane.normal
            draw_surface(ax3, p["surface"], p["surface_values"], plane, scale, norm=scale["norm"],
                          keep_faces=height < 0.05, view=(50, -65))
            ax3.set_box_aspect((1, 1, 0.8), zoom=1.35)
            _draw_molecule_3d(ax3, p["atoms"], plane, p.get("bonds", ()))
            ax3.set_title(p["molecule"], fontsize=10)
            ax = fig.add_subplot(gs[2 * r + 1, c], sharex=cut_axes[0] if cut_axes else None,
                                 sharey=cut_axes[0] if cut_axes else None)
            cf = draw_cut(ax, p["cut"], p["cut_values"], p["atoms"], dashed="negative", scale=scale,
                           norm=scale["norm"], line_every=1, axes_in_angstrom=True, line_width=0.5,
                           atoms_as="letters")
            ax.tick_params(labelsize=9)
            ax.set_xlabel("s (Å)", fontsize=9)
            if c == 0:
                ax.set_ylabel("t (Å)", fontsize=9)
            else:
                ax.tick_params(labelleft=False)
            cut_axes.append(ax)
        cax = fig.add_subplot(gs[-1, :])
        cb = fig.colorbar(cf, cax=cax, orientation="horizontal", spacing="uniform")
        # ±base·4^k; the white band between −base and +base is labelled once, "±base" at its middle
        ticks = sorted([t for t in scale["levels"] if abs(t) > scale["base"] * 1.5
                        and round(np.log2(abs(t) / scale["base"])) % 2 == 0] + [0.0])
        cb.set_ticks(ticks)
        cb.ax.set_xticklabels([f"±{scale['base']:g}" if t == 0 else Formatter.fix_minus(f"{t:g}") for t in ticks],
                              fontsize=9)  # fix_minus: the axes' minus sign
        cb.set_label(f"{model}: {label}", fontsize=9)
    return fig


def probe_surface_plotly(panels: list[dict], label: str = "Ω − Ω(∞) (kcal/mol)", decimals: int = 3):
    """Interactive 3D view (plotly) of the probe potential on the isosurfaces: one mesh per molecule and model
    with the atoms as spheres; a menu picks which is shown, benzene first where it is one of them. The surface
    is half transparent so that the atoms show through it. Each model has its own symmetric colour range
    (the 99th percentile of |values| on its surfaces), centred on the reference."""
    import plotly.graph_objects as go
    from ase.data import covalent_radii

    colors = {1: "#d9d9d9", 6: "#404040", 7: "#2f56d6", 8: "#d62728", 9: "#2ca02c"}
    lims = {m: float(np.percentile(np.abs(np.concatenate([p["surface_values"].ravel() for p in panels
                                                          if p["model"] == m])), 99))
            for m in dict.fromkeys(p["model"] for p in panels)}
    fig = go.Figure()
    buttons, n_traces = [], 2
    first = next((k for k, p in enumerate(panels) if p["molecule"] == "benzene"), 0)
    for k, p in enumerate(panels):
        lim = lims[p["model"]] or 1.0
        v, f = np.round(p["surface"].vertices, decimals), p["surface"].faces
        vals = np.round(np.clip(p["surface_values"], -lim, lim), decimals)
        at = p["atoms"]
        fig.add_trace(go.Mesh3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], i=f[:, 0], j=f[:, 1], k=f[:, 2], intensity=vals,
                                colorscale="RdBu", reversescale=True, cmin=-lim, cmax=lim, opacity=0.45,
                                colorbar={"title": label}, visible=k == first, name=f"{p['molecule']} {p['model']}",
                                hovertemplate="%{intensity:.2f} kcal/mol<extra></extra>"))
        pos = np.round(at.positions, decimals)
        fig.add_trace(go.Scatter3d(x=pos[:, 0], y=pos[:, 1], z=pos[:, 2], mode="markers",
                                   marker={"size": [18 * covalent_radii[z] for z in at.numbers],
                                               "color": [colors.get(int(z), "#8c8c8c") for z in at.numbers],
                                               "line": {"width": 0}},
                                   text=at.get_chemical_symbols(), hoverinfo="text", visible=k == first, showlegend=False))
        vis = [False] * (n_traces * len(panels))
        vis[n_traces * k] = vis[n_traces * k + 1] = True
        buttons.append({"label": f"{p['molecule']} — {p['model']}", "method": "update", "args": [{"visible": vis}]})
    fig.update_layout(updatemenus=[{"buttons": buttons, "active": first, "direction": "down", "x": 0.0, "y": 1.0,
                                    "xanchor": "left"}],
                      scene={"aspectmode": "data", "xaxis_visible": False, "yaxis_visible": False, "zaxis_visible": False},
                      margin={"l": 0, "r": 0, "t": 10, "b": 0}, autosize=True)
    return fig


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;margin:0 auto;max-width:1100px;padding:0 1em;}}
#view{{height:75vh;min-height:420px;}} p{{max-width:60em;line-height:1.4;}}
.framed .standalone{{display:none;}} .framed #view{{height:96vh;}}</style></head>
<body><script>if (window.self !== window.top) document.body.classList.add("framed");</script>
<div class="standalone"><h1>{title}</h1>
<p>{text}</p>
<p><a href="{back}">Back to the chapter</a></p></div>
<div id="view">{plot}</div></body></html>
"""


def probe_3d_page(panels: list[dict], *, title: str, text: str, back: str = "../notebooks/probe.html",
                  label: str = "Ω − Ω(∞) (kcal/mol)") -> str:
    """A self-contained HTML page (plotly.js included): ``title``, the explanation ``text`` (HTML), a link
    ``back`` to the chapter and :func:`probe_surface_plotly` filling 75 % of the window's height; framed in
    the book's page (``book/probe_3d.md``) it shows the view alone, the page around it giving the words."""
    fig = probe_surface_plotly(panels, label=label)
    plot = fig.to_html(full_html=False, include_plotlyjs=True, default_height="100%", default_width="100%",
                       config={"responsive": True})
    return PAGE.format(title=title, text=text, back=back, plot=plot)


__all__ = ["doubling_levels", "figure_levels", "probe_3d_page", "probe_figure", "probe_surface_plotly"]
