"""The scorecard as the book shows it: the headline (its numbers add up), the chapter × verdict matrix, the
claims that do not hold with their causes, and every row with its tests (:mod:`.scorecard` holds the
records these read)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from .budget_words import tally
from .registry import HOLDING, VERDICTS
from .scorecard import KINDS, VERDICT_COLOUR, claims_html, format_value, md_cell


KIND_TITLES = {"paper": "The paper's claims", "setup": "Set-up: data and training sets",
               "implementation": "Implementation checks", "beyond": "Beyond the paper"}
#: the headline's groups: every verdict word in exactly one, so the numbers add up
HEADLINE_GROUPS = (("hold", ("holds", "reproduced")), ("do not hold", ("differs", "lower", "higher")),
                   ("inconclusive", ("inconclusive",)), ("not testable", ("not testable",)),
                   ("not comparable on this build", ("not comparable",)))


def counts(rows: Iterable[Mapping[str, Any]]) -> dict:
    """How many rows carry each verdict (keys of :data:`VERDICTS`), plus ``rows``, ``hold`` (holds +
    reproduced) and ``comparable`` (all but not comparable)."""
    rows = list(rows)
    c = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    c["rows"] = len(rows)
    c["hold"] = sum(c[v] for v in HOLDING)
    c["comparable"] = len(rows) - c["not comparable"]
    return c


def summary(chapters: list[dict]) -> dict:
    """Verdict counts per kind (``summary["paper"]`` is the headline) and over all rows."""
    rows = [r for c in chapters for r in c["rows"]]
    out = {k: counts(r for r in rows if r["kind"] == k) for k in KINDS}
    out["all"] = counts(rows)
    return out


def headline_groups(c: dict) -> list[tuple[str, int, dict]]:
    """``(group, count, {verdict: count})`` for each headline group with rows; the counts add up to
    ``c["rows"]``."""
    out = []
    for name, words in HEADLINE_GROUPS:
        n = sum(c[w] for w in words)
        if n:
            out.append((name, n, {w: c[w] for w in words if c[w]}))
    return out


def headline(chapters: list[dict]) -> str:
    """"Of the T claims of the paper checked here: H hold, D do not hold, I inconclusive, …": only
    ``paper`` rows (one per claim and model) count, and the groups add up to T."""
    c = summary(chapters)["paper"]
    if not c["rows"]:
        return "**No claim of the paper was recorded on this build.**"
    if not c["comparable"] - c["not testable"]:
        untestable = f"; {c['not testable']} of them are not testable" if c["not testable"] else ""
        return (f"**None of the paper's {c['rows']} claims checked here can be decided on this build** "
                f"(quick-profile models, or models still training{untestable}).")
    bits = []
    for name, n, words in headline_groups(c):
        detail = ", ".join(f"{k} {w}" for w, k in words.items()) if len(words) > 1 else ""
        bits.append(f"{n} {name}" + (f" ({detail})" if detail else ""))
    return f"**Of the {c['rows']} claims of the paper checked on this build (one per claim and model): " + \
        "; ".join(bits) + ".**"


def chapter_sentence(chapter: dict) -> str:
    """One sentence on a chapter's rows: its paper claims by headline group, then the other kinds."""
    rows = chapter["rows"]
    c = counts(r for r in rows if r["kind"] == "paper")
    parts = []
    if c["rows"] and not c["comparable"]:
        parts.append(f"none of its {c['rows']} claims of the paper can be decided on this build")
    elif c["rows"]:
        parts.append(f"{c['rows']} claims of the paper: " + ", ".join(f"{n} {g}" for g, n, _ in headline_groups(c)))
    for k in KINDS[1:]:
        ck = counts(r for r in rows if r["kind"] == k)
        if ck["rows"]:
            nc = f", {ck['not comparable']} not comparable" if ck["not comparable"] else ""
            parts.append(f"{ck['rows']} {k} row{'s' * (ck['rows'] != 1)} ({ck['hold']} holding{nc})")
    return "; ".join(parts) + "." if parts else "no rows."


def _title(c: dict, link: bool) -> str:
    return f"{{doc}}`/notebooks/{c['chapter']}`" if link else f"`{c['chapter']}`"


#: how the matrix names a chapter: the paper's figure or table it reproduces
CHAPTER_LABELS = {"data": "Data", "training": "Training", "table1": "Table 1", "atomic_energies": "Fig. 2 · atomic energies",
                  "rings": "Fig. 3 · rings", "charges": "Fig. 4 · charges", "probe": "Fig. 5 · probe potential",
                  "esp": "Fig. 6 · ESP", "embeddings": "Fig. 7 · element embeddings", "explain": "Explain"}


def matrix_html(chapters: list[dict]) -> str:
    """The chapter × verdict matrix of the paper's claims as an HTML table, each cell coloured by its
    verdict (:data:`VERDICT_COLOUR`), empty where a chapter has none; a total row adds up."""
    used = [v for v in VERDICTS if any(r["verdict"] == v for c in chapters for r in c["rows"] if r["kind"] == "paper")]
    if not used:
        return ""
    head = "".join(f'<th style="background:{VERDICT_COLOUR[v]}">{v}</th>' for v in used)
    lines = ['<table class="atomint-matrix">', f"<thead><tr><th>chapter</th>{head}<th>claims</th></tr></thead>",
             "<tbody>"]
    total = {v: 0 for v in used}
    for c in chapters:
        rows = [r for r in c["rows"] if r["kind"] == "paper"]
        if not rows:
            continue
        cells = []
        for v in used:
            n = sum(r["verdict"] == v for r in rows)
            total[v] += n
            cells.append(f'<td style="background:{VERDICT_COLOUR[v]}">{n}</td>' if n else "<td></td>")
        label = CHAPTER_LABELS.get(c["chapter"], c["chapter"].replace("_", " "))
        lines.append(f"<tr><td>{_html(label)}</td>{''.join(cells)}<td>{len(rows)}</td></tr>")
    cells = "".join(f"<td><b>{total[v]}</b></td>" for v in used)
    lines += [f"<tr><td><b>all</b></td>{cells}<td><b>{sum(total.values())}</b></td></tr>", "</tbody></table>"]
    return "\n".join(lines)


def _html(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_number(r: dict) -> bool:
    """A published number (Table 1's errors, a count), as opposed to a statement."""
    return isinstance(r.get("paper"), (int, float)) and not isinstance(r.get("paper"), bool)


def not_holding(chapters: list[dict], numbers: bool | None = None) -> list[str]:
    """One Markdown bullet per paper claim that does not hold on this build, with its one-line cause;
    ``numbers``: only the published numbers (True), only the statements (False), or both (None)."""
    out = []
    for c in chapters:
        for r in c["rows"]:
            if r["kind"] != "paper" or r["verdict"] in HOLDING or r["verdict"] == "not comparable":
                continue
            if numbers is not None and _is_number(r) != numbers:
                continue
            who = f" ({r['model']})" if r["model"] else ""
            sec = f"{r['section']}: " if r.get("section") else ""
            cause = r.get("cause") or r["note"] or "no cause recorded"
            cause = cause[:1].upper() + cause[1:]
            out.append(f"- {sec}*{md_cell(r['claim'])}*{who} — **{r['verdict']}**. {md_cell(cause)}")
    return out


def chapter_findings(chapter: dict) -> str:
    """A chapter's claims of the paper at a glance, for the top of its page: one bullet per claim (its
    section, the statement, each model's verdict with the kind of its cause), in the order the chapter
    declares them; empty when the chapter records none. The rule, tests and causes in full are in the
    chapter's scorecard table and on the scorecard page."""
    claims: dict[str, list[dict]] = {}
    for r in chapter["rows"]:
        if r["kind"] == "paper":
            claims.setdefault(r.get("id") or r["claim"], []).append(r)
    if not claims:
        return ""
    if not any(r["verdict"] != "not comparable" for rs in claims.values() for r in rs):
        return ("**The paper's claims in this chapter** cannot be decided on this build (quick-profile models, "
                "or models still training); the scorecard at the end of the page lists them.")
    lines = ["**The paper's claims in this chapter, at a glance** (tests, folds and causes in the scorecard at "
             "the end of the page):", ""]
    for rs in claims.values():
        first = rs[0]
        sec = f"{first['section']}: " if first.get("section") else ""
        verdicts = []
        for r in rs:
            kind = f" ({r['cause'].split(':', 1)[0]})" if r.get("cause") else ""
            who = f"{r['model'] or 'both models'} " if r["model"] or len(rs) > 1 else ""
            verdicts.append(f"{who}**{r['verdict']}**{kind}")
        lines.append(f"- {sec}*{md_cell(first['claim'])}* — {'; '.join(verdicts)}")
    return "\n".join(lines) + "\n"


def summary_markdown(chapters: list[dict], *, link: bool = True, build_info: str = "") -> str:
    """The book's first page: the headline, the chapter × verdict matrix, every claim that does not hold
    with its cause, and one sentence per chapter."""
    lines = [build_info, ""] if build_info else []
    if not chapters:
        return "\n".join(lines + ["*No chapter has recorded results in this build yet.* Run `make book`."]) + "\n"
    lines += [headline(chapters), ""]
    m = matrix_html(chapters)
    if m:
        lines += [m, ""]
    statements, numbers = not_holding(chapters, numbers=False), not_holding(chapters, numbers=True)
    if statements:
        lines += ["**The statements of the paper that do not hold here, and why:**", ""] + statements + [""]
    if numbers:
        lines += ["**The published numbers we do not reproduce** (within their tolerance; an error *lower* than the "
                  "paper's beats it, and is still not a reproduction):", ""] + numbers + [""]
    lines += [f"- **{_title(c, link)}**: {chapter_sentence(c)}" for c in chapters]
    return "\n".join(lines).rstrip() + "\n"


def _table(rows: list[dict]) -> list[str]:
    """``rows`` as :func:`~.scorecard.claims_html` (a block per row: section, the paper's words, every test
    with its rule in full and its folds, the verdict and why), a claim of the paper with its training
    budget (a column with its verdict, a line with the stages and why), followed by a blank line."""
    from .budget import budget_cell
    from .findings import base_cause

    def budget(r: dict) -> list[tuple[str, str]]:
        if r["kind"] != "paper":
            return []
        why = (r.get("budget") or {}).get("why")
        return [("training budget", budget_cell(r) + (f" — {why}" if why else ""))]

    def budget_word(r: dict) -> str:
        return ((r.get("budget") or {}).get("verdict") or "—") if r["kind"] == "paper" else ""

    # the budget has its own line here, so the cause is shown without the budget paragraph it carries
    shown = [{**r, "cause": base_cause(r["cause"])} if r.get("cause") else r for r in rows]
    return [claims_html(shown, extra=budget, column=("budget", budget_word)), ""]


def to_markdown(chapters: list[dict], *, missing: Iterable[str] = (), link: bool = True,
                build_info: str = "") -> str:
    """Every row as MyST Markdown, without headings: the headline and matrix, the paper's claims per
    chapter (a link to its page, where its values come from, a table with every rule in full), then the
    set-up, implementation and beyond-the-paper rows, each kind in its own collapsed block."""
    lines: list[str] = [build_info, ""] if build_info else []
    if not chapters:
        lines += ["*No chapter has recorded results in this build yet.* Run `make book` (or "
                  "`python -m atomint_helpers.book build`) to execute the notebooks.", ""]
    else:
        lines += [headline(chapters), ""]
        m = matrix_html(chapters)
        if m:
            lines += [m, ""]
        budgets = tally(r for c in chapters for r in c["rows"])
        if budgets:
            lines += [budgets, ""]
    for kind in KINDS:
        blocks = []
        for c in chapters:
            rows = [r for r in c["rows"] if r["kind"] == kind]
            if not rows:
                continue
            ctx = c.get("context") or {}
            bits = "; ".join(f"{k}: {format_value(v)}" for k, v in ctx.items())
            blocks += [f"**{_title(c, link)}** — {bits}" if bits else f"**{_title(c, link)}**", ""]
            blocks += _table(rows)
        if not blocks:
            continue
        n = sum(r["kind"] == kind for c in chapters for r in c["rows"])
        if kind == "paper":
            lines += blocks
        else:
            lines += [f":::{{dropdown}} {KIND_TITLES[kind]} ({n} rows)", ""] + blocks + [":::", ""]
    missing = list(missing)
    if missing:
        lines += ["Not yet recorded in this build: " + ", ".join(f"`{m}`" for m in missing) + "."]
    return "\n".join(lines).rstrip() + "\n"
