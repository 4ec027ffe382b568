"""Figures in the paper's style (matplotlib): plain axes, small sans-serif type, one colour per element.

A plain module of functions. Each takes data (arrays, DataFrames or a loaded data set), draws into
``ax``/a new figure under :func:`paper_style`, and returns the figure, so a notebook cell is one call.
"""
from __future__ import annotations

import contextlib

import numpy as np

#: rc settings shared by every figure (Springer-chapter look: thin axes, 8–9 pt type, no top/right spines).
PAPER_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
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


def _figure(ncols: int = 1, nrows: int = 1, width: float = 7.0, height: float = 2.4, **kw):
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(width, height), **kw)


def _panel_label(ax, label: str) -> None:
    ax.text(-0.02, 1.02, label, transform=ax.transAxes, ha="right", va="bottom", fontweight="bold")


def _element_color(symbol_or_z) -> str:
    from ase.data import atomic_numbers

    z = symbol_or_z if isinstance(symbol_or_z, (int, np.integer)) else atomic_numbers.get(str(symbol_or_z), 0)
    return ELEMENT_COLORS.get(int(z), MAIN_COLOR)


# ------------------------------------------------------------------------------------------ QM9
def element_frequency_bars(freq, unit: str = "molecules", title: str | None = None):
    """Two bar panels from :func:`atomint_helpers.data.overview.element_table`: atoms per element and
    the number of ``unit`` containing each element (log scale, counts written on the bars)."""
    with paper_style():
        fig, axes = _figure(2, width=7.0, height=2.4)
        symbols = list(freq.index)
        colors = [_element_color(int(z)) for z in freq["Z"]]
        for ax, col, ylabel, label in ((axes[0], "atoms", "atoms", "a"),
                                       (axes[1], unit, f"{unit} containing it", "b")):
            vals = freq[col].to_numpy()
            bars = ax.bar(symbols, vals, color=colors, width=0.7)
            ax.set_yscale("log")
            ax.set_ylabel(ylabel)
            ax.set_xlabel("element")
            ax.set_ylim(bottom=1, top=vals.max() * 8)
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v * 1.15, f"{int(v):,}", ha="center", va="bottom",
                        fontsize=7)
            _panel_label(ax, label)
        if title:
            fig.suptitle(title)
    return fig


def histogram(ax, values, *, bins=60, xlabel: str = "", ylabel: str = "count", color: str = MAIN_COLOR,
              mark_mean: bool = True, unit: str = "", clip_quantile: float | None = None):
    """A filled histogram with the mean marked (dashed line and value). With ``clip_quantile`` (e.g.
    0.999) the x range ends at that quantile and the number of values beyond it is written."""
    values = np.asarray(values, dtype=np.float64)
    hi = None
    if clip_quantile is not None and len(values):
        hi = float(np.quantile(values, clip_quantile))
        ax.hist(values, bins=bins, range=(float(values.min()), hi), color=color, alpha=0.85, linewidth=0)
    else:
        ax.hist(values, bins=bins, color=color, alpha=0.85, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)
    if mark_mean and len(values):
        m = float(values.mean())
        ax.axvline(m, color=ACCENT_COLOR, linestyle="--", linewidth=1)
        text = f"mean {m:,.2f}{(' ' + unit) if unit else ''}\nn = {len(values):,}"
        if hi is not None and (values > hi).any():
            text += f"\n{int((values > hi).sum()):,} beyond {hi:.3g} not shown"
        ax.text(0.98, 0.98, text, transform=ax.transAxes, ha="right", va="top", fontsize=7)
    return ax


def qm9_distributions(ds):
    """Three panels: atomization energy U0 (kcal/mol), dipole moment |μ| (Debye), atoms per molecule
    (bars split by the number of heavy atoms)."""
    from .data.overview import heavy_atoms

    e = np.asarray(ds.atomization_energy("kcal/mol"), dtype=np.float64)
    mu = np.asarray(ds.arrays["mu"], dtype=np.float64)
    n_atoms = np.diff(np.asarray(ds.arrays["offsets"], dtype=np.int64))
    heavy = heavy_atoms(ds)
    with paper_style():
        fig, axes = _figure(3, width=7.5, height=2.5)
        histogram(axes[0], e, xlabel="atomization energy U$_0$ (kcal/mol)", unit="kcal/mol")
        histogram(axes[1], mu, xlabel="dipole moment |μ| (D)", unit="D", clip_quantile=0.999)
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
        axes[2].legend(title="heavy atoms", ncol=2, fontsize=6, title_fontsize=7, loc="upper left",
                       handlelength=0.8, columnspacing=0.6)
        for ax, label in zip(axes, "abc"):
            _panel_label(ax, label)
    return fig


# ------------------------------------------------------------------------------------------ crystals
def _periodic_position(z: int) -> tuple[int, int]:
    """(row, column) of element ``z`` in an 18-column periodic table; lanthanides and actinides go to
    rows 8 and 9 (row 7 is left empty as a gap)."""
    z = int(z)
    if z == 1:
        return 0, 0
    if z == 2:
        return 0, 17
    for start, row in ((3, 1), (11, 2)):
        if start <= z < start + 2:
            return row, z - start
        if start + 2 <= z < start + 8:
            return row, z - (start + 2) + 12
    if 19 <= z <= 36:
        return 3, z - 19
    if 37 <= z <= 54:
        return 4, z - 37
    if z in (55, 56):
        return 5, z - 55
    if 57 <= z <= 71:
        return 8, z - 57 + 2
    if 72 <= z <= 86:
        return 5, z - 72 + 3
    if z in (87, 88):
        return 6, z - 87
    if 89 <= z <= 103:
        return 9, z - 89 + 2
    if 104 <= z <= 118:
        return 6, z - 104 + 3
    raise ValueError(f"no periodic-table position for Z={z}")


def periodic_table(ax, values: dict, *, label: str = "", log: bool = True, cmap: str = "viridis",
                   max_z: int = 94):
    """Colour each element of a periodic table by ``values[Z]``; elements without a value are outlined."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from ase.data import chemical_symbols

    vals = {int(k): float(v) for k, v in values.items() if v is not None and float(v) > 0}
    vmin, vmax = (min(vals.values()), max(vals.values())) if vals else (1.0, 10.0)
    norm = mcolors.LogNorm(vmin=max(vmin, 1e-9), vmax=max(vmax, vmin * 1.0001)) if log else \
        mcolors.Normalize(vmin=vmin, vmax=vmax)
    cm = plt.get_cmap(cmap)
    for z in range(1, max_z + 1):
        r, c = _periodic_position(z)
        if z in vals:
            rgba = cm(norm(vals[z]))
            ax.add_patch(Rectangle((c, -r), 0.92, -0.92, facecolor=rgba, edgecolor="none"))
            lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
            tc = "black" if lum > 0.55 else "white"
        else:
            ax.add_patch(Rectangle((c, -r), 0.92, -0.92, facecolor="none", edgecolor="#bbbbbb", linewidth=0.5))
            tc = "#999999"
        ax.text(c + 0.46, -r - 0.46, chemical_symbols[z], ha="center", va="center", fontsize=5.5, color=tc)
    ax.set_xlim(-0.2, 18.1)
    ax.set_ylim(-10.1, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
    cb = ax.figure.colorbar(sm, ax=ax, fraction=0.025, pad=0.01)
    cb.set_label(label, fontsize=7)
    cb.ax.tick_params(labelsize=6)
    return ax


def crystal_overview(cr, freq=None):
    """Formation-energy histogram (eV/atom) and a periodic table coloured by the number of structures
    containing each element."""
    from .data.overview import crystal_element_frequencies

    freq = crystal_element_frequencies(cr) if freq is None else freq
    e = np.asarray(cr.arrays["e_form"], dtype=np.float64)
    with paper_style():
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(8.0, 3.0))
        gs = fig.add_gridspec(1, 2, width_ratios=[1, 2.3])
        ax0, ax1 = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
        histogram(ax0, e, bins=70, xlabel="formation energy (eV/atom)", ylabel="structures", unit="eV/atom")
        periodic_table(ax1, dict(zip(freq["Z"].to_numpy(), freq["structures"].to_numpy())),
                       label="structures containing the element")
        _panel_label(ax0, "a")
        _panel_label(ax1, "b")
    return fig


# ------------------------------------------------------------------------------------------ Table 1
def parity_and_errors(evals: dict, *, max_points: int = 20_000):
    """Per model: predicted vs reference (parity) and the error histogram, for Table 1.

    ``evals`` maps (model, target) to :class:`atomint_helpers.evaluate.Evaluation`.
    """
    import numpy as np

    keys = list(evals)
    fig, axes = _figure(ncols=len(keys), nrows=2, width=3.0 * len(keys), height=5.6, squeeze=False)
    rng = np.random.default_rng(0)
    for c, key in enumerate(keys):
        ev = evals[key]
        name = {"bp": "BP", "schnet": "SchNet"}[ev.model]
        err = ev.prediction - ev.reference
        sel = rng.permutation(len(err))[:max_points]
        ax = axes[0, c]
        ax.scatter(ev.reference[sel], ev.prediction[sel], s=2, alpha=0.3, color=MAIN_COLOR, rasterized=True)
        lo, hi = float(min(ev.reference.min(), ev.prediction.min())), float(max(ev.reference.max(), ev.prediction.max()))
        ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8)
        label = "atomization energy" if ev.target == "energy" else "|μ|"
        ax.set_xlabel(f"QM9 {label} ({ev.unit})")
        ax.set_ylabel(f"{name} prediction ({ev.unit})")
        ax.set_title(f"{name}, {ev.target}: MAE {ev.metrics['mae']:.3g} {ev.unit}")
        _panel_label(ax, "abcdefgh"[c])
        lim = float(np.quantile(np.abs(err), 0.995))
        histogram(axes[1, c], np.clip(err, -lim, lim), bins=80, xlabel=f"error ({ev.unit})",
                  ylabel="molecules")
        axes[1, c].axvline(0, color="0.3", lw=0.8)
    fig.tight_layout()
    return fig


def learning_curves(logs: dict, *, unit_of=lambda name: ""):
    """Validation MAE against training wall time (log-log), one panel per target; ``logs`` maps a run
    name (``model-target-profile-foldK``) to its list of per-epoch rows (``training.read_log``)."""
    import numpy as np

    targets = sorted({n.split("-")[1] for n in logs})
    fig, axes = _figure(ncols=len(targets), width=3.6 * len(targets), height=3.0, squeeze=False)
    for c, target in enumerate(targets):
        ax = axes[0, c]
        for name, rows in sorted(logs.items()):
            if name.split("-")[1] != target or not rows:
                continue
            t = np.array([r["wall_s"] for r in rows]) / 60
            v = np.array([r["val_mae"] for r in rows])
            ax.plot(t, v, label=name.replace(f"-{target}", ""), lw=1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training time (min)")
        ax.set_ylabel(f"validation MAE ({unit_of(target)})")
        ax.set_title(target)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
