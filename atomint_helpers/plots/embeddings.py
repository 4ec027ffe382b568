"""Figures of the element embeddings (Fig. 7): PCA scatter, PC1 table, clustering baseline."""
from __future__ import annotations

import numpy as np

from ..data.elements import GROUP_NAMES, periodic_position  # noqa: F401
from .data import periodic_table
from .style import ACCENT_COLOR, MAIN_COLOR, _figure, _panel_label, paper_style

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


