"""The training-budget figure: each claim's tests, normalised to their thresholds, against the test MAE of
the training stages they were measured on."""
from __future__ import annotations

import numpy as np

from .style import ACCENT_COLOR, COLUMN_WIDTH, figure, paper_style

__all__ = ["budget_trends"]
MARKERS = ("o", "s", "^", "v", "D", "P", "X")
#: the tests of claims that are not budget-sensitive: drawn behind, unnamed (each row's values are on the
#: scorecard page)
OTHER_COLOR = "#9a9a9a"


def budget_trends(series: list[dict], paper_mae: dict | None = None, *, height: float = 3.4):
    """One line per claim and test: its normalised value (> 0 holds, < 0 differs; 0 is the threshold)
    against the stage's test MAE, one panel per architecture (and target) the MAE is read from, one panel a
    row; the y axis is linear within ±1 and logarithmic beyond (a number's distance from the paper can be
    several times its tolerance).

    ``series``: dicts with ``label``, ``axis`` (the architecture's name, one panel each), ``mae`` and
    ``normalised`` (one value per stage), ``budget`` (``sensitive``: coloured and named in the legend;
    others grey behind them, counted in one legend entry) and
    ``unit`` (of the MAE: kcal/mol when absent, ``D`` for a dipole model's);
    ``paper_mae``: ``{axis: MAE}`` drawn as a vertical line. The legend, below each panel, names the
    budget-sensitive lines (colour and marker per line) and counts the grey ones. ``height``: inches per row of
    panels. The x axis runs from high to low MAE (training goes left to right)."""
    if not series:
        raise ValueError("budget_trends needs at least one series")
    import matplotlib.pyplot as plt

    axes_names = list(dict.fromkeys(s["axis"] for s in series))
    ncols, nrows = 1, len(axes_names)  # one panel a row: the legend below it at 9 pt needs the column's width
    with paper_style():
        fig, axes = figure(ncols=ncols, nrows=nrows, width=COLUMN_WIDTH, height=height * nrows, squeeze=False)
        for ax in axes.flat[len(axes_names):]:
            ax.set_visible(False)
        for ax, name in zip(axes.flat, axes_names):
            mine = [s for s in series if s["axis"] == name]
            colours = plt.get_cmap("tab10")
            sensitive = [s for s in mine if s.get("budget") == "sensitive"]
            for s in (s for s in mine if s.get("budget") != "sensitive"):  # grey, behind, not in the legend
                ax.plot(s["mae"], s["normalised"], color=OTHER_COLOR, lw=0.7, alpha=0.6, marker=".", ms=3,
                        label=f"_{s['label']}", zorder=1)
            for i, s in enumerate(sensitive):
                x, y = np.asarray(s["mae"], float), np.asarray(s["normalised"], float)
                ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], ms=4, color=colours(i % 10), lw=1.4, ls="-",
                        label=s["label"], zorder=3)
            ax.plot([], [], color=OTHER_COLOR, lw=0.7, marker=".", ms=3,
                    label=f"{len(mine) - len(sensitive)} other tests (none heading for a flip)")
            ax.axhline(0, color="black", lw=0.6)
            ax.set_yscale("symlog", linthresh=1.0)
            if paper_mae and name in paper_mae:
                ax.axvline(paper_mae[name], color=ACCENT_COLOR, lw=0.8, ls=":")
                unit = next((s["unit"] for s in mine if s.get("unit")), "kcal/mol")
                ref = " published SchNet" if unit == "eV/atom" else " paper"  # the crystals: not this paper's model
                ax.text(paper_mae[name], 1.0, ref, transform=ax.get_xaxis_transform(), color=ACCENT_COLOR,
                        ha="left", va="top", fontsize=9)
            lo, hi = ax.get_xlim()
            ax.set_xlim(max(lo, hi), min(lo, hi))
            unit = next((s["unit"] for s in mine if s.get("unit")), "kcal/mol")
            ax.set_xlabel(f"{name} test MAE ({unit})")
            ax.set_title(f"against the training stages of {name}", fontsize=9)
            ax.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.28), ncol=1)
        for row in axes:
            row[0].set_ylabel("(value − threshold) / |threshold|\n(> 0 holds; log beyond ±1)")
    return fig
