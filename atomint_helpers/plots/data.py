"""Figures of the data chapter: QM9 element frequencies and property distributions, the crystals' periodic table."""
from __future__ import annotations

import numpy as np

from ..data.elements import periodic_position
from .style import (
    ACCENT_COLOR,
    COLUMN_WIDTH,
    MAIN_COLOR,
    element_color,
    figure,
    panel_label,
    paper_style,
)


# ------------------------------------------------------------------------------------------ QM9
def _compact_count(v: float) -> str:
    """A count as a bar label short enough for 9-pt text over a narrow bar: 3,036, 79.9 k, 1.21 M."""
    v = int(v)
    return f"{v:,}" if v < 10_000 else f"{v / 1e3:.3g} k" if v < 1_000_000 else f"{v / 1e6:.3g} M"


def element_frequency_bars(freq, unit: str = "molecules", title: str | None = None):
    """Two bar panels from :func:`atomint_helpers.data.overview.element_table`: atoms per element and
    the number of ``unit`` containing each element (log scale, counts written on the bars, rounded to three
    digits from 10,000 on; the chapter's table gives them exactly)."""
    with paper_style():
        fig, axes = figure(2, width=7.0, height=2.4)
        symbols = list(freq.index)
        colors = [element_color(int(z)) for z in freq["Z"]]
        for ax, col, ylabel, label in ((axes[0], "atoms", "atoms", "a"),
                                       (axes[1], unit, f"{unit} containing it", "b")):
            vals = freq[col].to_numpy()
            bars = ax.bar(symbols, vals, color=colors, width=0.7)
            ax.set_yscale("log")
            ax.set_ylabel(ylabel)
            ax.set_xlabel("element")
            ax.set_ylim(bottom=1, top=vals.max() * 8)
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v * 1.15, _compact_count(v), ha="center", va="bottom",
                        fontsize=9)
            panel_label(ax, label)
        if title:
            fig.suptitle(title)
    return fig


def histogram(ax, values, *, bins=60, xlabel: str = "", ylabel: str = "count", color: str = MAIN_COLOR,
              mark_mean: bool = True, clip_quantile: float | None = None,
              limits: tuple[float, float] | None = None):
    """A filled histogram with the mean of all values marked: a dashed line, and the mean and count written
    at 9 pt in the upper corner away from that line (in the x-axis unit). The x range ends at the
    ``clip_quantile`` (e.g. 0.999) of the values, or spans ``limits`` (lo, hi); the values outside it are
    counted in the text ("k beyond ... not shown"), never piled into the edge bins."""
    values = np.asarray(values, dtype=np.float64)
    lo_hi = None
    if limits is not None:
        lo_hi = (float(limits[0]), float(limits[1]))
    elif clip_quantile is not None and len(values):
        lo_hi = (float(values.min()), float(np.quantile(values, clip_quantile)))
    ax.hist(values, bins=bins, range=lo_hi, color=color, alpha=0.85, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if mark_mean and len(values):
        m = float(values.mean())
        ax.axvline(m, color=ACCENT_COLOR, linestyle="--", linewidth=1)
        from matplotlib.ticker import Formatter

        # + 0.0: no "-0.00"; fix_minus: the axes' minus sign (rc ``axes.unicode_minus``)
        lines = [Formatter.fix_minus(f"mean {round(m, 2) + 0.0:,.2f}"), f"n = {len(values):,}"]
        note = []
        if lo_hi is not None:
            lo, hi = lo_hi
            out = int(((values < lo) | (values > hi)).sum())
            where = (f"±{hi:.3g}" if np.isclose(lo, -hi) else f"{hi:.3g}" if lo <= values.min()
                     else f"[{lo:.3g}, {hi:.3g}]")
            if out:
                note = [f"{out:,} beyond {where}", "not shown"]
        if limits is None:  # a one-sided cut: the note joins the mean, in the corner away from its line
            lines, note = lines + note, []
        left, right = ax.get_xlim()
        away = limits is not None or (m - left) < 0.5 * (right - left)  # limits: same corners in every panel
        x, ha = (0.98, "right") if away else (0.02, "left")
        ax.set_ylim(top=ax.get_ylim()[1] * (1.25 + 0.12 * max(len(lines), len(note))))
        ax.text(x, 0.98, "\n".join(lines), transform=ax.transAxes, ha=ha, va="top", fontsize=9)
        if note:  # limits around the mean: the note takes the other corner
            ax.text(1 - x, 0.98, "\n".join(note), transform=ax.transAxes, ha="left" if ha == "right" else "right",
                    va="top", fontsize=9)
    return ax


def qm9_distributions(ds):
    """Three panels: atomization energy U0 (kcal/mol), dipole moment |μ| (Debye), atoms per molecule
    (bars split by the number of heavy atoms)."""
    from ..data.overview import heavy_atoms

    e = np.asarray(ds.atomization_energy("kcal/mol"), dtype=np.float64)
    mu = np.asarray(ds.arrays["mu"], dtype=np.float64)
    n_atoms = np.diff(np.asarray(ds.arrays["offsets"], dtype=np.int64))
    heavy = heavy_atoms(ds)
    with paper_style():
        fig, axes = figure(3, width=COLUMN_WIDTH, height=2.5)
        histogram(axes[0], e, xlabel="atomization energy U$_0$ (kcal/mol)")
        histogram(axes[1], mu, xlabel="dipole moment |μ| (D)", clip_quantile=0.999)
        import matplotlib.pyplot as plt

        sizes = np.arange(n_atoms.min(), n_atoms.max() + 1)
        cmap = plt.get_cmap("viridis")
        hv = np.unique(heavy)
        bottom = np.zeros(len(sizes))
        for k, h in enumerate(hv):
            counts = np.bincount(n_atoms[heavy == h] - sizes[0], minlength=len(sizes))[: len(sizes)]
            axes[2].bar(sizes, counts, bottom=bottom, width=0.9, linewidth=0,
                        color=cmap(k / max(len(hv) - 1, 1)), label=str(int(h)))
            bottom += counts
        axes[2].set_xlabel("atoms per molecule")
        axes[2].set_ylabel("molecules")
        axes[2].set_ylim(top=axes[2].get_ylim()[1] * 1.35)  # headroom: the legend stays above the bars
        axes[2].legend(title="heavy atoms", ncol=3, fontsize=9, title_fontsize=9, loc="upper left",
                       handlelength=0.8, columnspacing=0.6, handletextpad=0.3, borderaxespad=0.2)
        for ax, label in zip(axes, "abc"):
            panel_label(ax, label)
    return fig


# ------------------------------------------------------------------------------------------ crystals
def periodic_table(ax, values: dict, *, label: str = "", scale: str = "log", cmap: str | None = None,
                   highlight=(), max_z: int = 94, fontsize: float = 9):
    """Colour each element of a periodic table by ``values[Z]``; elements without a value are outlined.

    ``scale``: ``"log"`` (positive counts), ``"linear"``, or ``"diverging"`` (a signed value on a
    red-blue scale centred on zero). Elements in ``highlight`` are framed in black."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from ase.data import chemical_symbols
    from matplotlib.patches import Rectangle

    if scale not in ("log", "linear", "diverging"):
        raise ValueError(f"unknown scale {scale!r}; accepted: log, linear, diverging")
    vals = {int(k): float(v) for k, v in values.items() if v is not None and np.isfinite(float(v))}
    if scale == "log":
        vals = {k: v for k, v in vals.items() if v > 0}
    if scale == "diverging":
        m = max((abs(v) for v in vals.values()), default=1.0) or 1.0
        norm, cmap = mcolors.Normalize(vmin=-m, vmax=m), cmap or "RdBu_r"
    else:
        vmin, vmax = (min(vals.values()), max(vals.values())) if vals else (1.0, 10.0)
        norm = mcolors.LogNorm(vmin=max(vmin, 1e-9), vmax=max(vmax, vmin * 1.0001)) if scale == "log" else \
            mcolors.Normalize(vmin=vmin, vmax=vmax)
    cm = plt.get_cmap(cmap or "viridis")
    highlight = {int(z) for z in highlight}
    for z in range(1, max_z + 1):
        r, c = periodic_position(z)
        if z in vals:
            rgba = cm(norm(vals[z]))
            edge, lw = ("black", 0.9) if z in highlight else ("none", 0.0)
            ax.add_patch(Rectangle((c, -r), 0.92, -0.92, facecolor=rgba, edgecolor=edge, linewidth=lw))
            lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
            tc = "black" if lum > 0.55 else "white"
        else:
            ax.add_patch(Rectangle((c, -r), 0.92, -0.92, facecolor="none", edgecolor="#bbbbbb", linewidth=0.5))
            tc = "#999999"
        ax.text(c + 0.46, -r - 0.46, chemical_symbols[z], ha="center", va="center", fontsize=fontsize, color=tc)
    ax.set_xlim(-0.2, 18.1)
    ax.set_ylim(-10.1, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
    cb = ax.figure.colorbar(sm, ax=ax, fraction=0.025, pad=0.01)
    cb.set_label(label, fontsize=9)
    cb.ax.tick_params(labelsize=9)
    return ax


def crystal_overview(cr, freq=None):
    """Formation-energy histogram (eV/atom) and a periodic table coloured by the number of structures
    containing each element."""
    from ..data.overview import crystal_element_frequencies

    freq = crystal_element_frequencies(cr) if freq is None else freq
    e = np.asarray(cr.arrays["e_form"], dtype=np.float64)
    with paper_style():
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(COLUMN_WIDTH, 6.3))  # the table at full width, so its 9-pt symbols fit their cells
        gs = fig.add_gridspec(2, 1, height_ratios=[1, 1.9])
        ax0, ax1 = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
        histogram(ax0, e, bins=70, xlabel="formation energy (eV/atom)", ylabel="structures")
        periodic_table(ax1, dict(zip(freq["Z"].to_numpy(), freq["structures"].to_numpy())),
                       label="structures containing the element")
        panel_label(ax0, "a")
        panel_label(ax1, "b")
    return fig


