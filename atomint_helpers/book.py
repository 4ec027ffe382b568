"""Build the book: execute the notebooks, collect the scorecard, render with Jupyter Book.

    python -m atomint_helpers.book build [--profile quick|cpu|paper] [--only NOTEBOOK ...] [--skip-execute]
    python -m atomint_helpers.book freeze [NOTEBOOK ...]

``build`` (what ``make book`` runs):

1. executes every notebook listed in ``_toc.yml`` (in toc order) with papermill into
   ``_build/notebooks/`` — the committed notebooks in ``notebooks/`` are never modified — passing
   ``profile``, ``data_dir`` (``$ATOMINT_DATA`` or ``None``), ``models_dir`` (``models``) and ``out_dir``
   (``_build/results/<profile>``), one progress line per notebook with its wall time;
2. collects the scorecard rows the notebooks wrote into ``out_dir`` into ``_build/src/_generated/
   scorecard.md`` (every row) and ``scorecard_summary.md`` (included by the first page) and ``_build/scorecard.json``;
3. assembles the book sources in ``_build/src/`` (``_config.yml``, ``_toc.yml``, ``book/`` and the
   executed notebooks, each prepared for reading by :func:`prepare_for_render`: the chapter's setup cells
   hidden, nbval markers and the build machine's paths taken out; MathJax from the installed
   ``sphinx-mathjax-offline`` package, so equations render offline) and runs ``jupyter-book build`` on
   them with Sphinx warnings as errors (``-W --keep-going``); execution is off in ``_config.yml``, the
   book renders the executed copies;
4. prints where ``index.html`` is.

Everything goes under ``_build/`` (git-ignored). ``freeze`` re-runs notebooks with the ``quick`` profile
and writes them back into ``notebooks/`` with their outputs and without volatile metadata: that is the
committed state nbval compares against (see ``tests/test_notebooks.py``).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import AtomintError
from .notebook import PROFILES, check_params, project_root

DEFAULT_BUILD = "_build"
#: the kernel's own log only says things like "running over TCP without encryption": keep errors only
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
_KERNEL_MANAGER = []


def kernel_manager_class():
    """jupyter_client's ``AsyncKernelManager`` without the interrupt before shutdown.

    ``shutdown_kernel`` (jupyter_client ≥ 7) first interrupts the kernel with SIGINT, then asks it to shut
    down. ipykernel handles each message with Python's default SIGINT handler installed, so a signal that
    lands while the kernel is still finishing a message (likely on a loaded machine) becomes a
    KeyboardInterrupt that ipykernel logs at ERROR level — above the ``log_level=ERROR`` of
    :data:`KERNEL_ARGS` — as ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel`` at the end of a
    notebook. Papermill shuts a kernel down only after its last cell has replied, so there is nothing to
    interrupt: this manager sends the shutdown request alone (a kernel that does not answer it is still
    killed after the usual wait)."""
    if not _KERNEL_MANAGER:
        from jupyter_client.manager import AsyncKernelManager

        class QuietShutdownKernelManager(AsyncKernelManager):
            async def _async_interrupt_kernel(self) -> None:
                if self.shutting_down:
                    return
                await super()._async_interrupt_kernel()

        _KERNEL_MANAGER.append(QuietShutdownKernelManager)
    return _KERNEL_MANAGER[0]


# ------------------------------------------------------------------------------------------ toc
@dataclass(frozen=True)
class Entry:
    """One ``file:`` of ``_toc.yml``: its toc name and the source file in the repository."""

    name: str          # as written in the toc, e.g. "notebooks/data"
    path: Path         # absolute source path, e.g. <root>/notebooks/data.ipynb

    @property
    def is_notebook(self) -> bool:
        return self.path.suffix == ".ipynb"

    @property
    def stem(self) -> str:
        return self.path.stem

    def rel(self, root: Path) -> Path:
        return self.path.relative_to(root)


def _toc_files(node) -> list[str]:
    out = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                out.append(node[key])
        for key in ("parts", "chapters", "sections", "subtrees", "entries"):
            for child in node.get(key) or []:
                out.extend(_toc_files(child))
    elif isinstance(node, list):
        for child in node:
            out.extend(_toc_files(child))
    return out


def read_toc(root: Path) -> list[Entry]:
    """The toc's files in reading order, each resolved to an existing ``.ipynb`` or ``.md``."""
    import yaml

    toc_path = root / "_toc.yml"
    if not toc_path.is_file():
        raise AtomintError(f"no _toc.yml in {root}: run this from the atomint repository")
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    entries = []
    for name in _toc_files(toc):
        base = root / name
        cands = [base] if base.suffix in (".ipynb", ".md") else [base.with_suffix(".ipynb"), base.with_suffix(".md")]
        found = [c for c in cands if c.is_file()]
        if not found:
            raise AtomintError(f"_toc.yml lists {name!r} but none of {[str(c.relative_to(root)) for c in cands]} "
                               f"exists")
        entries.append(Entry(name, found[0]))
    return entries


def select(notebooks: list[Entry], only: list[str] | None, root: Path) -> list[Entry]:
    if not only:
        return notebooks
    chosen = []
    for want in only:
        w = want.strip().rstrip("/")
        hits = [e for e in notebooks
                if w in (e.stem, e.path.name, e.name, str(e.rel(root))) or Path(w).resolve() == e.path]
        if not hits:
            raise AtomintError(f"--only {want!r}: no such notebook in _toc.yml; accepted values: "
                               + ", ".join(e.stem for e in notebooks))
        chosen += [h for h in hits if h not in chosen]
    return chosen


# ------------------------------------------------------------------------------------------ execution
def declared_parameters(path: Path) -> set[str]:
    import papermill as pm

    return set(pm.inspect_notebook(str(path)).keys())


def execute(entry: Entry, out: Path, params: dict, root: Path) -> tuple[bool, float, str]:
    """Run one notebook with papermill; (ok, seconds, error summary)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    declared = declared_parameters(entry.path)
    passed = {k: v for k, v in params.items() if k in declared}
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        pm.execute_notebook(str(entry.path), str(out), parameters=passed, cwd=str(root), kernel_name="python3",
                            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
                            extra_arguments=KERNEL_ARGS, kernel_manager_class=kernel_manager_class())
    except PapermillExecutionError as e:
        return False, time.perf_counter() - t0, f"{e.ename}: {' '.join(str(e.evalue).split())}"
    except Exception as e:  # kernel died, bad notebook JSON, ...
        return False, time.perf_counter() - t0, f"{type(e).__name__}: {' '.join(str(e).split())}"
    return True, time.perf_counter() - t0, ""


STAGING = ".staging"
MANIFEST = ".manifest"


def staged_out_dirs(results: Path, notebooks: list[Entry]) -> dict[Path, Path]:
    """Each notebook's own ``out_dir`` during its run (``results/.staging/<stem>``) -> ``results``."""
    return {results / STAGING / e.stem: results for e in notebooks}


def _atomic_text(path: Path, text: str) -> None:
    from .io import atomic_write_text

    atomic_write_text(path, text)


def promote_results(staging: Path, results: Path, stem: str) -> list[str]:
    """After a successful run: move what the notebook wrote into ``staging`` to ``results`` (file by file,
    each an atomic rename) and remove the files its previous run wrote that this one did not (listed in
    ``results/.manifest/<stem>.json``; before any manifest, its scorecard ``<stem>.json``). Returns the
    files written, relative to ``results``."""
    new = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    manifest = results / MANIFEST / f"{stem}.json"
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = [f"{stem}.json"]
    for rel in new:
        (results / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, results / rel)
    for rel in sorted(set(old) - set(new)):
        (results / rel).unlink(missing_ok=True)
    _atomic_text(manifest, json.dumps(new, indent=1) + "\n")
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()  # results/.staging, once no notebook runs
    return new


def execute_all(chosen: list[Entry], build: Path, results: Path, params: dict, root: Path) -> list[tuple]:
    """Run the chosen notebooks, each into scratch places: its executed copy into ``notebooks/.running/`` and
    its results (``out_dir``) into ``results/.staging/<stem>/``. Only a run that succeeds replaces the last
    good executed notebook, scorecard rows and interactive files (:func:`promote_results`); a failed run
    leaves them as they were and keeps its executed cells in ``notebooks/failed/``. Returns the failures."""
    failed = []
    for i, e in enumerate(chosen, 1):
        out = build / "notebooks" / e.path.name
        running = build / "notebooks" / ".running" / e.path.name
        staging = results / STAGING / e.stem
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        print(f"[{i}/{len(chosen)}] {e.rel(root)} ... ", end="", flush=True)
        ok, secs, err = execute(e, running, {**params, "out_dir": str(staging)}, root)
        if ok:
            promote_results(staging, results, e.stem)
            os.replace(running, out)
            print(f"ok in {secs:.1f} s", flush=True)
        else:
            failed_copy = build / "notebooks" / "failed" / e.path.name
            failed_copy.parent.mkdir(parents=True, exist_ok=True)
            if running.exists():
                os.replace(running, failed_copy)
            kept = " (the last good results are kept)" if out.exists() else ""
            print(f"FAILED after {secs:.1f} s{kept}\n      {err}\n      executed cells: {failed_copy}", flush=True)
            failed.append((e, err))
    return failed


def executed_profile(path: Path) -> str | None:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    params = (nb.get("metadata", {}).get("papermill") or {}).get("parameters") or {}
    return params.get("profile")


# ------------------------------------------------------------------------------------------ rendering
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


def _replace_in_outputs(cell: dict, replacements: list[tuple[str, str]]) -> None:
    def fix(text):
        joined = "".join(text) if isinstance(text, list) else text
        for old, new in replacements:
            joined = joined.replace(old, new)
        return joined

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
    * ``replacements`` (see :func:`path_replacements`) rewrite the build machine's paths in the outputs.

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
            _replace_in_outputs(cell, list(replacements))
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
"""


def write_stylesheet(src: Path) -> Path:
    path = src / "_static" / "atomint.css"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STYLESHEET, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ sources
def assemble_sources(root: Path, build: Path, entries: list[Entry],
                     replacements: list[tuple[str, str]] | None = None) -> tuple[Path, list[str]]:
    """``build/src``: config, toc, ``book/`` and, for each toc notebook, its executed copy (or the
    committed notebook, with a note, when it has not been executed under ``build``)."""
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
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return src, notes


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
    from .report import scorecard

    return scorecard.headline(chapters).replace("**", "")


def build_scorecard(build: Path, profile: str, notebooks: list[Entry], src: Path,
                    replacements: list[tuple[str, str]] | None = None, models_dir: Path = Path("models")) -> dict:
    """The scorecard's pages (every row; the headline and one sentence per chapter), the table of what the
    committed runs took to train, and ``_build/scorecard.json``."""
    from .report import scorecard
    from .report import training as report_training

    results = build / "results" / profile
    chapters = scorecard.collect(results, [e.stem for e in notebooks])
    recorded = {c["chapter"] for c in chapters}
    missing = [e.stem for e in notebooks if e.stem not in recorded]
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    info = (f"*Built {stamp} with profile `{profile}`; every value below was computed by the notebook it links "
            f"to, during this build.*")
    texts = {"scorecard.md": scorecard.to_markdown(chapters, missing=missing, build_info=info),
             "scorecard_summary.md": scorecard.summary_markdown(chapters, build_info=info)}
    texts["retrain_times.md"] = report_training.retrain_markdown(models_dir)
    texts["execution_times.md"] = execution_markdown(build / "notebooks", notebooks)
    for name, text in texts.items():
        for old, new in replacements or ():  # the rows' context may name data files by their path
            text = text.replace(old, new)
        scorecard.write_markdown(src / "_generated" / name, text)
    summary = {"profile": profile, "built": stamp, "summary": scorecard.summary(chapters),
               "missing": missing, "chapters": chapters}
    scorecard._atomic_write_text(build / "scorecard.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


# ------------------------------------------------------------------------------------------ jupyter-book
def jupyter_book(src: Path, build: Path, verbose: bool = False) -> tuple[int, str, Path]:
    """``jupyter-book build src --path-output build.parent -W --keep-going``: html in ``build/html``."""
    # jupyter-book writes to <path-output>/_build/html, so the build folder must be named _build.
    html = build / "html"
    for stale in (build / ".doctrees", html):
        if stale.exists():
            shutil.rmtree(stale)
    args = ["build", str(src), "--path-output", str(build.parent), "--builder", "html", "-W", "--keep-going"]
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", *args]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.run(cmd, cwd=str(build.parent), env=env, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    log = proc.stdout
    (build / "jupyter-book.log").write_text(log, encoding="utf-8")
    if verbose:
        print(log)
    return proc.returncode, log, html


def _warnings(log: str) -> list[str]:
    keys = ("WARNING", "ERROR", "Traceback", "Exception", "error:")
    return [ln for ln in log.splitlines() if any(k in ln for k in keys)]


# ------------------------------------------------------------------------------------------ commands
def cmd_build(args) -> int:
    root = project_root()
    build = Path(args.build_dir)
    build = (build if build.is_absolute() else root / build).resolve()
    if build.name != "_build":
        raise AtomintError(f"--build-dir {args.build_dir!r}: the folder must be named _build "
                           f"(jupyter-book writes its html to <parent>/_build/html)")
    entries = read_toc(root)
    notebooks = [e for e in entries if e.is_notebook]
    chosen = select(notebooks, args.only, root)
    profile = args.profile
    results = build / "results" / profile
    data_dir = os.environ.get("ATOMINT_DATA", "").strip() or None
    params = {"profile": profile, "data_dir": data_dir, "models_dir": args.models_dir, "out_dir": str(results)}
    t_all = time.perf_counter()
    print(f"atomint book: {len(notebooks)} notebook(s) in _toc.yml; profile {profile}; "
          f"data_dir {data_dir or 'None (auto: cache or embedded sample)'}; output {build}", flush=True)

    failed = []
    if args.skip_execute:
        print("  --skip-execute: rendering the notebooks already executed under "
              f"{build / 'notebooks'} (or the committed ones)", flush=True)
        for e in notebooks:
            prof = executed_profile(build / "notebooks" / e.path.name)
            if prof is not None and prof != profile:
                print(f"  note: {e.path.name} was executed with profile {prof}, not {profile}", flush=True)
    else:
        check_params(**params)  # a bad parameter: one line here, before any notebook runs
        failed = execute_all(chosen, build, results, params, root)
    if failed:
        print(f"atomint book: {len(failed)} notebook(s) failed ({', '.join(e.path.name for e, _ in failed)}); "
              f"the book was not built. Fix the error above and run again (add --only NAME to re-run one).",
              file=sys.stderr)
        return 1

    paths = path_replacements(root, data_dir, build, staged=staged_out_dirs(results, notebooks))
    src, notes = assemble_sources(root, build, entries, paths)
    ship_extra_files(results, src)
    ship_mathjax(src)
    write_stylesheet(src)
    for n in notes:
        print(f"  note: {n}", flush=True)
    sc = build_scorecard(build, profile, notebooks, src, paths, models_dir=root / args.models_dir)
    s = sc["summary"]
    print(f"scorecard: {s['all']['rows']} rows from {len(sc['chapters'])} chapter(s); "
          + scorecard_headline(sc["chapters"])
          + (f"; no results yet from {', '.join(sc['missing'])}" if sc["missing"] else ""), flush=True)

    t0 = time.perf_counter()
    print(f"jupyter-book build {src.relative_to(root) if src.is_relative_to(root) else src} "
          f"--path-output {build.parent} -W --keep-going ... ", end="", flush=True)
    rc, log, html = jupyter_book(src, build, verbose=args.verbose)
    secs = time.perf_counter() - t0
    if rc != 0 or not (html / "index.html").is_file():
        print(f"FAILED after {secs:.1f} s (warnings are errors)", flush=True)
        for ln in (_warnings(log) or log.splitlines()[-40:])[:60]:
            print("   " + ln, file=sys.stderr)
        print(f"full log: {build / 'jupyter-book.log'}", file=sys.stderr)
        return 1
    print(f"ok in {secs:.1f} s", flush=True)
    print(f"atomint book: done in {time.perf_counter() - t_all:.1f} s\n"
          f"open {html / 'index.html'}\n     ({(html / 'index.html').as_uri()})", flush=True)
    return 0


VOLATILE_NB = ("start_time", "end_time", "duration", "input_path", "output_path", "environment_variables",
               "exception")


def freeze_notebook(path: Path, root: Path) -> float:
    """Run ``path`` with the quick profile and write it back with outputs, minus volatile metadata."""
    import nbformat
    import papermill as pm
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        t0 = time.perf_counter()
        pm.execute_notebook(str(path), str(out), parameters={"profile": "quick"}, cwd=str(root),
                            kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
                            extra_arguments=KERNEL_ARGS, kernel_manager_class=kernel_manager_class())
        secs = time.perf_counter() - t0
        nb = nbformat.read(str(out), as_version=4)
    pmeta = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {k: v for k, v in pmeta.items() if k not in VOLATILE_NB}
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "papermill-injected-parameters"  # stable id: re-freezing gives no spurious diff
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for o in cell.get("outputs", []):
            o.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, str(path))
    return secs


def cmd_freeze(args) -> int:
    root = project_root()
    notebooks = [e for e in read_toc(root) if e.is_notebook]
    chosen = select(notebooks, args.notebooks, root)
    for i, e in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] freezing {e.rel(root)} with profile quick ... ", end="", flush=True)
        secs = freeze_notebook(e.path, root)
        size = e.path.stat().st_size
        print(f"ok in {secs:.1f} s ({size / 1024:.0f} KiB)", flush=True)
        if size > 1_000_000:
            print(f"  warning: {e.path.name} is over 1 MB; shrink its figures", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m atomint_helpers.book", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="execute the notebooks and build the HTML book under _build/")
    b.add_argument("--profile", choices=PROFILES, default="cpu",
                   help="quick: embedded samples, seconds; cpu (default): full data and committed checkpoints; "
                        "paper: the paper's hyperparameters")
    b.add_argument("--only", action="append", metavar="NOTEBOOK",
                   help="execute only this notebook (stem, file name or path; repeatable); the others are "
                        "rendered from their last executed copy")
    b.add_argument("--skip-execute", action="store_true", help="render the notebooks already executed")
    b.add_argument("--models-dir", default="models", help="checkpoint folder passed to the notebooks")
    b.add_argument("--build-dir", default=DEFAULT_BUILD, help="output folder, must be named _build (default: ./_build)")
    b.add_argument("-v", "--verbose", action="store_true", help="show jupyter-book's full output")
    f = sub.add_parser("freeze", help="re-run notebooks with profile quick and store their outputs in notebooks/")
    f.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="default: every notebook in _toc.yml")
    args = ap.parse_args(argv)
    try:
        return cmd_build(args) if args.command == "build" else cmd_freeze(args)
    except AtomintError as e:
        print(f"atomint book: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
