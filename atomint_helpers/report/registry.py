"""The claims registry: every claim declared once, decided by its tests, pooled and fold by fold.

A :class:`Claim` is the paper's sentence (``quote``, verbatim), where it stands (``section``), what kind of
claim it is, which models it is about, and its :class:`Test`\\ s: each a metric, one named threshold and a
direction. The rule text a reader sees is generated from those same fields (:meth:`Test.rule`), so the
words and the code cannot drift apart. A chapter module declares its claims and computes, per model, one
:class:`Measurement` per test (the pooled value and one value per fold or fold pair); :func:`decide` turns
them into a :class:`Verdict`, and :meth:`Verdict.row` into the scorecard's row.

Verdict words (statements):

``holds``         every test holds, pooled and on at least two thirds of the folds (2 of 3);
``differs``       every test differs, likewise;
``inconclusive``  the tests, or the folds of a test, disagree (the row shows which way each went);
``not testable``  the paper's words give nothing to decide on (the claim says why).

Numbers (``kind`` ``paper`` with a ``paper_value``): ``reproduced`` within the claim's tolerance;
otherwise ``lower`` or ``higher`` where the direction means something (errors), ``differs`` where it does
not (a descriptive number is reproduced or not). ``not comparable``: this build cannot decide (the quick
profile, a model still training).

Every statement or number that does not hold carries a :class:`Cause`: ``our models`` (how they differ from
the paper's), ``several readings`` (the tests disagree: the claim's words admit more than one reading) or
``a finding`` (consistent across tests and folds).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from .. import AtomintError

Direction = Literal["above", "below"]
KINDS = ("paper", "setup", "implementation", "beyond")
STATEMENT_VERDICTS = ("holds", "differs", "inconclusive", "not testable")
NUMBER_VERDICTS = ("reproduced", "lower", "higher", "differs")
#: every verdict word a row may carry, in the order the scorecard counts them
VERDICTS = ("holds", "reproduced", "differs", "lower", "higher", "inconclusive", "not testable", "not comparable")
#: the verdicts that count as "the claim holds"
HOLDING = ("holds", "reproduced")
CAUSES = ("our models", "several readings", "a finding")
#: a test decides when it holds (or differs) on at least this share of the folds, as well as pooled
FOLD_MAJORITY = 2 / 3


def fmt(x: float | None, digits: int = 3) -> str:
    """A number for a rule or a value: 3 significant digits, thousands separated; ``n/a`` for none."""
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    x = float(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.{digits - 1}e}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


@dataclass(frozen=True)
class Test:
    """One reasonable way to decide a claim: ``metric`` (in words) compared with ``threshold``."""

    __test__ = False  # not a pytest test class

    name: str
    metric: str
    threshold: float
    holds_if: Direction
    unit: str = ""

    def __post_init__(self):
        if self.holds_if not in ("above", "below"):
            raise AtomintError(f"test {self.name!r}: holds_if must be 'above' or 'below', got {self.holds_if!r}")

    def rule(self) -> str:
        """The rule in words, from the fields that decide it."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.name}: holds if {self.metric} is {self.holds_if} {fmt(self.threshold)}{unit}"

    def holds(self, value: float | None) -> bool | None:
        """Whether ``value`` satisfies the rule; ``None`` when there is no finite value."""
        if value is None or not math.isfinite(float(value)):
            return None
        return float(value) > self.threshold if self.holds_if == "above" else float(value) < self.threshold

    def normalised(self, value: float | None) -> float | None:
        """``value`` relative to the threshold, signed so that a value above 0 holds: (v − t)/|t| for
        ``above``, (t − v)/|t| for ``below`` (|t| replaced by 1 for a zero threshold)."""
        if value is None or not math.isfinite(float(value)):
            return None
        scale = abs(self.threshold) or 1.0
        d = (float(value) - self.threshold) / scale
        return d if self.holds_if == "above" else -d


@dataclass(frozen=True)
class Claim:
    """A claim as the scorecard declares it. Statements need at least two tests; a number gives
    ``paper_value`` and ``tolerance`` (relative) instead, and ``error=True`` where lower means better."""

    id: str
    section: str
    quote: str
    statement: str
    kind: str = "paper"
    models: tuple[str, ...] = ("",)
    tests: tuple[Test, ...] = ()
    paper_value: float | None = None
    tolerance: float | None = None
    error: bool = False
    unit: str = ""
    #: why the paper's words give nothing to decide on (a ``not testable`` claim)
    untestable: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise AtomintError(f"claim {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "paper" and not (self.section and self.quote):
            raise AtomintError(f"claim {self.id}: a claim of the paper needs its section and quote")
        names = [t.name for t in self.tests]
        if len(set(names)) != len(names):
            raise AtomintError(f"claim {self.id}: test names must differ, got {names}")
        if self.is_number:
            if self.tolerance is None:
                raise AtomintError(f"claim {self.id}: a number needs its tolerance")
        elif self.kind == "paper" and self.untestable is None and len(self.tests) < 2:
            raise AtomintError(f"claim {self.id}: a statement of the paper needs at least two tests, has {len(names)}")

    @property
    def is_number(self) -> bool:
        return self.paper_value is not None

    def number_rule(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        other = "lower or higher" if self.error else "differs"
        return (f"reproduced if within ±{self.tolerance:.0%} of the paper's {fmt(self.paper_value)}{unit}; "
                f"otherwise {other}")


@dataclass(frozen=True)
class Measurement:
    """One test's evidence for one model: the pooled value and one value per fold (or fold pair),
    labelled (``"fold 0"``, ``"folds 0–1"``)."""

    pooled: float | None
    folds: tuple[float | None, ...] = ()
    labels: tuple[str, ...] = ()

    def __post_init__(self):
        if self.labels and len(self.labels) != len(self.folds):
            raise AtomintError("a measurement needs one label per fold value")


@dataclass(frozen=True)
class TestResult:
    test: Test
    value: float | None
    verdict: str                     # holds | differs | mixed | not comparable
    folds: tuple[str, ...]           # per fold: holds | differs | n/a
    fold_values: tuple[float | None, ...]
    labels: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"name": self.test.name, "rule": self.test.rule(), "value": _plain(self.value),
                "verdict": self.verdict, "folds": list(self.folds),
                "fold_values": [_plain(v) for v in self.fold_values], "fold_labels": list(self.labels)}

    def summary(self) -> str:
        """``W1/IQR 0.41 → holds (folds: holds, holds, differs)``."""
        unit = f" {self.test.unit}" if self.test.unit else ""
        folds = f" (folds: {', '.join(self.folds)})" if self.folds else ""
        return f"{self.test.name} {fmt(self.value)}{unit} → {self.verdict}{folds}"


@dataclass(frozen=True)
class Cause:
    kind: str
    text: str

    def __post_init__(self):
        if self.kind not in CAUSES:
            raise AtomintError(f"cause must be one of {CAUSES}, got {self.kind!r}")

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


@dataclass(frozen=True)
class Verdict:
    """What the scorecard stores for one claim and one model on one build."""

    claim: Claim
    model: str
    verdict: str
    results: tuple[TestResult, ...] = ()
    atomint: object = None
    cause: Cause | None = None
    note: str = ""
    fold_numbers: tuple[str, ...] = ()   # numbers: the per-fold verdicts
    budget: dict | None = None

    def row(self) -> dict:
        """The scorecard row (:mod:`.scorecard`): the old fields and the registry's."""
        c = self.claim
        rule = c.number_rule() if c.is_number else (c.untestable or "; ".join(r.test.rule() for r in self.results)
                                                    or "; ".join(t.rule() for t in c.tests))
        return {"id": c.id, "section": c.section, "quote": c.quote, "claim": c.statement, "kind": c.kind,
                "model": self.model, "paper": c.paper_value if c.is_number else (c.statement if c.kind == "paper"
                                                                                   else None),
                "atomint": self.atomint if self.atomint is not None else self.value_text(), "unit": c.unit,
                "verdict": self.verdict, "rule": rule, "note": self.note,
                "cause": str(self.cause) if self.cause else None,
                "tests": [r.as_dict() for r in self.results], "fold_verdicts": list(self.fold_numbers),
                **({"budget": self.budget} if self.budget is not None else {})}

    def value_text(self) -> str:
        return "; ".join(r.summary() for r in self.results)


def _plain(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def judge_test(test: Test, m: Measurement) -> TestResult:
    """A test's verdict: ``holds`` (``differs``) when it holds (differs) pooled and on at least
    :data:`FOLD_MAJORITY` of the folds with a value; ``mixed`` otherwise; ``not comparable`` without a
    pooled value. With no per-fold values the pooled verdict stands alone."""
    pooled = test.holds(m.pooled)
    fold = [test.holds(v) for v in m.folds]
    words = tuple("n/a" if f is None else ("holds" if f else "differs") for f in fold)
    known = [f for f in fold if f is not None]
    if pooled is None:
        verdict = "not comparable"
    elif not known:
        verdict = "holds" if pooled else "differs"
    else:
        agree = sum(f == pooled for f in known)
        verdict = ("holds" if pooled else "differs") if agree >= FOLD_MAJORITY * len(known) - 1e-9 else "mixed"
    labels = m.labels or tuple(f"fold {i}" for i in range(len(m.folds)))
    return TestResult(test, m.pooled, verdict, words, tuple(m.folds), labels)


def decide(claim: Claim, model: str, measurements: Mapping[str, Measurement], *, why_not: str | None = None,
           if_differs: Cause | None = None, note: str = "", atomint=None) -> Verdict:
    """The verdict of a statement for ``model`` from one :class:`Measurement` per test.

    ``why_not``: the build cannot decide (quick profile, a model still training) → ``not comparable`` with
    that note. ``if_differs``: the cause when every test differs and our models explain it (say how);
    without it a consistent difference is ``a finding``. Disagreeing tests give ``inconclusive`` and the
    cause ``several readings``, which names the way each test went."""
    if claim.untestable is not None:
        return Verdict(claim, model, "not testable", note=note or claim.untestable, atomint=atomint or "—")
    missing = [t.name for t in claim.tests if t.name not in measurements]
    if missing:
        raise AtomintError(f"claim {claim.id} ({model or 'both models'}): no measurement for {missing}")
    results = tuple(judge_test(t, measurements[t.name]) for t in claim.tests)
    if why_not:
        return Verdict(claim, model, "not comparable", results, atomint, note=why_not)
    words = [r.verdict for r in results]
    if "not comparable" in words:
        return Verdict(claim, model, "not comparable", results, atomint,
                       note=note or "a test has no value on this build")
    if all(w == "holds" for w in words):
        return Verdict(claim, model, "holds", results, atomint, note=note)
    if all(w == "differs" for w in words):
        cause = if_differs or Cause("a finding", "every test differs, pooled and on most folds: "
                                    + "; ".join(r.summary() for r in results))
        return Verdict(claim, model, "differs", results, atomint, cause, note)
    ways = "; ".join(r.summary() for r in results)
    return Verdict(claim, model, "inconclusive", results, atomint,
                   Cause("several readings", f"the tests or folds disagree: {ways}"), note)


def decide_number(claim: Claim, model: str, pooled: float | None, folds: Sequence[float | None] = (), *,
                  why_not: str | None = None, if_off: Cause | None = None, note: str = "") -> Verdict:
    """A number's verdict: ``reproduced`` within the tolerance, else ``lower``/``higher`` (errors) or
    ``differs``; the per-fold verdicts are stored beside it. ``if_off``: the cause when it is not
    reproduced (how our models differ); without it, ``a finding``."""
    def word(v):
        if v is None or not math.isfinite(float(v)):
            return "n/a"
        if abs(float(v) - claim.paper_value) <= claim.tolerance * abs(claim.paper_value):
            return "reproduced"
        if not claim.error:
            return "differs"
        return "lower" if float(v) < claim.paper_value else "higher"

    fold_words = tuple(word(v) for v in folds)
    if why_not or pooled is None:
        return Verdict(claim, model, "not comparable", atomint=pooled, note=why_not or "no value on this build",
                       fold_numbers=fold_words)
    v = word(pooled)
    cause = None
    if v != "reproduced":
        cause = if_off or Cause("a finding", f"{fmt(pooled)} against the paper's {fmt(claim.paper_value)}")
    return Verdict(claim, model, v, atomint=pooled, cause=cause, note=note, fold_numbers=fold_words)


def registry_errors(claims: Sequence[Claim], paper_text: str | None = None) -> list[str]:
    """What is wrong with a chapter's declarations: duplicate ids, and (given the paper's text) quotes
    that are not found in it verbatim (whitespace normalised)."""
    errors, seen = [], set()
    norm = (lambda s: " ".join(s.split())) if paper_text is not None else None
    text = norm(paper_text) if norm else None
    for c in claims:
        if c.id in seen:
            errors.append(f"duplicate claim id {c.id}")
        seen.add(c.id)
        if text is not None and c.kind == "paper" and norm(c.quote) not in text:
            errors.append(f"{c.id}: quote not found in the paper: {c.quote[:80]!r}")
    return errors
