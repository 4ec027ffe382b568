"""The qualitative claims of the paper's section 3.1, each turned into a number and a verdict.

Every function returns scorecard rows (:mod:`atomint_helpers.scorecard`): ``claim`` is the sentence
tested, ``paper`` what the paper states, ``atomint`` the measured numbers (text), ``holds`` True/False
— or ``None`` when the run cannot decide: the ``quick`` profile (4-epoch models trained on 1,000 sample
molecules, whose latent terms say nothing about the paper's models), a checkpoint that is still training
(its weights are the best so far) or, for the fold claims, fewer than two folds. The criterion of each claim is fixed here, in code, before any result is seen:

1. *SchNet's atomic-energy distributions are narrower than BP's*: the interquartile range (IQR, fold
   mean) of SchNet is below BP's for each of H, C, N and O (standard deviations shown alongside).
2. *Less frequent elements (O) vary more across folds than H and C*: for both models, O's fold-to-fold
   distance (W1 / pooled IQR, :func:`~atomint_helpers.interpret.latent.fold_distance`, mean over fold
   pairs) exceeds that of H and of C.
3.–4. The charge claims (Fig. 4) live in :mod:`.charges`.
5. *BP attributes more energy to ring carbons than SchNet*: read as "a larger share of the (negative)
   atomization energy": the mean score (Σ of the six ring carbons' atomic energies) over every
   6-membered carbon ring is more negative for BP than for SchNet.
6. *Fluorine and alkyne motifs are common among SchNet's most stable rings; OH/NH among BP's*: SchNet's
   top ten hold more molecules with F or C≡C than BP's top ten, and BP's top ten hold more molecules
   with OH or NH than SchNet's.
"""
from __future__ import annotations

import numpy as np

from ..interpret.latent import FIG_ELEMENTS, MODEL_LABELS, fold_distances, mean_over_folds

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


# ------------------------------------------------------------------------------------------ energies
def width_table(study, elements=FIG_ELEMENTS):
    """Claim 1's numbers: fold-mean std and IQR per element and model, and SchNet/BP ratios."""
    import pandas as pd

    t = {m: mean_over_folds(study.frames[m], elements, study.column) for m in study.models()}
    out = pd.DataFrame({
        "BP std": t["bp"]["std"], "SchNet std": t["schnet"]["std"],
        "BP IQR": t["bp"]["IQR"], "SchNet IQR": t["schnet"]["IQR"],
    })
    out["SchNet/BP (IQR)"] = out["SchNet IQR"] / out["BP IQR"]
    out["SchNet/BP (std)"] = out["SchNet std"] / out["BP std"]
    return out


def fold_distance_table(study, elements=FIG_ELEMENTS, noise: bool = False):
    """Fold-to-fold distance (W1 / pooled IQR, mean over fold pairs) per element (rows) and model; with
    ``noise`` also each model's sampling noise floor (:func:`~atomint_helpers.interpret.latent.noise_floor`
    of its lowest fold)."""
    import pandas as pd

    from ..interpret.latent import noise_floor

    cols = {}
    for m in study.models():
        cols[MODEL_LABELS[m]] = fold_distances(study.frames[m], elements, study.column)["mean"]
        if noise:
            cols[f"{MODEL_LABELS[m]} noise floor"] = noise_floor(study.frames[m][min(study.frames[m])], elements,
                                                                 study.column)
    return pd.DataFrame(cols)


def claim_narrower(study, quick: bool) -> dict:
    w = width_table(study)
    narrower = (w["SchNet IQR"] < w["BP IQR"])
    ratios = ", ".join(f"{e} {_fmt(w.loc[e, 'SchNet/BP (IQR)'], 2)}" for e in w.index)
    sratios = ", ".join(f"{e} {_fmt(w.loc[e, 'SchNet/BP (std)'], 2)}" for e in w.index)
    holds, note = _verdict(bool(narrower.all()), quick, _pending(study))
    folds = ", ".join(f"{MODEL_LABELS[m]} {study.n_folds(m)}" for m in study.models())
    return {"claim": "SchNet's atomic-energy distributions are narrower than BP's (IQR of H, C, N, O)",
            "paper": "SchNet's distributions are narrower",
            "atomint": f"SchNet/BP IQR: {ratios} (std: {sratios}); narrower for {int(narrower.sum())} of {len(w)}",
            "unit": "", "holds": holds, "kind": "paper",
            "rule": "holds if SchNet's fold-mean IQR is below BP's for each of H, C, N and O",
            "note": note or f"fold-mean IQR over {study.n_molecules:,} molecules; folds: {folds}"}


def claim_rare_elements_vary(study, quick: bool) -> dict:
    d = fold_distance_table(study)
    txt = "; ".join(f"{c}: " + ", ".join(f"{e} {_fmt(d.loc[e, c], 2)}" for e in d.index) for c in d.columns)
    ok = all(d.loc["O", c] > d.loc["H", c] and d.loc["O", c] > d.loc["C", c] for c in d.columns)
    holds, note = _verdict(ok, quick, _need_folds(study) or _pending(study))
    return {"claim": "Less frequent elements (O) vary more across folds than H and C (energies)",
            "paper": "O varies more across folds than H and C",
            "atomint": f"fold-to-fold W1/IQR — {txt}", "unit": "", "holds": holds, "kind": "paper",
            "rule": "holds if, for both models, O's fold-to-fold W1/IQR exceeds H's and C's",
            "note": note or "W1 / pooled IQR between folds' distributions, mean over fold pairs"}


def energy_claims(study, quick: bool) -> list[dict]:
    """Claims 1 and 2 (Fig. 2)."""
    return [claim_narrower(study, quick), claim_rare_elements_vary(study, quick)]


# ------------------------------------------------------------------------------------------ rings
def ring_share(scored) -> float:
    """Mean ring score (kcal/mol) over all rings of one model's scored table."""
    return float(scored["score"].mean()) if len(scored) else float("nan")


def ring_claims(scored: dict, tops: dict, quick: bool, study=None) -> list[dict]:
    """Claims 5 and 6 (Fig. 3): ``scored[model]`` from :func:`~atomint_helpers.interpret.rings.scores_by_fold`,
    ``tops[model]`` the top-ten tables; ``study`` (the energies' study) to know whether its checkpoints
    are finished."""
    bp, sn = ring_share(scored["bp"]), ring_share(scored["schnet"])
    n = len(scored["bp"])
    pending = _pending(study)
    holds, note = _verdict(bool(bp < sn), quick, pending or (None if n else "no 6-membered carbon ring in these molecules"))
    rows = [{"claim": "BP attributes more energy to ring carbons than SchNet",
             "paper": "BP attributes more energy to the ring carbons",
             "atomint": f"mean Σ ring-carbon energy over {n:,} rings: BP {bp:.1f}, SchNet {sn:.1f} kcal/mol "
                        f"(difference {bp - sn:+.2f})",
             "unit": "kcal/mol", "holds": holds, "kind": "paper",
             "rule": "holds if BP's mean ring score (Σ of the six ring carbons' energies) is more negative than SchNet's",
             "note": note or "more energy = more negative sum (a larger share of the atomization energy); fold-mean scores"}]

    def count(top, cols):
        return int(top[list(cols)].any(axis=1).sum()) if len(top) else 0

    fa_s, fa_b = count(tops["schnet"], ("F", "alkyne")), count(tops["bp"], ("F", "alkyne"))
    oh_b, oh_s = count(tops["bp"], ("OH", "NH")), count(tops["schnet"], ("OH", "NH"))
    nt_s, nt_b = len(tops["schnet"]), len(tops["bp"])
    holds, note = _verdict(fa_s > fa_b and oh_b > oh_s, quick, pending or (None if nt_s and nt_b else "no rings"))
    rows.append({"claim": "F and alkyne motifs are common among SchNet's most stable rings; OH/NH among BP's",
                 "paper": "SchNet: F, C≡C; BP: OH, NH",
                 "atomint": f"F or C≡C: SchNet {fa_s}/{nt_s}, BP {fa_b}/{nt_b}; OH or NH: BP {oh_b}/{nt_b}, "
                            f"SchNet {oh_s}/{nt_s}",
                 "unit": "", "holds": holds, "kind": "paper",
                 "rule": "holds if SchNet's top ten hold more F/C≡C molecules than BP's and BP's more OH/NH than SchNet's",
                 "note": note or "top ten rings by fold-mean score, one ring per molecule"})
    return rows


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


def energy_paragraph(study, quick: bool) -> str:
    """The 'What we see' text of Fig. 2, from the numbers."""
    w = width_table(study)
    n = len(w)
    narrow = [e for e in w.index if w.loc[e, "SchNet IQR"] < w.loc[e, "BP IQR"]]
    narrow_std = [e for e in w.index if w.loc[e, "SchNet std"] < w.loc[e, "BP std"]]
    r = w["SchNet/BP (IQR)"]
    out = [_quick_prefix(quick, study)]
    out.append(f"SchNet's interquartile range is smaller than BP's for {len(narrow)} of {n} elements "
               f"({_list(narrow)}); the SchNet/BP ratio runs from {r.min():.2f} ({r.idxmin()}) to {r.max():.2f} "
               f"({r.idxmax()}). By standard deviation SchNet is narrower for {len(narrow_std)} of {n}.")
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
    multi = [m for m in study.models() if study.n_folds(m) >= 2]
    if multi:
        d = fold_distance_table(study, noise=True)
        for m in multi:
            col = d[MODEL_LABELS[m]]
            rank = int(col.rank(ascending=False)["O"]) if "O" in col else None
            out.append(f"From fold to fold ({study.n_folds(m)} folds), {MODEL_LABELS[m]}'s distributions move most "
                       f"for {col.idxmax()} (W1/IQR = {col.max():.3f}) and least for {col.idxmin()} ({col.min():.3f}); "
                       f"oxygen ranks {rank} of {len(col)}.")
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
    single = [MODEL_LABELS[m] for m in study.models() if study.n_folds(m) < 2]
    if single:
        out.append(f"{_list(single)} {'has' if len(single) == 1 else 'have'} a single fold in this run, so "
                   f"{'its' if len(single) == 1 else 'their'} fold-to-fold variation cannot be measured.")
    return " ".join(x for x in out if x)


def ring_paragraph(scored: dict, tops: dict, rings, folds: dict, quick: bool, study=None) -> str:
    """The 'What we see' text of Fig. 3, from the numbers. ``folds[model]`` lists the folds scored;
    ``study`` (the energies' study) tells whether its checkpoints are finished."""
    from ..interpret.rings import top_overlap

    out = [_quick_prefix(quick, study)]
    n_mol = rings["molecule"].nunique()
    out.append(f"{len(rings):,} six-membered carbon rings in {n_mol:,} molecules "
               f"({int(rings['aromatic'].sum()):,} aromatic).")
    bp, sn = ring_share(scored["bp"]), ring_share(scored["schnet"])
    more = "BP" if bp < sn else "SchNet"
    out.append(f"Averaged over all of them, the six ring carbons carry {bp:.1f} kcal/mol under BP and {sn:.1f} "
               f"kcal/mol under SchNet: {more} puts more of the atomization energy on the ring carbons, by "
               f"{abs(bp - sn):.2f} kcal/mol per ring.")
    shared = set(tops["bp"]["molecule"]) & set(tops["schnet"]["molecule"])
    out.append(f"The two top-ten lists share {len(shared)} molecule{'s' if len(shared) != 1 else ''}; "
               f"{int(tops['bp']['aromatic'].sum())} of BP's and {int(tops['schnet']['aromatic'].sum())} of "
               f"SchNet's top rings are aromatic.")
    stab = []
    for m, label in (("bp", "BP"), ("schnet", "SchNet")):
        if len(folds.get(m, [])) >= 2:
            stab.append(f"{label} {top_overlap(scored[m], folds[m]):.2f}")
    if stab:
        worst = min(float(x.split()[-1]) for x in stab)
        if worst >= 0.999:
            how = "every fold gives the same ten molecules"
        elif worst >= 0.7:
            how = "the lists of single folds largely agree"
        else:
            how = "the list of a single fold is only partly reproducible"
        out.append(f"The mean Jaccard overlap of the folds' top-ten molecules is {' and '.join(stab)} "
                   f"(1 = identical lists): {how}.")
    base = rings.drop_duplicates("molecule")
    parts = []
    for motif, label in (("F", "F"), ("alkyne", "C≡C"), ("OH", "OH"), ("NH", "NH")):
        parts.append(f"{label} {int(tops['schnet'][motif].sum())}/{int(tops['bp'][motif].sum())} "
                     f"({100 * base[motif].mean():.0f} % of all ring molecules)")
    out.append(f"Motifs in the top ten, SchNet/BP: {', '.join(parts)}.")
    return " ".join(x for x in out if x)


#: the charge claims moved to :mod:`.charges` (old name here: name there); the old names still work
_MOVED_TO_CHARGES = {"conservation_table": "conservation_table", "mulliken_rows": "mulliken_rows",
                     "mulliken_paragraph": "mulliken_paragraph", "sign_paragraph": "sign_paragraph",
                     "charge_paragraph": "what_we_see"}


def __getattr__(name):
    if name in _MOVED_TO_CHARGES:
        from . import charges

        return getattr(charges, _MOVED_TO_CHARGES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
