"""The training-budget readings in words: how many of the paper's rows would keep their verdict with more
training (:mod:`.budget` decides each row's budget; this module only counts and names them)."""
from __future__ import annotations

from typing import Iterable, Mapping

#: the budget verdicts in the order they are told
ORDER = ("sensitive", "stable", "untested")


def _label(r: Mapping) -> str:
    return f"{r['claim']}" + (f" ({r['model']})" if r.get("model") else "")


def tally(rows: Iterable[Mapping]) -> str:
    """Markdown over the ``paper`` rows' budgets: how many are stable, budget-sensitive or not evaluated on
    earlier training stages, then a list of the sensitive ones with the reason the rule gives; empty without
    budgets."""
    rows = [r for r in rows if r.get("kind") == "paper" and r.get("budget")]
    if not rows:
        return ""
    by = {v: [r for r in rows if r["budget"].get("verdict") == v] for v in ORDER}
    n = len(rows)
    k = len(by["stable"])
    head = (f"**Would more training change a verdict?** Of the paper's {n} rows, {k} {'is' if k == 1 else 'are'} "
            f"stable across three training stages (the same verdict at every stage, and no test moving toward "
            f"the other side of its threshold as the test error falls), {len(by['sensitive'])} budget-sensitive "
            f"(a verdict that changes between the stages or changed when the final models were replaced, or a "
            f"test whose trend crosses its threshold at a test error training could reach) and "
            f"{len(by['untested'])} not evaluated on earlier stages.")
    if by["sensitive"]:
        head += " The budget-sensitive ones:\n\n" + "\n".join(
            f"- {_label(r)}: {r['budget'].get('why', '')}." for r in by["sensitive"])
    return head


def series_sentence(series: list[dict]) -> str:
    """What the budget figure draws, counted from its lines (:func:`.budget.trend_series`): lines per panel
    and how many move toward a flip (the tests that make their claim budget-sensitive); empty without lines."""
    if not series:
        return ""
    panels: dict[str, list[dict]] = {}
    for s in series:
        panels.setdefault(s["axis"], []).append(s)
    parts = [f"{axis}: {len(lines)} test{'s' if len(lines) != 1 else ''}, "
             f"{sum(s.get('budget') == 'sensitive' for s in lines)} moving toward a flip"
             for axis, lines in panels.items()]
    return "The figure draws " + "; ".join(parts) + "."


def superseded_sentence(changes: list[dict]) -> str:
    """The verdicts that changed when the final models were replaced (:func:`.budget.all_superseded_changes`),
    grouped by the runs replaced; empty when none changed."""
    groups: dict[str, list[dict]] = {}
    for c in changes:
        groups.setdefault(c["runs"], []).append(c)
    parts = []
    for runs, cs in groups.items():
        n = len(cs)
        parts.append(f"When the final models were replaced ({runs}), {n} verdict{'s' if n != 1 else ''} changed: "
                     + "; ".join(f"“{c['claim']}”" + (f" ({c['model']})" if c.get("model") else "")
                                 + f", {c['before']} → {c['after']}" for c in cs) + ".")
    return " ".join(parts)
