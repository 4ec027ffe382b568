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
            f"(a verdict that changes between the stages, or a test whose trend crosses its threshold at a "
            f"test error training could reach) and "
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
