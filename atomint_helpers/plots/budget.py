"""The training-budget figure: each claim's tests, normalised to their thresholds, against the test MAE of
the training stages they were measured on."""
from __future__ import annotations

import numpy as np

from .style import ACCENT_COLOR, COLUMN_WIDTH, figure, paper_style

__all__ = ["budget_trends"]
MARKERS = ("o", "s", "^", "v", "D", "P", "X")


def budget_trends(series: list[dict], paper_mae: dict | None = None, *, height: float = 6.0):
    """One line per claim and test: its normalised value (> 0 holds, < 0 differs; 0 is the threshold)
    against the stage's test MAE, one panel per architecture (and target) the MAE is read from, two panels a
    row; the y axis is linear within ±1 and logarithmic beyond (a number's distance from the paper can be
    several times its tolerance).

    ``series``: dicts with ``label``, ``axis`` (the architecture's name, one panel each), ``mae`` and
    ``normalised`` (one value per stage), ``budget`` (``sensitive`` draws solid, others dashed) and
    ``unit`` (of the MAE: kcal/mol when absent, ``D`` for a dipole model's);
    ``paper_mae``: ``{axis: MAE}`` drawn as a vertical line. The legend, below each panel, names the lines
    (colour and marker per line; solid for a sensitive claim, dashed otherwise). The x axis runs from high
    to low MAE (training goes left to right)."""
    if not series:
        raise ValueError("budget_trends needs at least one series")
    import matplotlib.pyplot as plt

    axes_names = list(dict.fromkeys(s["axis"] for s in series))
    ncols = min(len(axes_names), 2)
    nrows = -(-len(axes_names) // ncols)
    with paper_style():
        fig, axes = figure(ncols=ncols, nrows=nrows, width=COLUMN_WIDTH, height=height * nrows, squeeze=False)
        for ax in axes.flat[len(axes_names):]:
            ax.set_visible(False)
        for ax, name in zip(axes.flat, axes_names):
            mine = [s for s in series if s["axis"] == name]
            colours = plt.get_cmap("tab20")
            for i, s in enumerate(mine):
                x, y = np.asarray(s["mae"], float), np.asarray(s["normalised"], float)
                ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], ms=3, color=colours(i % 20),
                        lw=1.2 if s.get("budget") == "sensitive" else 0.8,
                        ls="-" if s.get("budget") == "sensitive" else "--", label=s["label"])
            ax.axhline(0, color="black", lw=0.6)
            ax.set_yscale("symlog", linthresh=1.0)
            if paper_mae and name in paper_mae:
                ax.axvline(paper_mae[name], color=ACCENT_COLOR, lw=0.8, ls=":")
                ax.text(paper_mae[name], 1.0, " paper", transform=ax.get_xaxis_transform(), color=ACCENT_COLOR,
                        ha="left", va="top", fontsize=7)
            lo, hi = ax.get_xlim()
            ax.set_xlim(max(lo, hi), min(lo, hi))
            unit = next((s["unit"] for s in mine if s.get("unit")), "kcal/mol")
            ax.set_xlabel(f"{name} test MAE ({unit})")
            ax.set_title(f"against {name}'s stages", fontsize=9)
            ax.legend(fontsize=6, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
        for row in axes:
            row[0].set_ylabel("normalised value (> 0 holds)")
    return fig
