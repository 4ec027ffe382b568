"""Verdicts on the charge claims of the paper's section 3.1 (Fig. 4), in words and numbers.

:func:`rows` gives the chapter's scorecard rows, :func:`what_we_see` its text; both come from the
studies of :mod:`~atomint_helpers.interpret.latent` (charges and energies over the same molecules) and
the measures of :mod:`~atomint_helpers.interpret.charges`. Each rule is fixed here before any number was
looked at; under the ``quick`` profile, with a checkpoint still training or too few folds, a row is "not
comparable" (:mod:`.claims`' helpers). Distances are W1 / pooled IQR (:func:`~.latent.fold_distance`), a
unit-free scale shared by charges (e) and energies (kcal/mol).

Paper rows (``model`` set where the sentence is about one model):

1. *Charges are more conserved across folds than energies* — per model: the fold-to-fold distance (mean
   over fold pairs and H, C, N, O) is smaller for the charges than for the energies.
2. *BP and SchNet charges agree more closely than their energies* — the BP-vs-SchNet distance (fold by
   fold, mean of H, C, N, O) is smaller for the charges than for the energies.
3. *… especially pronounced for H and C* — the BP-vs-SchNet charge distance of H and of C are both below
   those of N and of O.
4. *BP's carbon energy and charge distributions show parallels, SchNet's "little to no similarity"* — per
   model, |Spearman ρ| between the latent energy and the latent charge of the same carbon atoms (energy
   and dipole checkpoint of the same fold, mean over folds): BP holds if |ρ| ≥ 0.5, SchNet holds if
   |ρ| < 0.3 (conventional "large" and "small" correlations).
5. *The dipole partitioning is more unique (up to a constant scaling factor)* — after one least-squares
   factor between the two checkpoints (:func:`~.charges.scaled_distance`), the distance (mean of H, C,
   N, O) is smaller for the charges than for the energies: per model fold to fold, and BP vs SchNet.

Folds in a local mirror solution (:func:`~.charges.outlying_folds`, a group of atoms ≥ 20 points below
the model's best fold in Mulliken-sign agreement) are named, and rules 1 and 5 are given again without
them (kind ``beyond``: the paper rows keep every fold). The Mulliken comparison is kind ``beyond``.
"""
from __future__ import annotations

import numpy as np

from ..interpret.charges import (energy_charge_correlation, fold_names, outlying_folds, scaled_distances,
                                 without_folds)
from ..interpret.latent import FIG_ELEMENTS, MODEL_LABELS, fold_distances, mean_over_folds, model_distances
from .claims import QUICK_NOTE, _fmt, _list, _need_folds, _pending, _quick_prefix, _verdict, group_name

#: rule 4's thresholds on |Spearman ρ| of carbon's latent energy and charge
PARALLEL_RHO, NO_SIMILARITY_RHO = 0.5, 0.3
LABEL_KEY = {v: k for k, v in MODEL_LABELS.items()}


def _pending_for(models, *studies) -> str | None:
    """:func:`.claims._pending` for the checkpoints of ``models`` only (keys, e.g. ``("bp",)``; all when
    empty): a verdict about BP does not wait for a SchNet checkpoint that is still training."""
    names = [n for st in studies if st is not None for n in st.fold_set.in_progress
             if not models or n.split("-")[0] in models]
    if not names:
        return None
    return f"preliminary: {', '.join(names)} still training, a verdict on unfinished models would be premature"


def _row(claim, model, paper, atomint, rule, holds, note, kind="paper") -> dict:
    return {"claim": claim, "model": model, "paper": paper, "atomint": atomint, "unit": "", "holds": holds,
            "kind": kind, "rule": rule, "note": note}


def conservation_table(charges, energies, elements=FIG_ELEMENTS):
    """The numbers of the fold and model claims: fold-to-fold distance per model and the BP-vs-SchNet distance, energies
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
        groups = ", ".join(group_name(el, nb) for el, nb in mostly_opposite.index)
        text += (f"In every checkpoint, most atoms of these groups carry the sign opposite to Mulliken's: {groups}.")
    else:
        lo = table["agree"].min()
        text += f"Over all checkpoints and groups, the agreement ranges from {lo:.0%} to {table['agree'].max():.0%}."
    return text




# ------------------------------------------------------------------------------------------ the paper's claims
def conserved_rows(charges, energies, quick: bool) -> list[dict]:
    """Rule 1, one row per model."""
    t = conservation_table(charges, energies)
    rows = []
    for m in charges.models():
        lab = MODEL_LABELS[m]
        e, q = t.loc["mean", f"{lab} folds, energy"], t.loc["mean", f"{lab} folds, charge"]
        why = _need_folds(charges, (m,)) or _need_folds(energies, (m,)) or _pending_for((m,), charges, energies)
        holds, note = _verdict(bool(q < e), quick, why)
        rows.append(_row("Charges are more conserved across folds than energies", lab,
                         "charges are more conserved across folds",
                         f"fold-to-fold W1/IQR (mean of H, C, N, O): charges {_fmt(q, 2)} vs energies {_fmt(e, 2)}",
                         "holds if the model's fold-to-fold W1/IQR (mean over fold pairs and H, C, N, O) is smaller "
                         "for charges than for energies", holds,
                         note or "W1 / pooled IQR between folds"))
    return rows


def scaled_rows(charges, energies, quick: bool, *, pair=True) -> list[dict]:
    """Rule 5: one row per model (fold to fold) and, with ``pair``, one for BP vs SchNet."""
    tq, te = scaled_distances(charges), scaled_distances(energies)
    claim = "“the partitioning of the dipole moment is more unique (up to a constant scaling factor)”"
    rule = ("holds if, after one least-squares factor between the two checkpoints, the W1/IQR (mean of H, C, N, "
            "O) is smaller for charges than for energies")
    cols = [(MODEL_LABELS[m], f"{MODEL_LABELS[m]} folds", (m,)) for m in charges.models()]
    if pair:
        cols.append(("", "BP vs SchNet", ()))
    rows = []
    for model, col, ms in cols:
        if col not in tq or col not in te:
            continue
        q, e = tq.loc["mean", col], te.loc["mean", col]
        why = (_need_folds(charges, ms) or _need_folds(energies, ms) if ms else None) or _pending_for(ms, charges,
                                                                                                       energies)
        holds, note = _verdict(bool(q < e), quick, why)
        what = "fold to fold" if ms else "BP vs SchNet"
        rows.append(_row(claim, model, "more unique than the energy's",
                         f"scaled W1/IQR {what}: charges {_fmt(q, 2)} vs energies {_fmt(e, 2)}; factors: charges "
                         f"{tq.attrs['scale'][col]}, energies {te.attrs['scale'][col]}", rule, holds,
                         note or "the best constant factor per pair of checkpoints, over the same atoms"))
    return rows


def pronounced_row(charges, quick: bool) -> dict:
    """Rule 3."""
    d = model_distances(charges.frames["bp"], charges.frames["schnet"], FIG_ELEMENTS, charges.column)["mean"]
    ok = bool(max(d["H"], d["C"]) < min(d["N"], d["O"]))
    holds, note = _verdict(ok, quick, _pending(charges))
    return _row("BP vs SchNet charge similarity “is especially pronounced for H and C”", "",
                "H and C closest", "BP-vs-SchNet charge W1/IQR: " + ", ".join(f"{e} {_fmt(d[e], 2)}" for e in d.index),
                "holds if the BP-vs-SchNet charge W1/IQR of H and of C are both below those of N and of O", holds,
                note or ("fold by fold, mean over folds; W1 in e (no division by the IQR): "
                         + ", ".join(f"{e} {_fmt(w, 2)}" for e, w in raw_model_w1(charges).items())))


def raw_model_w1(charges) -> dict:
    """BP-vs-SchNet W1 per element in the charges' unit (e), fold by fold over shared folds, mean."""
    from ..interpret.latent import fold_distance, values_of

    common = sorted(set(charges.frames["bp"]) & set(charges.frames["schnet"]))
    return {e: float(np.mean([fold_distance(values_of(charges.frames["bp"][k], e, charges.column),
                                            values_of(charges.frames["schnet"][k], e, charges.column), 1.0)
                              for k in common])) for e in FIG_ELEMENTS}


def carbon_parallels(charges, energies) -> dict:
    """Rule 4's numbers: ``{model key: table of energy_charge_correlation for carbon}``."""
    return {m: energy_charge_correlation(energies.frames[m], charges.frames[m], "C")
            for m in charges.models() if m in energies.frames}


def parallel_rows(charges, energies, quick: bool) -> list[dict]:
    """Rule 4, one row per model."""
    rows = []
    for m, t in carbon_parallels(charges, energies).items():
        rho = float(np.nanmean(t["rho"].abs())) if len(t) else float("nan")
        bp = m == "bp"
        ok = rho >= PARALLEL_RHO if bp else rho < NO_SIMILARITY_RHO
        why = None if len(t) else "no fold with both an energy and a dipole checkpoint"
        holds, note = _verdict(bool(ok), quick, why or _pending_for((m,), charges, energies))
        rule = (f"holds if |Spearman ρ| of the same carbons' latent energy and charge (fold mean) is ≥ {PARALLEL_RHO}"
                if bp else f"holds if |Spearman ρ| of the same carbons' latent energy and charge (fold mean) is "
                           f"< {NO_SIMILARITY_RHO}")
        claim = ("BP's carbon energy and charge distributions “show parallels”" if bp else
                 "SchNet's carbon energy and charge distributions show “little to no similarity”")
        per = ", ".join(f"fold {int(r.fold)} {r.rho:+.2f}" for r in t.itertuples())
        rows.append(_row(claim, MODEL_LABELS[m], "parallels" if bp else "little to no similarity",
                         f"|ρ| = {_fmt(rho, 2)} ({per}; {int(t['atoms'].max()) if len(t) else 0:,} carbons)", rule,
                         holds, note or "energy and dipole checkpoint of the same fold, same atoms"))
    return rows


def outliers(signs) -> dict[str, list[int]]:
    """The folds in a local mirror solution, ``{model label: [folds]}`` (none without a sign table)."""
    return outlying_folds(signs) if signs is not None else {}


def without_outlier_rows(charges, energies, signs, quick: bool) -> list[dict]:
    """The rules that compare folds (1, 5) or pair fold k of BP with fold k of SchNet (2, 3, 5) again
    without the outlying folds, dropped from the charges and the energies alike (kind ``beyond``: the
    paper rows keep every fold)."""
    drop = outliers(signs)
    if not drop or energies is None:
        return []
    names = ", ".join(fold_names(charges, drop))
    kq, ke = without_folds(charges, drop), without_folds(energies, drop)
    keys = [LABEL_KEY[m] for m in drop]
    out = conserved_rows(_models_only(kq, keys), _models_only(ke, keys), quick)
    out += scaled_rows(_models_only(kq, keys), _models_only(ke, keys), quick, pair=False)
    if len(kq.models()) == 2:
        out += [pair_row(kq, ke, quick), pronounced_row(kq, quick)]
        out += [r for r in scaled_rows(kq, ke, quick) if not r["model"]]
    why = (f"; without {names} (a local mirror solution: Mulliken-sign agreement ≥ 20 points below its best fold), "
           f"the same folds dropped from the energies")
    return [{**r, "claim": f"{r['claim']} — without {names}", "kind": "beyond", "note": r["note"] + why} for r in out]


def _models_only(st, keys):
    from ..interpret.latent import Study

    return Study(st.fold_set, {m: st.frames[m] for m in keys}, {m: st.tests[m] for m in keys}, st.n_molecules,
                 st.data, list(st.flipped))


def rows(charges, energies, mulliken, quick: bool, signs=None) -> list[dict]:
    """Every scorecard row of the chapter: rules 1–5, the rows without outlying folds, the Mulliken rows.
    ``energies`` may be None (no energy checkpoints: the comparisons with energies are not comparable)."""
    out = []
    if energies is None:
        why = "no energy checkpoints of this profile to compare with"
        for claim, model in (("Charges are more conserved across folds than energies", "BP"),
                             ("Charges are more conserved across folds than energies", "SchNet"),
                             ("BP and SchNet charges agree more closely than their energies", "")):
            out.append(_row(claim, model, "yes", "n/a", "see the chapter", None, why))
    else:
        out += conserved_rows(charges, energies, quick)
        out.append(pair_row(charges, energies, quick))
    if len(charges.models()) == 2:
        out.append(pronounced_row(charges, quick))
    if energies is not None:
        out += parallel_rows(charges, energies, quick) + scaled_rows(charges, energies, quick)
        out += without_outlier_rows(charges, energies, signs, quick)
    return out + mulliken_rows(mulliken, quick)


def pair_row(charges, energies, quick: bool) -> dict:
    """Rule 2."""
    t = conservation_table(charges, energies)
    e, q = t.loc["mean", "BP vs SchNet, energy"], t.loc["mean", "BP vs SchNet, charge"]
    holds, note = _verdict(bool(q < e), quick, _pending(charges, energies))
    return _row("BP and SchNet charges agree more closely than their energies", "",
                "charges of both models agree more closely",
                f"BP-vs-SchNet W1/IQR (mean of H, C, N, O): charges {_fmt(q, 2)} vs energies {_fmt(e, 2)}",
                "holds if the BP-vs-SchNet W1/IQR (mean of H, C, N, O) is smaller for charges than for energies",
                holds, note or "W1 / pooled IQR between the models' distributions, fold by fold")


# ------------------------------------------------------------------------------------------ tables
def scaled_table(charges, energies):
    """Rule 5's distances (W1/IQR after the best constant factor) per element and their mean, charges and
    energies side by side (rounded); a one-column note when there are no energy checkpoints."""
    import pandas as pd

    if energies is None:
        return pd.DataFrame({"note": ["no energy checkpoints of this profile"]})
    tq, te = scaled_distances(charges), scaled_distances(energies)
    return pd.concat({"charges": tq, "energies": te}, axis=1).round(3)


def parallels_table(charges, energies):
    """Rule 4's numbers: per model and fold, the carbons compared and Spearman ρ of their latent energy and
    charge (rounded)."""
    import pandas as pd

    if energies is None:
        return pd.DataFrame({"note": ["no energy checkpoints of this profile"]})
    par = carbon_parallels(charges, energies)
    return pd.concat({MODEL_LABELS[m]: t.set_index("fold") for m, t in par.items()}, names=["model"]).round(3)


# ------------------------------------------------------------------------------------------ "What we see"
def what_we_see(charges, energies, quick: bool, signs=None) -> str:
    """The 'What we see' text of Fig. 4 against Fig. 2, from the numbers."""
    out = [_distance_paragraph(charges, energies, quick)]
    if len(charges.models()) == 2:
        d = model_distances(charges.frames["bp"], charges.frames["schnet"], FIG_ELEMENTS, charges.column)["mean"]
        order = list(d.sort_values().index)
        out.append(f"Element by element, BP's and SchNet's charges are closest for {order[0]} and furthest apart "
                   f"for {order[-1]} (order: {', '.join(order)}).")
    if energies is not None:
        par = carbon_parallels(charges, energies)
        out.append("Carbon's latent energy and charge, atom by atom (Spearman ρ, fold mean): " + "; ".join(
            f"{MODEL_LABELS[m]} {t['rho'].mean():+.2f}" for m, t in par.items() if len(t)) + ".")
        tq, te = scaled_distances(charges), scaled_distances(energies)
        if "BP vs SchNet" in tq and "BP vs SchNet" in te:
            out.append(f"After the best constant factor per pair of checkpoints, BP and SchNet differ by W1/IQR = "
                       f"{tq.loc['mean', 'BP vs SchNet']:.3f} in their charges (unscaled "
                       f"{conservation_table(charges, None).loc['mean', 'BP vs SchNet, charge']:.3f}) and "
                       f"{te.loc['mean', 'BP vs SchNet']:.3f} in their energies.")
    drop = outliers(signs)
    if drop:
        out.append(f"{_list(fold_names(charges, drop))} settled in a local mirror solution for some kind of atom "
                   f"(see the sign table below); the fold-based verdicts are given with and without "
                   f"{'it' if sum(map(len, drop.values())) == 1 else 'them'} in the scorecard.")
    return " ".join(x for x in out if x)


def _distance_paragraph(charges, energies, quick: bool) -> str:
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


