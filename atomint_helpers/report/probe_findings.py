"""Fig. 5's "What we find" and "Why", read off the probe chapter's scorecard rows
(:func:`atomint_helpers.report.probe.rows`): the paper's sentences on SchNet's maps (``paper`` rows), the
same rules on BP's maps (``beyond``) and the probe's own contract (``implementation``).
"""
from __future__ import annotations

from . import row_reading as fnd
from .registry import fmt
from .probe import (AROMATIC_CONTOURS, AROMATICITY, BP_CLAIMS, CLAIMS, CONTOURS, ELECTRONEGATIVITY, LOCALIZED,
                    RELEVANCE, SATURATION, SEPARATED, SYMMETRY)

#: the paper's sentences on Fig. 5 as the headline names them
NAMES = {SYMMETRY: "the potentials reflect the molecules' symmetries",
         SEPARATED: "low- and high-energy regions on the surfaces are clearly separated",
         CONTOURS: "contour lines are dense near the atoms",
         AROMATIC_CONTOURS: "most clearly so for the aromatic molecules",
         LOCALIZED: "the learned representation is localized",
         RELEVANCE: "the potentials can serve to attribute local relevance",
         SATURATION: "they tell saturated from aromatic carbons (bond saturation)",
         AROMATICITY: "they tell benzene's carbons from pyrazine's (degrees of aromaticity)",
         ELECTRONEGATIVITY: "they follow the electronegativity of H, C and N"}
#: the claims read on the maps of the notebook's model (per molecule) and on the site values (per energy fold)
MAP_CLAIMS = (SYMMETRY, SEPARATED, CONTOURS, AROMATIC_CONTOURS, LOCALIZED)
SITE_CLAIMS = (SATURATION, AROMATICITY, ELECTRONEGATIVITY)
_OPEN = ("inconclusive", "differs")


#: how a failing test reads on the maps, per claim: its first failing test's value ``{v}`` and threshold ``{t}``
MAP_WORDS = {SEPARATED: "the surface values split less cleanly into a low and a high group than the rule asks "
                        "(Otsu η {v}, needs above {t})",
             LOCALIZED: "moving an atom still changes Ω at points ≥ 4 Å away by {v} of its effect at points "
                        "< 2 Å away (needs below {t})"}


def _map_words(r: dict, c) -> str:
    t = next(t for t in r["tests"] if t["verdict"] != "holds")
    test = next(x for x in c.tests if x.name == t["name"])
    if c in MAP_WORDS and t["name"] == c.tests[0].name:
        return MAP_WORDS[c].format(v=fnd.minus(fmt(t["value"])), t=fmt(test.threshold))
    return f"{NAMES[c]} fails on {fnd.reading(t, c, brackets=False)}"


def _site_words(rows_by: dict) -> str:
    """The site-value claims that do not hold, and on how many energy folds their tests hold."""
    open_ = [(c, rows_by[c.id]) for c in SITE_CLAIMS if c.id in rows_by and rows_by[c.id]["verdict"] in _OPEN]
    if not open_:
        return ""
    counts = [fnd.folds_holding(t) for _, r in open_ for t in r["tests"]]
    lo, hi, n = min(k for k, _ in counts), max(k for k, _ in counts), max(n for _, n in counts)
    which = fnd.join([NAMES[c].split("(")[-1].rstrip(")") if "(" in NAMES[c] else "electronegativity"
                         for c, _ in open_])
    verdict = fnd.verdict_words({c.id: r["verdict"] for c, r in open_})
    return (f"The chemical concepts read off the carbons' site values ({which}) {fnd.plural(verdict, len(open_))} "
            f"because the {fnd.number(n)} energy folds disagree: each of their tests holds on "
            + (f"{lo} to {hi}" if lo != hi else f"{lo}") + f" of {n} folds.")


def what_we_find(rows: list[dict], quick: bool) -> str:
    """The chapter's finding in at most four sentences, read off its rows: which of the paper's sentences
    SchNet's maps bear out; the test that fails on the maps and on the site values; BP's maps and the
    probe's own checks; then the causes ("Why")."""
    if quick:
        return fnd.QUICK_FINDING
    schnet = fnd.by_id(rows, "SchNet")
    named = [(NAMES[c], {"SchNet": schnet[c.id]["verdict"]}) for c in CLAIMS if c.id in schnet]
    if not named:
        return ("**What we find.** No verdict on this build: the chapter ran on other molecules or another probe "
                "than Fig. 5's.")
    out = [fnd.tally(named, f"the paper's {fnd.number(len(named))} sentences on Fig. 5 (SchNet's maps, a carbon "
                            "probe)") + "."]
    maps = [_map_words(schnet[c.id], c) for c in MAP_CLAIMS if c.id in schnet and schnet[c.id]["verdict"] in _OPEN]
    if maps:
        out.append("On the maps themselves, " + fnd.join(maps) + ".")
    out.append(_site_words(schnet))
    bp = fnd.by_id(rows, "BP")
    bp_named = [(NAMES[c], {"BP": bp[k.id]["verdict"]}) for c in CLAIMS if c.id in BP_CLAIMS
                for k in (BP_CLAIMS[c.id],) if k.id in bp]
    impl = [r for r in rows if r.get("kind") == "implementation"]
    tail = []
    if bp_named:
        counts: dict[str, int] = {}
        for _, v in bp_named:
            counts[v["BP"]] = counts.get(v["BP"], 0) + 1
        tail.append(f"on BP's maps (beyond the paper), of the same {fnd.number(len(bp_named))} rules, "
                    + fnd.join([f"{fnd.number(k)} {fnd.plural(w, k)}" for w, k in counts.items()]))
    if impl:
        ok = sum(r["verdict"] == "holds" for r in impl)
        tail.append(f"the probe's own {fnd.number(len(impl))} checks all hold" if ok == len(impl) else
                    f"only {fnd.number(ok)} of the probe's {fnd.number(len(impl))} own checks hold")
    if tail:
        out.append(fnd.sentence("; ".join(tail)) + ".")
    reason = fnd.why(rows, {c.id: c for c in CLAIMS})
    return "**What we find.** " + " ".join(x for x in out if x) + ("\n\n" + reason if reason else "")
