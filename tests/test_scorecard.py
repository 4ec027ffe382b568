"""Scorecard records and their rendering; the toc reader of the book builder."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.report import scorecard, scorecard_page
from atomint_helpers.book import read_toc, select

ROOT = Path(__file__).resolve().parents[1]


def _text(markup: str) -> str:
    """What a reader sees of an HTML fragment: the text without tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _blocks(markup: str) -> list[str]:
    """The text of each row's block (a ``<tbody>``) of :func:`scorecard.claims_html`."""
    tables = re.findall(r'<table class="atomint-claims">(.*?)</table>', markup, flags=re.S)
    return [_text(b) for t in tables for b in re.findall(r"<tbody>(.*?)</tbody>", t, flags=re.S)]


def test_record_roundtrip(tmp_path):
    rows = [dict(claim="molecules", kind="setup", paper=130831, atomint=np.int64(2000), unit="molecules",
                 holds=None, note="sample"),
            dict(quantity="MAE", kind="paper", model="SchNet", paper=0.31, atomint=np.float32(0.25),
                 unit="kcal/mol", verdict="lower", rule="reproduced within ±10 %", cause="our models: smaller")]
    path = scorecard.record(tmp_path / "out", "table1", rows, context={"profile": "quick"})
    assert path == tmp_path / "out" / "table1.json"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers
    doc = json.loads(path.read_text())
    assert doc["chapter"] == "table1" and doc["context"] == {"profile": "quick"}
    assert doc["rows"][0]["atomint"] == 2000 and doc["rows"][1]["claim"] == "MAE"
    assert doc["rows"][0]["verdict"] == "not comparable" and doc["rows"][1]["verdict"] == "lower"
    assert doc["rows"][0]["kind"] == "setup" and doc["rows"][1]["model"] == "SchNet"
    assert doc["rows"][1]["cause"] == "our models: smaller" and "cause" not in doc["rows"][0]
    [chapter] = scorecard.collect(tmp_path / "out")
    md = scorecard_page.to_markdown([chapter])
    assert "**{doc}`/notebooks/table1`** — profile: quick" in md
    blocks = _blocks(md)  # the paper's claims first, then the set-up rows
    assert blocks[1] == ("molecules — not comparable values paper 130,831 molecules · atomint 2,000 molecules "
                         "note sample")
    assert doc["rows"][1]["budget"]["verdict"] == "untested" and "budget" not in doc["rows"][0]
    # the budget column: the header once per table, the paper row's budget beside its verdict, set-up rows blank
    assert "<th>budget</th>" in md and '<td class="atomint-extra">untested</td>' in md
    assert '<td class="atomint-extra"></td>' in md
    assert blocks[0] == ("SchNet MAE ▼ lower untested values paper 0.31 kcal/mol · atomint 0.25 kcal/mol rule reproduced "
                         "within ±10 % why our models: smaller training budget untested — not evaluated on earlier "
                         "training stages")
    # a number lower than the paper's does not count as holding; the setup row does not count at all
    assert "1 claims of the paper checked on this build (one per claim and model): 1 do not hold" in md
    assert ":::{dropdown} Set-up: data and training sets (1 rows)" in md


@pytest.mark.parametrize("row, word", [
    (dict(kind="setup", paper=1, atomint=1), "claim"),
    (dict(kind="setup", claim="x", paper=1), "atomint"),
    (dict(kind="setup", claim="x", atomint=1, holds="yes"), "holds"),
    (dict(kind="setup", claim="x", atomint=1, bogus=1), "unknown keys"),
    (dict(claim="x", atomint=1), "kind"),
    (dict(kind="claim", claim="x", atomint=1), "kind"),
    (dict(kind="paper", claim="x", atomint=1, holds=True), "rule"),
    (dict(kind="beyond", claim="x", atomint=1, verdict="fine"), "verdict"),
    (dict(kind="beyond", claim="x", atomint=1, holds=True, verdict="holds"), "both"),
    (dict(kind="beyond", claim="x", atomint=1, model="bp"), "model"),
])
def test_bad_rows(tmp_path, row, word):
    with pytest.raises(AtomintError, match=word):
        scorecard.record(tmp_path, "data", [row])


def test_collect_order_and_missing(tmp_path):
    for ch in ("b", "a", "c"):
        scorecard.record(tmp_path, ch, [dict(claim=ch, kind="paper", rule="r", atomint=1, holds=ch != "c")])
    chapters = scorecard.collect(tmp_path, ["c", "a"])
    assert [c["chapter"] for c in chapters] == ["c", "a", "b"]
    md = scorecard_page.to_markdown(chapters, missing=["d"])
    assert "**Of the 3 claims of the paper checked on this build (one per claim and model): 2 hold; 1 do not " \
           "hold.**" in md and "`d`" in md
    assert "No chapter" in scorecard_page.to_markdown([])


def test_headline_adds_up_and_counts_only_the_papers_claims():
    """A hand-made scorecard: 2 statements hold, 1 differs, 1 number reproduced, 1 lower, 1 higher, 1
    inconclusive, 1 not testable, 1 not comparable, plus set-up / implementation / beyond rows that hold:
    the headline's groups add up to the 9 paper rows, the matrix's total row too."""
    P = dict(kind="paper", rule="r", atomint=1)
    rows = [dict(P, claim="a", holds=True), dict(P, claim="b", holds=True), dict(P, claim="c", holds=False),
            dict(P, claim="d", verdict="reproduced"), dict(P, claim="e", verdict="lower", cause="our models: x", paper=0.77),
            dict(P, claim="f", verdict="higher"), dict(P, claim="g", holds=None, note="quick"),
            dict(P, claim="k", verdict="inconclusive", cause="several readings: y"),
            dict(P, claim="l", verdict="not testable", note="why"),
            dict(claim="h", kind="setup", atomint=1, holds=True),
            dict(claim="i", kind="implementation", atomint=1, holds=True),
            dict(claim="j", kind="beyond", atomint=1, holds=True)]
    chapters = [{"chapter": "x", "rows": [scorecard.normalize_row(r) for r in rows]}]
    s = scorecard_page.summary(chapters)
    assert (s["paper"]["hold"], s["paper"]["comparable"], s["paper"]["rows"]) == (3, 8, 9)
    assert (s["setup"]["rows"], s["implementation"]["rows"], s["beyond"]["rows"], s["all"]["rows"]) == (1, 1, 1, 12)
    groups = scorecard_page.headline_groups(s["paper"])
    assert sum(n for _, n, _ in groups) == s["paper"]["rows"]
    assert scorecard_page.headline(chapters) == (
        "**Of the 9 claims of the paper checked on this build (one per claim and model): 3 hold (2 holds, "
        "1 reproduced); 3 do not hold (1 differs, 1 lower, 1 higher); 1 inconclusive; 1 not testable; "
        "1 not comparable on this build.**")
    assert scorecard_page.chapter_sentence(chapters[0]).startswith("9 claims of the paper: 3 hold, 3 do not hold")
    md = scorecard_page.summary_markdown(chapters)
    assert md.count("\n- ") == 6 and "{doc}`/notebooks/x`" in md  # 5 claims that do not hold + 1 chapter
    assert "*e* — **lower**. Our models: x" in md and "*k* — **inconclusive**. Several readings: y" in md
    # the published numbers apart from the statements: beating the paper's error is not a failed statement
    statements, numbers = md.split("**The published numbers we do not reproduce**")
    assert "*e* — **lower**" in numbers and "*e*" not in statements and "*k* — **inconclusive**" in statements
    m = scorecard_page.matrix_html(chapters)
    assert "<td><b>9</b></td>" in m and m.count("<tr>") == 3  # header, chapter x, total


def test_format_value():
    f = scorecard.format_value
    assert (f(130831), f(0.3123), f(1755.28), f(None), f("H, C"), f(2.0)) == ("130,831", "0.312", "1,755", "—",
                                                                              "H, C", "2")


def test_toc():
    entries = read_toc(ROOT)
    assert entries[0].name == "book/intro"
    nbs = [e for e in entries if e.is_notebook]
    assert "data" in [e.stem for e in nbs]
    assert [e.stem for e in select(nbs, ["notebooks/data.ipynb"], ROOT)] == ["data"]
    with pytest.raises(AtomintError, match="accepted values"):
        select(nbs, ["nope"], ROOT)


def test_chapter_findings_at_a_glance():
    from atomint_helpers.report import scorecard_page

    def row(cid, model, verdict, cause=None, kind="paper"):
        return {"id": cid, "section": "§3.1, Fig. 2", "claim": f"claim {cid}", "model": model, "verdict": verdict,
                "cause": cause, "kind": kind}

    chapter = {"chapter": "atomic_energies", "rows": [
        row("a", "BP", "holds"), row("a", "SchNet", "differs", "a finding: every test differs"),
        row("b", "", "inconclusive", "several readings: the tests disagree"),
        row("c", "", "holds", kind="implementation")]}
    text = scorecard_page.chapter_findings(chapter)
    lines = [ln for ln in text.splitlines() if ln.startswith("- ")]
    assert lines == ["- §3.1, Fig. 2: *claim a* — BP **holds**; SchNet **differs** (a finding)",
                     "- §3.1, Fig. 2: *claim b* — **inconclusive** (several readings)"]
    assert scorecard_page.chapter_findings({"chapter": "x", "rows": [row("c", "", "holds", kind="setup")]}) == ""
    undecided = {"chapter": "x", "rows": [row("a", "BP", "not comparable")]}
    assert "cannot be decided on this build" in scorecard_page.chapter_findings(undecided)


def test_findings_go_after_the_chapters_opening(tmp_path):
    from atomint_helpers.book.assemble import insert_findings

    scorecard.record(tmp_path, "atomic_energies", [{"id": "a", "section": "§1", "quote": "q", "claim": "claim a",
                                                     "kind": "paper", "model": "BP", "verdict": "holds",
                                                     "rule": "r", "note": "", "paper": "p", "atomint": 1.0}])
    nb = {"cells": [{"cell_type": "code", "source": "x"}, {"cell_type": "markdown", "source": "# Fig. 2"},
                    {"cell_type": "markdown", "source": "more"}]}
    insert_findings(nb, tmp_path / "atomic_energies.json")
    assert [c["source"][:6] for c in nb["cells"]] == ["x", "# Fig.", "**The ", "more"]
    insert_findings(nb, tmp_path / "missing.json")  # no rows recorded: nothing inserted
    assert len(nb["cells"]) == 4


def _registry_row(claim, quote, verdict="differs", **kw):
    tests = [{"name": "ratio", "rule": "ratio: holds if SchNet's IQR over BP's is below 1 " + "and so on " * 12,
              "value": 1.5, "verdict": "differs", "folds": ["differs", "holds", "differs"],
              "fold_values": [2.25, 0.9, 1.45], "fold_labels": ["fold 0", "fold 1", "fold 2"]}]
    return dict(claim=claim, kind="paper", model="BP", section="§3.1, Fig. 2", quote=quote, rule=tests[0]["rule"],
                atomint="ratio 1.5 → differs", verdict=verdict, tests=tests, cause="a finding: " + "long cause " * 30,
                **kw)


def test_claims_blocks_show_every_text_in_full():
    """A chapter's scorecard as the book shows it: one block per row with the section, model, claim and the
    paper's sentence (once for rows on the same sentence), the verdict, each test's rule in full with its
    value on all the data and on every fold, and the cause in full; nothing cut, HTML-escaped, no blank
    line (it stays one raw HTML block inside the scorecard page's Markdown)."""
    quote = "Generally, energy distributions of the BP architecture are wider <than> theirs & more."
    rows = [_registry_row("BP is wider", quote), _registry_row("BP has more features", quote, verdict="inconclusive"),
            dict(claim="QM9 molecules", kind="setup", paper=130831, atomint=2000, unit="molecules", holds=None,
                 note="the embedded sample", rule="")]
    markup = scorecard.claims_html(rows)
    assert "\n\n" not in markup and "…" not in markup and "<than> theirs" not in markup
    first, second, setup = _blocks(markup)
    assert first.startswith(f"§3.1, Fig. 2 · BP BP is wider “{quote}” ✗ differs test {rows[0]['rule']}")
    assert "all data: 1.5 → differs; fold 0: 2.25 differs; fold 1: 0.9 holds; fold 2: 1.45 differs" in first
    assert first.endswith(f"why {rows[0]['cause'].strip()}")
    assert quote not in second and "(the same sentence as the row above) ≈ inconclusive" in second
    assert rows[1]["rule"].strip() in second and rows[1]["cause"].strip() in second
    assert setup == "QM9 molecules — not comparable values paper 130,831 molecules · atomint 2,000 molecules " \
                    "note the embedded sample"


def test_chapter_table_is_shown_as_claims_blocks():
    """A notebook shows display_table's frame as the claims' blocks; the frame keeps its columns (the
    values for reading, never a raw True/None), and a frame cut from it is shown as pandas' own table."""
    rows = [_registry_row("BP is wider", "Q."), dict(claim="count", kind="setup", atomint=3, holds=True)]
    table = scorecard.display_table(rows)
    assert list(table.index) == ["BP is wider", "count"] and table.loc["count", "verdict"] == "✓ holds"
    assert table._repr_html_() == scorecard.claims_html(rows)
    assert "atomint-claims" not in table.iloc[:1]._repr_html_()
