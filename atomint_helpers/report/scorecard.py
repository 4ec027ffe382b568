"""The scorecard: every notebook records what it computed next to what the paper states.

A notebook calls :func:`record` once with its rows; ``python -m atomint_helpers.book build`` collects
every chapter's file with :func:`collect` and renders the table on the book's first page with
:func:`to_markdown`. Nothing in the table is typed by hand: each value comes from a notebook run.

A row is a dict with

``claim``   (or ``quantity``) what is compared, in words;
``paper``   the paper's value (number) or statement (text), ``None`` where the paper gives none;
``atomint`` the value atomint computed (number or text);
``unit``    the unit of both values (``""`` for counts and text);
``holds``   ``True``/``False`` if the comparison is meaningful in this run, ``None`` if not
            (e.g. the embedded sample stands in for the full data);
``note``    one short sentence: how it was computed, or why ``holds`` is ``None``.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from .. import AtomintError
from ..io import atomic_write_text

FIELDS = ("claim", "paper", "atomint", "unit", "holds", "note")
SCHEMA_VERSION = 1


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
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise AtomintError(f"scorecard row {i} has unknown keys {unknown}; allowed: {FIELDS} (or 'quantity')")
    if not str(row.get("claim") or "").strip():
        raise AtomintError(f"scorecard row {i} needs a 'claim' (or 'quantity'): what is being compared")
    if "atomint" not in row:
        raise AtomintError(f"scorecard row {i} ({row['claim']!r}) needs an 'atomint' value")
    holds = row.get("holds")
    if hasattr(holds, "item"):
        holds = holds.item()
    if holds is not None and not isinstance(holds, bool):
        raise AtomintError(f"scorecard row {i} ({row['claim']!r}): 'holds' must be True, False or None, "
                           f"got {holds!r}")
    out = {k: _plain(row.get(k)) for k in FIELDS}
    out["holds"] = holds
    out["unit"] = out["unit"] or ""
    out["note"] = out["note"] or ""
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


# --------------------------------------------------------------------------------------- rendering
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


def _cell(text: str) -> str:
    """Escape a value for a Markdown pipe table."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


HOLDS_MARK = {True: "✓ holds", False: "✗ differs", None: "n/a"}
#: the verdict as a chapter's table shows it
VERDICT_MARK = {True: "✓", False: "✗", None: "—"}


def display_table(rows: Iterable[Mapping[str, Any]]):
    """A chapter's scorecard rows for reading: claim as index, paper and atomint values rounded
    (:func:`format_value`, a dash for none), the unit, the verdict as ✓ / ✗ / — and the note; never a raw
    True/None/NaN."""
    import pandas as pd

    out = []
    for i, r in enumerate(rows):
        r = normalize_row(r, i)
        out.append({"claim": r["claim"], "paper": format_value(r["paper"]), "atomint": format_value(r["atomint"]),
                    "unit": r["unit"] or "", "verdict": VERDICT_MARK[r["holds"]], "note": r["note"] or ""})
    return pd.DataFrame(out, columns=["claim", "paper", "atomint", "unit", "verdict", "note"]).set_index(
        "claim").rename_axis(None)


def summary(chapters: list[dict]) -> dict:
    rows = [r for c in chapters for r in c["rows"]]
    return {"rows": len(rows), "holds": sum(r["holds"] is True for r in rows),
            "differs": sum(r["holds"] is False for r in rows),
            "not_comparable": sum(r["holds"] is None for r in rows)}


def to_markdown(chapters: list[dict], *, missing: Iterable[str] = (), link: bool = True,
                build_info: str = "") -> str:
    """The scorecard as MyST Markdown, without headings: a summary line, then per chapter a link to its
    page, where its values come from, and a pipe table of its rows."""
    lines: list[str] = []
    s = summary(chapters)
    if build_info:
        lines += [build_info, ""]
    if not chapters:
        lines += ["*No chapter has recorded results in this build yet.* Run `make book` (or "
                  "`python -m atomint_helpers.book build`) to execute the notebooks.", ""]
    else:
        lines += [f"**{s['holds']} of {s['holds'] + s['differs']} comparable claims hold**"
                  f" ({s['differs']} differ; {s['not_comparable']} rows are not comparable in this run).", ""]
    for c in chapters:
        title = f"{{doc}}`/notebooks/{c['chapter']}`" if link else f"`{c['chapter']}`"
        ctx = c.get("context") or {}
        bits = "; ".join(f"{k}: {format_value(v)}" for k, v in ctx.items())
        lines += [f"**{title}** — {bits}" if bits else f"**{title}**", ""]
        lines += ["| claim | paper | atomint | unit | verdict | note |", "|---|---:|---:|---|---|---|"]
        for r in c["rows"]:
            lines.append("| " + " | ".join(_cell(x) for x in (
                r["claim"], format_value(r["paper"]), format_value(r["atomint"]), r["unit"],
                HOLDS_MARK[r["holds"]], r["note"])) + " |")
        lines.append("")
    missing = list(missing)
    if missing:
        lines += ["Not yet recorded in this build: " + ", ".join(f"`{m}`" for m in missing) + "."]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(path: str | os.PathLike, text: str) -> Path:
    path = Path(path)
    _atomic_write_text(path, text)
    return path
