"""Scorecard records and their rendering; the toc reader of the book builder."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from atomint_helpers import AtomintError
from atomint_helpers.report import scorecard
from atomint_helpers.book import read_toc, select

ROOT = Path(__file__).resolve().parents[1]


def test_record_roundtrip(tmp_path):
    rows = [dict(claim="molecules", paper=130831, atomint=np.int64(2000), unit="molecules", holds=None,
                 note="sample"),
            dict(quantity="MAE", paper=0.31, atomint=np.float32(0.25), unit="kcal/mol", holds=np.bool_(True))]
    path = scorecard.record(tmp_path / "out", "table1", rows, context={"profile": "quick"})
    assert path == tmp_path / "out" / "table1.json"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic: no leftovers
    doc = json.loads(path.read_text())
    assert doc["chapter"] == "table1" and doc["context"] == {"profile": "quick"}
    assert doc["rows"][0]["atomint"] == 2000 and doc["rows"][1]["claim"] == "MAE"
    assert doc["rows"][1]["holds"] is True and doc["rows"][1]["note"] == ""
    [chapter] = scorecard.collect(tmp_path / "out")
    md = scorecard.to_markdown([chapter])
    assert "**{doc}`/notebooks/table1`** — profile: quick" in md
    assert "| molecules | 130,831 | 2,000 | molecules | n/a | sample |" in md
    assert "0.25" in md and "✓ holds" in md
    assert "**1 of 1 comparable claims hold**" in md


@pytest.mark.parametrize("row, word", [
    (dict(paper=1, atomint=1), "claim"),
    (dict(claim="x", paper=1), "atomint"),
    (dict(claim="x", atomint=1, holds="yes"), "holds"),
    (dict(claim="x", atomint=1, bogus=1), "unknown keys"),
])
def test_bad_rows(tmp_path, row, word):
    with pytest.raises(AtomintError, match=word):
        scorecard.record(tmp_path, "data", [row])


def test_collect_order_and_missing(tmp_path):
    for ch in ("b", "a", "c"):
        scorecard.record(tmp_path, ch, [dict(claim=ch, atomint=1, holds=ch != "c")])
    chapters = scorecard.collect(tmp_path, ["c", "a"])
    assert [c["chapter"] for c in chapters] == ["c", "a", "b"]
    md = scorecard.to_markdown(chapters, missing=["d"])
    assert "**2 of 3 comparable claims hold**" in md and "`d`" in md
    assert "No chapter" in scorecard.to_markdown([])


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
