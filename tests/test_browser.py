"""Build the book (profile quick) and look at every page in headless chromium.

Fails on a Python traceback or error output cell, a broken image (an ``<img>`` whose file is missing,
checked in the rendered DOM), an empty figure (a PNG that is almost one colour) or a blank page.
Screenshots of every page go to ``_build/screenshots/`` for a human to look at.

Skips when chromium is missing, unless ``CI`` is set: then it fails. Chromium: ``apt-get install -y
chromium`` (Debian), or point ``ATOMINT_CHROMIUM`` at the browser binary.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
TRACEBACK_MARKERS = ("Traceback (most recent call last)",)
ERROR_CLASSES = ("traceback", "output_error", "ipythontb", "system-message")


def find_chromium() -> str | None:
    env = os.environ.get("ATOMINT_CHROMIUM", "").strip()
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        msg = ("chromium not found (install it with `apt-get install -y chromium`, or set ATOMINT_CHROMIUM); "
               "the rendered book cannot be checked")
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("CI is set but " + msg)
        pytest.skip(msg)
    return path


def _tracked_sources() -> dict[str, str]:
    """sha256 of the book's sources: a build must leave them untouched."""
    files = [ROOT / "_config.yml", ROOT / "_toc.yml", *sorted((ROOT / "notebooks").glob("*.ipynb")),
             *sorted((ROOT / "book").rglob("*"))]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The book built with the quick profile into a temporary _build (the real _build is left alone)."""
    build = tmp_path_factory.mktemp("book") / "_build"
    before = _tracked_sources()
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("ATOMINT_DATA", None)  # quick: the embedded samples, like nbval
    proc = subprocess.run([sys.executable, "-m", "atomint_helpers.book", "build", "--profile", "quick",
                           "--build-dir", str(build)], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-6000:]}"
    assert _tracked_sources() == before, "the build modified committed sources"
    assert "open " in proc.stdout and "index.html" in proc.stdout
    return build


class _DomScan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs: list[str] = []
        self.error_classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and a.get("src"):
            self.imgs.append(a["src"])
        classes = (a.get("class") or "").split()
        bad = [c for c in classes if c in ERROR_CLASSES]
        if bad and tag in ("div", "pre", "section"):
            self.error_classes.append(f"<{tag} class='{a.get('class')}'>")


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={profile}",
           "--virtual-time-budget=5000", "--hide-scrollbars", *args]
    return subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def _is_blank(png: Path, threshold: float = 0.995) -> tuple[bool, float]:
    """Whether the image is (almost) a single colour: share of its most common colour."""
    from PIL import Image

    with Image.open(png) as im:
        a = np.asarray(im.convert("RGB").resize((min(im.width, 400), min(im.height, 400))))
    flat = (a[..., 0].astype(np.int64) << 16) | (a[..., 1].astype(np.int64) << 8) | a[..., 2]
    _, counts = np.unique(flat, return_counts=True)
    share = counts.max() / flat.size
    return share >= threshold, float(share)


def _resolve_src(page: Path, src: str) -> Path | None:
    u = urlparse(src)
    if u.scheme in ("http", "https"):
        return None
    if u.scheme == "file":
        return Path(unquote(u.path))
    return (page.parent / unquote(u.path)).resolve()


def check_page(chromium: str, page: Path, html: Path, profile: Path, screenshots: Path) -> tuple[list[str], int]:
    """Problems found on one page (screenshot + DOM), and how many PNG figures were checked."""
    rel = page.relative_to(html)
    problems: list[str] = []
    checked = 0
    shot = screenshots / (str(rel.with_suffix("")).replace(os.sep, "__") + ".png")
    proc = _chromium(chromium, profile, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    if proc.returncode != 0 or not shot.is_file():
        return [f"{rel}: chromium screenshot failed ({proc.returncode}): {proc.stderr[-500:]}"], 0
    blank, share = _is_blank(shot, 0.999)
    if blank:
        problems.append(f"{rel}: the page renders blank ({share:.1%} one colour)")
    dom = _chromium(chromium, profile, "--dump-dom", page.as_uri())
    if dom.returncode != 0 or "<html" not in dom.stdout.lower():
        return problems + [f"{rel}: chromium --dump-dom failed: {dom.stderr[-500:]}"], 0
    text = dom.stdout
    for marker in TRACEBACK_MARKERS:
        if marker in text:
            problems.append(f"{rel}: contains a Python traceback ({marker!r})")
    if re.search(r"\b[A-Z][A-Za-z]*(Error|Exception)\b\s+Traceback", text):
        problems.append(f"{rel}: contains an error output cell")
    scan = _DomScan()
    scan.feed(text)
    if scan.error_classes:
        problems.append(f"{rel}: error output in the page: {scan.error_classes[:3]}")
    for src in scan.imgs:
        if src.startswith("data:"):
            continue
        target = _resolve_src(page, src)
        if target is None:
            problems.append(f"{rel}: image {src} is fetched from the internet (the book must work offline)")
        elif not target.is_file():
            problems.append(f"{rel}: broken image {src} ({target} does not exist)")
        elif target.suffix.lower() == ".png":
            checked += 1
            blank, share = _is_blank(target)
            if blank:
                problems.append(f"{rel}: empty figure {src} ({share:.1%} of its pixels are one colour)")
    return problems, checked


def test_every_page_renders(built, chromium, tmp_path):
    html = built / "html"
    assert (html / "index.html").is_file()
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)
    assert len(pages) >= 4, pages
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    checked_imgs = 0
    for page in pages:
        found, n = check_page(chromium, page, html, tmp_path / "profile", SCREENSHOTS)
        problems += found
        checked_imgs += n
    assert not problems, "\n".join(problems)
    assert checked_imgs >= 3, f"expected the data chapter's figures, found {checked_imgs} PNG images"


def test_checker_catches_problems(chromium, tmp_path):
    """The checks are not vacuous: a page with a traceback, a missing image and a blank figure fails."""
    from PIL import Image

    html = tmp_path / "html"
    html.mkdir()
    Image.new("RGB", (300, 200), "white").save(html / "blank.png")
    Image.effect_noise((300, 200), 80).convert("RGB").save(html / "ok.png")
    page = html / "bad.html"
    page.write_text("<html><body><h1>A page</h1><p>Some text to render.</p>"
                    "<img src='ok.png'><img src='missing.png'><img src='blank.png'>"
                    "<div class='cell_output docutils container'><div class='output traceback highlight-ipythontb'>"
                    "<pre>Traceback (most recent call last):\nValueError: boom</pre></div></div></body></html>")
    problems, checked = check_page(chromium, page, html, tmp_path / "profile", tmp_path)
    text = "\n".join(problems)
    assert checked == 2
    assert "traceback" in text and "broken image missing.png" in text and "empty figure blank.png" in text, text
    assert "ok.png" not in text, text


def test_first_page_has_computed_scorecard(built):
    """The scorecard on the first page is filled from the notebooks' records of this build."""
    card = json.loads((built / "scorecard.json").read_text())
    assert card["profile"] == "quick" and not card["missing"], card["missing"]
    rows = [r for c in card["chapters"] for r in c["rows"]]
    assert rows
    intro = (built / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    assert "<table" in intro and "Scorecard" in intro
    data_rows = next(c for c in card["chapters"] if c["chapter"] == "data")["rows"]
    n = next(r for r in data_rows if r["claim"].startswith("QM9 molecules used"))
    assert n["atomint"] == 2000 and n["holds"] is None  # quick: the embedded sample, not comparable
    assert "2,000" in intro and "130,831" in intro
    # the committed notebooks were executed into the build, not in place
    assert (built / "notebooks" / "data.ipynb").is_file()
