"""Fig. 6: the electrostatic potential of the latent charges in a cut through each molecule, BP beside SchNet.

Draws with the cut and colour helpers of :mod:`.spatial`; imports no analysis (the panels come from
:func:`atomint_helpers.interpret.esp.figure_panels`).
"""
from __future__ import annotations

import numpy as np

from .spatial import contour_levels, draw_cut, scale_bar, symmetric_limit
from .style import COLUMN_WIDTH, paper_style


def esp_scale(panels: list[dict], q: float = 99.0) -> dict:
    """One colour scale for every panel: symmetric around V = 0 (diverging, blue negative, red positive),
    limit the ``q``-th percentile of |V| over the points outside the van der Waals surfaces."""
    lim = symmetric_limit(np.concatenate([p["values"][p["mask"]] for p in panels]), q=q)
    return {"lo": -lim, "hi": lim, "levels": contour_levels(lim), "cmap": "RdBu_r"}


def esp_figure(panels: list[dict], models: tuple[str, ...] = ("BP", "SchNet"),
               label: str = "V (eV), charges normalized to max |q| = 1", per_row: int = 2):
    """Fig. 6 at the book's full width: for each molecule the models side by side (``per_row`` molecules
    per row, so each panel is ~1.8 in wide), one colour scale shared by every panel (:func:`esp_scale`)
    with its colour bar under the figure; positive regions dashed, the zero contour thicker; atoms marked by
    their element symbols (white, black outline), a 2-Å scale bar in each panel. ``panels``
    items: ``molecule``, ``model``, ``atoms``, ``cut``, ``values`` and ``mask`` (points outside the van der
    Waals surface, which set the scale)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize

    mols = list(dict.fromkeys(p["molecule"] for p in panels))
    models = tuple(m for m in models if any(p["model"] == m for p in panels))
    by = {(p["molecule"], p["model"]): p for p in panels}
    scale = esp_scale(panels)
    n_rows = -(-len(mols) // per_row)
    n_cols = per_row * len(models)
    with paper_style():
        fig, axes = plt.subplots(n_rows, n_cols, figsize=(COLUMN_WIDTH, 1.9 * n_rows + 0.75), squeeze=False)
        for i, mol in enumerate(mols):
            for j, model in enumerate(models):
                ax = axes[i // per_row, (i % per_row) * len(models) + j]
                p = by.get((mol, model))
                if p is None:
                    ax.set_axis_off()
                    continue
                draw_cut(ax, p["cut"], p["values"], p["atoms"], dashed="positive", scale=scale, atoms_as="letters")
                scale_bar(ax, 2.0)
                ax.set_title(f"{mol}\n{model}", fontsize=9)
        for ax in axes.ravel()[len(mols) * len(models):]:
            ax.set_axis_off()
        sm = plt.cm.ScalarMappable(norm=Normalize(scale["lo"], scale["hi"]), cmap=scale["cmap"])
        cb = fig.colorbar(sm, ax=axes.ravel().tolist(), orientation="horizontal", location="bottom",
                          fraction=0.035, pad=0.02, shrink=0.6, aspect=40)
        cb.set_label(label, fontsize=9)
        cb.ax.tick_params(labelsize=9)
    return fig
