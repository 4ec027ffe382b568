"""Fig. 3: the claims about the most stable six-membered carbon rings, each a number and a verdict.

A ring's score is the sum of its six carbons' latent atomic energies (kcal/mol), averaged over the folds;
its fold spread is the standard deviation over the folds. Each top ten holds at most one ring per
molecule. Rules (fixed before the numbers of the real models were seen):

1. *BP attributes more energy to the ring carbons* (one row): holds if BP's mean ring score over all rings
   is more negative than SchNet's. The same comparison relative to each model's mean carbon energy
   (score − 6 × mean carbon energy, so a global per-element offset does not decide it) is its own row
   (kind ``beyond``), with the per-fold differences.
2. *SchNet's most stable ring is adjacent to a five membered ring involving oxygen* (SchNet): holds if the
   top-ranked ring shares at least two atoms with a five-membered ring that contains an oxygen.
3. *Alkyne substituents: six out of the ten* (SchNet): holds if at least 5 of SchNet's top ten molecules
   carry a C≡C.
4. *Fluorine among the most stable rings* (a row each for SchNet and BP): holds if at least one of the
   model's top ten molecules carries fluorine.
5. *BP's top rings carry OH/NH donors* (BP): holds if BP's top ten hold more molecules with OH or NH than
   SchNet's top ten and more than ten times their share among all ring molecules.
6. *Stability of the top ten* (kind ``beyond``, a row per model): the mean Jaccard overlap of the folds'
   top-ten molecules, the Spearman correlation of all ring scores between folds, and how many of the top
   ten lie within one fold standard deviation of the first ring outside the list — a ranking inside the
   fold noise is reported as such.
A row is *not comparable* on the quick profile and while a checkpoint it depends on is still training.
"""
from __future__ import annotations

from ..interpret.ring_stats import fold_differences, relative_scores, top_stability
from .claims import _fmt, _quick_prefix, _verdict
from .energies import _pending_of

ALKYNE_MIN = 5


def _row(claim, model, paper, atomint, rule, ok, why, quick, note, kind="paper", unit=""):
    holds, why_note = _verdict(ok, quick, why)
    return {"claim": claim, "model": model, "paper": paper, "atomint": atomint, "unit": unit, "holds": holds,
            "kind": kind, "rule": rule, "note": why_note or note}


def _count(top, cols) -> int:
    return int(top[list(cols)].any(axis=1).sum()) if len(top) else 0


def _folds_text(diffs: dict) -> str:
    return ", ".join(f"fold {k} {v:+.2f}" for k, v in diffs.items())


def share_rows(scored, study, quick: bool) -> list[dict]:
    """Claim 1, absolute and relative to the mean carbon energy."""
    rel = {m: relative_scores(scored[m], study.frames[m]) for m in scored}
    bp, sn = float(scored["bp"]["score"].mean()), float(scored["schnet"]["score"].mean())
    rbp, rsn = float(rel["bp"]["rel_score"].mean()), float(rel["schnet"]["rel_score"].mean())
    n = len(scored["bp"])
    why = _pending_of(study, ("bp", "schnet")) or (None if n else "no 6-membered carbon ring in these molecules")
    d_abs, d_rel = fold_differences(scored), fold_differences(rel, "rel_fold{k}")
    agree = sum(v < 0 for v in d_abs.values())
    return [
        _row("\"BP attributes more energy to the ring carbons\" than SchNet", "",
             "BP attributes more energy to the ring carbons",
             f"mean ring score over {n:,} rings: BP {bp:.1f}, SchNet {sn:.1f} kcal/mol (BP − SchNet {bp - sn:+.2f}; "
             f"{_folds_text(d_abs)}; more negative for BP in {agree} of {len(d_abs)} folds)",
             "holds if BP's mean ring score (Σ of the six ring carbons' energies) is more negative than SchNet's",
             bool(bp < sn), why, quick, "more energy = a more negative sum; fold-mean scores", unit="kcal/mol"),
        _row("Ring carbons relative to each model's mean carbon energy (confound check of the claim above)", "",
             "BP attributes more energy to the ring carbons",
             f"mean of score − 6 × mean carbon energy: BP {rbp:+.2f}, SchNet {rsn:+.2f} kcal/mol (BP − SchNet "
             f"{rbp - rsn:+.2f}; {_folds_text(d_rel)})",
             "holds if BP's mean relative ring score is more negative than SchNet's",
             bool(rbp < rsn), why, quick, "removes each model's global carbon offset", kind="beyond",
             unit="kcal/mol")]


def motif_rows(tops, rings, study, quick: bool) -> list[dict]:
    """Claims 2–5."""
    base = rings.drop_duplicates("molecule")
    sn, bp = tops["schnet"], tops["bp"]
    why = {m: _pending_of(study, (m,)) or (None if len(tops[m]) else "no rings") for m in tops}
    both = _pending_of(study, ("bp", "schnet")) or (None if len(sn) and len(bp) else "no rings")
    first = bool(sn["fused_O5"].iloc[0]) if len(sn) else False
    share = {c: 100 * float(base[c].mean()) if len(base) else float("nan") for c in ("alkyne", "F", "OH", "NH")}
    oh_base = 100 * float(base[["OH", "NH"]].any(axis=1).mean()) if len(base) else float("nan")
    out = [
        _row("SchNet's most stable ring is \"adjacent to a five membered ring involving oxygen\"", "SchNet",
             "adjacent to an O-containing five-membered ring",
             f"top ring: QM9 {int(sn['molecule'].iloc[0]) if len(sn) else 'n/a'}, fused O-5-ring: "
             f"{'yes' if first else 'no'}; {int(sn['fused_O5'].sum())} of the top {len(sn)} have one "
             f"({100 * float(base['fused_O5'].mean()) if len(base) else float('nan'):.1f} % of all ring molecules)",
             "holds if SchNet's top-ranked ring shares ≥ 2 atoms with a five-membered ring containing O",
             first, why["schnet"], quick, "fold-mean ranking"),
        _row("\"Alkyne substituents\" on \"six out of the ten\" most stable rings (SchNet)", "SchNet", 6,
             _count(sn, ("alkyne",)),
             f"holds if at least {ALKYNE_MIN} of SchNet's top ten molecules carry a C≡C",
             _count(sn, ("alkyne",)) >= ALKYNE_MIN, why["schnet"], quick,
             f"of {len(sn)}; C≡C in {share['alkyne']:.1f} % of all ring molecules; BP's top ten: "
             f"{_count(bp, ('alkyne',))}")]
    for m, label in (("schnet", "SchNet"), ("bp", "BP")):
        k = _count(tops[m], ("F",))
        out.append(_row(f"Fluorine among {label}'s ten most stable rings", label, "yes", k,
                        "holds if at least one of the model's top ten molecules carries F", k >= 1, why[m], quick,
                        f"of {len(tops[m])}; F in {share['F']:.1f} % of all ring molecules"))
    oh_b, oh_s = _count(bp, ("OH", "NH")), _count(sn, ("OH", "NH"))
    out.append(_row("BP's most stable rings carry OH/NH (hydrogen-bond donor) groups", "BP",
                    "OH, NH among BP's top rings", oh_b,
                    "holds if BP's top ten hold more OH/NH molecules than SchNet's top ten and more than ten times "
                    "their share among all ring molecules",
                    oh_b > oh_s and oh_b > len(bp) * oh_base / 100, both, quick,
                    f"of {len(bp)}; SchNet's top ten: {oh_s}; OH or NH in {oh_base:.1f} % of all ring molecules"))
    return out


def stability_rows(scored, folds: dict, quick: bool) -> list[dict]:
    """Row 6 per model."""
    out = []
    for m, label in (("schnet", "SchNet"), ("bp", "BP")):
        s = top_stability(scored[m], folds.get(m, []))
        out.append({"claim": f"{label}'s top ten from fold to fold", "model": label, "paper": None,
                    "atomint": f"Jaccard {_fmt(s['jaccard'], 2)}, Spearman ρ {_fmt(s['spearman'], 3)}, "
                               f"{s['in_noise']} of {s['n']} inside the fold noise",
                    "unit": "", "holds": None, "kind": "beyond", "rule": "",
                    "note": f"over {s['folds']} folds; 'inside the fold noise': within one fold std of the first "
                            f"ring outside the top ten" + ("; " + _verdict(None, True)[1] if quick else "")})
    return out


def rows(scored, tops, rings, study, quick: bool) -> list[dict]:
    """Every scorecard row of the chapter."""
    folds = {m: study.fold_set.folds(m) for m in study.models()}
    return (share_rows(scored, study, quick) + motif_rows(tops, rings, study, quick)
            + stability_rows(scored, folds, quick))


def what_we_see(scored, tops, rings, study, quick: bool) -> str:
    """The chapter's "What we see" paragraph, written from the numbers."""
    out = [_quick_prefix(quick, study)]
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
