"""A chapter's "What we find" and "Why", read off its scorecard rows (:mod:`.registry`): what Figs. 2–4
share (:mod:`.energies_words`, :mod:`.rings_words`, :mod:`.charge_words`).

"What we find" is at most four sentences led by the chapter's conclusion; each chapter writes its own from
its rows. "Why" is written here for every chapter alike, from the rows' causes: a ``finding`` (every test
differs, pooled and on most folds), ``several readings`` (the tests or folds disagree), ``our models`` (how
our models differ from the paper's), and each row's training-budget reading (:mod:`.budget`).
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Mapping

#: what a quick build says about the paper
QUICK_FIND = ("**What we find.** Nothing about the paper: a `quick` build measures tiny models trained for seconds "
              "on the embedded sample; the `cpu` and `paper` builds decide these claims.")
#: the verdicts that decide a claim (the others: not comparable, not testable)
DECIDED = ("holds", "differs", "inconclusive")


def by_claim(rows) -> dict[tuple[str, str], dict]:
    """The registry rows of a chapter, ``{(claim id, model label): row}``."""
    return {(r["id"], r.get("model") or ""): r for r in rows if r.get("id")}


def value(row: dict | None, test: str) -> float | None:
    """The pooled value of one test of a row (``None``: no row, no such test, or no value)."""
    if not row:
        return None
    t = next((t for t in row.get("tests", ()) if t["name"] == test), None)
    v = None if t is None else t.get("value")
    return None if v is None or not math.isfinite(float(v)) else float(v)


def verdict_of(row: dict | None, test: str) -> str:
    """The verdict of one test of a row (``not comparable`` without one)."""
    t = next((t for t in (row or {}).get("tests", ()) if t["name"] == test), None)
    return t["verdict"] if t else "not comparable"


def folds_holding(row: dict | None, test: str) -> tuple[int, int]:
    """``(folds on which the test holds, folds with a value)``."""
    t = next((t for t in (row or {}).get("tests", ()) if t["name"] == test), None)
    words = [w for w in (t or {}).get("folds", ()) if w != "n/a"]
    return sum(w == "holds" for w in words), len(words)


def label(row: dict, names: Mapping[str, str] | None = None) -> str:
    """A row in a few words: the chapter's name for its claim, or its statement, and the model."""
    name = (names or {}).get(row.get("id"), row["claim"])
    return f"{name} for {row['model']}" if row.get("model") and row["model"] not in name else name


def paper_rows(rows) -> list[dict]:
    return [r for r in rows if r.get("kind") == "paper"]


def tally(rows, names: Mapping[str, str] | None = None) -> str:
    """The paper rows' verdicts in one clause, naming those that hold: ``of the 13 verdicts this build reaches
    on the paper's claims, 2 hold (…), 4 differ and 7 are inconclusive``."""
    decided = [r for r in paper_rows(rows) if r["verdict"] in DECIDED]
    n = Counter(r["verdict"] for r in decided)
    holds = [label(r, names) for r in decided if r["verdict"] == "holds"]
    parts = [f"{n['holds']} hold{'s' if n['holds'] == 1 else ''}" + (f" ({join(holds)})" if holds else ""),
             f"{n['differs']} differ{'s' if n['differs'] == 1 else ''}",
             f"{n['inconclusive']} {'is' if n['inconclusive'] == 1 else 'are'} inconclusive"]
    return f"of the {len(decided)} verdicts this build reaches on the paper's claims, " + join(parts)


def why(rows, names: Mapping[str, str] | None = None) -> str:
    """The chapter's "Why", from the causes of its paper rows that do not hold and their training-budget
    readings; empty when every decided row holds."""
    rows = [r for r in paper_rows(rows) if r["verdict"] in ("differs", "inconclusive") and r.get("cause")]
    if not rows:
        return ""
    kind = {r["id"] + r["model"]: r["cause"].split(":", 1)[0] for r in rows}
    out = []
    found = [r for r in rows if kind[r["id"] + r["model"]] == "a finding"]
    if found:
        out.append(f"{_count(len(found))} differ{'s' if len(found) == 1 else ''} in every test, pooled and on "
                   f"most folds, a finding about our models rather than one fold's accident: {_names(found, names)}.")
    ours = [r for r in rows if kind[r["id"] + r["model"]] == "our models"]
    out += [f"{label(r, names)[:1].upper() + label(r, names)[1:]}: "
            f"{base_cause(r['cause']).split(':', 1)[1].strip().rstrip('.')}." for r in ours]
    several = [r for r in rows if kind[r["id"] + r["model"]] == "several readings"]
    if several:
        out.append(f"Inconclusive where the tests or folds disagree (which way each went is in the scorecard "
                   f"below): {_names(several, names)}.")
    out.append(budget_sentence(rows, names))
    confound = next((r["note"] for r in rows if str(r.get("note", "")).startswith("Design confound")), "")
    if confound:
        bears = [r for r in rows if r.get("note") == confound]
        out.append(f"{confound[:-1] if confound.endswith('.') else confound} — it bears on {_names(bears, names)}.")
    return "**Why.** " + " ".join(x for x in out if x)


def base_cause(cause: str) -> str:
    """A row's cause without the training-budget paragraph :func:`.budget.annotate` appends to it (it opens
    with ``Training budget:``), so that a chapter can say the cause once and the budgets in one sentence."""
    return cause.split(" Training budget:", 1)[0]


def budget_sentence(rows, names: Mapping[str, str] | None = None) -> str:
    """The training-budget readings of the rows that do not hold, in one sentence."""
    word = {r["id"] + r["model"]: (r.get("budget") or {}).get("verdict", "untested") for r in rows}
    stable = [r for r in rows if word[r["id"] + r["model"]] == "stable"]
    sensitive = [r for r in rows if word[r["id"] + r["model"]] == "sensitive"]
    untested = len(rows) - len(stable) - len(sensitive)
    if not stable and not sensitive:
        return ("None of these rows was measured at earlier training stages, so whether longer training would change "
                "them is open.")
    parts = []
    if stable:
        parts.append(f"{len(stable)} of these {len(rows)} rows keep their verdict at every earlier training stage, "
                     f"and no test of theirs moves toward the other side of its threshold")
    if sensitive:
        parts.append(f"{_names(sensitive, names)} {'depends' if len(sensitive) == 1 else 'depend'} on how long the "
                     f"models trained: a verdict that changed between the stages, or a test heading for the other "
                     f"side of its threshold (the scorecard says which)")
    if untested:
        parts.append(f"{untested} {'was' if untested == 1 else 'were'} not measured at earlier stages")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _count(n: int) -> str:
    """``One row``, ``Four rows``: a count of scorecard rows opening a sentence."""
    words = ("No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten")
    return f"{words[n] if n < len(words) else n} row{'' if n == 1 else 's'}"


def _names(rows, names) -> str:
    return join([label(r, names) for r in rows])


def join(items) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def sentence(text: str) -> str:
    """``text`` with a capital first letter."""
    return text[:1].upper() + text[1:]
