"""The scorecard: every notebook records what it computed next to what the paper states.

A notebook calls :func:`record` once with its rows; ``python -m atomint_helpers.book build`` collects
every chapter's file with :func:`collect`, puts the headline and one sentence per chapter on the book's
first page (:func:`summary_markdown`) and every row on the scorecard page (:func:`to_markdown`). Nothing
in the table is typed by hand: each value comes from a notebook run.

A row is a dict with

``claim``   (or ``quantity``) what is compared, in words (for a claim of the paper: its sentence, quoted);
``kind``    ``paper`` (a claim or number the paper states), ``setup`` (data counts, training-set sizes,
            provenance), ``implementation`` (our own correctness checks) or ``beyond`` (our additions);
            only ``paper`` rows count in the headline;
``model``   ``"BP"``, ``"SchNet"`` or ``""``: a claim about a model gets one row per model;
``paper``   the paper's value (number) or statement (text), ``None`` where the paper gives none;
``atomint`` the value atomint computed (number or text);
``unit``    the unit of both values (``""`` for counts and text);
``verdict`` one of :data:`~.registry.VERDICTS` (see :mod:`.registry`); a set-up or implementation row may
            give ``holds`` (True/False/None) instead, read as holds/differs/not comparable;
``rule``    the metric and threshold, fixed in code before the number was looked at (required for
            ``paper`` rows);
``note``    one short sentence: how it was computed, or why the row is not comparable.

Rows of the claims registry (:mod:`.registry`, :meth:`~.registry.Verdict.row`) add ``id``, ``section``,
``quote``, ``cause`` and ``tests`` (each ``{name, rule, value, verdict, folds}``).
"""
from __future__ import annotations

import datetime as _dt
import functools
import html
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import AtomintError
from ..io import atomic_write_text
from .registry import VERDICTS

FIELDS = ("claim", "kind", "model", "paper", "atomint", "unit", "verdict", "rule", "note")
#: the registry's fields (:mod:`.registry`): kept where a row has them
REGISTRY_FIELDS = ("id", "section", "quote", "cause", "tests", "fold_verdicts", "budget", "stages")
SCHEMA_VERSION = 3
#: the budget of a paper row whose claim was not evaluated on earlier training stages
UNTESTED_BUDGET = "not evaluated on earlier training stages"
KINDS = ("paper", "setup", "implementation", "beyond")
MODELS = ("", "BP", "SchNet")


def verdict(ok: bool | None) -> str:
    """A check's verdict from a yes/no/undecided test (set-up and implementation rows)."""
    return "not comparable" if ok is None else ("holds" if ok else "differs")


def _plain(value: Any) -> Any:
    """numpy scalars / arrays / paths → JSON-friendly Python values."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy scalar / 0-d array
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) else float(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def normalize_row(row: Mapping[str, Any], i: int = 0) -> dict:
    """Check one row and return it with exactly the keys of :data:`FIELDS`."""
    if not isinstance(row, Mapping):
        raise AtomintError(f"scorecard row {i} is a {type(row).__name__}, expected a dict with keys {FIELDS}")
    row = dict(row)
    if "claim" not in row and "quantity" in row:
        row["claim"] = row.pop("quantity")
    if "holds" in row:
        holds = row.pop("holds")
        holds = holds.item() if hasattr(holds, "item") else holds
        if holds is not None and not isinstance(holds, bool):
            raise AtomintError(f"scorecard row {i} ({row.get('claim')!r}): 'holds' must be True, False or None, "
                               f"got {holds!r}")
        if "verdict" in row:
            raise AtomintError(f"scorecard row {i} ({row.get('claim')!r}) gives both 'holds' and 'verdict'; "
                               "give one")
        row["verdict"] = verdict(holds)
    unknown = sorted(set(row) - set(FIELDS) - set(REGISTRY_FIELDS))
    if unknown:
        raise AtomintError(f"scorecard row {i} has unknown keys {unknown}; allowed: {FIELDS + REGISTRY_FIELDS} "
                           "(or 'quantity', 'holds')")
    claim = str(row.get("claim") or "").strip()
    if not claim:
        raise AtomintError(f"scorecard row {i} needs a 'claim' (or 'quantity'): what is being compared")
    if "atomint" not in row:
        raise AtomintError(f"scorecard row {i} ({claim!r}) needs an 'atomint' value")
    if row.get("kind") not in KINDS:
        raise AtomintError(f"scorecard row {i} ({claim!r}) needs a 'kind', one of {KINDS}; got "
                           f"{row.get('kind')!r}")
    if row.get("verdict", "not comparable") not in VERDICTS:
        raise AtomintError(f"scorecard row {i} ({claim!r}): 'verdict' must be one of {VERDICTS}, got "
                           f"{row.get('verdict')!r}")
    if (row.get("model") or "") not in MODELS:
        raise AtomintError(f"scorecard row {i} ({claim!r}): 'model' must be one of {MODELS}, got "
                           f"{row.get('model')!r}")
    if row["kind"] == "paper" and not str(row.get("rule") or "").strip():
        raise AtomintError(f"scorecard row {i} ({claim!r}) is a claim of the paper and needs its 'rule' "
                           "(metric and threshold)")
    out = {k: _plain(row.get(k)) for k in FIELDS}
    out.update({k: row[k] for k in REGISTRY_FIELDS if row.get(k) is not None})
    if out["kind"] == "paper" and "budget" not in out:  # every paper row says whether training stages were read
        out["budget"] = {"verdict": "untested", "why": UNTESTED_BUDGET}
    out["claim"] = claim
    out["verdict"] = row.get("verdict") or "not comparable"
    for k in ("model", "unit", "rule", "note"):
        out[k] = out[k] or ""
    return out


def _atomic_write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)


def record(out_dir: str | os.PathLike, chapter: str, rows: Iterable[Mapping[str, Any]],
           *, context: Mapping[str, Any] | None = None) -> Path:
    """Write ``out_dir/<chapter>.json`` atomically and return its path.

    ``chapter`` is the notebook's stem (``"data"`` for ``notebooks/data.ipynb``): the book links the rows
    to that page. ``context`` is free-form provenance shown under the table (profile, data source, ...).
    """
    chapter = str(chapter).strip()
    if not chapter or any(c in chapter for c in "/\\") or chapter.startswith("."):
        raise AtomintError(f"scorecard chapter {chapter!r} must be the notebook's file stem, e.g. 'data'")
    rows = [normalize_row(r, i) for i, r in enumerate(rows)]
    doc = {
        "schema": SCHEMA_VERSION,
        "chapter": chapter,
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "context": {str(k): _plain(v) for k, v in (context or {}).items()},
        "rows": rows,
    }
    path = Path(out_dir) / f"{chapter}.json"
    _atomic_write_text(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return path


def load(path: str | os.PathLike) -> dict:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AtomintError(f"scorecard file {path} is unreadable ({e}); re-run its notebook") from None
    if not isinstance(doc, dict) or "rows" not in doc:
        raise AtomintError(f"scorecard file {path} has no 'rows'; re-run its notebook")
    doc.setdefault("chapter", path.stem)
    doc["rows"] = [normalize_row(r, i) for i, r in enumerate(doc["rows"])]
    return doc


def collect(out_dir: str | os.PathLike, chapters: Iterable[str] | None = None) -> list[dict]:
    """The recorded chapters in ``out_dir`` (in the order of ``chapters`` if given, then the rest)."""
    out_dir = Path(out_dir)
    found = {p.stem: p for p in sorted(out_dir.glob("*.json"))} if out_dir.is_dir() else {}
    order = [c for c in (chapters or []) if c in found]
    order += [c for c in sorted(found) if c not in order]
    return [load(found[c]) for c in order]


# --------------------------------------------------------------------------------------- a row for reading
def format_value(value: Any) -> str:
    """Numbers as a reader expects them: 130,831 · 0.312 · 1,755 · text as is; ``None`` as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 0.01:
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.1f}"
        return f"{value:.2e}"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def md_cell(text: str) -> str:
    """Escape a value for a Markdown pipe table."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


#: the verdict as the tables show it
VERDICT_MARK = {"holds": "✓ holds", "reproduced": "✓ reproduced", "differs": "✗ differs", "lower": "▼ lower",
                "higher": "▲ higher", "inconclusive": "≈ inconclusive", "not testable": "∅ not testable",
                "not comparable": "— not comparable"}
#: background colour of a verdict (green holds, red does not, amber inconclusive, grey undecidable)
VERDICT_COLOUR = {"holds": "#c8e6c9", "reproduced": "#c8e6c9", "differs": "#ffcdd2", "lower": "#ffcdd2",
                  "higher": "#ffcdd2", "inconclusive": "#ffe0b2", "not testable": "#e0e0e0",
                  "not comparable": "#e0e0e0"}


def rule_note(r: Mapping[str, Any]) -> str:
    rule = r["rule"] if r["rule"] == "same rule as above" else (f"rule: {r['rule']}" if r["rule"] else "")
    return " — ".join(x for x in (rule, r["note"]) if x)


def display_table(rows: Iterable[Mapping[str, Any]]):
    """A chapter's scorecard rows for reading: a DataFrame (the claim as index; the model, paper and atomint
    values rounded by :func:`format_value` with a dash for none, the unit, the verdict (:data:`VERDICT_MARK`),
    the cause and the tests; never a raw True/None/NaN) that a notebook shows as :func:`claims_html`, one
    block per claim that fits the book's text column."""
    rows = [normalize_row(r, i) for i, r in enumerate(rows)]
    out = [{"claim": r["claim"], "model": r["model"], "paper": format_value(r["paper"]),
            "atomint": format_value(r["atomint"]), "unit": r["unit"], "verdict": VERDICT_MARK[r["verdict"]],
            "why": r.get("cause") or "", "tests · rule · note": tests_text(r)} for r in rows]
    cols = ["claim", "model", "paper", "atomint", "unit", "verdict", "why", "tests · rule · note"]
    table = _claims_table_class()(out, columns=cols).set_index("claim").rename_axis(None)
    table.claim_rows = rows
    return table


@functools.cache
def _claims_table_class():
    import pandas as pd

    class ClaimsTable(pd.DataFrame):
        """The rows of :func:`display_table`, shown in a notebook as :func:`claims_html` (the frame's own
        table while it still has one row per claim row, otherwise pandas' table)."""

        _metadata = ["claim_rows"]

        @property
        def _constructor(self):
            return ClaimsTable

        def _repr_html_(self):
            rows = getattr(self, "claim_rows", None)
            if rows is None or len(rows) != len(self) or list(self.index) != [r["claim"] for r in rows]:
                return super()._repr_html_()
            return claims_html(rows)

    return ClaimsTable


def tests_text(r: Mapping[str, Any]) -> str:
    """A row's tests in words: each rule with its pooled value, verdict and per-fold verdicts; rows without
    registry tests give their rule and note."""
    tests = r.get("tests") or []
    if not tests:
        return rule_note(r)
    bits = []
    for t in tests:
        folds = ", ".join(f"{lab} {v}" for lab, v in zip(t.get("fold_labels") or [], t["folds"])) or "—"
        bits.append(f"{t['rule']} — value {format_value(t['value'])} → {t['verdict']} (per fold: {folds})")
    if r.get("note"):
        bits.append(r["note"])
    return " · ".join(bits)


# ------------------------------------------------------------------------------ a block per claim (HTML)
def _esc(text: Any) -> str:
    return html.escape(str(text), quote=False)


def _line(label: str, text: str) -> str:
    return f'<div><span class="atomint-label">{_esc(label)}</span> {_esc(text)}</div>'


def _test_lines(t: Mapping[str, Any]) -> str:
    """One test: its rule in full, the value on all the data with its verdict, then each fold's value
    and verdict."""
    labels = t.get("fold_labels") or [f"fold {k}" for k in range(len(t.get("folds") or []))]
    values = t.get("fold_values") or [None] * len(labels)
    folds = "; ".join(f"{lab}: {format_value(v) + ' ' if v is not None else ''}{verdict}"
                      for lab, v, verdict in zip(labels, values, t.get("folds") or []))
    value = f"all data: {format_value(t['value'])} → {t['verdict']}" + (f"; {folds}" if folds else "")
    return (f'<div class="atomint-test"><span class="atomint-label">test</span> {_esc(t["rule"])}'
            f'<div class="atomint-folds">{_esc(value)}</div></div>')


def _values(r: Mapping[str, Any]) -> list[str]:
    """The paper's and atomint's values of a row without tests, with the unit (no paper value for a
    statement)."""
    unit = f" {r['unit']}" if r["unit"] else ""
    paper = [] if r["paper"] is None or r["paper"] == r["claim"] else [f"paper {format_value(r['paper'])}{unit}"]
    return paper + [f"atomint {format_value(r['atomint'])}{unit}"]


def claims_html(rows: Iterable[Mapping[str, Any]], *, extra=None, column=None) -> str:
    """The rows as one HTML table of two columns that fits the book's text column: per row, its section and
    model, the claim in words and the paper's sentence (once for consecutive rows that quote the same one)
    beside the verdict; under them, across both columns, the tests (each rule in full, its value on all
    the data and on each fold), the values of a row without tests, the note and why it does not hold.
    ``extra(row)`` may add ``(label, text)`` lines (the scorecard page: the training budget). No line of
    it is cut short; no blank line inside (a raw HTML block of Markdown). ``column=(title, cell)`` adds a
    narrow third column after the verdict, ``cell(row)`` its text (the scorecard page: the training budget)."""
    third = column is not None
    lines = ['<table class="atomint-claims">',
             '<colgroup><col><col class="atomint-verdict-col">'
             + ('<col class="atomint-extra-col">' if third else "") + "</colgroup>",
             "<thead><tr><th>claim</th><th>verdict</th>" + (f"<th>{_esc(column[0])}</th>" if third else "")
             + "</tr></thead>"]
    prev_quote = None
    for i, r in enumerate(rows):
        r = normalize_row(r, i)
        where = " · ".join(x for x in (r.get("section") or "", r["model"]) if x)
        head = f'<div class="atomint-where">{_esc(where)}</div>' if where else ""
        head += f'<div class="atomint-claim">{_esc(r["claim"])}</div>'
        quote = r.get("quote")
        if quote and quote != r["claim"]:
            said = f"“{quote}”" if quote != prev_quote else "(the same sentence as the row above)"
            head += f'<div class="atomint-quote">{_esc(said)}</div>'
        prev_quote = quote
        tests = r.get("tests") or []
        values = _values(r) if not tests else []
        detail = [_test_lines(t) for t in tests] + ([_line("values", " · ".join(values))] if values else [])
        rule, note = r["rule"], r["note"]
        if rule and not tests:
            detail.append(_line("rule", rule))
            if note.startswith(rule):  # a note that goes on from the rule: only what it adds
                note = note[len(rule):].lstrip(" :;—")
        if r.get("fold_verdicts"):
            detail.append(_line("per fold", ", ".join(r["fold_verdicts"])))
        if note:
            detail.append(_line("note", note))
        if r.get("cause"):
            detail.append(_line("why", r["cause"]))
        detail += [_line(label, text) for label, text in (extra(r) if extra else ())]
        colour = VERDICT_COLOUR[r["verdict"]]
        mark = _esc(VERDICT_MARK[r["verdict"]])
        cell = f'<td class="atomint-extra">{_esc(column[1](r))}</td>' if third else ""
        lines += ["<tbody>", f'<tr class="atomint-head"><td>{head}</td>'
                  f'<td class="atomint-verdict" style="background:{colour}">{mark}</td>{cell}</tr>']
        if detail:
            lines.append(f'<tr class="atomint-detail"><td colspan="{3 if third else 2}">{"".join(detail)}</td></tr>')
        lines.append("</tbody>")
    return "\n".join(lines + ["</table>"])


def write_markdown(path: str | os.PathLike, text: str) -> Path:
    path = Path(path)
    _atomic_write_text(path, text)
    return path
