"""Figures of the latent terms (Figs. 2-4): per-element distributions by fold, latent vs reference, ring scores."""
from __future__ import annotations

import numpy as np

from .style import ACCENT_COLOR, MAIN_COLOR, element_color, figure, paper_style

# ------------------------------------------------------------------------------------------ latent terms
#: one colour per cross-validation fold (Figs. 2 and 4)
FOLD_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def latent_distributions(frames: dict, column: str, unit: str, elements=("H", "C", "N", "O"), *,
                         quantity: str = "", reference: dict | None = None, bins: int = 70):
    """Figs. 2 and 4: histograms (density, step lines) of latent per-atom terms, one row per element and
    one column per model (BP and SchNet side by side, sharing the x axis of a row), one colour per fold.
    The y axis is the probability density (share of the element's atoms per ``unit``; each histogram's area
    is 1), labelled once for the whole figure.

    ``frames[model][fold]`` are :func:`atomint_helpers.interpret.atom_terms.latent_terms` tables;
    ``reference`` (optional) maps a legend label to ``(table, column)`` — a table with the same
    ``symbol`` column, e.g. QM9's Mulliken charges — drawn as a grey filled histogram behind the folds."""
    from matplotlib.ticker import MaxNLocator

    names = {"bp": "BP", "schnet": "SchNet"}
    models = [m for m in ("bp", "schnet") if frames.get(m)] + [m for m in frames if m not in ("bp", "schnet")]
    with paper_style():
        fig, axes = figure(len(models), len(elements), width=3.5 * len(models), height=1.65 * len(elements) + 0.4,
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
                ax.yaxis.set_major_locator(MaxNLocator(3))
                if r == 0:
                    ax.set_title(names.get(m, m))
                if c == 0:
                    ax.set_ylabel(e, rotation=0, ha="right", va="center", fontsize=11, fontweight="bold",
                                  color=element_color(e))
                if r == len(elements) - 1:
                    ax.set_xlabel(f"{quantity or column} ({unit})")
        fig.supylabel(f"density (per {unit})", fontsize=9)
        handles, labels = axes[0, -1].get_legend_handles_labels()
        if handles:  # above the panels, never over a histogram
            fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), handlelength=1.2)
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
        fig, axes = figure(len(frames), width=3.6 * len(frames), height=3.3, squeeze=False)
        lim = [np.inf, -np.inf]
        for c, (m, df) in enumerate(frames.items()):
            ax = axes[0, c]
            sel = df if len(df) <= max_points else df.iloc[np.sort(rng.choice(len(df), max_points, replace=False))]
            for sym in sorted(df["symbol"].unique(), key=lambda s: -(df["symbol"] == s).sum()):
                full = df[df["symbol"] == sym]
                pts = sel[sel["symbol"] == sym]
                r = np.corrcoef(full[x], full[y])[0, 1] if len(full) > 2 and full[y].std() > 0 else np.nan
                ax.scatter(pts[x], pts[y], s=2, alpha=0.35, linewidths=0, color=element_color(sym),
                           label=f"{sym}  r = {r:.2f}", rasterized=True)
            both = np.concatenate([df[x].to_numpy(), df[y].to_numpy()])
            q = np.percentile(both, [0.05, 99.95])
            pad = 0.05 * (q[1] - q[0] or 1.0)
            lim = [min(lim[0], q[0] - pad), max(lim[1], q[1] + pad)]
            ax.set_title(names.get(m, m) if title is None else title.format(model=names.get(m, m)))
            ax.set_xlabel(xlabel)
            if c == 0:
                ax.set_ylabel(ylabel)
            leg = ax.legend(loc="upper left", markerscale=4, handletextpad=0.3)
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
        fig, axes = figure(1, width=6.0, height=2.6, squeeze=False)
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


def top_ring_scores(tops: dict, n_rest: int | None = None):
    """Fig. 3's rankings with their fold spread: one panel per model (SchNet on top, BP below, as in the
    paper), rank 1–10 on the x axis, the fold-mean ring score (kcal/mol) as a bar of ± one fold standard
    deviation and each fold's own score as a coloured dot. ``tops[model]`` are top-ten tables of
    :func:`~atomint_helpers.interpret.rings.scores_by_fold` (columns ``score``, ``std``, ``fold<k>``)."""
    names = {"bp": "BP", "schnet": "SchNet"}
    models = [m for m in ("schnet", "bp") if m in tops]
    with paper_style():
        fig, axes = figure(1, len(models), width=6.5, height=2.1 * len(models) + 0.3, squeeze=False)
        for r, m in enumerate(models):
            ax, top = axes[r, 0], tops[m]
            rank = np.arange(1, len(top) + 1)
            folds = [c for c in top.columns if c.startswith("fold") and c[4:].isdigit()]
            for i, c in enumerate(folds):
                ax.plot(rank + 0.12 * (i - (len(folds) - 1) / 2), top[c], "o", ms=3.5,
                        color=FOLD_COLORS[i % len(FOLD_COLORS)], label=f"fold {c[4:]}")
            err = top["std"].to_numpy() if "std" in top else None
            ax.errorbar(rank, top["score"], yerr=err, fmt="_", ms=14, mew=2, color="0.2", elinewidth=1.2,
                        capsize=3, label="fold mean ± std")
            ax.set_xticks(rank, [f"#{k}\n{int(q)}" for k, q in zip(rank, top["molecule"])], fontsize=9)
            ax.tick_params(axis="y", labelsize=9)
            ax.set_title(f"{names.get(m, m)}: the ten most stable rings", loc="left")
            ax.set_ylabel("ring score (kcal/mol)")
            if r == len(models) - 1:
                ax.set_xlabel("rank and QM9 id")
            if r == 0:
                ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return fig


def carbon_environment_histograms(by_model: dict, groups: dict, bins: int = 80):
    """Carbon's latent atomic energies split by local environment, one panel per model (BP left,
    SchNet right): ``by_model[model] = (energies (kcal/mol), group label per atom)``, ``groups`` maps a
    label to its legend text. Each environment is a filled histogram of atom counts over the 0.5–99.5 %
    range of that model, so peaks that belong to one environment show in one colour."""
    names = {"bp": "BP", "schnet": "SchNet"}
    colors = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
    with paper_style():
        fig, axes = figure(len(by_model), 1, width=3.6 * len(by_model), height=2.8, squeeze=False)
        for c, (m, (e, g)) in enumerate(by_model.items()):
            ax = axes[0, c]
            lo, hi = np.percentile(e, [0.5, 99.5]) if len(e) else (-1.0, 1.0)
            for i, (key, label) in enumerate(groups.items()):
                v = e[g == key]
                if len(v):
                    ax.hist(v, bins=bins, range=(lo, hi), histtype="stepfilled", alpha=0.55, lw=0.8,
                            color=colors[i % len(colors)], edgecolor=colors[i % len(colors)],
                            label=f"{label} ({len(v):,})")
            ax.set_title(names.get(m, m), loc="left")
            ax.set_xlabel("latent atomic energy of C (kcal/mol)")
            ax.tick_params(labelsize=9)
            if c == 0:
                ax.set_ylabel("carbon atoms")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), fontsize=9)
    return fig
