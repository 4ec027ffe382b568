"""Build the book: execute the notebooks, collect the scorecard, render with Jupyter Book.

Modules: ``toc`` (the chapters in ``_toc.yml``), ``run`` (papermill execution, results staged until a run
succeeds, freezing), ``render`` (executed notebooks prepared for reading, offline MathJax, stylesheet),
``assemble`` (the sources, the generated pages, jupyter-book); this file: the two commands.

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
4. prints where ``index.html`` is. The html is built in a staging folder and swapped into ``_build/html``
   only when complete (:func:`~atomint_helpers.book.assemble.jupyter_book`), as the notebook results are
   staged until a run succeeds: a failed render, Ctrl-C or a kill keeps the last good book. Ctrl-C anywhere
   ends in one line and exit status 130.

Everything goes under ``_build/`` (git-ignored). ``freeze`` re-runs notebooks with the ``quick`` profile
and writes them back into ``notebooks/`` with their outputs and without volatile metadata: that is the
committed state nbval compares against (see ``tests/test_notebooks.py``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .. import AtomintError
from ..notebook import PROFILES, check_params, project_root
from .assemble import (
    log_warnings,
    assemble_sources,
    build_scorecard,
    execution_markdown,
    jupyter_book,
    scorecard_headline,
    ship_extra_files,
)
from .render import (
    path_replacements,
    prepare_for_render,
    ship_mathjax,
    write_stylesheet,
)
from .run import (
    KERNEL_ARGS, MANIFEST, STAGING, execute, execute_all, executed_profile, freeze_notebook, kernel_manager_class,
    promote_results, staged_out_dirs)
from .toc import DEFAULT_BUILD
from .toc import Entry, read_toc, select

__all__ = ["DEFAULT_BUILD", "KERNEL_ARGS", "MANIFEST", "STAGING", "Entry", "assemble_sources", "build_scorecard",
           "cmd_build", "cmd_freeze", "execute", "execute_all", "executed_profile", "execution_markdown",
           "freeze_notebook", "jupyter_book", "kernel_manager_class", "main", "path_replacements",
           "prepare_for_render", "promote_results", "read_toc", "scorecard_headline", "select", "ship_extra_files",
           "ship_mathjax", "staged_out_dirs", "write_stylesheet"]


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
    params.update(chapter_parameters(args.parameter, chosen, params))
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
    src, notes = assemble_sources(root, build, entries, paths, results)
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
        kept = (f"; the last good book is unchanged at {html / 'index.html'}" if (html / "index.html").is_file()
                else "")
        print(f"FAILED after {secs:.1f} s (warnings are errors){kept}", flush=True)
        for ln in (log_warnings(log) or log.splitlines()[-40:])[:60]:
            print("   " + ln, file=sys.stderr)
        print(f"full log: {build / 'jupyter-book.log'}", file=sys.stderr)
        return 1
    print(f"ok in {secs:.1f} s", flush=True)
    print(f"atomint book: done in {time.perf_counter() - t_all:.1f} s\n"
          f"open {html / 'index.html'}\n     ({(html / 'index.html').as_uri()})", flush=True)
    return 0


def chapter_parameters(pairs, chosen: list[Entry], base: dict) -> dict:
    """``-p NAME VALUE`` pairs as notebook parameters (values read as YAML, as papermill's ``-y``: numbers,
    lists, ``null``; else the string). A name that one of the ``chosen`` notebooks does not declare in its
    parameters cell, or one the command sets itself, is refused in one line (papermill would only warn)."""
    import yaml

    from ..notebook import check_names

    out = {}
    for name, value in pairs or []:
        if name in base:
            raise AtomintError(f"-p {name}: set by the command itself; use --{name.replace('_', '-')} "
                               f"(profile, models_dir) or ATOMINT_DATA (data_dir)")
        try:
            out[name] = yaml.safe_load(value)
        except yaml.YAMLError:
            out[name] = value
    for e in chosen:
        check_names(e.path, list(out))
    return out


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
    b.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="a chapter parameter (repeatable; with --only: every chosen chapter must declare it), "
                        "e.g. --only probe -p probe_element O")
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
    except KeyboardInterrupt:
        print("atomint book: interrupted; the last good book and results are kept", file=sys.stderr)
        return 130
    except MemoryError:
        print("atomint book: out of memory; run fewer chapters at once (--only NAME)", file=sys.stderr)
        return 2
    except OSError as e:
        from ..io import fs_error

        print(f"atomint book: {fs_error(e, e.filename or 'a file', 'read or write')}", file=sys.stderr)
        return 2


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
