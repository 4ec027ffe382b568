"""Fig. 3's "What we find": the chapter's conclusion in at most four sentences, read off its scorecard rows
(:func:`~.rings.rows`) and the stability of each model's top ten from fold to fold
(:func:`~atomint_helpers.interpret.ring_stats.top_stability`), then "Why" from the rows' causes
(:func:`~.findings.why`)."""
from __future__ import annotations

from .findings import QUICK_FIND, by_claim, folds_holding, join, value, why
from .row_reading import minus
from .rings import (ALKYNE_COUNT, ALKYNE_SHIFT, BP_DONORS, BP_F, F_COMMON, F_STRONG, INDUCTIVE, MESOMERIC, MIN_RINGS,
                    MORE_ENERGY, TOP_N, TOP_O5)

#: Fig. 3's claims in a few words, for the sentences that list them
NAMES = {TOP_O5.id: "SchNet's top ring fused to an O-ring", MESOMERIC.id: "conjugation stabilising SchNet's rings",
         ALKYNE_COUNT.id: "alkynes on six of SchNet's ten", ALKYNE_SHIFT.id: "alkynes stabilising SchNet's rings",
         F_COMMON.id: "fluorine common in SchNet's ten", F_STRONG.id: "fluorine stabilising the ring",
         BP_F.id: "fluorine common in BP's ten", BP_DONORS.id: "OH/NH donors in BP's ten",
         INDUCTIVE.id: "donors stabilising BP's rings", MORE_ENERGY.id: "BP's ring carbons carrying more energy"}
#: the substituent each mechanism claim shifts the ring score by, in words
_SUBSTITUENT = {MESOMERIC.id: "a conjugated substituent", ALKYNE_SHIFT.id: "an alkyne", F_STRONG.id: "fluorine",
                INDUCTIVE.id: "an OH/NH donor"}


def stability(scored, study) -> dict:
    """``{model label: top_stability(...)}``: how far each model's top ten moves from fold to fold."""
    from ..interpret.ring_stats import top_stability

    labels = {"schnet": "SchNet", "bp": "BP"}
    return {labels[m]: top_stability(scored[m], study.fold_set.folds(m)) for m in ("schnet", "bp") if m in scored}


def what_we_find(rows: list[dict], stable: dict, quick: bool) -> str:
    """Fig. 3's finding in at most four sentences: whether the top tens are firmer than the fold noise
    (``stable``: :func:`stability`), the paper's readings of the top tens, the substituent shifts over all
    aromatic rings and where the ring energy sits; then why."""
    if quick:
        return QUICK_FIND
    by = by_claim(rows)
    out = [_firmness(stable), _motifs(by), _mechanisms(by), _ring_energy(by.get((MORE_ENERGY.id, "")))]
    text = "**What we find.** " + " ".join(x for x in out if x)
    reason = why(rows, NAMES)
    return text + ("\n\n" + reason if reason else "")


def _firmness(stable: dict) -> str:
    """Sentence 1: how many of each top ten lie inside the fold noise."""
    multi = {k: s for k, s in stable.items() if s["folds"] >= 2}
    if not multi:
        return "With a single fold per model, this build cannot say whether the top tens are firmer than the fold noise."
    loose = [k for k, s in multi.items() if s["in_noise"] > s["n"] / 2]
    noise = join([f"{s['in_noise']} of {label}'s {s['n']}" for label, s in multi.items()])
    overlap = join([f"{s['jaccard']:.0%} ({label})" for label, s in multi.items()])
    if len(loose) == len(multi):
        lead = (f"{'Neither' if len(multi) > 1 else 'No'} model's top ten is firm enough to read motifs off: "
                if len(multi) > 1 else f"{loose[0]}'s top ten is not firm enough to read motifs off: ")
    elif loose:
        lead = f"{join(loose)}'s top ten is not firm enough to read motifs off, the other's is: "
    else:
        lead = "The top tens are firmer than the fold noise: "
    return (f"{lead}{noise} lie within one fold standard deviation of the first ring outside the list, and two "
            f"folds' lists share {overlap} of their molecules (Jaccard).")


def _motifs(by: dict) -> str:
    """Sentence 2: the paper's readings of the top tens."""
    rows = [(c, by.get((c.id, c.models[0]))) for c in (TOP_O5, ALKYNE_COUNT, F_COMMON, BP_F, BP_DONORS)]
    rows = [(c, r) for c, r in rows if r and r["verdict"] in ("holds", "differs", "inconclusive")]
    if not rows:
        return ""
    phrases = []
    for c, r in rows:
        if c is TOP_O5:
            k, n = folds_holding(r, "top ring")
            phrases.append(f"SchNet's most stable ring is fused to an O-containing five-membered ring in {k} of {n} "
                           f"folds")
        elif c is BP_DONORS:
            p = value(r, "enrichment")
            phrases.append(f"OH/NH donors are {'more' if r['verdict'] == 'holds' else 'no more'} frequent in BP's "
                           f"ten than by chance (p = {p:.2f})" if p is not None else "OH/NH donors in BP's ten: "
                           f"{r['verdict']}")
        elif c is ALKYNE_COUNT:
            phrases.append(f"{value(r, 'count'):.0f} of SchNet's ten carry an alkyne (the paper: six)")
        else:
            phrases.append(f"{value(r, 'count'):.0f} of {c.models[0]}'s ten carry fluorine")
    held = sum(r["verdict"] == "holds" for _, r in rows)
    head = ("None" if held == 0 else f"{held}") + f" of the paper's {len(rows)} readings of its top tens"
    return f"{head} hold{'s' if held <= 1 else ''} for our fold-mean top {TOP_N}: " + "; ".join(phrases) + "."


def _mechanisms(by: dict) -> str:
    """Sentence 3: the substituent shifts over all aromatic rings, where the fold noise averages out."""
    held, other = [], []
    for c in (MESOMERIC, INDUCTIVE, F_STRONG, ALKYNE_SHIFT):
        found = [(m, by[(c.id, m)]) for m in c.models if (c.id, m) in by]
        measured = [(m, r, value(r, "shift against H")) for m, r in found if value(r, "shift against H") is not None]
        if found and not measured:
            other.append(f"the shift of {_SUBSTITUENT[c.id]} is not measured (fewer than {MIN_RINGS} aromatic rings "
                         f"carry one)")
        groups: dict[str, list] = {}
        for m, r, v in measured:
            word = ("stabilises" if r["verdict"] == "holds" else
                    "destabilises" if r["verdict"] == "differs" and v > 0 else "does not clearly stabilise")
            groups.setdefault(word, []).append((m, v))
        for word, items in groups.items():
            where = join([f"{m}'s" for m, _ in items]) + " rings"
            numbers = ", ".join(minus(f"{v:+.2f}") + (" kcal/mol" if i == 0 else "") + (f" for {m}" if len(items) > 1 else "")
                                for i, (m, v) in enumerate(items))
            (held if word == "stabilises" else other).append(f"{_SUBSTITUENT[c.id]} {word} {where} ({numbers})")
    if not held and not other:
        return ""
    text = "Over all aromatic rings, against a hydrogen on the same ring carbon, "
    if held:
        return text + join(held) + (f", as the paper reasons, but {join(other)}." if other else ", as the paper "
                                                                                                "reasons.")
    return text + "no substituent stabilises the ring: " + join(other) + "."


def _ring_energy(row: dict | None) -> str:
    """Sentence 4: whether BP puts more energy on the ring carbons than SchNet."""
    if not row or row["verdict"] not in ("holds", "differs", "inconclusive"):
        return ""
    mean, rel, share = value(row, "mean score"), value(row, "relative to carbon"), value(row, "ring by ring")
    lead = {"holds": "BP does attribute more energy to the ring carbons than SchNet",
            "differs": "BP does not attribute more energy to the ring carbons than SchNet"}.get(
        row["verdict"], "Whether BP attributes more energy to the ring carbons than SchNet is inconclusive")
    return (f"{lead}: {minus(f'{mean:+.1f}')} kcal/mol per ring, {minus(f'{rel:+.2f}')} beyond six average carbons "
            f"of each model, more negative on {share:.1%} of the rings.")

