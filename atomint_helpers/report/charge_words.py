"""Fig. 4's "What we find": the chapter's conclusion in at most four sentences, read off its scorecard rows
(:func:`~.charges.rows`), then "Why" from the rows' causes (:func:`~.findings.why`)."""
from __future__ import annotations

from .charges import AGREE, BP_PARALLELS, CONSERVED, HC, PARALLEL_RHO, NO_SIMILARITY_RHO, SCHNET_NO_SIMILARITY, UNIQUE
from .findings import QUICK_FIND, by_claim, join, value, why

#: Fig. 4's claims in a few words, for the sentences that list them
NAMES = {CONSERVED.id: "charges more conserved than energies", UNIQUE.id: "a more unique partitioning up to a factor",
         AGREE.id: "BP and SchNet agreeing more in charges", HC.id: "the agreement best for H and C",
         BP_PARALLELS.id: "BP's carbon energies and charges in parallel",
         SCHNET_NO_SIMILARITY.id: "SchNet's carbon energies and charges unlike"}
_DECIDED = ("holds", "differs", "inconclusive")


def what_we_find(rows: list[dict], quick: bool) -> str:
    """Fig. 4's finding in at most four sentences: whether charges are more conserved than energies and
    closer between the two models, the partitioning up to a factor, H and C, and carbon's energies against
    its charges; then why."""
    if quick:
        return QUICK_FIND
    by = by_claim(rows)
    out = [_main(by), _unique(by), _h_and_c(by.get((HC.id, ""))), _carbon(by)]
    text = "**What we find.** " + " ".join(x for x in out if x)
    reason = why(rows, NAMES)
    return text + ("\n\n" + reason if reason else "")


def _verdicts(rows) -> str:
    """``holds``, ``does not hold`` or ``holds only in part`` for a group of rows."""
    words = {r["verdict"] for r in rows}
    return "holds" if words == {"holds"} else "does not hold" if words == {"differs"} else "holds only in part"


def _main(by: dict) -> str:
    """Sentence 1: charges against energies, from fold to fold and between the two models."""
    found = [by[(CONSERVED.id, m)] for m in CONSERVED.models if (CONSERVED.id, m) in by] + \
        ([by[(AGREE.id, "")]] if (AGREE.id, "") in by else [])
    cons = [r for r in found if r["id"] == CONSERVED.id and r["verdict"] in _DECIDED]
    agree = next((r for r in found if r["id"] == AGREE.id and r["verdict"] in _DECIDED), None)
    if not cons and not agree:
        why = next((r["note"] for r in found if r.get("note")), "no model has two folds of both targets")
        return f"Whether charges are more conserved than energies is not decided on this build ({why.split(';')[0]})."
    parts = []
    if cons:
        ratios = join([f"{value(r, 'W1/IQR ratio'):.2f} for {r['model']}" for r in cons])
        parts.append(f"a model's charges move {'less' if all(r['verdict'] == 'holds' for r in cons) else 'not clearly less'} "
                     f"from fold to fold than its energies (charges' fold-to-fold distance over the energies': {ratios})")
    if agree:
        q = value(agree, "W1/IQR ratio")
        parts.append(f"BP and SchNet are {1 / q:.1f}× closer in their charges than in their energies" if q else
                     "BP and SchNet agree as closely in their charges as in their energies")
    return f"The paper's reading of Figure 4 {_verdicts(cons + ([agree] if agree else []))}: " + " and ".join(parts) + "."


def _unique(by: dict) -> str:
    """Sentence 2: the partitioning up to one constant factor."""
    rows = [by[(UNIQUE.id, m)] for m in UNIQUE.models if (UNIQUE.id, m) in by]
    rows = [r for r in rows if r["verdict"] in _DECIDED]
    if not rows:
        return ""
    ratios = join([f"{value(r, 'fitted factor'):.2f} ({r['model'] or 'BP vs SchNet'})" for r in rows])
    lead = ("Up to one constant factor the charge partitioning is the more unique one" if _verdicts(rows) == "holds"
            else f"That the charge partitioning is the more unique one up to a constant factor {_verdicts(rows)}")
    return (f"{lead}: after the best factor, checkpoints differ in their charges by {ratios} times what they "
            f"differ in their energies.")


def _h_and_c(row: dict | None) -> str:
    """Sentence 3: where BP and SchNet agree best."""
    if not row or row["verdict"] not in _DECIDED:
        return ""
    w1, effect = value(row, "W1/IQR"), value(row, "the effect")
    how = ("more closely for H and C than for N and O" if w1 is not None and w1 < 1 else
           "less closely for H or C than for N and O")
    gain = "" if effect is None else (
        f"; relative to the energies, H and C {'do' if effect < 1 else 'do not'} gain more than N and O, at a ratio "
        f"of {effect:.2f}")
    return (f"BP's and SchNet's charges agree {how} (the larger H or C distance is {w1:.2f}× the smaller N or O "
            f"one{gain}), so the paper's 'especially pronounced for H and C' {_verdicts([row])}.")


def _carbon(by: dict) -> str:
    """Sentence 4: carbon's latent energy against its latent charge, BP and SchNet."""
    bp, sn = by.get((BP_PARALLELS.id, "BP")), by.get((SCHNET_NO_SIMILARITY.id, "SchNet"))
    if not bp or bp["verdict"] not in _DECIDED:
        return ""
    rho = value(bp, "|Spearman ρ|")
    other = value(sn, "|Spearman ρ|") if sn and sn["verdict"] in _DECIDED else None
    runs = "run" if bp["verdict"] == "holds" else "do not run"
    text = (f"Carbon's latent energies and charges {runs} parallel in BP (|Spearman ρ| = {rho:.2f}, the rule asks "
            f"above {PARALLEL_RHO:g})")
    if other is None:
        return text + "."
    contrast = ("the contrast the paper draws" + (" holds" if bp["verdict"] == sn["verdict"] == "holds" else
                                                   " is not found"))
    return text + (f" and hardly at all in SchNet ({other:.2f}, below {NO_SIMILARITY_RHO:g}): {contrast}.")
