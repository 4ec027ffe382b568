"""Figures of Table 1 and the training chapter: parity plots with error histograms, learning curves."""
from __future__ import annotations

import numpy as np

from ..properties import MODEL_LABELS, goal_text
from .data import histogram
from .style import COLUMN_WIDTH, MAIN_COLOR, figure, panel_label, paper_style


# ------------------------------------------------------------------------------------------ Table 1
def parity_and_errors(evals: dict, *, max_points: int = 20_000, residual: tuple[str, ...] = ("energy",)):
    """Table 1's figure: for each target a row of parity plots (prediction against the QM9 reference, with
    the test MAE) and below it a row of error histograms (prediction − reference; errors beyond the 99.5 %
    quantile of |error| are counted, not drawn), one column per model. For the targets in ``residual`` the
    upper row plots the error against the reference instead: atomization energies span about 2,000
    kcal/mol, where errors of a kcal/mol are invisible on a parity plot.

    ``evals`` maps (model, target) to :class:`atomint_helpers.evaluate.Evaluation`. Drawn the width of the
    book's text column (:data:`~.style.COLUMN_WIDTH`), so its 9-pt text is shown at 9 pt.
    """
    models = list(dict.fromkeys(m for m, _ in evals))
    targets = list(dict.fromkeys(t for _, t in evals))
    rng = np.random.default_rng(0)
    with paper_style():
        fig, axes = figure(ncols=len(models), nrows=2 * len(targets), width=3.5 * len(models),
                            height=2.15 * 2 * len(targets), squeeze=False)
        for r, target in enumerate(targets):
            for c, model in enumerate(models):
                top, bottom = axes[2 * r, c], axes[2 * r + 1, c]
                if (model, target) not in evals:
                    top.set_visible(False)
                    bottom.set_visible(False)
                    continue
                ev = evals[model, target]
                name = MODEL_LABELS.get(ev.model, ev.model)
                err = ev.prediction - ev.reference
                sel = rng.permutation(len(err))[:max_points]
                label = "atomization energy" if ev.target == "energy" else "|μ|"
                if ev.target in residual:
                    lim = float(np.quantile(np.abs(err), 0.999))
                    top.scatter(ev.reference[sel], np.clip(err[sel], -lim, lim), s=2, alpha=0.3, color=MAIN_COLOR,
                                rasterized=True)
                    top.axhline(0, color="0.3", lw=0.8)
                    top.set_ylim(-1.15 * lim, 1.15 * lim)
                    top.set_ylabel(f"error ({ev.unit})")
                else:
                    top.scatter(ev.reference[sel], ev.prediction[sel], s=2, alpha=0.3, color=MAIN_COLOR,
                                rasterized=True)
                    lo = float(min(ev.reference.min(), ev.prediction.min()))
                    hi = float(max(ev.reference.max(), ev.prediction.max()))
                    top.plot([lo, hi], [lo, hi], color="0.3", lw=0.8)
                    top.set_ylabel(f"prediction ({ev.unit})")
                top.set_xlabel(f"QM9 {label} ({ev.unit})")
                top.set_title(f"{name}, {ev.target}")
                top.text(0.04, 0.96, f"MAE {ev.metrics['mae']:.3g} {ev.unit}", transform=top.transAxes,
                         ha="left", va="top")
                lim = float(np.quantile(np.abs(err), 0.995))
                histogram(bottom, err, bins=80, xlabel=f"error ({ev.unit})", ylabel="molecules",
                          limits=(-lim, lim))
                bottom.axvline(0, color="0.3", lw=0.8)
        for k, ax in enumerate(a for a in axes.flat if a.get_visible()):
            panel_label(ax, "abcdefghijklmnop"[k])
    return fig


def learning_curves(logs: dict, *, unit_of=lambda name: "", projections: dict | None = None,
                    goals: dict | None = None):
    """Validation MAE against epochs (log y), one panel per target, one colour per model and one line style
    per fold; the legend (below the panels, never over the data) gives each run's last epoch and the
    learning rate it ended with, so a reader sees whether a run converged. ``logs`` maps a run name
    (``model-target-profile-foldK``) to its list of per-epoch rows (``training.read_log``). Epochs, not
    wall time: the runs shared their cores with other work, so their wall times are not comparable.
    ``projections`` (run name → (epoch, validation MAE)) adds a hollow marker where a run still training is
    projected to end (``report.training_goals.projection_rows``), joined to its last epoch by a dotted line;
    ``goals`` (target → MAE) a grey dashed line per panel."""
    import matplotlib.ticker as mticker

    with paper_style():
        colours = {"bp": "#1f77b4", "schnet": "#d62728"}
        styles = ("-", "--", ":", "-.")
        targets = sorted({n.split("-")[1] for n in logs})
        # the legend gets its own row of axes, as tall as its longest column, so it never covers a label
        entries = max(sum(n.split("-")[1] == t for n in logs) + sum(n.split("-")[1] == t for n in projections or {})
                      + bool(goals and t in goals) for t in targets)
        legend_h = 0.2 * entries + 0.2
        fig, axes = figure(ncols=len(targets), nrows=2, width=3.9 * len(targets), height=3.2 + legend_h,
                            squeeze=False, gridspec_kw={"height_ratios": [3.2, legend_h]})
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
                if projections and name in projections:
                    pe, pv = projections[name]
                    ax.plot([e[-1], pe], [v[-1], pv], ls=":", lw=1.0, color=colours.get(model))
                    ax.plot([pe], [pv], marker="o", mfc="white", ms=6, ls="none", color=colours.get(model),
                            label=f"{name.replace(f'-{target}', '')}: projected end")
            if goals and target in goals:
                ax.axhline(goals[target], color="0.4", lw=0.8, ls="--",
                           label=f"goal {goal_text(goals[target])} {unit_of(target)}")
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(mticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(mticker.NullFormatter())
            ax.set_xlabel("epoch")
            ax.set_ylabel(f"validation MAE ({unit_of(target)})")
            ax.set_title(target)
            axes[1, c].axis("off")
            axes[1, c].legend(*ax.get_legend_handles_labels(), fontsize=9, loc="upper center", ncol=1, frameon=False)
    return fig




def sign_curves(signs: dict, *, goal: float = 0.95):
    """The share of validation atoms whose latent charge has the Mulliken sign, against epochs: one panel
    per dipole run, one line per group of atoms (element and number of bonded neighbours: colour by
    element as in the other figures, line style by neighbours), the goal as a dashed line. ``signs`` maps
    a run name to its ``signs.csv`` rows (``training.read_signs``). A run settling in a mirror solution for
    one kind of atom shows as that group's line staying far below the others."""
    from ase.data import atomic_numbers

    from .style import ELEMENT_COLORS

    with paper_style():
        styles = {1: ":", 2: "-", 3: "--", 4: "-.", 5: (0, (1, 3))}
        names = sorted(signs)
        # two panels per row; the legend takes the cell after the last panel, so it never covers data
        nrows = (len(names) + 2) // 2
        fig, axes = figure(ncols=2, nrows=nrows, width=COLUMN_WIDTH, height=2.9 * nrows, squeeze=False)
        for c, name in enumerate(names):
            ax = axes.flat[c]
            rows = signs[name]
            groups = sorted({(r["element"], r["neighbours"]) for r in rows}, key=lambda g: (atomic_numbers[g[0]], g[1]))
            for el, nb in groups:
                sel = [r for r in rows if r["element"] == el and r["neighbours"] == nb]
                ax.plot([r["epoch"] for r in sel], [100 * r["agree"] for r in sel], lw=1.3,
                        color=ELEMENT_COLORS.get(atomic_numbers[el], "0.5"), ls=styles.get(nb, "-"),
                        label=f"{el}, {nb} neighbour{'s' if nb != 1 else ''}")
            ax.axhline(100 * goal, color="0.4", lw=0.8, ls="--")
            ax.set_ylim(0, 102)
            ax.set_xlabel("epoch")
            ax.set_ylabel("atoms with the Mulliken sign (%)")
            ax.set_title(name, fontsize=10)
            panel_label(ax, "abcdefgh"[c % 8])
        handles, labels = axes.flat[0].get_legend_handles_labels()
        for ax in axes.flat[len(names):]:
            ax.axis("off")
        axes.flat[len(names)].legend(handles, labels, loc="center", fontsize=9, frameon=False,
                                     title="atoms (element, bonded neighbours)", title_fontsize=9)
    return fig
def training_set_curves(frame, *, unit: str = "kcal/mol"):
    """Test MAE against training-set size (log–log), one colour per model (a), and BP's MAE divided by
    SchNet's (b): thin lines per fold, markers and a thick line for the fold mean. ``frame``: rows of
    ``model`` (``BP``/``SchNet``), ``fold``, ``n_train``, ``MAE``, ``recipe`` (``curve`` for the learning
    curve's one recipe; ``committed`` for the 100k models, drawn as open markers joined by a dotted line,
    since they trained longer)."""
    import matplotlib.ticker as mticker
    import pandas as pd

    colours = {"BP": "#1f77b4", "SchNet": "#d62728"}
    with paper_style():
        fig, (a, b) = figure(ncols=2, width=COLUMN_WIDTH, height=3.0)
        curve, full = frame[frame["recipe"] == "curve"], frame[frame["recipe"] == "committed"]
        for model, colour in colours.items():
            for fold, d in curve[curve["model"] == model].groupby("fold"):
                d = d.sort_values("n_train")
                a.plot(d["n_train"], d["MAE"], color=colour, lw=0.6, alpha=0.5)
            mean = curve[curve["model"] == model].groupby("n_train")["MAE"].mean()
            if len(mean):
                a.plot(mean.index, mean.values, color=colour, lw=1.8, marker="o", ms=4, label=f"{model}, learning curve")
            top = full[full["model"] == model].groupby("n_train")["MAE"].mean()
            if len(top):
                if len(mean):
                    a.plot([mean.index[-1], top.index[0]], [mean.values[-1], top.values[0]], color=colour, lw=1.0,
                           ls=":")
                a.plot(top.index, top.values, color=colour, marker="o", mfc="white", ms=6, ls="none",
                       label=f"{model}, committed 100k")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xlabel("training molecules")
        a.set_ylabel(f"energy test MAE ({unit})")
        a.yaxis.set_major_locator(mticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        a.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
        a.yaxis.set_minor_formatter(mticker.NullFormatter())
        a.legend(fontsize=9, frameon=False, loc="lower left")

        def ratio(d):
            m = d.groupby(["n_train", "model"])["MAE"].mean().unstack()
            if not {"BP", "SchNet"} <= set(m.columns):
                return pd.Series(dtype=float)
            return (m["BP"] / m["SchNet"]).dropna()

        for fold, d in frame.groupby("fold"):
            r = ratio(d[d["recipe"] == "curve"])
            b.plot(r.index, r.values, color="0.5", lw=0.6)
        r, rf = ratio(curve), ratio(full)
        if len(r):
            b.plot(r.index, r.values, color=MAIN_COLOR, lw=1.8, marker="o", ms=4, label="learning curve")
        if len(rf):
            b.plot(rf.index, rf.values, color=MAIN_COLOR, marker="o", mfc="white", ms=6, ls="none",
                   label="committed 100k")
            if len(r):
                b.plot([r.index[-1], rf.index[0]], [r.values[-1], rf.values[0]], color=MAIN_COLOR, lw=1.0, ls=":")
        b.axhline(1.0, color="0.3", lw=0.8, ls="--")
        b.set_xscale("log")
        b.set_xlim(a.get_xlim())  # the same sizes as panel a
        b.set_xlabel("training molecules")
        b.set_ylabel("BP MAE / SchNet MAE")
        b.legend(fontsize=9, frameon=False, loc="lower right")
        for k, ax in enumerate((a, b)):
            panel_label(ax, "ab"[k])
    return fig
