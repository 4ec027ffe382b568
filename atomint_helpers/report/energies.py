"""Fig. 2 and the paper's §1 saliency remark: the claims, declared once (:mod:`.registry`), and their evidence.

Every statement is decided by two or more tests, each on the pooled data (the fold mean, or all fold
pairs) and fold by fold (one value per fold, or per pair of folds for the claims about variation across
folds). "W1/IQR" is the Wasserstein-1 distance between two distributions divided by their mean
interquartile range (scale-free); "absolute W1" is the same distance in kcal/mol. A row is *not
comparable* on the quick profile and while a checkpoint it depends on is still training.
"""
from __future__ import annotations

import numpy as np

from ..interpret.energy_partition import fold_outlier, pair_distances
from ..interpret.atom_terms import FIG_ELEMENTS, MODEL_LABELS
from ..interpret.latent_stats import fold_distances, mean_over_folds, model_distances
from ..interpret.latent_stats import deviation_share, histogram_peaks, values_of
from .fold_measures import (common_folds, fold_pairs, fold_w1, max_ratio, model_w1, per_fold, per_pair,
                            spread_by_element, variation_ratio)
from .budget import annotate_study
from .claims import QUICK_NOTE, format_significant, still_training_note
from .registry import Claim, Measurement, Test, decide

FIG2 = "§3.1, Fig. 2"
#: "well conserved": a fold-to-fold shift below this share of the interquartile range
CONSERVED_W1_IQR = 0.25
#: "qualitatively different": the model-to-model distance at least this many times the fold-to-fold one
DIFFERENT_FACTOR = 2.0
#: "peaks correspond to local environments": the number of neighbours explains at least this share
ETA2_MIN = 0.5

_Q_WIDER = ("Generally, energy distributions of the BP architecture are wider than their SchNet counterparts "
            "and show more distinct features.")
_Q_CONSERVED = ("While the energy contributions within a model are well conserved in general, we find that this "
                "effect is significantly more pronounced for the SchNet architecture.")
_Q_FREQUENT = ("Less frequent elements such as oxygen show greater variation compared to the abundant hydrogen "
               "and carbon atoms.")

NARROWER = Claim(
    "fig2.bp-wider", FIG2, _Q_WIDER, "BP's atomic-energy distributions are wider than SchNet's (H, C, N, O)",
    tests=(Test("IQR ratio", "the largest SchNet/BP ratio of interquartile ranges over H, C, N and O", 1.0, "below"),
           Test("std ratio", "the largest SchNet/BP ratio of standard deviations over H, C, N and O", 1.0, "below")))
DISTINCT = Claim(
    "fig2.bp-distinct-features", FIG2, _Q_WIDER, "BP's distributions show more distinct features than SchNet's",
    tests=(Test("peaks", "BP's minus SchNet's number of histogram peaks, summed over H, C, N and O", 0.0, "above"),
           Test("carbon environments", "BP's minus SchNet's η² (on ranks) of carbon energies by number of "
                "bonded neighbours", 0.0, "above")))
CONSERVED = Claim(
    "fig2.conserved", FIG2, _Q_CONSERVED, "The energy contributions within a model are well conserved across folds",
    models=("BP", "SchNet"),
    tests=(Test("against the model gap", "the fold-to-fold W1/IQR divided by the BP-vs-SchNet W1/IQR (means over "
                "H, C, N and O)", 1.0, "below"),
           Test("absolute shift", "the fold-to-fold W1/IQR (mean over H, C, N and O)", CONSERVED_W1_IQR, "below")))
MORE_PRONOUNCED = Claim(
    "fig2.schnet-more-conserved", FIG2, _Q_CONSERVED, "Conservation across folds is more pronounced for SchNet",
    tests=(Test("W1/IQR ratio", "SchNet's fold-to-fold W1/IQR divided by BP's (means over H, C, N and O)", 1.0,
                "below"),
           Test("absolute W1 ratio", "SchNet's fold-to-fold W1 in kcal/mol divided by BP's (means over H, C, N "
                "and O)", 1.0, "below"),
           Test("separation", "SchNet's most distant fold pair divided by BP's closest (W1/IQR)", 1.0, "below")))
O_VARIES = Claim(
    "fig2.o-varies-more", FIG2, _Q_FREQUENT, "O varies more across folds than H and C", models=("BP", "SchNet"),
    tests=(Test("W1/IQR", "O's fold-to-fold W1/IQR divided by the larger of H's and C's", 1.0, "above"),
           Test("absolute W1", "O's fold-to-fold W1 in kcal/mol divided by the larger of H's and C's", 1.0,
                "above")))
N_VARIES = Claim(
    "fig2.n-varies-more", FIG2, _Q_FREQUENT, "N, also less frequent than H and C, varies more across folds than "
    "H and C", models=("BP", "SchNet"),
    tests=(Test("W1/IQR", "N's fold-to-fold W1/IQR divided by the larger of H's and C's", 1.0, "above"),
           Test("absolute W1", "N's fold-to-fold W1 in kcal/mol divided by the larger of H's and C's", 1.0,
                "above")))
DIFFERENT = Claim(
    "fig2.different-partitionings", FIG2,
    "As shown in Figure 2, both atomistic models arrive at qualitatively different partitionings of the atomic "
    "energies.", "The two models arrive at different partitionings of the atomic energies",
    tests=(Test("W1/IQR", "the BP-vs-SchNet W1/IQR divided by the larger of the two models' fold-to-fold W1/IQR",
                DIFFERENT_FACTOR, "above"),
           Test("absolute W1", "the BP-vs-SchNet W1 in kcal/mol divided by the larger of the two models' "
                "fold-to-fold W1", DIFFERENT_FACTOR, "above")))
CARBON_PEAKS = Claim(
    "fig2.bp-carbon-environments", FIG2,
    "This is particularly prominent in the case of carbon, where the different peaks of the distribution simply "
    "correspond to the various local environments present in QM9.",
    "BP's carbon peaks correspond to the local environments (sp3, sp2, sp)", models=("BP",),
    tests=(Test("η² on ranks", "the share of the ranked variance of carbon's latent energies explained by its "
                "number of bonded neighbours", ETA2_MIN, "above"),
           Test("η² plain", "the share of the variance of carbon's latent energies explained by its number of "
                "bonded neighbours", ETA2_MIN, "above")))
CARBON_PEAKS_SCHNET = Claim(
    "beyond.schnet-carbon-environments", "", "", "SchNet's carbon energies by local environment (the same tests "
    "as BP's)", kind="beyond", models=("SchNet",), tests=CARBON_PEAKS.tests)
MINIMAL_DEVIATION = Claim(
    "fig2.schnet-minimal-deviation", FIG2,
    "The narrow shape observed for the SchNet energy distributions indicates that this type of model arrives at "
    "a simple solution of the learning problem by keeping the deviation of the interaction energies within atom "
    "types to a minimum.", "SchNet keeps the deviation of the atomic energies within an element smaller than BP",
    tests=(Test("deviation share", "SchNet's divided by BP's share of the molecular energy variance carried by the "
                "atoms' deviations from their element mean", 1.0, "below"),
           Test("within-element IQR", "SchNet's divided by BP's mean interquartile range over H, C, N and O", 1.0,
                "below")))
RETAINED = Claim(
    "fig2.bp-retains-descriptors", FIG2,
    "Hence, patterns already present in the descriptors are more or less retained in the latent properties.",
    "BP's latent energies retain the patterns of its descriptors (more than SchNet's do)",
    tests=(Test("linear R² gap", "BP's minus SchNet's cross-validated R² of a ridge regression of the latent "
                "energy on the atom's symmetry functions (mean over H, C, N and O)", 0.0, "above"),
           Test("neighbour R² gap", "BP's minus SchNet's cross-validated R² of the mean latent energy of the 10 "
                "nearest atoms in symmetry-function space (mean over H, C, N and O)", 0.0, "above")))
SALIENCY = Claim(
    "s1.saliency", "§1",
    "Therefore, input gradients would indicate that the atom positions are not important, which is clearly wrong.",
    "At equilibrium the forces vanish, so input-gradient saliency would call the positions unimportant",
    models=("BP", "SchNet"),
    untestable="the statement is about exact forces, which vanish at QM9's relaxed geometries by construction; our "
               "energy models were trained on equilibrium energies only, so their gradients are not forces and "
               "cannot stand in for them")

#: every claim of the chapter, in the order of the paper
CLAIMS = (NARROWER, DISTINCT, RETAINED, MINIMAL_DEVIATION, CARBON_PEAKS, CONSERVED, MORE_PRONOUNCED, O_VARIES, N_VARIES,
          DIFFERENT, SALIENCY)


# ------------------------------------------------------------------------------------------ numbers
def width_table(study, elements=FIG_ELEMENTS):
    """Claim 1's numbers: fold-mean std and IQR per element and model, and SchNet/BP ratios."""
    import pandas as pd

    t = {m: mean_over_folds(study.frames[m], elements, study.column) for m in study.models()}
    out = pd.DataFrame({"BP std": t["bp"]["std"], "SchNet std": t["schnet"]["std"],
                        "BP IQR": t["bp"]["IQR"], "SchNet IQR": t["schnet"]["IQR"]})
    out["SchNet/BP (IQR)"] = out["SchNet IQR"] / out["BP IQR"]
    out["SchNet/BP (std)"] = out["SchNet std"] / out["BP std"]
    return out


def fold_distance_table(study, elements=FIG_ELEMENTS, noise: bool = False):
    """Fold-to-fold W1/IQR (mean over fold pairs) per element (rows) and model, the model-to-model
    distance, and with ``noise`` each model's sampling noise floor (two random halves of one fold)."""
    import pandas as pd

    from ..interpret.latent_study import noise_floor

    cols = {}
    for m in study.models():
        cols[MODEL_LABELS[m]] = fold_distances(study.frames[m], elements, study.column)["mean"]
        if noise:
            cols[f"{MODEL_LABELS[m]} noise floor"] = noise_floor(study.frames[m][min(study.frames[m])], elements,
                                                                 study.column)
    if len(study.models()) == 2:
        cols["BP vs SchNet"] = model_distances(study.frames["bp"], study.frames["schnet"], elements,
                                               study.column)["mean"]
    return pd.DataFrame(cols)


def _why_not(study, quick: bool, models) -> str | None:
    """Why this build cannot decide a claim about ``models`` (``None``: it can)."""
    if quick:
        return QUICK_NOTE
    return still_training_note(study, models=models)


def outlier(study, m):
    return fold_outlier(pair_distances(study.frames[m], FIG_ELEMENTS, study.column))


def _retention(retention: dict) -> dict:
    """RETAINED's measurements from :func:`~atomint_helpers.interpret.descriptor_retention.study_retention`."""
    folds = sorted(retention)

    def gap(k, i):
        by = retention[k]
        return float(np.nanmean([by["bp"][e][i] - by["schnet"][e][i] for e in by["bp"]]))

    return {name: per_fold(lambda k, i=i: gap(k, i), folds) for i, name in enumerate(("linear R² gap",
                                                                                      "neighbour R² gap"))}


def evidence(study, env=None, retention: dict | None = None) -> dict:
    """Per claim id and model label: ``{test name: Measurement}`` for every claim of :data:`CLAIMS` this
    study can measure (``retention``: :func:`~atomint_helpers.interpret.descriptor_retention.study_retention`)."""
    col, out = study.column, {}
    if retention:
        out[(RETAINED.id, "")] = _retention(retention)
    both = common_folds(study)
    models = study.models()
    if len(models) == 2 and both:
        def ratio(stat, agg):
            def f(k):
                return max_ratio(spread_by_element(study.frames["schnet"][k], col, stat), spread_by_element(study.frames["bp"][k], col, stat))
            m = per_fold(f, both)
            mean = mean_over_folds(study.frames["schnet"], FIG_ELEMENTS, col)[agg] / \
                mean_over_folds(study.frames["bp"], FIG_ELEMENTS, col)[agg]
            return Measurement(float(mean.max()), m.folds, m.labels)

        out[(NARROWER.id, "")] = {"IQR ratio": ratio("IQR", "IQR"), "std ratio": ratio("std", "std")}

        def peaks(k):
            return float(sum(histogram_peaks(values_of(study.frames["bp"][k], e, col)) for e in FIG_ELEMENTS)
                         - sum(histogram_peaks(values_of(study.frames["schnet"][k], e, col)) for e in FIG_ELEMENTS))

        def mean_iqr_ratio(k):
            a, b = spread_by_element(study.frames["schnet"][k], col, "IQR"), spread_by_element(study.frames["bp"][k], col, "IQR")
            return float(np.nanmean(list(a.values())) / np.nanmean(list(b.values())))

        def dev_ratio(k):
            return deviation_share(study.frames["schnet"][k], col) / deviation_share(study.frames["bp"][k], col)

        out[(MINIMAL_DEVIATION.id, "")] = {"deviation share": per_fold(dev_ratio, both),
                                            "within-element IQR": per_fold(mean_iqr_ratio, both)}
        distinct = {"peaks": per_fold(peaks, both)}
        if env is not None:
            def eta_gap(k):
                t = env[env["fold"] == k].set_index("model")["eta2_rank"]
                return float(t[MODEL_LABELS["bp"]] - t[MODEL_LABELS["schnet"]])
            distinct["carbon environments"] = per_fold(eta_gap, both)
            out[(DISTINCT.id, "")] = distinct
    if env is not None:
        for m in models:
            t = env[env["model"] == MODEL_LABELS[m]].set_index("fold")
            folds = sorted(t.index)
            cid = CARBON_PEAKS.id if m == "bp" else CARBON_PEAKS_SCHNET.id
            out[(cid, MODEL_LABELS[m])] = {"η² on ranks": per_fold(lambda k: float(t.loc[k, "eta2_rank"]), folds),
                                           "η² plain": per_fold(lambda k: float(t.loc[k, "eta2"]), folds)}
    multi = [m for m in models if study.n_folds(m) >= 2]
    for m in multi:
        label = MODEL_LABELS[m]
        out[(O_VARIES.id, label)] = {"W1/IQR": variation_ratio(study, m, "O", False),
                                     "absolute W1": variation_ratio(study, m, "O", True)}
        out[(N_VARIES.id, label)] = {"W1/IQR": variation_ratio(study, m, "N", False),
                                     "absolute W1": variation_ratio(study, m, "N", True)}
    if len(multi) == 2 and both:
        # every fold pair's W1 (scale-free and absolute) once; the claims below read it
        w1 = {(m, p, a): fold_w1(study, m, p, a) for m in multi for p in fold_pairs(study, m) for a in (False, True)}
        gap = float(np.mean([model_w1(study, k, k, False) for k in both]))
        for m in multi:
            pairs = fold_pairs(study, m)
            out[(CONSERVED.id, MODEL_LABELS[m])] = {
                "against the model gap": per_pair(lambda p: w1[(m, p, False)] / gap, pairs),
                "absolute shift": per_pair(lambda p: w1[(m, p, False)], pairs)}
        pairs = [p for p in fold_pairs(study, "schnet") if p in set(fold_pairs(study, "bp"))]
        sn = {p: w1[("schnet", p, False)] for p in fold_pairs(study, "schnet")}
        bp = {p: w1[("bp", p, False)] for p in fold_pairs(study, "bp")}
        out[(MORE_PRONOUNCED.id, "")] = {
            "W1/IQR ratio": per_pair(lambda p: sn[p] / bp[p], pairs),
            "absolute W1 ratio": per_pair(lambda p: w1[("schnet", p, True)] / w1[("bp", p, True)], pairs),
            "separation": Measurement(max(sn.values()) / min(bp.values()))}
        within = {a: {m: float(np.mean([w1[(m, p, a)] for p in fold_pairs(study, m)])) for m in multi}
                  for a in (False, True)}
        out[(DIFFERENT.id, "")] = {
            name: per_fold(lambda k, a=a: model_w1(study, k, k, a) / max(within[a].values()), both)
            for name, a in (("W1/IQR", False), ("absolute W1", True))}
    return out


def retention_table(retention: dict):
    """The descriptor-retention scores for reading: per fold, model and element, the cross-validated R² of
    the linear and the neighbour regression (:mod:`~atomint_helpers.interpret.descriptor_retention`)."""
    import pandas as pd

    rows = [{"fold": k, "model": MODEL_LABELS[m], "element": e, "linear R²": lin, "neighbour R²": knn}
            for k, by in sorted(retention.items()) for m, els in by.items() for e, (lin, knn) in els.items()]
    return pd.DataFrame(rows).set_index(["fold", "model", "element"])


def _saliency_note(sal: dict | None, m: str) -> str:
    if not sal or m not in sal:
        return SALIENCY.untestable
    s = sal[m]
    return (f"{SALIENCY.untestable}: at those geometries {MODEL_LABELS[m]}'s median atom gradient is "
            f"{format_significant(s['grad_eq'], 2)} kcal/mol/Å, not 0 "
            f"({s['n_molecules']} test molecules of {s['checkpoint']})")


def shift_note(shifts) -> str:
    """The design confound of the shared element shifts in words, from
    :func:`~atomint_helpers.interpret.energy_partition.element_shifts`."""
    if shifts is None or not len(shifts):
        return ""
    by = shifts.pivot_table(index=["fold", "element"], columns="model", values="shift")
    parts = []
    if by.shape[1] == 2:
        gap = float(np.nanmax(np.abs(by.iloc[:, 0] - by.iloc[:, 1])))
        same = ("identical for BP and SchNet of a fold" if gap == 0 else
                f"BP and SchNet of a fold differ by at most {gap:.1e} kcal/mol")
        parts.append(f"both heads add the same per-element energy shift to every atom of an element ({same})")
    off = shifts.groupby("model")["offset"].apply(lambda x: float(np.nanmax(np.abs(x))))
    parts.append("the element means sit within " + " and ".join(f"{v:.2f} IQR ({k})" for k, v in off.items())
                 + " of them")
    return "Design confound: " + "; ".join(parts) + "."


#: the claims whose reading the shared element shifts bear on
_SHIFT_CLAIMS = ("fig2.different-partitionings", "fig2.schnet-minimal-deviation", "fig2.bp-wider")


def rows(study, quick: bool, env=None, sal: dict | None = None, retention: dict | None = None,
         shifts=None) -> list[dict]:
    """Every scorecard row of the chapter: one :class:`~.registry.Verdict` per claim and model
    (``shifts``: :func:`~atomint_helpers.interpret.energy_partition.element_shifts`, stated as a design
    confound in the note of the claims it bears on)."""
    ev = evidence(study, env, retention)
    confound = shift_note(shifts)
    out = []
    for claim in CLAIMS + (CARBON_PEAKS_SCHNET,):
        for label in claim.models:
            if claim.untestable is not None:  # no tests: the row says why, with what was measured beside it
                m = next(k for k, v in MODEL_LABELS.items() if v == label)
                if m in study.models():
                    note = _saliency_note(sal, m) if claim is SALIENCY else claim.untestable
                    out.append(decide(claim, label, {}, note=note).row())
                continue
            models = ("bp", "schnet") if label == "" else tuple(k for k, v in MODEL_LABELS.items() if v == label)
            if (claim.id, label) not in ev:
                continue
            v = decide(claim, label, ev[(claim.id, label)], why_not=_why_not(study, quick, models),
                       note=confound if claim.id in _SHIFT_CLAIMS else "")
            out.append(v.row())
    return annotate_study(out, CLAIMS + (CARBON_PEAKS_SCHNET,), study, quick)
