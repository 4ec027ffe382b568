"""Figures in the paper's style (matplotlib): plain axes, small sans-serif type, one colour per element.

A plain module of functions. Each takes data (arrays, DataFrames or a loaded data set), draws into
``ax``/a new figure under :func:`paper_style`, and returns the figure, so a notebook cell is one call.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .data.elements import GROUP_NAMES, periodic_position

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
def periodic_table(ax, values: dict, *, label: str = "", scale: str = "log", cmap: str | None = None,
                   highlight=(), max_z: int = 94, fontsize: float = 5.5):
    """Colour each element of a periodic table by ``values[Z]``; elements without a value are outlined.

    ``scale``: ``"log"`` (positive counts), ``"linear"``, or ``"diverging"`` (a signed value on a
    red-blue scale centred on zero). Elements in ``highlight`` are framed in black."""
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from ase.data import chemical_symbols

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
    """Validation MAE against epochs (log y), one panel per target, one colour per model and one line style
    per fold; the legend (below the panels, never over the data) gives each run's last epoch and the
    learning rate it ended with, so a reader sees whether a run converged. ``logs`` maps a run name
    (``model-target-profile-foldK``) to its list of per-epoch rows (``training.read_log``). Epochs, not
    wall time: the runs shared their cores with other work, so their wall times are not comparable."""
    import matplotlib.ticker as mticker
    import numpy as np

    colours = {"bp": "#1f77b4", "schnet": "#d62728"}
    styles = ("-", "--", ":", "-.")
    targets = sorted({n.split("-")[1] for n in logs})
    fig, axes = _figure(ncols=len(targets), width=4.2 * len(targets), height=3.6, squeeze=False)
    for c, target in enumerate(targets):
        ax = axes[0, c]
        for name, rows in sorted(logs.items()):
            if name.split("-")[1] != target or not rows:
                continue
            model, fold = name.split("-")[0], name.rsplit("fold", 1)[-1]
            e = np.array([r["epoch"] for r in rows])
            v = np.array([r["val_mae"] for r in rows])
            label = f"{name.replace(f'-{target}', '')}: {int(e[-1])} ep., final lr {rows[-1]['lr']:.1e}"
            ax.plot(e, v, label=label, lw=1.2, color=colours.get(model),
                    ls=styles[int(fold) % len(styles)] if fold.isdigit() else "-")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(mticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(mticker.NullFormatter())
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"validation MAE ({unit_of(target)})")
        ax.set_title(target)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=1, frameon=False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ latent terms
#: one colour per cross-validation fold (Figs. 2 and 4)
FOLD_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def latent_distributions(frames: dict, column: str, unit: str, elements=("H", "C", "N", "O"), *,
                         quantity: str = "", reference: dict | None = None, bins: int = 70):
    """Figs. 2 and 4: histograms (density, step lines) of latent per-atom terms, one row per element and
    one column per model (BP and SchNet side by side, sharing the x axis of a row), one colour per fold.

    ``frames[model][fold]`` are :func:`atomint_helpers.interpret.latent.latent_terms` tables;
    ``reference`` (optional) maps a legend label to ``(table, column)`` — a table with the same
    ``symbol`` column, e.g. QM9's Mulliken charges — drawn as a grey filled histogram behind the folds."""
    names = {"bp": "BP", "schnet": "SchNet"}
    models = [m for m in ("bp", "schnet") if frames.get(m)] + [m for m in frames if m not in ("bp", "schnet")]
    with paper_style():
        fig, axes = _figure(len(models), len(elements), width=3.5 * len(models), height=1.65 * len(elements) + 0.4,
                            squeeze=False, sharex="row")
        for r, e in enumerate(elements):
            pooled = np.concatenate([df.loc[df["symbol"] == e, column].to_numpy()
                                     for m in models for df in frames[m].values()]
                                    + [ref.loc[ref["symbol"] == e, ref_col].to_numpy()
                                       for ref, ref_col in (reference or {}).values()] or [np.zeros(0)])
            if len(pooled) == 0:
                lo, hi = -1.0, 1.0
            else:
                lo, hi = np.percentile(pooled, [0.5, 99.5])
                pad = 0.08 * (hi - lo or 1.0)
                lo, hi = lo - pad, hi + pad
            for c, m in enumerate(models):
                ax = axes[r, c]
                if reference:
                    for label, (ref, ref_col) in reference.items():
                        v = ref.loc[ref["symbol"] == e, ref_col].to_numpy()
                        if len(v):
                            ax.hist(v, bins=bins, range=(lo, hi), density=True, color="0.85", linewidth=0,
                                    label=label)
                for i, (k, df) in enumerate(sorted(frames[m].items())):
                    v = df.loc[df["symbol"] == e, column].to_numpy()
                    if len(v):
                        ax.hist(v, bins=bins, range=(lo, hi), density=True, histtype="step", linewidth=1.1,
                                color=FOLD_COLORS[i % len(FOLD_COLORS)], label=f"fold {k}")
                ax.set_xlim(lo, hi)
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(names.get(m, m))
                if c == 0:
                    ax.set_ylabel(e, rotation=0, ha="right", va="center", fontsize=11, fontweight="bold",
                                  color=_element_color(e))
                if r == len(elements) - 1:
                    ax.set_xlabel(f"{quantity or column} ({unit})")
                if r == 0 and c == len(models) - 1:
                    ax.legend(loc="upper right", fontsize=7, handlelength=1.2)
    return fig


def latent_vs_reference(frames: dict, x: str = "mulliken", y: str = "charge", *, xlabel: str = "Mulliken charge (e)",
                        ylabel: str = "latent charge (e)", max_points: int = 40_000, seed: int = 0,
                        title: str | None = None):
    """Scatter of a latent per-atom term against a reference (QM9's Mulliken charges), one panel per
    model, points coloured by element, y = x dashed, Pearson r per element in the legend. ``frames``
    maps a model to one table (e.g. fold 0); at most ``max_points`` random atoms are drawn per panel; the
    axes span the 0.05–99.95 % quantiles (``title`` may use ``{model}``)."""
    names = {"bp": "BP", "schnet": "SchNet"}
    rng = np.random.default_rng(seed)
    with paper_style():
        fig, axes = _figure(len(frames), width=3.6 * len(frames), height=3.3, squeeze=False)
        lim = [np.inf, -np.inf]
        for c, (m, df) in enumerate(frames.items()):
            ax = axes[0, c]
            sel = df if len(df) <= max_points else df.iloc[np.sort(rng.choice(len(df), max_points, replace=False))]
            for sym in sorted(df["symbol"].unique(), key=lambda s: -(df["symbol"] == s).sum()):
                full = df[df["symbol"] == sym]
                pts = sel[sel["symbol"] == sym]
                r = np.corrcoef(full[x], full[y])[0, 1] if len(full) > 2 and full[y].std() > 0 else np.nan
                ax.scatter(pts[x], pts[y], s=2, alpha=0.35, linewidths=0, color=_element_color(sym),
                           label=f"{sym}  r = {r:.2f}", rasterized=True)
            both = np.concatenate([df[x].to_numpy(), df[y].to_numpy()])
            q = np.percentile(both, [0.05, 99.95])
            pad = 0.05 * (q[1] - q[0] or 1.0)
            lim = [min(lim[0], q[0] - pad), max(lim[1], q[1] + pad)]
            ax.set_title(names.get(m, m) if title is None else title.format(model=names.get(m, m)))
            ax.set_xlabel(xlabel)
            if c == 0:
                ax.set_ylabel(ylabel)
            leg = ax.legend(loc="upper left", fontsize=7, markerscale=4, handletextpad=0.3)
            for h in leg.legend_handles:
                h.set_alpha(1)
        for ax in axes[0]:
            ax.plot(lim, lim, color="0.4", lw=0.8, ls="--")
            ax.set_xlim(lim)
            ax.set_ylim(lim)
            ax.set_aspect("equal", adjustable="box")
    return fig


def ring_score_distributions(scored: dict, tops: dict | None = None, bins: int = 60):
    """Fig. 3's numbers: the distribution of ring scores (Σ of the six ring carbons' atomic energies,
    kcal/mol) over all 6-membered carbon rings, BP and SchNet overlaid, means dashed and the top ten of
    each model as ticks along the bottom."""
    names = {"bp": "BP", "schnet": "SchNet"}
    colors = {"bp": ACCENT_COLOR, "schnet": MAIN_COLOR}
    with paper_style():
        fig, axes = _figure(1, width=6.0, height=2.6, squeeze=False)
        ax = axes[0, 0]
        allv = np.concatenate([s["score"].to_numpy() for s in scored.values()] or [np.zeros(0)])
        if len(allv):
            lo, hi = float(allv.min()), float(allv.max())
            for m, s in scored.items():
                v = s["score"].to_numpy()
                ax.hist(v, bins=bins, range=(lo, hi), histtype="step", lw=1.3, color=colors.get(m, "0.3"),
                        label=f"{names.get(m, m)} (mean {v.mean():.1f})")
                ax.axvline(v.mean(), color=colors.get(m, "0.3"), ls="--", lw=0.9)
                if tops is not None and m in tops:
                    ax.plot(tops[m]["score"], np.zeros(len(tops[m])), "|", ms=12, mew=1.5,
                            color=colors.get(m, "0.3"), clip_on=False)
        ax.set_xlabel("ring score: Σ atomic energies of the six ring carbons (kcal/mol)")
        ax.set_ylabel("rings")
        ax.legend(loc="upper left")
    return fig


# ------------------------------------------------------------------------------------------ element embeddings (Fig. 7)
#: one colour per main group (groups 1, 2, 13–18) for the embedding figures
GROUP_COLORS = {1: "#1f77b4", 2: "#ff7f0e", 13: "#2ca02c", 14: "#7f7f7f", 15: "#9467bd", 16: "#d62728",
                17: "#17becf", 18: "#bcbd22"}


def embedding_pca_scatter(pca, title: str | None = None):
    """Fig. 7: the two leading principal components of the main-group element embeddings, each point
    labelled by its element and coloured by its group, a thin line joining each group from light to heavy
    (:class:`~atomint_helpers.interpret.embeddings.EmbeddingPCA`)."""

    with paper_style():
        fig, ax = _figure(width=5.6, height=4.4)
        groups = pca.groups
        for g in sorted(set(groups.tolist())):
            sel = groups == g
            order = np.argsort(pca.periods[sel], kind="stable")  # light → heavy, drawn as a thin line
            ax.plot(pca.coords[sel, 0][order], pca.coords[sel, 1][order], color=GROUP_COLORS.get(int(g), "0.4"),
                    lw=0.6, alpha=0.45, zorder=2)
            ax.scatter(pca.coords[sel, 0], pca.coords[sel, 1], s=26, color=GROUP_COLORS.get(int(g), "0.4"),
                       label=f"group {GROUP_NAMES.get(int(g), g)}", zorder=3, edgecolor="white", linewidth=0.4)
        for (x, y), s, g in zip(pca.coords[:, :2], pca.symbols, groups):
            ax.annotate(s, (x, y), xytext=(3, 2), textcoords="offset points", fontsize=7,
                        color=GROUP_COLORS.get(int(g), "0.3"))
        ev = 100 * pca.explained
        ax.set_xlabel(f"PC1 ({ev[0]:.1f} % of the variance)")
        ax.set_ylabel(f"PC2 ({ev[1]:.1f} % of the variance)")
        ax.axhline(0, color="0.85", lw=0.6, zorder=0)
        ax.axvline(0, color="0.85", lw=0.6, zorder=0)
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, handletextpad=0.3)
        ax.set_title(title or f"Main-group element embeddings (PC1 + PC2: {ev[:2].sum():.1f} %)")
    return fig


def embedding_pc1_table(values: dict, label: str = "embedding projected on PC1", highlight=()):
    """Periodic-table heat map of a signed value per element (e.g. every element's embedding projected
    onto the main-group PC1); a diverging scale centred on zero, elements without a value outlined, and
    the elements in ``highlight`` (those the PCA was fitted on) framed in black."""
    with paper_style():
        fig, ax = _figure(width=7.6, height=4.4)
        periodic_table(ax, values, label=label, scale="diverging", highlight=highlight, fontsize=6)
    return fig


def embedding_clustering_baseline(baseline, table):
    """Group-clustering scores in the full embedding space: the random initialisations (one dot per
    seed) next to the trained embeddings and their learned displacement (rows of ``table`` from
    :func:`~atomint_helpers.interpret.embeddings.learned_vs_random`)."""
    metrics = [("silhouette", "silhouette by group"), ("nn_agreement", "nearest neighbour in the same group")]
    marks = [("trained embeddings", ACCENT_COLOR, "trained"),
             ("learned displacement (trained − init)", MAIN_COLOR, "trained − init")]
    with paper_style():
        fig, axes = _figure(ncols=2, width=7.0, height=2.2)
        for ax, (col, name) in zip(axes, metrics):
            v = baseline[col].to_numpy()
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(v))
            ax.scatter(v, jitter, s=14, color="0.6", label=f"random init ({len(v)} seeds)")
            for row, color, lab in marks:
                if row in table.index:
                    ax.axvline(float(table.loc[row, col]), color=color, lw=1.6, label=lab)
            ax.set_yticks([])
            ax.set_ylim(-0.5, 0.5)
            ax.set_xlabel(name)
            ax.spines["left"].set_visible(False)
        axes[0].legend(loc="upper left", fontsize=7)
        _panel_label(axes[0], "a")
        _panel_label(axes[1], "b")
    return fig


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


def esp_figure(panels: list[dict], models: tuple[str, ...] = ("BP", "SchNet"),
               label: str = "V (eV, charges q / max|q|)"):
    """Fig. 6: ESP cuts, one row per model and one column per molecule; positive regions dashed. ``panels``
    items: ``molecule``, ``model``, ``atoms``, ``cut``, ``values`` and ``mask`` (points outside the van der
    Waals surface, which set the colour scale shared by the row)."""
    import matplotlib.pyplot as plt

    mols = list(dict.fromkeys(p["molecule"] for p in panels))
    models = tuple(m for m in models if any(p["model"] == m for p in panels))
    by = {(p["molecule"], p["model"]): p for p in panels}
    with paper_style():
        fig, axes = plt.subplots(len(models), len(mols), figsize=(1.35 * len(mols) + 0.7, 1.5 * len(models) + 0.4),
                                 squeeze=False)
        for r, model in enumerate(models):
            lim = _symmetric_limit(np.concatenate([p["values"][p["mask"]] for p in panels if p["model"] == model]),
                                   q=99)
            scale = {"lo": -lim, "hi": lim, "levels": _contour_levels(lim), "cmap": "RdBu_r"}
            cf = None
            for c, mol in enumerate(mols):
                ax = axes[r, c]
                p = by.get((mol, model))
                if p is None:
                    ax.set_axis_off()
                    continue
                cf = _draw_cut(ax, p["cut"], p["values"], p["atoms"], dashed="positive", scale=scale)
                if r == 0:
                    ax.set_title(mol, fontsize=8)
                if c == 0:
                    ax.set_ylabel(model)
            if cf is not None:
                cb = fig.colorbar(cf, ax=list(axes[r]), fraction=0.02, pad=0.01)
                cb.set_label(label, fontsize=7)
                cb.ax.tick_params(labelsize=6)
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
