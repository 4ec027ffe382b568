"""Fig. 4: the charge claims of the paper's §3.1, declared once (:mod:`.registry`), and their evidence.

Every statement is decided by two or more tests, each pooled and fold by fold: the claims about variation
across folds per pair of folds of one model, the claims comparing BP with SchNet per fold (fold k of BP
against fold k of SchNet), the carbon claims per fold (energy and dipole checkpoint of the same fold).
"W1/IQR" is the Wasserstein-1 distance divided by the pooled interquartile range
(:func:`~.latent.fold_distance`), "KS" the Kolmogorov–Smirnov distance (:func:`~.charges.ks_distance`):
both unit-free, so charges (e) and energies (kcal/mol) compare. "Up to a constant scaling factor" is read
two ways: the one factor that minimises the distance (:func:`~.charges.scaled_distance`) and the factor that
matches the two checkpoints' spreads (:func:`~.charges.spread_scaled_distance`). The carbon claims read
"parallels" atom by atom (|Spearman ρ| of the same carbons' energy and charge) and as distribution shapes
(:func:`~.charges.shape_distance`).

Folds in a local mirror solution (:func:`~.charges.outlying_folds`, a group of atoms ≥ 20 points below
the model's best fold in Mulliken-sign agreement) are named, and the fold claims are given again without
them (kind ``beyond``: the paper rows keep every fold). The Mulliken comparison is kind ``beyond``.
A row is *not comparable* on the quick profile, while a checkpoint it depends on is still training, and
for the fold claims with fewer than two folds.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..interpret.charges import (energy_charge_correlation, energy_charge_shapes, fold_names, outlying_folds,
                                 scaled_distances, without_folds)
from ..interpret.atom_terms import FIG_ELEMENTS, MODEL_LABELS
from ..interpret.latent_stats import fold_distances, mean_over_folds, model_distances
from .claims import QUICK_NOTE, run_caveat, too_few_folds_note
from .findings import join
from .budget import annotate_study, results_path
from .charge_reference import mulliken_rows
from .charge_measures import (divide, fold_ks, fold_label, h_c_over_n_o, mean_finite, model_by_element, pairs_of,
                              ratio_measure, scaled_mean)
from .fold_measures import fold_w1, model_w1, pair_label
from .registry import Claim, Measurement, Test, decide

FIG4 = "§3.1, Fig. 4"
#: "more conserved", "more unique": the charges' distance divided by the energies' is below this
RATIO_MAX = 1.0
#: "a much closer agreement": the charges' BP-vs-SchNet distance is below this share of the energies'
MUCH_CLOSER = 0.5
#: |Spearman ρ| of carbon's latent energy and charge: "parallels" above, "little to no similarity" below
PARALLEL_RHO, NO_SIMILARITY_RHO = 0.5, 0.3
#: :func:`~.charges.shape_distance` below which two distributions have a similar shape (constructed samples:
#: one shape 0.004, two similar three-peaked mixtures 0.04, one peak against two 0.28)
SHAPE_SIMILAR = 0.1
LABEL_KEY = {v: k for k, v in MODEL_LABELS.items()}

_Q_QUAL = ("Pertaining to model level insights, qualitative differences between the energy and dipole models, as "
           "well as between BP and SchNet architectures, can be elucidated based on the distribution of partial "
           "charges obtained for all molecules in QM9 (Fig. 4).")
_Q_CONS = ("Comparing the distributions obtained for the same model trained on different subsets of the data, we "
           "find that in general the distributions of partial charges are more conserved than those obtained for "
           "the atomic energies (Fig. 2).")
_Q_REASON = ("The reason for this behavior is the additional structural information present in the dipole "
             "aggregation operation (Equation 4).")
_Q_UNIQUE = ("The dependence on the atom positions and hence on the molecular shape introduces additional prior "
             "knowledge, thus leading to a more unique partitioning (up to a constant scaling factor).")
_Q_AGREE = ("Further support for this conclusion is offered by the observation that the distribution of charges "
            "obtained with BP networks and SchNets shows a much closer agreement than for the atomic energies.")
_Q_HC = ("This effect is especially pronounced for the hydrogen and carbon partial charge distributions, which "
         "exhibit very similar features.")
_Q_PAR = ("Analyzing these features for the carbon atom, one also notices parallels between the energy and charge "
          "distribution obtained for the BP type model, whereas the SchNet counterparts show little to no "
          "similarity.")
_Q_STATIC = ("As stated above, the reason for this phenomenon is the static nature of descriptors employed in BP "
             "models, which stay the same irrespective of the target property.")
_MEAN = "(means over H, C, N and O)"

QUALITATIVE = Claim("fig4.qualitative-differences", FIG4, _Q_QUAL, "Charge distributions show qualitative "
                    "differences between energy and dipole models and between BP and SchNet",
                    untestable="the sentence says what the distributions can be used for; the differences it "
                               "announces are the claims below, judged one by one")
CONSERVED = Claim(
    "fig4.charges-more-conserved", FIG4, _Q_CONS, "A model's charge distributions move less from fold to fold than "
    "its energy distributions", models=("BP", "SchNet"),
    tests=(Test("W1/IQR ratio", f"the fold-to-fold W1/IQR of the charges divided by that of the energies {_MEAN}",
                RATIO_MAX, "below"),
           Test("KS ratio", f"the fold-to-fold KS distance of the charges divided by that of the energies {_MEAN}",
                RATIO_MAX, "below")))
REASON = Claim("fig4.reason-aggregation", FIG4, _Q_REASON, "The dipole aggregation's positions are why charges are "
               "more conserved", untestable="a cause: deciding it needs dipole models whose aggregation ignores the "
                                            "positions, which neither the paper nor atomint trained")
UNIQUE = Claim(
    "fig4.more-unique-scaled", FIG4, _Q_UNIQUE, "Up to one constant factor, the charge partitioning differs less "
    "between checkpoints than the energy partitioning", models=("BP", "SchNet", ""),
    tests=(Test("fitted factor", "after the one constant factor that minimises the distance between the two "
                f"checkpoints, the W1/IQR of the charges divided by that of the energies {_MEAN}", RATIO_MAX, "below"),
           Test("spread factor", "after one constant factor matching the two checkpoints' standard deviations over "
                f"all their H, C, N and O atoms, the W1/IQR of the charges divided by that of the energies {_MEAN}",
                RATIO_MAX, "below")))
AGREE = Claim(
    "fig4.models-agree-closer", FIG4, _Q_AGREE, "BP's and SchNet's charge distributions agree much more closely than "
    "their energy distributions",
    tests=(Test("W1/IQR ratio", f"the BP-vs-SchNet W1/IQR of the charges divided by that of the energies {_MEAN}",
                MUCH_CLOSER, "below"),
           Test("KS ratio", f"the BP-vs-SchNet KS distance of the charges divided by that of the energies {_MEAN}",
                MUCH_CLOSER, "below")))
HC = Claim(
    "fig4.h-c-closest", FIG4, _Q_HC, "BP's and SchNet's charges agree best for H and C", models=("",),
    tests=(Test("W1/IQR", "the larger BP-vs-SchNet charge W1/IQR of H and C divided by the smaller of N and O",
                1.0, "below"),
           Test("KS", "the larger BP-vs-SchNet charge KS distance of H and C divided by the smaller of N and O", 1.0,
                "below"),
           Test("the effect", "the larger of H's and C's charge-to-energy ratio of BP-vs-SchNet W1/IQR divided by the "
                "smaller of N's and O's (\"this effect\": charges closer than energies)", 1.0, "below")))
BP_PARALLELS = Claim(
    "fig4.bp-carbon-parallels", FIG4, _Q_PAR, "BP's carbon energies and charges show parallels", models=("BP",),
    tests=(Test("|Spearman ρ|", "|Spearman ρ| of the same carbons' latent energy and latent charge", PARALLEL_RHO,
                "above"),
           Test("shape distance", "the shape distance of carbon's latent energy and charge distributions (each "
                "centred on its median and divided by its IQR; W1, either sign)", SHAPE_SIMILAR, "below")))
SCHNET_NO_SIMILARITY = Claim(
    "fig4.schnet-carbon-no-similarity", FIG4, _Q_PAR, "SchNet's carbon energies and charges show little to no "
    "similarity", models=("SchNet",),
    tests=(Test("|Spearman ρ|", BP_PARALLELS.tests[0].metric, NO_SIMILARITY_RHO, "below"),
           Test("shape distance", BP_PARALLELS.tests[1].metric, SHAPE_SIMILAR, "above")))
STATIC = Claim("fig4.reason-static-descriptors", FIG4, _Q_STATIC, "BP's fixed descriptors are why its carbon "
               "energies and charges are alike", models=("BP",),
               untestable="a cause: deciding it needs a BP model with learned descriptors, which neither the paper "
                          "nor atomint trained")

#: every claim of the chapter, in the order of the paper
CLAIMS = (QUALITATIVE, CONSERVED, REASON, UNIQUE, AGREE, HC, BP_PARALLELS, SCHNET_NO_SIMILARITY, STATIC)
#: the claims that compare folds or fold k of BP with fold k of SchNet: given again without outlying folds
FOLD_CLAIMS = (CONSERVED, UNIQUE, AGREE, HC)


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


# ------------------------------------------------------------------------------------------ the paper's claims
def evidence(charges, energies) -> dict:
    """Per claim id and model label: ``{test name: Measurement}`` for every claim of :data:`CLAIMS` the two
    studies can measure (``energies`` may be None: only the charge-only test of :data:`HC` then)."""
    out = {}
    both = len(charges.models()) == 2
    common = sorted(set(charges.frames.get("bp", {})) & set(charges.frames.get("schnet", {})))
    if energies is not None:
        for m in charges.models():
            if m not in energies.frames:
                continue
            label = MODEL_LABELS[m]
            pairs = [p for p in pairs_of(charges, m) if p in set(pairs_of(energies, m))]
            if pairs:
                out[(CONSERVED.id, label)] = {
                    "W1/IQR ratio": ratio_measure({p: fold_w1(charges, m, p, False) for p in pairs},
                                           {p: fold_w1(energies, m, p, False) for p in pairs}, pair_label),
                    "KS ratio": ratio_measure({p: fold_ks(charges, m, p) for p in pairs},
                                       {p: fold_ks(energies, m, p) for p in pairs}, pair_label)}
                out[(UNIQUE.id, label)] = {
                    how: ratio_measure({p: scaled_mean(charges, charges.frames[m][p[0]], charges.frames[m][p[1]], how)
                                 for p in pairs},
                                {p: scaled_mean(energies, energies.frames[m][p[0]], energies.frames[m][p[1]], how)
                                 for p in pairs}, pair_label)
                    for how in ("fitted factor", "spread factor")}
            rho = energy_charge_correlation(energies.frames[m], charges.frames[m], "C")
            shape = energy_charge_shapes(energies.frames[m], charges.frames[m], "C")
            if len(rho):
                claim = BP_PARALLELS if m == "bp" else SCHNET_NO_SIMILARITY
                out[(claim.id, label)] = {
                    "|Spearman ρ|": Measurement(mean_finite(rho["rho"].abs()), tuple(float(abs(r)) for r in rho["rho"]),
                                                tuple(fold_label(int(k)) for k in rho["fold"])),
                    "shape distance": Measurement(mean_finite(shape["shape"]), tuple(float(x) for x in shape["shape"]),
                                                  tuple(fold_label(int(k)) for k in shape["fold"]))}
    if both and common:
        q = {how: {k: model_by_element(charges, k, how) for k in common} for how in ("W1/IQR", "KS")}
        hc = {name: Measurement(h_c_over_n_o({e: mean_finite(q[how][k][e] for k in common) for e in FIG_ELEMENTS}),
                                tuple(h_c_over_n_o(q[how][k]) for k in common), tuple(map(fold_label, common)))
              for name, how in (("W1/IQR", "W1/IQR"), ("KS", "KS"))}
        e_common = [k for k in common if energies is not None and len(energies.models()) == 2
                    and k in energies.frames["bp"] and k in energies.frames["schnet"]]
        if e_common:
            en = {k: model_by_element(energies, k, "W1/IQR") for k in e_common}
            eff = {k: {e: divide(q["W1/IQR"][k][e], en[k][e]) for e in FIG_ELEMENTS} for k in e_common}
            pooled = {e: divide(mean_finite(q["W1/IQR"][k][e] for k in e_common), mean_finite(en[k][e] for k in e_common))
                      for e in FIG_ELEMENTS}
            hc["the effect"] = Measurement(h_c_over_n_o(pooled), tuple(h_c_over_n_o(eff[k]) for k in e_common),
                                           tuple(map(fold_label, e_common)))
            out[(AGREE.id, "")] = {
                "W1/IQR ratio": ratio_measure({k: model_w1(charges, k, k, False) for k in e_common},
                                       {k: model_w1(energies, k, k, False) for k in e_common}, fold_label),
                "KS ratio": ratio_measure({k: mean_finite(q["KS"][k].values()) for k in e_common},
                                   {k: mean_finite(model_by_element(energies, k, "KS").values()) for k in e_common},
                                   fold_label)}
            out[(UNIQUE.id, "")] = {
                how: ratio_measure({k: scaled_mean(charges, charges.frames["bp"][k], charges.frames["schnet"][k], how)
                             for k in e_common},
                            {k: scaled_mean(energies, energies.frames["bp"][k], energies.frames["schnet"][k], how)
                             for k in e_common}, fold_label)
                for how in ("fitted factor", "spread factor")}
        else:
            hc["the effect"] = Measurement(None)
        out[(HC.id, "")] = hc
    return out


def _pending_for(models, *studies) -> str | None:
    """Why no verdict while a checkpoint of ``models`` (keys, e.g. ``("bp",)``; all when empty) is still
    training: a verdict about BP does not wait for a SchNet checkpoint that is still training."""
    names = [n for st in studies if st is not None for n in st.fold_set.in_progress
             if not models or n.split("-")[0] in models]
    if not names:
        return None
    return f"preliminary: {', '.join(names)} still training, a verdict on unfinished models would be premature"


def _why_not(claim, label, charges, energies, quick: bool) -> str | None:
    if quick:
        return QUICK_NOTE
    models = (LABEL_KEY[label],) if label else ("bp", "schnet")
    if claim in (CONSERVED, UNIQUE) and label:
        few = too_few_folds_note(charges, models) or (too_few_folds_note(energies, models)
                                                      if energies is not None else None)
        if few:
            return few
    return _pending_for(models if label else (), charges, energies)


_NOTES = {CONSERVED.id: "W1 / pooled IQR and KS between folds of the same model, per pair of folds",
          UNIQUE.id: "the constant factor per pair of checkpoints, over the same atoms",
          AGREE.id: "fold k of BP against fold k of SchNet",
          HC.id: "fold k of BP against fold k of SchNet",
          BP_PARALLELS.id: "energy and dipole checkpoint of the same fold, the same carbons",
          SCHNET_NO_SIMILARITY.id: "energy and dipole checkpoint of the same fold, the same carbons"}


def claim_rows(charges, energies, quick: bool, claims=CLAIMS, *, ev=None, rename=None) -> list[dict]:
    """The registry rows of ``claims``, one per claim and model label the studies have. ``rename``: a
    function of a claim giving the claim to show (the rows without outlying folds)."""
    ev = evidence(charges, energies) if ev is None else ev
    present = {MODEL_LABELS[m] for m in charges.models()} | ({""} if len(charges.models()) == 2 else set())
    out = []
    for claim in claims:
        shown = rename(claim) if rename else claim
        for label in claim.models:
            if label not in present and claim.untestable is None:
                continue
            if claim.untestable is not None:
                out.append(decide(shown, label, {}).row())
                continue
            m = ev.get((claim.id, label))
            why = _why_not(claim, label, charges, energies, quick)
            if m is None:
                m = {t.name: Measurement(None) for t in claim.tests}
                why = why or ("no energy checkpoints of this profile to compare with" if energies is None else
                              "no fold with both checkpoints")
            out.append(decide(shown, label, m, why_not=why, note=_NOTES.get(claim.id, "")).row())
    return out


def raw_model_w1(charges) -> dict:
    """BP-vs-SchNet W1 per element in the charges' unit (e), fold by fold over shared folds, mean."""
    from ..interpret.latent_stats import fold_distance, values_of

    common = sorted(set(charges.frames["bp"]) & set(charges.frames["schnet"]))
    return {e: float(np.mean([fold_distance(values_of(charges.frames["bp"][k], e, charges.column),
                                            values_of(charges.frames["schnet"][k], e, charges.column), 1.0)
                              for k in common])) for e in FIG_ELEMENTS}


def carbon_parallels(charges, energies) -> dict:
    """Rule 4's numbers: ``{model key: table of energy_charge_correlation for carbon}``."""
    return {m: energy_charge_correlation(energies.frames[m], charges.frames[m], "C")
            for m in charges.models() if m in energies.frames}


def outliers(signs) -> dict[str, list[int]]:
    """The folds in a local mirror solution, ``{model label: [folds]}`` (none without a sign table)."""
    return outlying_folds(signs) if signs is not None else {}


def without_outlier_rows(charges, energies, signs, quick: bool) -> list[dict]:
    """The fold claims (:data:`FOLD_CLAIMS`) again without the outlying folds, dropped from the charges and
    the energies alike (kind ``beyond``: the paper rows keep every fold); per model only for the models
    with an outlying fold."""
    drop = outliers(signs)
    if not drop or energies is None:
        return []
    names = ", ".join(fold_names(charges, drop))
    kq, ke = without_folds(charges, drop), without_folds(energies, drop)
    keys = {LABEL_KEY[m] for m in drop}
    why = (f"without {names} (a local mirror solution: Mulliken-sign agreement ≥ 20 points below its best fold), "
           f"the same folds dropped from the energies")

    def rename(c):
        return dataclasses.replace(c, id=f"{c.id}.without-outliers", kind="beyond",
                                   statement=f"{c.statement} — without {names}")

    rows = claim_rows(kq, ke, quick, FOLD_CLAIMS, rename=rename)
    rows = [r for r in rows if (r["model"] == "" and len(kq.models()) == 2) or LABEL_KEY.get(r["model"]) in keys]
    return [{**r, "note": "; ".join(x for x in (r["note"], why) if x)} for r in rows]


def rows(charges, energies, mulliken, quick: bool, signs=None) -> list[dict]:
    """Every scorecard row of the chapter: the registry's claims (:data:`CLAIMS`), the fold claims without
    outlying folds, the Mulliken rows. ``energies`` may be None (no energy checkpoints: the comparisons
    with energies are not comparable)."""
    out = claim_rows(charges, energies, quick)
    out += without_outlier_rows(charges, energies, signs, quick)
    return annotate_study(out + mulliken_rows(mulliken, quick), CLAIMS, charges, quick, results_path("fig4"))


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
        out.append(f"{join(fold_names(charges, drop))} settled in a local mirror solution for some kind of atom "
                   f"(see the sign table below); the fold-based verdicts are given with and without "
                   f"{'it' if sum(map(len, drop.values())) == 1 else 'them'} in the scorecard.")
    return " ".join(x for x in out if x)


def _distance_paragraph(charges, energies, quick: bool) -> str:
    """The 'What we see' text of Fig. 4 against Fig. 2, from the numbers."""
    out = [run_caveat(quick, charges, energies)]
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
        out.append(f"{join(rest)} {'lacks' if len(rest) == 1 else 'lack'} two folds of both targets in this run, so "
                   f"the fold-to-fold comparison cannot be made for {'it' if len(rest) == 1 else 'them'}.")
    q, e = t.loc["mean", "BP vs SchNet, charge"], t.loc["mean", "BP vs SchNet, energy"]
    rel = "closer" if q < e else "further apart"
    per = ", ".join(f"{el} {t.loc[el, 'BP vs SchNet, charge']:.2f} vs {t.loc[el, 'BP vs SchNet, energy']:.2f}"
                    for el in FIG_ELEMENTS if el in t.index)
    out.append(f"BP and SchNet are {rel} in their charges (W1/IQR = {q:.3f}) than in their energies ({e:.3f}); per "
               f"element, charges vs energies: {per}.")
    return " ".join(x for x in out if x)


