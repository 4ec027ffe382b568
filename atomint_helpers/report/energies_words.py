"""Fig. 2's "What we see": the chapter's paragraph, written from the numbers of :mod:`.energies`."""
from __future__ import annotations

import numpy as np

from ..interpret.atom_terms import MODEL_LABELS
from .energies import fold_distance_table, outlier, width_table
from .findings import join


def _widths_text(study) -> list[str]:
    w = width_table(study)
    n = len(w)
    narrow = [e for e in w.index if w.loc[e, "SchNet IQR"] < w.loc[e, "BP IQR"]]
    narrow_std = [e for e in w.index if w.loc[e, "SchNet std"] < w.loc[e, "BP std"]]
    r = w["SchNet/BP (IQR)"]
    out = [f"SchNet's interquartile range is smaller than BP's for {len(narrow)} of {n} elements "
           f"({join(narrow)}); the SchNet/BP ratio runs from {r.min():.2f} ({r.idxmin()}) to {r.max():.2f} "
           f"({r.idxmax()}). By standard deviation SchNet is narrower for {len(narrow_std)} of {n}."]
    tail = (w["BP std"] / w["BP IQR"]).dropna()
    if len(tail) and tail.max() > 3:
        out.append(f"BP's distributions have long tails: for {tail.idxmax()} its standard deviation is "
                   f"{tail.max():.1f} times its IQR (a normal distribution has 0.74), i.e. a few atoms get extreme "
                   f"latent energies.")
    tests = study.restricted_to_tests()
    if all(len(df) for by in tests.frames.values() for df in by.values()):
        wt = width_table(tests)
        nt = [e for e in wt.index if wt.loc[e, "SchNet IQR"] < wt.loc[e, "BP IQR"]]
        same = "the same conclusion" if (len(nt) == n) == (len(narrow) == n) else "a different conclusion"
        out.append(f"Restricted to each checkpoint's own test molecules, SchNet is narrower for {len(nt)} of {n} "
                   f"elements — {same}.")
    return out


def _folds_text(study) -> list[str]:
    multi = [m for m in study.models() if study.n_folds(m) >= 2]
    out = []
    if multi:
        d = fold_distance_table(study, noise=True)
        for m in multi:
            col = d[MODEL_LABELS[m]]
            rank = int(col.rank(ascending=False)["O"]) if "O" in col else None
            out.append(f"From fold to fold ({study.n_folds(m)} folds), {MODEL_LABELS[m]}'s distributions move most "
                       f"for {col.idxmax()} (W1/IQR = {col.max():.3f}) and least for {col.idxmin()} ({col.min():.3f}); "
                       f"oxygen ranks {rank} of {len(col)}.")
            fold, ratio = outlier(study, m)
            if fold is not None:
                out.append(f"{MODEL_LABELS[m]} fold {fold} is an outlier: the fold pairs it is in are {ratio:.1f} "
                           f"times as far apart as the pair without it.")
        floor = d[[f"{MODEL_LABELS[m]} noise floor" for m in multi]].to_numpy().max()
        dist = d[[MODEL_LABELS[m] for m in multi]].to_numpy()
        if np.nanmin(dist) > floor:
            out.append(f"Two random halves of the same molecules differ by at most {floor:.3f}, below every "
                       f"fold-to-fold distance: the folds differ because the models do, not because of sampling.")
        else:
            k = int((dist <= floor).sum())
            out.append(f"Two random halves of the same molecules differ by up to {floor:.3f}; {k} of the "
                       f"{dist.size} fold-to-fold distances {'is' if k == 1 else 'are'} no larger, so "
                       f"{'that difference is' if k == 1 else 'those differences are'} within sampling noise.")
        if "BP vs SchNet" in d:
            b = d["BP vs SchNet"].mean()
            out.append(f"Between the two models the distance is {b:.3f} (mean of H, C, N, O), against "
                       + " and ".join(f"{d[MODEL_LABELS[m]].mean():.3f} between {MODEL_LABELS[m]}'s folds"
                                      for m in multi) + ".")
    single = [MODEL_LABELS[m] for m in study.models() if study.n_folds(m) < 2]
    if single:
        out.append(f"{join(single)} {'has' if len(single) == 1 else 'have'} a single fold in this run, so "
                   f"{'its' if len(single) == 1 else 'their'} fold-to-fold variation cannot be measured.")
    return out


def _env_text(env) -> list[str]:
    out = []
    for label, t in env.groupby("model", sort=False):
        means = {k: t[k].mean() for k in t.columns if k.startswith("mean ")}
        groups = ", ".join(f"{k[5:].split(' (')[0]} {v:.1f}" for k, v in means.items() if np.isfinite(v))
        out.append(f"{label}: carbon's number of bonded neighbours explains {t['eta2_rank'].mean():.0%} of the "
                   f"ranked variance of its atomic energies ({t['eta2'].mean():.0%} of the plain variance); mean "
                   f"energy per environment (kcal/mol): {groups}. Counting the bonded hydrogens too (CH3, CH2, …) "
                   f"raises this to {t['eta2_fine_rank'].mean():.0%} ({t['eta2_fine'].mean():.0%} plain).")
    return out


def _saliency_text(sal) -> list[str]:
    out = []
    for m, s in sal.items():
        more = s["grad_dist"] / s["grad_eq"] if s["grad_eq"] > 0 else float("nan")
        out.append(f"{MODEL_LABELS[m]}: at the relaxed QM9 geometries the median atom gradient is "
                   f"{s['grad_eq']:.2f} kcal/mol/Å, so a 0.1 Å step along it changes the energy by {s['step_eq']:.2f} "
                   f"kcal/mol, {s['ratio_eq']:.0%} of the typical spread of the latent energies within an element "
                   f"({s['latent_iqr']:.2f} kcal/mol); displaced by {s['sigma']:g} Å the gradient is {more:.1f} "
                   f"times larger ({s['grad_dist']:.1f} kcal/mol/Å).")
        if more < 2:
            out.append(f"The gradient at the relaxed geometry is {1 / more:.0%} of that at the distorted one: where "
                       f"the true forces vanish, {MODEL_LABELS[m]}'s gradient hardly tells a relaxed molecule from a "
                       f"distorted one.")
    return out


def what_we_see(study, quick: bool, env=None, sal: dict | None = None) -> str:
    """The chapter's measurements in words, one paragraph each (widths, fold to fold, carbon's environments,
    saliency), written from the numbers."""
    from .claims import run_caveat

    groups = [("", [run_caveat(quick, study)]), ("Widths", _widths_text(study)),
              ("From fold to fold", _folds_text(study))]
    if env is not None:
        groups.append(("Carbon's environments", _env_text(env)))
    if sal:
        groups.append(("Saliency at equilibrium", _saliency_text(sal)))
    paragraphs = [(f"**{title}.** " if title else "") + " ".join(x for x in parts if x)
                  for title, parts in groups if any(parts)]
    return "\n\n".join(paragraphs)


def environment_table(env):
    """:func:`~atomint_helpers.interpret.energy_partition.carbon_environments` for reading: model and fold as
    the row labels, η² under names a reader understands, the groups' counts as whole numbers and their mean
    latent energies (kcal/mol) to two decimals."""
    names = {"carbons": "carbon atoms", "eta2": "η² by neighbours", "eta2_rank": "η² by neighbours, on ranks",
             "eta2_fine": "η² by neighbours and H", "eta2_fine_rank": "η² by neighbours and H, on ranks"}
    out = env.rename(columns=names).set_index(["model", "fold"])
    for c in out.columns:
        if c.startswith("η²"):
            out[c] = out[c].round(3)
        elif c.startswith("mean "):
            out[c] = out[c].round(2)
    return out.rename(columns=lambda c: f"{c} (kcal/mol)" if c.startswith("mean ") else c)


# ------------------------------------------------------------------------------------------ "What we find"
#: Fig. 2's claims in a few words, for the sentences that list them
NAMES = {"fig2.bp-wider": "BP's distributions wider than SchNet's",
         "fig2.bp-distinct-features": "BP's distributions with more distinct features",
         "fig2.bp-retains-descriptors": "BP's energies retaining its descriptors' patterns",
         "fig2.schnet-minimal-deviation": "SchNet keeping the deviation within an element minimal",
         "fig2.bp-carbon-environments": "BP's carbon peaks as local environments",
         "fig2.conserved": "contributions conserved across folds",
         "fig2.schnet-more-conserved": "SchNet better conserved than BP",
         "fig2.o-varies-more": "O varying more than H and C",
         "fig2.n-varies-more": "N varying more than H and C",
         "fig2.different-partitionings": "the two models' different partitionings"}


def what_we_find(rows: list[dict], quick: bool) -> str:
    """Fig. 2's finding in at most four sentences, read off the chapter's scorecard rows
    (:func:`~.energies.rows`): whether SchNet is the narrower and better-conserved model, the tally of the
    verdicts, the gap between the two models' partitionings and BP's carbon environments; then why."""
    from .energies import DIFFERENT_FACTOR, ETA2_MIN
    from .findings import QUICK_FIND, by_claim, sentence, tally, value, verdict_of, why

    if quick:
        return QUICK_FIND
    by = by_claim(rows)
    out = [_schnet_picture(by.get(("fig2.bp-wider", "")), by.get(("fig2.schnet-more-conserved", ""))),
           sentence(tally(rows, NAMES)) + "."]
    gap = by.get(("fig2.different-partitionings", ""))
    if gap and gap["verdict"] != "not comparable":
        a, b = value(gap, "W1/IQR"), value(gap, "absolute W1")
        va, vb = verdict_of(gap, "W1/IQR"), verdict_of(gap, "absolute W1")
        lead = ("BP and SchNet arrive at different partitionings, as the paper says" if va == vb == "holds" else
                "BP and SchNet's partitionings are not clearly further apart than a model's own folds" if
                va == vb == "differs" else "Whether BP and SchNet arrive at different partitionings depends on the "
                "scale")
        out.append(f"{lead}: the two models lie {a:.1f}× as far apart as a model's own folds in W1/IQR and {b:.1f}× "
                   f"in kcal/mol (the rule asks {DIFFERENT_FACTOR:g}× in both).")
    bp, sn = by.get(("fig2.bp-carbon-environments", "BP")), by.get(("beyond.schnet-carbon-environments", "SchNet"))
    if bp and bp["verdict"] in ("holds", "differs", "inconclusive"):
        eta = value(bp, "η² on ranks")
        word = {"holds": "are", "differs": "are not"}.get(bp["verdict"], "are only in part")
        other = value(sn, "η² on ranks")
        out.append(f"BP's carbon peaks {word} its local environments: the number of bonded neighbours explains "
                   f"{eta:.0%} of the ranked variance of carbon's atomic energies (the rule asks at least "
                   f"{ETA2_MIN:.0%})" + (f", SchNet's {other:.0%}" if other is not None else "") + ".")
    text = "**What we find.** " + " ".join(out)
    reason = why(rows, NAMES)
    return text + ("\n\n" + reason if reason else "")


def _schnet_picture(wide: dict | None, cons: dict | None) -> str:
    """The paper's picture of SchNet (narrower and better conserved than BP) against the two rows."""
    from .findings import value

    head = "The paper's picture of SchNet as the model with the narrower, better-conserved atomic energies"
    rows = [r for r in (wide, cons) if r]
    if len(rows) < 2 or any(r["verdict"] == "not comparable" for r in rows):
        why = next((r["note"] for r in rows if r["verdict"] == "not comparable"), "a model has too few folds")
        return f"{head} is not decided on this build ({why.split(';')[0]})."
    iqr, w1 = value(wide, "IQR ratio"), value(cons, "W1/IQR ratio")
    numbers = (f"SchNet's interquartile range is up to {iqr:.2f}× BP's (the largest ratio over H, C, N and O) and its "
               f"distributions move {w1:.2f}× as far from fold to fold")
    if wide["verdict"] == cons["verdict"] == "differs":
        return f"{head} does not hold here: {numbers}."
    if wide["verdict"] == cons["verdict"] == "holds":
        return f"{head} holds: {numbers}."
    return (f"{head} holds only in part (narrower: {wide['verdict']}; better conserved: {cons['verdict']}): "
            f"{numbers}.")
