"""Fig. 7's "What we find" and "Why", read off the element-embedding chapter's scorecard rows
(:func:`atomint_helpers.report.embeddings.rows`).

The silhouette by group (−1…1) compares, for each element, the mean distance to the other members of its
group (a) with the mean distance to the members of the nearest other group (b): (b − a)/max(a, b). Near 0 an
element lies about as close to the nearest other group as to its own, so the groups do not form separate
clusters, even where an element's single nearest neighbour is more often of its own group than chance
allows.
"""
from __future__ import annotations

from . import row_reading as fnd
from .embeddings import (CLAIMS, CLUSTER, EXPLAINED, HYDROGEN, LEARNED, MP_MAE, ORDER_CLAIMS, PERIODIC_TABLE,
                         SCATTERED)
from .registry import fmt

#: below this |silhouette| the groups count as "near 0" in the words (not a rule of any verdict)
SILHOUETTE_NEAR_ZERO = 0.1


def _names(by: dict) -> dict:
    names = {CLUSTER: "elements of a group cluster in the PC plane",
             SCATTERED: "groups VI–VIII are more scattered than groups I–V",
             HYDROGEN: "hydrogen lies apart from the alkali metals",
             PERIODIC_TABLE: "the embeddings recover the periodic table's structure"}
    for g, c in ORDER_CLAIMS.items():
        names[c] = f"the light-to-heavy order of group {g}"
    ev = by.get(EXPLAINED.id)
    names[EXPLAINED] = (f"PC1 and PC2 explain about {fmt(EXPLAINED.paper_value)} % of the variance"
                        + (f" (here {fmt(ev['atomint'])} %)" if ev and ev.get("atomint") is not None else ""))
    return names


def _learned(rows: list[dict], label: str):
    return next((r for r in rows if r.get("claim") == LEARNED.format(label=label)), None)


def _periodic_table(rows: list[dict], by: dict) -> str:
    """The periodic-table conclusion against the silhouette: better than a random arrangement, and whether
    the groups form separate clusters."""
    pt = by.get(PERIODIC_TABLE.id)
    nn, sil = _learned(rows, "nearest-neighbour group agreement"), _learned(rows, "silhouette by group")
    if pt is None or pt["verdict"] == "not comparable" or nn is None or sil is None:
        return ""
    gain = fnd.value(pt, "learned over random")
    if gain is None:
        return ""
    nn_v, sil_v = float(nn["atomint"]), float(sil["atomint"])
    plane = fnd.value(by.get(CLUSTER.id, {}), "silhouette")
    magpie = fnd.value(pt, "Magpie distances")
    lead = ("recover the periodic table better than a random arrangement" if gain > 0
            else "do not beat a random arrangement")
    text = (f"The embeddings {lead}: in the full embedding space {100 * nn_v:.0f} % of the elements have a nearest "
            f"neighbour from their own group, against at most {100 * (nn_v - gain):.0f} % for the random "
            "initialisations" + (f", and their distances follow Magpie's (Mantel p = {fmt(magpie)})"
                                 if magpie is not None else ""))
    if abs(sil_v) < SILHOUETTE_NEAR_ZERO:
        in_plane = f" ({fnd.minus(f'{plane:.2f}')} in the PC plane)" if plane is not None else ""
        text += (f" — but the groups do not form separate clusters: the silhouette by group is "
                 f"{fnd.minus(f'{sil_v:.3f}')}{in_plane}, near 0, so an element lies on average about as close to "
                 "the nearest other group as to its own.")
    elif sil_v > 0:
        text += f", and the groups form clusters (silhouette by group {sil_v:.3f})."
    else:
        text += f", but the groups overlap as wholes (silhouette by group {fnd.minus(f'{sil_v:.3f}')})."
    return text


def what_we_find(rows: list[dict], quick: bool) -> str:
    """The chapter's finding in at most four sentences, read off its rows: which of the paper's readings of
    Fig. 7 hold; the periodic table recovered against a random arrangement, with what the silhouette near 0
    means; the crystal model's accuracy; then the causes ("Why"), which name the test that fails for each
    reading that does not hold."""
    if quick:
        return fnd.QUICK_FINDING
    by = fnd.by_id(rows)
    names = _names(by)
    named = [(names[c], fnd.verdicts(rows, c.id)) for c in CLAIMS if c.id in by]
    if not named:
        return "**What we find.** No verdict on this build."
    readings = len(named) - (PERIODIC_TABLE.id in by)
    out = [fnd.tally(named, f"the paper's {fnd.number(readings)} readings of Fig. 7"
                     + (" and its conclusion" if PERIODIC_TABLE.id in by else "")) + "."]
    out.append(_periodic_table(rows, by))
    mae = by.get(MP_MAE.id)
    if mae and mae["verdict"] != "not comparable":
        word = {"reproduced": "within 10 % of", "higher": "above", "lower": "below"}[mae["verdict"]]
        out.append(f"The crystal model behind the figure predicts formation energies to {fmt(mae['atomint'])} "
                   f"eV/atom, {word} SchNet's published {fmt(mae['paper'])} (beyond this paper).")
    reason = fnd.why(rows, {c.id: c for c in CLAIMS}, kinds=("paper", "beyond"))
    return "**What we find.** " + " ".join(x for x in out[:4] if x) + ("\n\n" + reason if reason else "")
