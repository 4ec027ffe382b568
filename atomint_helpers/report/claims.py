"""The charge claims of the paper's section 3.1 and the helpers every chapter's verdicts share.

Shared: :data:`QUICK_NOTE`, :func:`_fmt`, :func:`_verdict`, :func:`_pending`, :func:`_need_folds`,
:func:`_quick_prefix`, :func:`_list`, :func:`as_table`. The energy claims (Fig. 2 and §1) live in
:mod:`atomint_helpers.report.energies`, the ring claims (Fig. 3) in :mod:`atomint_helpers.report.rings`.

A verdict is ``None`` (not comparable) when the run cannot decide: the ``quick`` profile (4-epoch models
trained on 1,000 sample molecules, whose latent terms say nothing about the paper's models), a checkpoint
that is still training (its weights are the best so far) or, for the fold claims, fewer than two folds.
The criterion of each claim is fixed here, in code, before any result is seen:

3. *Charges are more conserved across folds than energies*: for both models, the fold-to-fold distance
   averaged over H, C, N, O is smaller for the charges than for the energies.
4. *BP and SchNet charges agree more closely than their energies*: the BP-vs-SchNet distance (same
   measure, fold by fold), averaged over H, C, N, O, is smaller for charges than for energies.
"""
from __future__ import annotations

import numpy as np

from ..interpret.latent import FIG_ELEMENTS, MODEL_LABELS, fold_distances, mean_over_folds, model_distances

QUICK_NOTE = ("quick profile: 4-epoch models trained on 1,000 sample molecules — the numbers exercise the "
              "code, they say nothing about the paper's models")


def _fmt(x, digits: int = 3) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


def _verdict(ok: bool | None, quick: bool, why_none: str | None = None) -> tuple[bool | None, str]:
    if quick:
        return None, QUICK_NOTE
    if why_none:
        return None, why_none
    return bool(ok), ""


def _pending(*studies) -> str | None:
    """Why no verdict can be given while checkpoints are still training (their weights are the best so far)."""
    names = [n for st in studies if st is not None for n in st.fold_set.in_progress]
    if not names:
        return None
    return f"preliminary: {', '.join(names)} still training, a verdict on unfinished models would be premature"


def _need_folds(study, models=("bp", "schnet")) -> str | None:
    few = [f"{MODEL_LABELS[m]} has {study.n_folds(m)} fold{'' if study.n_folds(m) == 1 else 's'}"
           for m in models if study.n_folds(m) < 2]
    return ("needs ≥ 2 folds per model; " + ", ".join(few)) if few else None


# ------------------------------------------------------------------------------------------ charges
def conservation_table(charges, energies, elements=FIG_ELEMENTS):
    """Claims 3 and 4's numbers: fold-to-fold distance per model and the BP-vs-SchNet distance, energies
    vs charges, per element (rows) and their mean (row ``mean``)."""
    import pandas as pd

    cols = {}
    for name, st in (("energy", energies), ("charge", charges)):
        if st is None:
            continue
        for m in st.models():
            cols[f"{MODEL_LABELS[m]} folds, {name}"] = fold_distances(st.frames[m], elements, st.column)["mean"]
        if len(st.models()) == 2:
            cols[f"BP vs SchNet, {name}"] = model_distances(st.frames["bp"], st.frames["schnet"], elements,
                                                            st.column)["mean"]
    t = pd.DataFrame(cols)
    t.loc["mean"] = t.mean(axis=0, skipna=False)
    return t


def charge_claims(charges, energies, quick: bool) -> list[dict]:
    """Claims 3 and 4 (Fig. 4 against Fig. 2); ``energies`` may be None (no energy checkpoints)."""
    rows = []
    if energies is None:
        why = "no energy checkpoints of this profile to compare with"
        for claim in ("Charges are more conserved across folds than energies",
                      "BP and SchNet charges agree more closely than their energies"):
            rows.append({"claim": claim, "paper": "yes", "atomint": "n/a", "unit": "", "holds": None, "note": why,
                         "kind": "paper", "rule": "see the chapter"})
        return rows
    t = conservation_table(charges, energies)
    pieces, ok = [], True
    for m in ("BP", "SchNet"):
        e, q = t.loc["mean", f"{m} folds, energy"], t.loc["mean", f"{m} folds, charge"]
        pieces.append(f"{m}: charges {_fmt(q, 2)} vs energies {_fmt(e, 2)}")
        ok = ok and bool(q < e)
    why = _need_folds(charges) or _need_folds(energies) or _pending(charges, energies)
    holds, note = _verdict(ok, quick, why)
    rows.append({"claim": "Charges are more conserved across folds than energies",
                 "paper": "charges are more conserved across folds",
                 "atomint": "fold-to-fold W1/IQR (mean of H, C, N, O) — " + "; ".join(pieces), "unit": "",
                 "holds": holds, "kind": "paper",
                 "rule": "holds if, for both models, the fold-to-fold W1/IQR (mean of H, C, N, O) is smaller for charges than for energies",
                 "note": note or "W1 / pooled IQR between folds, mean over fold pairs and elements"})
    e, q = t.loc["mean", "BP vs SchNet, energy"], t.loc["mean", "BP vs SchNet, charge"]
    holds, note = _verdict(bool(q < e), quick, _pending(charges, energies))
    rows.append({"claim": "BP and SchNet charges agree more closely than their energies",
                 "paper": "charges of both models agree more closely",
                 "atomint": f"BP-vs-SchNet W1/IQR (mean of H, C, N, O): charges {_fmt(q, 2)} vs energies {_fmt(e, 2)}",
                 "unit": "", "holds": holds, "kind": "paper",
                 "rule": "holds if the BP-vs-SchNet W1/IQR (mean of H, C, N, O) is smaller for charges than for energies",
                 "note": note or "W1 / pooled IQR between the models' distributions, fold by fold"})
    return rows


def mulliken_rows(table, quick: bool) -> list[dict]:
    """Scorecard rows for the Mulliken comparison (beyond the paper: no claim, ``holds`` None)."""
    rows = []
    for model, sub in table.groupby("model", sort=False):
        r_all = sub.loc[sub["element"] == "all", "Pearson r"]
        per = ", ".join(f"{e} {_fmt(r, 2)}" for e, r in zip(sub["element"], sub["Pearson r"]) if e != "all")
        rows.append({"claim": f"{model} latent charges vs QM9 Mulliken charges (Pearson r)", "paper": None,
                     "atomint": round(float(r_all.iloc[0]), 3) if len(r_all) else None, "unit": "",
                     "holds": None, "kind": "beyond", "model": model,
                     "note": (QUICK_NOTE + "; " if quick else "") + f"beyond the paper; per element: {per}"})
    return rows


def mulliken_paragraph(table, flipped: list[str]) -> str:
    """'What we see' text for the Mulliken comparison, written from the numbers."""
    parts = []
    for model, sub in table.groupby("model", sort=False):
        sub = sub.set_index("element")
        el = sub.drop(index="all", errors="ignore").dropna(subset=["Pearson r"])
        if el.empty:
            continue
        best, worst = el["Pearson r"].idxmax(), el["Pearson r"].idxmin()
        off = (el["mean latent (e)"] - el["mean Mulliken (e)"])
        big = off.abs().idxmax()
        r_all = sub.loc["all", "Pearson r"]
        if r_all > el["Pearson r"].max():
            how = "higher than within any single element, so the agreement rests on the differences between elements"
        elif r_all < el["Pearson r"].min():
            how = "lower than within every single element"
        else:
            how = "between the values within single elements"
        parts.append(
            f"For {model}, latent and Mulliken charges correlate with r = {_fmt(r_all, 2)} over all atoms, "
            f"{how}. Within an element the "
            f"agreement is best for {best} (r = {_fmt(el.loc[best, 'Pearson r'], 2)}) and weakest for {worst} "
            f"(r = {_fmt(el.loc[worst, 'Pearson r'], 2)}). The largest systematic offset is for {big}: its mean latent "
            f"charge is {el.loc[big, 'mean latent (e)']:+.3f} e against a Mulliken mean of "
            f"{el.loc[big, 'mean Mulliken (e)']:+.3f} e, and the latent charges span "
            f"{_fmt(sub.loc['all', 'slope'], 2)} times the Mulliken range (least-squares slope over all atoms).")
    if flipped:
        parts.append(f"The charges of {', '.join(flipped)} came out of training with the opposite overall sign "
                     f"(|μ| cannot tell) and are shown multiplied by −1.")
    else:
        parts.append("No checkpoint needed its charges flipped: all came out of training with the Mulliken sign.")
    return " ".join(parts)


def sign_paragraph(table, gap: float = 0.2) -> str:
    """'What we see' text for :func:`~atomint_helpers.interpret.latent.sign_agreement`, from the numbers:
    groups (element, number of neighbours) in which one fold's agreement with the Mulliken sign lies at
    least ``gap`` below the best fold of the same model (a local mirror solution), and groups in which
    every checkpoint disagrees with Mulliken for most atoms."""
    if table.empty:
        return "No group of atoms is large enough to compare."
    parts = []
    for (model, el, nb), g in table.groupby(["model", "element", "neighbours"], sort=False):
        best = g["agree"].max()
        for _, r in g[g["agree"] <= best - gap].iterrows():
            parts.append(f"{model} fold {r['fold']} gives only {r['agree']:.0%} of its {el} atoms with {nb} bonded "
                         f"neighbour{'s' if nb != 1 else ''} the Mulliken sign ({r['atoms']:,} atoms), against "
                         f"{best:.0%} for the best {model} fold: that run settled on the mirror solution for this "
                         f"kind of atom only, which |μ| alone does not rule out")
    mostly_opposite = table.groupby(["element", "neighbours"])["agree"].max()
    mostly_opposite = mostly_opposite[mostly_opposite < 0.5]
    text = ("; ".join(parts) + ". ") if parts else (
        f"No fold departs from the other folds of its model by {gap:.0%} or more in any group: wherever the "
        f"folds agree with Mulliken's sign, they do so together. ")
    if len(mostly_opposite):
        groups = ", ".join(f"{el} with {nb} neighbour{'s' if nb != 1 else ''}" for el, nb in mostly_opposite.index)
        text += (f"In every checkpoint, most atoms of these groups carry the sign opposite to Mulliken's: {groups}.")
    else:
        lo = table["agree"].min()
        text += f"Over all checkpoints and groups, the agreement ranges from {lo:.0%} to {table['agree'].max():.0%}."
    return text


def as_table(rows):
    """The rows as a display DataFrame (see :func:`~atomint_helpers.report.scorecard.display_table`)."""
    from .scorecard import display_table

    return display_table(rows)


# ------------------------------------------------------------------------------------------ "What we see"
def _quick_prefix(quick: bool, *studies) -> str:
    if quick:
        return ("*These are quick-profile models (4 epochs on 1,000 sample molecules): the numbers show what the "
                "analysis does, not what the paper's models learned.*")
    names = [x for st in studies if st is not None for x in st.fold_set.in_progress]
    if names:
        return (f"*Preliminary: {_list(names)} {'is' if len(names) == 1 else 'are'} still training; the numbers "
                f"below come from the best weights so far.*")
    return ""


def _list(items) -> str:
    items = list(items)
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def charge_paragraph(charges, energies, quick: bool) -> str:
    """The 'What we see' text of Fig. 4 against Fig. 2, from the numbers."""
    out = [_quick_prefix(quick, charges, energies)]
    w = mean_over_folds(charges.frames["bp"], FIG_ELEMENTS, "charge")
    ws = mean_over_folds(charges.frames["schnet"], FIG_ELEMENTS, "charge")
    signs = [f"{e} {w.loc[e, 'mean']:+.2f}/{ws.loc[e, 'mean']:+.2f}" for e in w.index]
    out.append(f"Mean latent charges, BP/SchNet (e): {', '.join(signs)}.")
    if energies is None:
        out.append("No energy checkpoints were found, so charges cannot be compared with energies here.")
        return " ".join(x for x in out if x)
    t = conservation_table(charges, energies)
    both = [m for m in ("bp", "schnet") if charges.n_folds(m) >= 2 and energies.n_folds(m) >= 2]
    for m in both:
        m = MODEL_LABELS[m]
        q, e = t.loc["mean", f"{m} folds, charge"], t.loc["mean", f"{m} folds, energy"]
        rel = "smaller" if q < e else "larger"
        out.append(f"For {m}, the fold-to-fold distance of the charges (W1/IQR = {q:.3f}, mean over H, C, N, O) "
                   f"is {rel} than that of the energies ({e:.3f}), a factor {e / q:.2f}.")
    rest = [MODEL_LABELS[m] for m in ("bp", "schnet") if m not in both]
    if rest:
        out.append(f"{_list(rest)} {'lacks' if len(rest) == 1 else 'lack'} two folds of both targets in this run, so "
                   f"the fold-to-fold comparison cannot be made for {'it' if len(rest) == 1 else 'them'}.")
    q, e = t.loc["mean", "BP vs SchNet, charge"], t.loc["mean", "BP vs SchNet, energy"]
    rel = "closer" if q < e else "further apart"
    per = ", ".join(f"{el} {t.loc[el, 'BP vs SchNet, charge']:.2f} vs {t.loc[el, 'BP vs SchNet, energy']:.2f}"
                    for el in FIG_ELEMENTS if el in t.index)
    out.append(f"BP and SchNet are {rel} in their charges (W1/IQR = {q:.3f}) than in their energies ({e:.3f}); per "
               f"element, charges vs energies: {per}.")
    return " ".join(x for x in out if x)
