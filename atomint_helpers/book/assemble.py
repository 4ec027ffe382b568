"""Assembling the book's sources under ``_build/src``, the generated pages (scorecard, build and training times)
and running jupyter-book on them."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .render import path_replacements, prepare_for_render
from .toc import Entry


def assemble_sources(root: Path, build: Path, entries: list[Entry],
                     replacements: list[tuple[str, str]] | None = None,
                     results: Path | None = None) -> tuple[Path, list[str]]:
    """``build/src``: config, toc, ``book/`` and, for each toc notebook, its executed copy (or the
    committed notebook, with a note, when it has not been executed under ``build``). With ``results``,
    a chapter that recorded scorecard rows there gets its claims at a glance after its opening cell
    (:func:`~atomint_helpers.report.scorecard_page.chapter_findings`)."""
    src = build / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copyfile(root / name, src / name)
    if (root / "book").is_dir():
        shutil.copytree(root / "book", src / "book", ignore=shutil.ignore_patterns("*.ipynb_checkpoints", "__pycache__"))
    notes = []
    for e in entries:
        dest = src / e.rel(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not e.is_notebook:
            if not dest.exists():
                shutil.copyfile(e.path, dest)
            continue
        executed = build / "notebooks" / e.path.name
        if not executed.is_file():
            executed = e.path
            notes.append(f"{e.rel(root)} was not executed in this build: rendering its committed (quick) outputs")
        nb = prepare_for_render(json.loads(executed.read_text(encoding="utf-8")),
                                path_replacements(root) if replacements is None else replacements)
        if results is not None:
            insert_findings(nb, results / f"{e.path.stem}.json")
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return src, notes


def insert_findings(nb: dict, rows_file: Path) -> None:
    """Put the chapter's claims at a glance (from the scorecard rows it recorded in ``rows_file``) after the
    notebook's first Markdown cell, the paper's words and the chapter's question; nothing without rows."""
    from ..report import scorecard, scorecard_page

    if not rows_file.is_file():
        return
    text = scorecard_page.chapter_findings(scorecard.load(rows_file))
    cells = nb.get("cells", [])
    first = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"), None)
    if not text or first is None:
        return
    cells.insert(first + 1, {"cell_type": "markdown", "metadata": {"tags": ["atomint-findings"]}, "source": text})


def ship_extra_files(results: Path, src: Path) -> None:
    """Files the notebooks wrote for the book besides their outputs (the interactive plotly views, too
    large to live inside a notebook) go to ``src/_extra/notebooks/``, which Sphinx copies verbatim next to
    the notebook pages (``html_extra_path`` in ``_config.yml``)."""
    dest = src / "_extra" / "notebooks"
    dest.mkdir(parents=True, exist_ok=True)
    extra = results / "interactive"
    if extra.is_dir():
        for f in sorted(extra.glob("*.html")):
            shutil.copyfile(f, dest / f.name)


def execution_markdown(executed: Path, notebooks: list[Entry]) -> str:
    """How long each chapter took to execute, its profile and when, read from papermill's metadata in the
    executed copies under ``executed`` (``metadata.papermill``): a Markdown table for "Re-running"."""
    lines = ["| chapter | profile | executed (UTC) | time (s) |", "|---|---|---|---:|"]
    total = 0.0
    for e in notebooks:
        try:
            meta = json.loads((executed / e.path.name).read_text(encoding="utf-8"))["metadata"]["papermill"]
        except (OSError, ValueError, KeyError):
            lines.append(f"| {e.stem} | — | not executed in this build folder | — |")
            continue
        secs = float(meta.get("duration") or 0.0)
        total += secs
        lines.append(f"| {e.stem} | {meta.get('parameters', {}).get('profile', '—')} | "
                     f"{str(meta.get('start_time', '—'))[:16].replace('T', ' ')} | {secs:,.0f} |")
    lines.append(f"| **all chapters** | | | **{total:,.0f}** |")
    return "\n".join(lines) + "\n"


def scorecard_headline(chapters: list[dict]) -> str:
    from ..report import scorecard_page

    return scorecard_page.headline(chapters).replace("**", "")


def build_scorecard(build: Path, profile: str, notebooks: list[Entry], src: Path,
                    replacements: list[tuple[str, str]] | None = None, models_dir: Path = Path("models")) -> dict:
    """The scorecard's pages (every row; the headline and one sentence per chapter), the table of what the
    committed runs took to train, and ``_build/scorecard.json``."""
    from ..report import scorecard, scorecard_page
    from ..report import training as report_training

    results = build / "results" / profile
    chapters = scorecard.collect(results, [e.stem for e in notebooks])
    recorded = {c["chapter"] for c in chapters}
    missing = [e.stem for e in notebooks if e.stem not in recorded]
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    info = (f"*Built {stamp} with profile `{profile}`; every value below was computed by the notebook it links "
            f"to, during this build.*")
    texts = {"scorecard.md": scorecard_page.to_markdown(chapters, missing=missing, build_info=info),
             "scorecard_summary.md": scorecard_page.summary_markdown(chapters, build_info=info)}
    texts["retrain_times.md"] = report_training.retrain_markdown(models_dir)
    texts["execution_times.md"] = execution_markdown(build / "notebooks", notebooks)
    for name, text in texts.items():
        for old, new in replacements or ():  # the rows' context may name data files by their path
            text = text.replace(old, new)
        scorecard.write_markdown(src / "_generated" / name, text)
    summary = {"profile": profile, "built": stamp, "summary": scorecard_page.summary(chapters),
               "missing": missing, "chapters": chapters}
    scorecard._atomic_write_text(build / "scorecard.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


# ------------------------------------------------------------------------------------------ jupyter-book
HTML_STAGING = ".html-staging"


def jupyter_book(src: Path, build: Path, verbose: bool = False) -> tuple[int, str, Path]:
    """``jupyter-book build src --path-output <staging> -W --keep-going``: the html is built into
    ``build/.html-staging/_build/html`` and swapped into ``build/html`` only when the build succeeded
    (``index.html`` present), so the last good book survives a failed render, a Ctrl-C or a kill; a staging
    folder left by an interrupted build is removed before the next one starts."""
    # jupyter-book writes to <path-output>/_build/html, so the staging root holds a folder named _build.
    html = build / "html"
    staging_root = build / HTML_STAGING
    staged = staging_root / "_build" / "html"
    if staging_root.exists():
        shutil.rmtree(staging_root)
    staging_root.mkdir(parents=True)
    args = ["build", str(src), "--path-output", str(staging_root), "--builder", "html", "-W", "--keep-going"]
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", *args]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    try:
        proc = subprocess.run(cmd, cwd=str(build.parent), env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        log = proc.stdout
        (build / "jupyter-book.log").write_text(log, encoding="utf-8")
        if verbose:
            print(log)
        if proc.returncode == 0 and (staged / "index.html").is_file():
            swap_in(staged, html)
            return proc.returncode, log, html
        return proc.returncode or 1, log, html
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def swap_in(new: Path, dest: Path) -> None:
    """Replace the folder ``dest`` by the complete folder ``new`` with two renames (the old one is moved
    aside first and removed after): at every moment one complete folder is at ``dest`` or beside it as
    ``dest.old``; a ``dest.old`` left by an interrupted swap is put back when ``dest`` is missing."""
    old = dest.with_name(dest.name + ".old")
    if old.exists():
        if dest.exists():
            shutil.rmtree(old)
        else:
            os.replace(old, dest)
    if dest.exists():
        os.replace(dest, old)
    os.replace(new, dest)
    shutil.rmtree(old, ignore_errors=True)


def log_warnings(log: str) -> list[str]:
    keys = ("WARNING", "ERROR", "Traceback", "Exception", "error:")
    return [ln for ln in log.splitlines() if any(k in ln for k in keys)]


