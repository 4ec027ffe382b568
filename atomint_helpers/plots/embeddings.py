"""Figures of the element embeddings (Fig. 7): PCA scatter (groups I, II and V highlighted as in the paper,
labels moved apart with adjustText), PC1 periodic table, clustering baseline; text >= 9 pt as displayed."""
from __future__ import annotations

import numpy as np

from .data import periodic_table
from .style import ACCENT_COLOR, COLUMN_WIDTH, MAIN_COLOR, figure, panel_label, paper_style

# ------------------------------------------------------------------------------------------ element embeddings (Fig. 7)
#: one colour per main group (groups 1, 2, 13–18) for the embedding figures
GROUP_COLORS = {1: "#1f77b4", 2: "#ff7f0e", 13: "#2ca02c", 14: "#7f7f7f", 15: "#9467bd", 16: "#d62728",
                17: "#17becf", 18: "#bcbd22"}


#: the main groups Fig. 7 of the paper highlights (I, II and V = IUPAC 1, 2, 15); the others are drawn grey
HIGHLIGHT_GROUPS = (1, 2, 15)
_ROMAN = {1: "I", 2: "II", 13: "III", 14: "IV", 15: "V", 16: "VI", 17: "VII", 18: "VIII"}
GREY = "#9a9a9a"


def _place_labels(ax, texts, x, y) -> None:
    """Move element labels apart so that none overlaps another or a point (adjustText, deterministic),
    with a thin leader line where a label had to move away from its point."""
    from adjustText import adjust_text

    ax.figure.canvas.draw()
    adjust_text(texts, x=x, y=y, ax=ax, expand=(1.25, 1.45), force_text=(0.3, 0.5), force_static=(0.5, 0.8),
                arrowprops={"arrowstyle": "-", "color": "0.55", "lw": 0.5}, iter_lim=2000)


def embedding_pca_scatter(pca, title: str | None = None, highlight=HIGHLIGHT_GROUPS):
    """Fig. 7: the two leading principal components of the main-group element embeddings, each point
    labelled by its element; as in the paper, the groups in ``highlight`` (default I, II and V) are coloured
    and joined from light to heavy by a thin line, the other main groups are grey
    (:class:`~atomint_helpers.interpret.embeddings.EmbeddingPCA`). Drawn the column's width
    (:data:`~.style.COLUMN_WIDTH`), so its text shows at 9 pt."""
    with paper_style():
        fig, ax = figure(width=COLUMN_WIDTH, height=5.3)
        groups = pca.groups
        texts = []
        for g in sorted(set(groups.tolist()), key=lambda g: (g in highlight, g)):
            sel = groups == g
            on = int(g) in highlight
            color = GROUP_COLORS.get(int(g), "0.4") if on else GREY
            if on:
                order = np.argsort(pca.periods[sel], kind="stable")  # light → heavy, drawn as a thin line
                ax.plot(pca.coords[sel, 0][order], pca.coords[sel, 1][order], color=color, lw=0.8, alpha=0.6, zorder=2)
            ax.scatter(pca.coords[sel, 0], pca.coords[sel, 1], s=34 if on else 22, color=color, zorder=3 if on else 2,
                       edgecolor="white", linewidth=0.5,
                       label=f"group {_ROMAN[int(g)]} ({int(g)})" if on else None)
            for (x, y), s in zip(pca.coords[sel, :2], np.array(pca.symbols)[sel]):
                texts.append(ax.text(x, y, s, fontsize=9, color=color if on else "0.35",
                                     fontweight="bold" if on else "normal", zorder=4))
        ax.scatter([], [], s=22, color=GREY, label="other main groups")
        ev = 100 * pca.explained
        ax.set_xlabel(f"PC1 ({ev[0]:.1f} % of the variance; dimensionless)", fontsize=9)
        ax.set_ylabel(f"PC2 ({ev[1]:.1f} % of the variance; dimensionless)", fontsize=9)
        ax.tick_params(labelsize=9)
        ax.axhline(0, color="0.9", lw=0.6, zorder=0)
        ax.axvline(0, color="0.9", lw=0.6, zorder=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, handletextpad=0.3)
        ax.set_title(title or f"Main-group element embeddings (PC1 + PC2: {ev[:2].sum():.1f} %)", fontsize=10)
        _place_labels(ax, texts, pca.coords[:, 0], pca.coords[:, 1])
    return fig


def embedding_pc1_table(values: dict, label: str = "embedding projected on PC1", highlight=()):
    """Periodic-table heat map of a signed value per element (e.g. every element's embedding projected
    onto the main-group PC1); a diverging scale centred on zero, elements without a value outlined, and
    the elements in ``highlight`` (those the PCA was fitted on) framed in black."""
    with paper_style():
        fig, ax = figure(width=COLUMN_WIDTH, height=4.8)
        periodic_table(ax, values, label=label, scale="diverging", highlight=highlight)
    return fig


def embedding_clustering_baseline(baseline, table):
    """Group-clustering scores in the full embedding space: the random initialisations (one dot per
    seed) next to the trained embeddings and their learned displacement (rows of ``table`` from
    :func:`~atomint_helpers.interpret.embeddings.learned_vs_random`)."""
    metrics = [("silhouette", "silhouette by group"), ("nn_agreement", "nearest neighbour in the same group")]
    marks = [("trained embeddings", ACCENT_COLOR, "trained"),
             ("learned displacement (trained − init)", MAIN_COLOR, "trained − init")]
    with paper_style():
        fig, axes = figure(ncols=2, width=COLUMN_WIDTH, height=2.6)
        for ax, (col, name) in zip(axes, metrics):
            v = baseline[col].to_numpy()
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(v))
            ax.scatter(v, jitter, s=14, color="0.6", label=f"random init ({len(v)} seeds)")
            for row, color, lab in marks:
                if row in table.index:
                    ax.axvline(float(table.loc[row, col]), color=color, lw=1.6, label=lab)
            ax.set_yticks([])
            ax.set_ylim(-0.5, 0.5)
            ax.set_xlabel(name, fontsize=9)
            ax.tick_params(labelsize=9)
            ax.spines["left"].set_visible(False)
        axes[0].legend(loc="upper left", fontsize=9)
        panel_label(axes[0], "a")
        panel_label(axes[1], "b")
    return fig


