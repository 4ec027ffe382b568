"""The figure standard and the shared look of every atomint figure (matplotlib).

Figure standard (every figure of the book follows it): rendered at >= 150 dpi (``savefig.dpi`` for files;
a chapter's inline figures are PNGs at twice ``figure.dpi``, shown at their size in inches:
``kernel.sharp_figures``, checked by ``tests/test_notebooks.py``) or as SVG; at most
:data:`COLUMN_WIDTH` wide, so the page never scales a figure (and its text) down; text >= 9 pt at the
displayed size; axis labels with units; no overlapping labels or panel letters; colour maps that fit the
quantity: sequential for magnitudes, diverging around a stated reference for signed or referenced
quantities; captions that say what the reader sees and match the figure.
"""
from __future__ import annotations

import contextlib

import numpy as np

#: rc settings shared by every figure (Springer-chapter look: thin axes, 9–10 pt type, no top/right spines).
PAPER_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "lines.linewidth": 1.2,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.constrained_layout.use": True,
}

#: one colour per QM9 element (CPK-like, readable on white)
ELEMENT_COLORS = {1: "#8c8c8c", 6: "#2b2b2b", 7: "#2f56d6", 8: "#d62728", 9: "#2ca02c"}
#: neutral colour for single-series plots
MAIN_COLOR = "#1f4e79"
ACCENT_COLOR = "#c0504d"

#: the book's text column at a 1,280-px-wide browser window, in CSS pixels (measured on the built pages):
#: a figure wider than this is scaled down on the page, and its 9-pt text with it
COLUMN_PX = 724
#: the widest a figure is drawn (inches). Inline figures are shown at 100 CSS px per inch, and the tight
#: bounding box adds up to about 0.15 in, so a figure of this width is shown at 100 % in the column above.
COLUMN_WIDTH = 7.0


@contextlib.contextmanager
def paper_style():
    """``with paper_style(): ...`` draws with :data:`PAPER_RC`.

    Only the keys of :data:`PAPER_RC` are set and restored (unlike ``plt.rc_context``, which also resets
    ``interactive`` and so stops Jupyter's inline backend from showing figures made inside it)."""
    import matplotlib as mpl
    import matplotlib.pyplot  # noqa: F401  (load pyplot first: it sets up the notebook's inline backend)

    saved = {k: mpl.rcParams[k] for k in PAPER_RC}
    mpl.rcParams.update(PAPER_RC)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def figure(ncols: int = 1, nrows: int = 1, width: float = COLUMN_WIDTH, height: float = 2.4, **kw):
    """``plt.subplots`` at ``width`` × ``height`` inches, the width capped at :data:`COLUMN_WIDTH`."""
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(min(width, COLUMN_WIDTH), height), **kw)


def panel_label(ax, label: str) -> None:
    ax.text(-0.02, 1.02, label, transform=ax.transAxes, ha="right", va="bottom", fontweight="bold")


def element_color(symbol_or_z) -> str:
    from ase.data import atomic_numbers

    z = symbol_or_z if isinstance(symbol_or_z, (int, np.integer)) else atomic_numbers.get(str(symbol_or_z), 0)
    return ELEMENT_COLORS.get(int(z), MAIN_COLOR)


