"""What a chapter's "What we find" and "Why" share: reading its scorecard rows (:mod:`.registry`) back into
words.

A chapter's finding is read off its rows, never typed: which of the paper's statements hold, which test of
a statement that does not hold fails and on how many folds, with the test's threshold from the claim's
declaration (:class:`~.registry.Test`). :func:`why` turns the rows' causes into the "Why" paragraph.
"""
from __future__ import annotations

from .findings import base_cause, join, sentence  # noqa: F401 (join and sentence: the chapters call them through this module)
from .registry import Claim, fmt

#: what a quick build says about the paper: nothing
QUICK_FINDING = ("**What we find.** Nothing about the paper: a `quick` build evaluates tiny models trained for "
                 "seconds on the embedded sample.")


def by_id(rows: list[dict], model: str | None = None) -> dict:
    """The registry rows by claim id (of one ``model`` where given: ``"BP"``, ``"SchNet"`` or ``""``)."""
    return {r["id"]: r for r in rows if r.get("id") and (model is None or r.get("model", "") == model)}


def folds_holding(test: dict) -> tuple[int, int]:
    """``(folds where the test holds, folds with a value)`` of one test of a row."""
    known = [f for f in test.get("folds", []) if f != "n/a"]
    return sum(f == "holds" for f in known), len(known)


def _noun(test: dict) -> str:
    labels = " ".join(test.get("fold_labels", []))
    return "resamples" if "resample" in labels else ("folds" if "fold" in labels or not labels else "molecules")


def minus(text: str) -> str:
    """A number's hyphen as a true minus sign."""
    return text.replace("-", "−")


def reading(test: dict, claim: Claim | None = None, brackets: bool = True) -> str:
    """One test of a row in words: its value against its threshold and on how many folds (molecules,
    resamples) it holds, e.g. ``ESP at the atoms −0.00549 eV (needs above 0; holds on 0 of 3 folds)``."""
    t = next((x for x in claim.tests if x.name == test["name"]), None) if claim is not None else None
    unit = f" {t.unit}" if t is not None and t.unit else ""
    rule = [f"needs {t.holds_if} {minus(fmt(t.threshold))}"] if t is not None else []
    k, n = folds_holding(test)
    folds = [f"holds on {k} of {n} {_noun(test)}"] if n else []
    head = f"{test['name']} {minus(fmt(test['value']))}{unit}"
    if not brackets:
        return ", ".join([head, *rule, *folds])
    return head + (f" ({'; '.join(rule + folds)})" if rule or folds else "")


def failing(row: dict, claim: Claim | None = None, brackets: bool = True) -> list[str]:
    """The readings (:func:`reading`) of the tests of ``row`` that do not hold (differ or are mixed)."""
    return [reading(t, claim, brackets) for t in row.get("tests", []) if t["verdict"] != "holds"]


def holding(row: dict, claim: Claim | None = None) -> list[str]:
    """The readings of the tests of ``row`` that hold."""
    return [reading(t, claim) for t in row.get("tests", []) if t["verdict"] == "holds"]


def value(row: dict, test: str) -> float | None:
    """The pooled value of the test named ``test`` in ``row``."""
    return next((t["value"] for t in row.get("tests", []) if t["name"] == test), None)


def why(rows: list[dict], claims: dict[str, Claim] | None = None, kinds=("paper",)) -> str:
    """The "Why" paragraph from the causes of the rows (of ``kinds``) that do not hold, one sentence per claim:
    for a claim whose tests or folds disagree (``several readings``) which test holds and which does not, on
    how many folds, model by model; otherwise the cause's own words. Empty when every row holds."""
    claims = claims or {}
    grouped: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("cause") and r.get("kind") in kinds:
            grouped.setdefault(r.get("id") or r["claim"], []).append(r)
    out = []
    for key, rs in grouped.items():
        claim = claims.get(key)
        kind = rs[0]["cause"].partition(": ")[0]
        parts = []
        for r in rs:
            who = f"{r['model']}: " if len(rs) > 1 and r.get("model") else ""
            text = base_cause(r["cause"]).partition(": ")[2]
            if kind == "several readings" and r.get("tests"):
                yes, no = holding(r, claim), failing(r, claim)
                text = ("; ".join(yes) + (" holds, " if len(yes) == 1 else " hold, ") + "; ".join(no)
                        + (" does not" if len(no) == 1 else " do not") if yes
                        else "; ".join(no))
            parts.append(who + text.rstrip("."))
        label = kind
        if kind == "several readings":  # tests that part, or one test's folds that part
            tests = [t for r in rs for t in r.get("tests", [])]
            label = ("the tests disagree" if any(holding(r) for r in rs)
                     else f"the {_noun(tests[0]) if tests else 'folds'} disagree")
        out.append(f"*{rs[0]['claim']}* — {label}: " + "; ".join(parts) + ".")
    return ("**Why.** " + " ".join(out)) if out else ""


def verdicts(rows: list[dict], claim_id: str) -> dict:
    """``{model: verdict}`` of one claim's rows."""
    return {r.get("model", ""): r["verdict"] for r in rows if r.get("id") == claim_id}


def verdict_words(by_model: dict) -> str:
    """One claim's verdicts in words: ``holds`` (every model alike), ``holds for BP, inconclusive for
    SchNet``."""
    words = set(by_model.values())
    if len(words) == 1:
        return next(iter(words))
    return ", ".join(f"{v} for {m}" for m, v in by_model.items())


def tally(named: list[tuple[str, dict]], total: str) -> str:
    """The headline of a chapter: ``named`` = ``[(claim in words, {model: verdict})]`` grouped by verdict,
    e.g. ``Of the paper's five statements on Fig. 6, three hold: *a*, *b* and *c*; two are inconclusive:
    *d* and *e*``; ``total``: the first words (``the paper's five statements on Fig. 6``)."""
    groups: dict[str, list[str]] = {}
    for name, by_model in named:
        groups.setdefault(verdict_words(by_model), []).append(name)
    order = sorted(groups, key=lambda w: (not w.startswith("holds"), w.startswith("not"), w))
    parts = [f"{number(len(groups[w]))} {plural(w, len(groups[w]))}: {join(map(_italic, groups[w]))}"
             for w in order]
    return f"Of {total}, " + "; ".join(parts)


def _italic(name: str) -> str:
    """A claim's name in italics, a closing remark in brackets left upright: ``*a* (b)``."""
    head, sep, tail = name.partition(" (")
    return f"*{head}*" + (f" ({tail}" if sep else "")


def number(n: int) -> str:
    """A count in words up to ten."""
    return ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")[n] if n <= 10 else str(n)


def plural(verdict: str, n: int) -> str:
    """``holds`` → ``hold`` for more than one claim (``is inconclusive`` → ``are inconclusive``)."""
    first, _, rest = verdict.partition(" ")
    if first == "holds":
        first = "hold" if n > 1 else "holds"
    elif first in ("differs",):
        first = "differ" if n > 1 else "differs"
    else:
        first = ("are " if n > 1 else "is ") + first
    return f"{first} {rest}".strip()
