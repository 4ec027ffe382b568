"""Fig. 3: the claims about the most stable six-membered carbon rings, declared once (:mod:`.registry`).

A ring's score is the sum of its six carbons' latent atomic energies (kcal/mol); the most negative score is
the most stable ring. Each top ten holds at most one ring per molecule. The paper ranked the rings of one
model, so every ranking claim is judged **fold by fold** (each fold's own top ten) and pooled on the
fold-mean ranking. Base rates of motifs are taken among *comparable* rings: the molecules with an aromatic
six-membered carbon ring (the top-ten rings are aromatic), not among all ring molecules.

The ring mechanisms of §3.1 (a conjugated or alkyne substituent, fluorine, OH/NH donors) are judged as
score shifts against the same ring carbon carrying a hydrogen (:func:`~.ring_stats.substituent_shift`, a
least-squares fit over the aromatic rings with every substituent class a regressor), and, as a second
reading, as the median score difference between the aromatic rings with and without the substituent.
A row is *not comparable* on the quick profile and while a checkpoint it depends on is still training.
The stability of the top ten from fold to fold is reported beside (kind ``beyond``, no verdict).
"""
from __future__ import annotations

import numpy as np

from ..interpret.ring_stats import (enrichment_p, fold_differences, median_shift, relative_scores,
                                    substituent_shift, substituents, top_stability)
from ..interpret.rings import top_rings
from .budget import annotate_study, results_path
from .claims import QUICK_NOTE, format_significant, run_caveat, still_training_note, verdict_and_note
from .registry import Claim, Measurement, Test, decide

FIG3 = "§3.1, Fig. 3"
TOP_N = 10
#: "six out of the ten": at least this many of the top ten carry a C≡C (one ring either way)
ALKYNE_MIN = 5
#: a motif is over-represented in a top ten when at least that many carriers among ten comparable molecules
#: would arise by chance with a probability below this (binomial upper tail)
ENRICH_P = 0.05
#: a substituent stabilises the ring when the ring score moves below this per substituent (kcal/mol)
SHIFT_MAX = 0.0
#: the fewest comparable rings carrying a substituent class for a shift to be measured
MIN_RINGS = 20
#: how many of the most stable rings the looser reading of "the most stable ring" looks at
TOP_FEW = 3

_Q_CHEM = ("The SchNet stability ranking appears to capture central aspects of the chemistry of the investigated "
           "systems.")
_Q_O5 = "For example, the most stable ring is found to be adjacent to a five membered ring involving oxygen."
_Q_MESO = ("Since the carbon atoms in the smaller ring are connected via a double bond, the system of the aromatic "
           "ring is extended, leading to the high stability.")
_Q_ALKYNE = "The same reasoning holds true for alkyne substituents, which are found in six out of the ten structures."
_Q_F = "Another common motif is the presence of a fluorine atom."
_Q_F_MECH = ("Due to its high electronegativity, fluorine forms very strong bonds with carbon, thus contributing "
             "greatly to the overall stability of the system.")
_Q_BP_F = "In case of the BP ranking, similar patterns are found for fluorine."
_Q_DONOR = ("Otherwise, the BP model shows preference for groups donating electron density to the central ring, "
            "such as hydroxy (OH) and amine (NH) groups.")
_Q_INDUCTIVE = ("This trend is referred to as the inductive effect in organic chemistry and is known to increase ring "
                "stability similar to the mesomeric effect observed above [52].")
_Q_MORE = ("Finally, we find that the BP based model attributes more energy to the ring carbons than SchNet, providing "
           "further evidence that SchNet strives to learn a partitioning that minimizes the deviation of the "
           "interaction energies within atom types.")


def _count_test(what: str, k: int) -> Test:
    return Test("count", f"the number of the model's top ten molecules that carry {what}", k - 0.5, "above")


def _enrich_test(what: str) -> Test:
    return Test("enrichment", f"the chance of at least as many top-ten molecules carrying {what} at its share among "
                f"the molecules with an aromatic six-membered carbon ring (binomial upper tail)", ENRICH_P, "below")


def _shift_tests(what: str) -> tuple[Test, Test]:
    return (Test("shift against H", f"the ring score per {what} on a ring carbon in place of a hydrogen (least "
                 f"squares over the aromatic rings, every substituent class a regressor)", SHIFT_MAX, "below",
                 "kcal/mol"),
            Test("median difference", f"the median score of the aromatic rings carrying at least one {what} minus that "
                 f"of those carrying none", SHIFT_MAX, "below", "kcal/mol"))


CHEMISTRY = Claim("fig3.schnet-captures-chemistry", FIG3, _Q_CHEM, "SchNet's ranking captures central aspects of the "
                  "chemistry", models=("SchNet",),
                  untestable="'central aspects of the chemistry' names no property to measure; the aspects the "
                             "paper names (a fused O-ring, alkynes, fluorine, donors) are judged in their own rows")
TOP_O5 = Claim(
    "fig3.schnet-top-ring-fused-o5", FIG3, _Q_O5, "SchNet's most stable ring is fused to an O-containing "
    "five-membered ring", models=("SchNet",),
    tests=(Test("top ring", "an indicator (1 when the model's top-ranked ring shares at least two atoms with a "
                "five-membered ring containing O, else 0)", 0.5, "above"),
           Test(f"top {TOP_FEW}", f"the number of the model's {TOP_FEW} most stable ring molecules with such a fused "
                "ring", 0.5, "above")))
MESOMERIC = Claim("fig3.schnet-conjugation-stabilises", FIG3, _Q_MESO, "A conjugated substituent (a double, triple "
                  "or aromatic bond next to the ring) makes SchNet's ring more stable than a hydrogen would",
                  models=("SchNet",), tests=_shift_tests("conjugated substituent (C=C, C=O, C≡N, a fused aromatic "
                                                         "ring; alkynes apart)"))
ALKYNE_COUNT = Claim("fig3.schnet-alkynes-six-of-ten", FIG3, _Q_ALKYNE, "Six of SchNet's ten most stable rings carry "
                     "an alkyne", models=("SchNet",),
                     tests=(_count_test("a C≡C", ALKYNE_MIN), _enrich_test("a C≡C")))
ALKYNE_SHIFT = Claim("fig3.schnet-alkyne-stabilises", FIG3, _Q_ALKYNE, "An alkyne substituent makes SchNet's ring "
                     "more stable than a hydrogen would", models=("SchNet",), tests=_shift_tests("alkyne substituent"))
F_COMMON = Claim("fig3.schnet-fluorine-common", FIG3, _Q_F, "Fluorine is a common motif among SchNet's ten most "
                 "stable rings", models=("SchNet",), tests=(_count_test("F", 1), _enrich_test("F")))
F_STRONG = Claim("fig3.fluorine-stabilises", FIG3, _Q_F_MECH, "A fluorine on a ring carbon makes the ring more "
                 "stable than a hydrogen would", models=("SchNet", "BP"), tests=_shift_tests("fluorine"))
BP_F = Claim("fig3.bp-fluorine-common", FIG3, _Q_BP_F, "Fluorine is a common motif among BP's ten most stable "
             "rings too", models=("BP",), tests=(_count_test("F", 1), _enrich_test("F")))
BP_DONORS = Claim(
    "fig3.bp-prefers-donors", FIG3, _Q_DONOR, "BP's most stable rings carry OH/NH donor groups more often than "
    "SchNet's and than chance", models=("BP",),
    tests=(Test("against SchNet", "the number of BP's top ten molecules with OH or NH minus SchNet's (the same fold)",
                0.0, "above"),
           _enrich_test("OH or NH")))
INDUCTIVE = Claim("fig3.bp-donors-stabilise", FIG3, _Q_INDUCTIVE, "An OH or NH donor on a ring carbon makes BP's "
                  "ring more stable than a hydrogen would", models=("BP",),
                  tests=_shift_tests("OH or NH donor (O or N carrying hydrogen)"))
MORE_ENERGY = Claim(
    "fig3.bp-more-ring-energy", FIG3, _Q_MORE, "BP attributes more (more negative) energy to the ring carbons than "
    "SchNet",
    tests=(Test("mean score", "BP's minus SchNet's mean ring score (Σ of the six ring carbons' energies) over all "
                "rings", 0.0, "below", "kcal/mol"),
           Test("relative to carbon", "the same difference after subtracting 6 × each model's mean carbon energy "
                "(a global per-element offset does not decide it)", 0.0, "below", "kcal/mol"),
           Test("ring by ring", "the share of rings whose BP score is more negative than their SchNet score", 0.5,
                "above")))

#: every claim of the chapter, in the order of the paper
CLAIMS = (CHEMISTRY, TOP_O5, MESOMERIC, ALKYNE_COUNT, ALKYNE_SHIFT, F_COMMON, F_STRONG, BP_F, BP_DONORS, INDUCTIVE,
          MORE_ENERGY)
_KEY = {"BP": "bp", "SchNet": "schnet"}
#: the substituent class each mechanism claim measures
_SHIFT_CLASS = {MESOMERIC.id: "conjugated", ALKYNE_SHIFT.id: "alkyne", F_STRONG.id: "F", INDUCTIVE.id: "donor"}


def _score_cols(scored) -> dict:
    """``{fold: column}`` of a :func:`~.rings.scores_by_fold` table."""
    return {int(c[4:]): c for c in scored.columns if c.startswith("fold") and c[4:].isdigit()}


def _by_ranking(scored, fn) -> Measurement:
    """``fn(top list)`` on the fold-mean ranking (pooled) and on each fold's own ranking."""
    cols = _score_cols(scored)
    pooled = fn(top_rings(scored, TOP_N, by="score"))
    folds = tuple(fn(top_rings(scored, TOP_N, by=c)) for c in cols.values())
    return Measurement(pooled, folds, tuple(f"fold {k}" for k in cols))


def _has(top, cols) -> int:
    return int(top[list(cols)].any(axis=1).sum()) if len(top) else 0


def comparable(rings):
    """The molecules with an aromatic six-membered carbon ring, one row each (the base of the motif shares)."""
    return rings[rings["aromatic"].astype(bool)].drop_duplicates("molecule")


def base_rates(rings) -> dict:
    """The share of :func:`comparable` molecules carrying each motif group the claims use."""
    base = comparable(rings)
    return {k: float(base[list(c)].any(axis=1).mean()) if len(base) else float("nan") for k, c in _MOTIFS.items()}


_MOTIFS = {"alkyne": ("alkyne",), "F": ("F",), "donor": ("OH", "NH"), "fused_O5": ("fused_O5",)}


def _enrichment(scored, rings, motif) -> Measurement:
    base = base_rates(rings)[motif]
    return _by_ranking(scored, lambda top: enrichment_p(_has(top, _MOTIFS[motif]), len(top), base))


def _shift(table, fn, cls) -> Measurement:
    """``fn`` (:func:`substituent_shift` or :func:`median_shift`) on the aromatic rings, pooled on the
    fold-mean score and per fold."""
    arom = table[table["aromatic"].astype(bool)]
    cols = _score_cols(table)
    return Measurement(fn(arom, "score", cls, MIN_RINGS), tuple(fn(arom, c, cls, MIN_RINGS) for c in cols.values()),
                       tuple(f"fold {k}" for k in cols))


def evidence(scored, rings, study, ds=None) -> dict:
    """Per claim id and model label: ``{test name: Measurement}`` for every claim this study can measure
    (the mechanism claims need the data set ``ds`` for the substituents)."""
    out = {}
    sn, bp = scored.get("schnet"), scored.get("bp")
    if sn is not None and len(sn):
        out[(TOP_O5.id, "SchNet")] = {
            "top ring": _by_ranking(sn, lambda t: float(bool(t["fused_O5"].iloc[0])) if len(t) else np.nan),
            f"top {TOP_FEW}": _by_ranking(sn, lambda t: float(t["fused_O5"].head(TOP_FEW).sum()))}
        out[(ALKYNE_COUNT.id, "SchNet")] = {"count": _by_ranking(sn, lambda t: float(_has(t, ("alkyne",)))),
                                            "enrichment": _enrichment(sn, rings, "alkyne")}
        out[(F_COMMON.id, "SchNet")] = {"count": _by_ranking(sn, lambda t: float(_has(t, ("F",)))),
                                        "enrichment": _enrichment(sn, rings, "F")}
    if bp is not None and len(bp):
        out[(BP_F.id, "BP")] = {"count": _by_ranking(bp, lambda t: float(_has(t, ("F",)))),
                                "enrichment": _enrichment(bp, rings, "F")}
    if sn is not None and bp is not None and len(sn) and len(bp):
        cols = sorted(set(_score_cols(sn)) & set(_score_cols(bp)))

        def donors(df, by):
            return _has(top_rings(df, TOP_N, by=by), _MOTIFS["donor"])

        out[(BP_DONORS.id, "BP")] = {
            "against SchNet": Measurement(float(donors(bp, "score") - donors(sn, "score")),
                                          tuple(float(donors(bp, f"fold{k}") - donors(sn, f"fold{k}")) for k in cols),
                                          tuple(f"fold {k}" for k in cols)),
            "enrichment": _enrichment(bp, rings, "donor")}
        d_abs = fold_differences(scored)
        rel = {m: relative_scores(scored[m], study.frames[m]) for m in ("bp", "schnet")}
        d_rel = fold_differences(rel, "rel_fold{k}")
        labels = tuple(f"fold {k}" for k in d_abs)
        out[(MORE_ENERGY.id, "")] = {
            "mean score": Measurement(float(bp["score"].mean() - sn["score"].mean()), tuple(d_abs.values()), labels),
            "relative to carbon": Measurement(float(rel["bp"]["rel_score"].mean() - rel["schnet"]["rel_score"].mean()),
                                              tuple(d_rel.values()), tuple(f"fold {k}" for k in d_rel)),
            "ring by ring": Measurement(float((bp["score"].to_numpy() < sn["score"].to_numpy()).mean()),
                                        tuple(float((bp[f"fold{k}"].to_numpy() < sn[f"fold{k}"].to_numpy()).mean())
                                              for k in cols), tuple(f"fold {k}" for k in cols))}
    if ds is not None:
        subs = {m: substituents(scored[m], ds) for m in scored if len(scored[m])}
        for claim in (MESOMERIC, ALKYNE_SHIFT, F_STRONG, INDUCTIVE):
            for label in claim.models:
                m = _KEY[label]
                if m in subs:
                    cls = _SHIFT_CLASS[claim.id]
                    out[(claim.id, label)] = {"shift against H": _shift(subs[m], substituent_shift, cls),
                                              "median difference": _shift(subs[m], median_shift, cls)}
    return out


def _why_not(study, quick: bool, label: str, n: int) -> str | None:
    if quick:
        return QUICK_NOTE
    models = (_KEY[label],) if label else ("bp", "schnet")
    return still_training_note(study, models=models) or (None if n else "no 6-membered carbon ring in these molecules")


def _note(claim, rings, scored, label) -> str:
    base = base_rates(rings)
    if claim.id in (ALKYNE_COUNT.id, F_COMMON.id, BP_F.id, BP_DONORS.id, TOP_O5.id):
        motif = {ALKYNE_COUNT.id: "alkyne", F_COMMON.id: "F", BP_F.id: "F", BP_DONORS.id: "donor",
                 TOP_O5.id: "fused_O5"}[claim.id]
        m = _KEY[label]
        top = top_rings(scored[m], TOP_N)
        ids = ", ".join(str(int(x)) for x in top["molecule"].head(3))
        carriers = ", ".join(str(int(x)) for x in top["molecule"][top[list(_MOTIFS[motif])].any(axis=1)].head(5))
        return (f"fold-mean top ten (first QM9 ids {ids}): {_has(top, _MOTIFS[motif])} of {len(top)} carry it"
                + (f" (QM9 ids {carriers})" if carriers else "") + "; "
                f"share among the {len(comparable(rings)):,} molecules with an aromatic six-membered carbon ring "
                f"{100 * base[motif]:.1f} %; each fold ranked by its own scores")
    if claim.id in _SHIFT_CLASS:
        return (f"over the {int(rings['aromatic'].astype(bool).sum()):,} aromatic six-membered carbon rings; a "
                f"class carried by fewer than {MIN_RINGS} of them has no shift")
    if claim.id == MORE_ENERGY.id:
        return f"more energy = a more negative sum; {len(rings):,} rings, fold by fold"
    return ""


def claim_rows(scored, rings, study, quick: bool, ds=None) -> list[dict]:
    """The registry rows of :data:`CLAIMS`, one per claim and model."""
    ev = evidence(scored, rings, study, ds)
    out = []
    for claim in CLAIMS:
        for label in claim.models:
            if claim.untestable is not None:
                out.append(decide(claim, label, {}).row())
                continue
            if (claim.id, label) not in ev:
                if claim.id in _SHIFT_CLASS and ds is None:
                    out.append(decide(claim, label, {t.name: Measurement(None) for t in claim.tests},
                                      why_not="no data set given to find the rings' substituents").row())
                continue
            n = len(scored.get(_KEY.get(label, "bp"), []))
            v = decide(claim, label, ev[(claim.id, label)], why_not=_why_not(study, quick, label, n),
                       note=_note(claim, rings, scored, label))
            out.append(v.row())
    return out


def stability_rows(scored, folds: dict, quick: bool) -> list[dict]:
    """Row 6 per model."""
    out = []
    for m, label in (("schnet", "SchNet"), ("bp", "BP")):
        s = top_stability(scored[m], folds.get(m, []))
        out.append({"claim": f"{label}'s top ten from fold to fold", "model": label, "paper": None,
                    "atomint": f"Jaccard {format_significant(s['jaccard'], 2)}, "
                               f"Spearman ρ {format_significant(s['spearman'], 3)}, "
                               f"{s['in_noise']} of {s['n']} inside the fold noise",
                    "unit": "", "holds": None, "kind": "beyond", "rule": "",
                    "note": f"over {s['folds']} folds; 'inside the fold noise': within one fold std of the first "
                            f"ring outside the top ten" + ("; " + verdict_and_note(None, True)[1] if quick else "")})
    return out


def rows(scored, tops, rings, study, quick: bool, ds=None) -> list[dict]:
    """Every scorecard row of the chapter: the registry's claims (:data:`CLAIMS`) and the stability of the
    top ten (kind ``beyond``). ``tops`` is kept for the notebook's call; the claims rank each fold itself."""
    folds = {m: study.fold_set.folds(m) for m in study.models()}
    out = claim_rows(scored, rings, study, quick, ds) + stability_rows(scored, folds, quick)
    return annotate_study(out, CLAIMS, study, quick, results_path("fig3"))


def what_we_see(scored, tops, rings, study, quick: bool) -> str:
    """The chapter's "What we see" paragraph, written from the numbers."""
    out = [run_caveat(quick, study)]
    out.append(f"{len(rings):,} six-membered carbon rings in {rings['molecule'].nunique():,} molecules "
               f"({int(rings['aromatic'].sum()):,} aromatic).")
    bp, sn = float(scored["bp"]["score"].mean()), float(scored["schnet"]["score"].mean())
    more = "BP" if bp < sn else "SchNet"
    out.append(f"Averaged over all of them, the six ring carbons carry {bp:.1f} kcal/mol under BP and {sn:.1f} "
               f"kcal/mol under SchNet: {more} puts more of the atomization energy on the ring carbons, by "
               f"{abs(bp - sn):.2f} kcal/mol per ring.")
    rel = {m: float(relative_scores(scored[m], study.frames[m])["rel_score"].mean()) for m in scored}
    rmore = "BP" if rel["bp"] < rel["schnet"] else "SchNet"
    same = "the same answer" if rmore == more else "the opposite answer"
    out.append(f"Measured against each model's own mean carbon energy, the ring carbons carry {rel['bp']:+.2f} "
               f"(BP) and {rel['schnet']:+.2f} kcal/mol (SchNet) beyond six average carbons: {same}.")
    shared = set(tops["bp"]["molecule"]) & set(tops["schnet"]["molecule"])
    out.append(f"The two top-ten lists share {len(shared)} molecule{'s' if len(shared) != 1 else ''}.")
    for m, label in (("schnet", "SchNet"), ("bp", "BP")):
        s = top_stability(scored[m], study.fold_set.folds(m))
        if s["folds"] < 2:
            continue
        spread = float(tops[m]["std"].median()) if "std" in tops[m] else float("nan")
        how = ("every fold gives the same ten molecules" if s["jaccard"] >= 0.999 else
               "the folds' lists largely agree" if s["jaccard"] >= 0.7 else
               "the list of a single fold is only partly reproducible")
        out.append(f"{label}: the folds' top-ten molecules overlap by {s['jaccard']:.2f} (Jaccard; {how}), all ring "
                   f"scores correlate with Spearman ρ = {s['spearman']:.3f} between folds, the top ten's scores "
                   f"vary by {spread:.2f} kcal/mol (median fold std), and {s['in_noise']} of the ten are within "
                   f"one fold std of the first ring outside the list — their place in it is inside the fold noise.")
    return " ".join(x for x in out if x)
