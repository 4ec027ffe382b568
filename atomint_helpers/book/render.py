"""Preparing executed notebooks for reading: setup cells hidden, nbval markers and build paths taken out;
MathJax shipped for offline reading; the book's stylesheet."""
from __future__ import annotations

import json

import os
import re
import shutil
from pathlib import Path

from .. import AtomintError
from .toc import DEFAULT_BUILD

#: tags that already decide how a cell is shown: a cell carrying one is left as its author tagged it
VISIBILITY_TAGS = {"remove-cell", "remove-input", "remove-output", "hide-cell", "hide-input", "hide-output"}
#: nbval's markers (``# NBVAL_CHECK_OUTPUT`` ...): a comment line for the test, not for the reader
NBVAL_LINE = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+\b[^\n]*(\n|$)", re.M)
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")


def _source(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _tag(cell: dict, tag: str) -> None:
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if not VISIBILITY_TAGS & set(tags):
        tags.append(tag)


def _replace_paths(cell: dict, replacements: list[tuple[str, str]]) -> None:
    """The build machine's paths rewritten in a cell's outputs and in its source (papermill's injected
    parameters carry the scratch ``out_dir`` into the downloadable notebook)."""
    def fix(text):
        joined = "".join(text) if isinstance(text, list) else text
        for old, new in replacements:
            joined = joined.replace(old, new)
        return joined

    cell["source"] = fix(cell.get("source", ""))
    for out in cell.get("outputs", []):
        if "text" in out:
            out["text"] = fix(out["text"])
        for mime in TEXT_MIMES:
            if mime in out.get("data", {}):
                out["data"][mime] = fix(out["data"][mime])
        if out.get("output_type") == "error":
            out["traceback"] = [fix(t) for t in out.get("traceback", [])]


def path_replacements(root: Path, data_dir: str | os.PathLike | None = None,
                      build: Path | None = None, staged: dict | None = None) -> list[tuple[str, str]]:
    """Absolute paths of the build machine, as the reader should see them: relative to the repository
    (``/home/me/atomint/atomint_helpers/...`` -> ``atomint_helpers/...``, a ``--build-dir`` elsewhere ->
    ``_build``) or named by their variable (``$ATOMINT_DATA/qm9/qm9.npz``, ``~/.cache/...``). Longest
    first, so nested folders are replaced before their parents. ``staged`` maps the scratch ``out_dir`` a
    notebook ran with to the results folder its files were moved to (:func:`execute_all`)."""
    reps = [(str(k), str(v)) for k, v in (staged or {}).items()]
    if build is not None:
        reps.append((str(build.resolve()), DEFAULT_BUILD))
    if data_dir:
        reps.append((str(Path(data_dir).expanduser().resolve()) + os.sep, "$ATOMINT_DATA/"))
    reps.append((str(root.resolve()) + os.sep, ""))
    home = str(Path.home())
    if len(home) > 1:  # the cache (~/.cache/atomint) and anything else under the home folder
        reps.append((home + os.sep, "~/"))
    return sorted(reps, key=lambda kv: -len(kv[0]))


def prepare_for_render(nb: dict, replacements: list[tuple[str, str]] = ()) -> dict:
    """An executed notebook made ready for the page (the committed notebooks are never touched).

    * The chapter's **setup** — the code cells from the ``parameters`` cell up to the first Markdown cell
      after it — is plumbing: the ``parameters`` cell, papermill's ``injected-parameters`` cell and the
      ``check_params(...)`` cell are removed from the page (``remove-cell``; ``remove-input`` if the cell
      printed something); the remaining setup cells (imports, loading) keep their printed output but
      fold their code away (``hide-input``).
    * A code cell whose only outputs are Markdown (a "What we see" paragraph) shows the prose, with its
      code folded away (``hide-input``).
    * nbval's marker comments (``# NBVAL_CHECK_OUTPUT``) are deleted from the code shown.
    * ``replacements`` (see :func:`path_replacements`) rewrite the build machine's paths in the outputs, the
      sources (the injected parameters) and the notebook's metadata (papermill's input and output paths).

    A cell that already carries a ``remove-*`` or ``hide-*`` tag keeps it and gets no other.
    """
    cells = nb.get("cells", [])
    tags = [c.get("metadata", {}).get("tags", []) for c in cells]
    start = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    if start is not None:
        for cell in cells[start:]:
            if cell.get("cell_type") == "markdown":
                break
            if cell.get("cell_type") != "code":
                continue
            t = cell.get("metadata", {}).get("tags", [])
            plumbing = ("parameters" in t or "injected-parameters" in t or "check_params(" in _source(cell))
            if plumbing:
                _tag(cell, "remove-input" if cell.get("outputs") else "remove-cell")
            else:
                _tag(cell, "hide-input")
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = _source(cell)
        if "NBVAL_" in src:
            cell["source"] = NBVAL_LINE.sub("", src)
        outs = cell.get("outputs", [])
        if outs and all(o.get("output_type") in ("display_data", "execute_result")
                        and "text/markdown" in o.get("data", {}) for o in outs):
            _tag(cell, "hide-input")
        if replacements:
            _replace_paths(cell, list(replacements))
    if replacements and nb.get("metadata"):  # papermill's record: input and output paths, parameters
        text = json.dumps(nb["metadata"])
        for old, new in replacements:
            text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
        nb["metadata"] = json.loads(text)
    return nb


MATHJAX_DIST = "sphinx-mathjax-offline"
#: what the book loads (``mathjax_path`` in ``_config.yml``) and the folders it may load on demand
#: (TeX extensions autoloaded by a macro, the menu, accessibility); CommonHTML's fonts are not needed
MATHJAX_FILES = ("tex-svg.js", "input", "output/svg", "ui", "a11y", "adaptors", "sre")


def mathjax_source() -> Path:
    """The MathJax 3 ``es5`` folder shipped by the ``sphinx-mathjax-offline`` package (a ``book`` extra)."""
    from importlib import metadata

    try:
        dist = metadata.distribution(MATHJAX_DIST)
    except metadata.PackageNotFoundError:
        raise AtomintError(f"the book needs MathJax offline: pip install {MATHJAX_DIST} (it is in the 'book' extra: "
                           f"pip install -c constraints.txt -e '.[book]')") from None
    path = Path(str(dist.locate_file(f"{MATHJAX_DIST}/static/mathjax")))
    if not (path / "tex-svg.js").is_file():
        raise AtomintError(f"{MATHJAX_DIST} is installed but {path / 'tex-svg.js'} is missing; reinstall it")
    return path


def ship_mathjax(src: Path) -> Path:
    """MathJax into ``src/_extra/_static/mathjax/``: Sphinx copies ``_extra`` verbatim into the html root
    (``html_extra_path``), so the pages load ``_static/mathjax/tex-svg.js`` (``mathjax_path``) from disk,
    never from a CDN — the book is read offline. (Not ``src/_static``: Jupyter Book would add every
    ``.js`` file found there to every page.)"""
    origin = mathjax_source()
    dest = src / "_extra" / "_static" / "mathjax"
    if dest.exists():
        shutil.rmtree(dest)
    for name in MATHJAX_FILES:
        s = origin / name
        if s.is_dir():
            shutil.copytree(s, dest / name)
        elif s.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(s, dest / name)
    return dest / "tex-svg.js"


#: the book's own style sheet; Jupyter Book adds every .css file in the sources' _static/ to every page
STYLESHEET = """\
/* atomint: written by atomint_helpers.book at build time */
/* a narrower "Contents" column leaves the chapters' tables and figures more room */
:root { --pst-sidebar-secondary: 14rem; }
/* printed lines (which data, which checkpoints) wrap instead of hiding behind a scroll bar */
div.cell_output div.output.stream pre { white-space: pre-wrap; overflow-wrap: anywhere; }
/* the notebooks' tables are dense: a slightly smaller type fits their columns into the text column */
div.cell_output table { font-size: 0.875em; }
/* the scorecard page's tables: smaller type */
div.scorecard table { font-size: 0.8em; }
/* the claims (report.scorecard.claims_html): two columns that fit the text column, every text wrapped in full */
table.atomint-claims { width: 100%; table-layout: fixed; border-collapse: collapse; margin: 0.5em 0 1.5em; }
div.cell_output table.atomint-claims, div.scorecard table.atomint-claims { font-size: 0.8em; }
table.atomint-claims col.atomint-verdict-col { width: 8.5em; }
table.atomint-claims col.atomint-extra-col { width: 6.5em; }
table.atomint-claims th, table.atomint-claims td { text-align: left; vertical-align: top; padding: 0.3em 0.5em;
  white-space: normal; overflow-wrap: anywhere; border: none; }
table.atomint-claims thead th { border-bottom: 2px solid #888; }
table.atomint-claims tbody { border-top: 1px solid #bbb; }
table.atomint-claims tbody:nth-of-type(even) td:not(.atomint-verdict) { background: rgba(0, 0, 0, 0.03); }
table.atomint-claims tr.atomint-detail td { padding-top: 0; padding-left: 1.2em; }
table.atomint-claims td.atomint-verdict { color: #1a1a1a; font-weight: 600; }
table.atomint-claims .atomint-where { color: #555; font-size: 0.9em; }
table.atomint-claims .atomint-claim { font-weight: 600; }
table.atomint-claims .atomint-quote { font-style: italic; }
table.atomint-claims .atomint-label { font-variant: small-caps; font-weight: 600; color: #555; }
table.atomint-claims .atomint-test + div, table.atomint-claims .atomint-test + .atomint-test { margin-top: 0.2em; }
table.atomint-claims .atomint-folds { padding-left: 1.2em; }
"""


def write_stylesheet(src: Path) -> Path:
    path = src / "_static" / "atomint.css"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STYLESHEET, encoding="utf-8")
    return path


