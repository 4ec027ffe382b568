"""Nothing silent, nothing lost, part 2: the book survives an interrupted or failed render, every OS and resource
error is one line, long grids say how long they take, the records tell the truth, and a sweep of bad inputs
through the command ends in no traceback and no unflagged number. Inputs are built in the tests."""
from __future__ import annotations

import errno
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from atomint_helpers import EXIT_INPUT, AtomintError, store

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


# ------------------------------------------------------------------------------------------ the sweep
def test_sweep_of_bad_inputs_ends_in_one_line_or_a_marked_finite_result(capsys, monkeypatch):
    spec = importlib.util.spec_from_file_location("sweep_inputs", ROOT / "bench" / "sweep_inputs.py")
    sweep = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "sweep_inputs", sweep)  # dataclasses look their module up there
    spec.loader.exec_module(sweep)
    assert len(sweep.cases()) >= 50
    rc = sweep.main([])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "FAIL" not in out and "cases ended well" in out
    # the judge itself: a traceback, a NaN at exit 0 and an unmarked outside result are failures
    case = sweep.Case("x", {}, ["explain", "--allow-outside"], outside=True)
    assert sweep.judge(case, 1, "", "Traceback (most recent call last):") == "traceback"
    assert "non-finite" in sweep.judge(case, 0, "E = nan kcal/mol", "")
    assert "mark" in sweep.judge(case, 0, "m: atomization energy 1.0 kcal/mol", "")
    for code in (2, 3, 4, 130):  # usage, bad input, missing data or model, Ctrl-C
        assert sweep.judge(case, code, "", "atomint: error: bad") is None
    assert "without one error line" in sweep.judge(case, 1, "", "atomint: error: bad")  # not an error status


# ------------------------------------------------------------------------------------------ the book
def _fake_jupyter_book(monkeypatch, *, rc: int, page: str | None, interrupt: bool = False):
    """Replace the jupyter-book subprocess: it writes ``page`` as index.html into the staging folder it was
    given, then returns ``rc`` (or raises KeyboardInterrupt, as Ctrl-C in that step does)."""
    from atomint_helpers.book import assemble

    def run(cmd, **kw):
        out = Path(cmd[cmd.index("--path-output") + 1]) / "_build" / "html"
        out.mkdir(parents=True, exist_ok=True)
        if page is not None:
            (out / "index.html").write_text(page)
        if interrupt:
            raise KeyboardInterrupt
        return subprocess.CompletedProcess(cmd, rc, stdout="log\n")

    monkeypatch.setattr(assemble.subprocess, "run", run)
    return assemble


def test_the_last_good_book_survives_a_failed_render_and_ctrl_c(tmp_path, monkeypatch):
    build = tmp_path / "_build"
    (build / "src").mkdir(parents=True)
    assemble = _fake_jupyter_book(monkeypatch, rc=0, page="good")
    rc, _, html = assemble.jupyter_book(build / "src", build)
    assert rc == 0 and (html / "index.html").read_text() == "good"

    assemble = _fake_jupyter_book(monkeypatch, rc=1, page="broken")  # a failed render
    rc, _, html = assemble.jupyter_book(build / "src", build)
    assert rc == 1 and (html / "index.html").read_text() == "good"

    assemble = _fake_jupyter_book(monkeypatch, rc=0, page="half", interrupt=True)  # Ctrl-C in jupyter-book
    with pytest.raises(KeyboardInterrupt):
        assemble.jupyter_book(build / "src", build)
    assert (html / "index.html").read_text() == "good"
    assert sorted(p.name for p in build.iterdir()) == ["html", "jupyter-book.log", "src"]  # no staging left

    assemble = _fake_jupyter_book(monkeypatch, rc=0, page="new")
    assert assemble.jupyter_book(build / "src", build)[0] == 0 and (html / "index.html").read_text() == "new"


def test_an_interrupted_swap_puts_the_old_book_back(tmp_path):
    from atomint_helpers.book.assemble import swap_in

    old, new = tmp_path / "html.old", tmp_path / "staged"
    old.mkdir()
    (old / "index.html").write_text("old")
    new.mkdir()
    (new / "index.html").write_text("new")
    swap_in(new, tmp_path / "html")  # html missing, html.old present: a swap killed between its two renames
    assert (tmp_path / "html" / "index.html").read_text() == "new" and not old.exists()


def test_ctrl_c_and_os_errors_in_the_book_are_one_line(monkeypatch, capsys):
    from atomint_helpers import book

    for exc, code, words in ((KeyboardInterrupt(), 130, "interrupted"),
                             (OSError(errno.ENOSPC, "No space left on device", "/x/_build/html"), 2, "no space left"),
                             (MemoryError(), 2, "out of memory")):
        def boom(args, exc=exc):
            raise exc

        monkeypatch.setattr(book, "cmd_build", boom)
        assert book.main(["build", "--profile", "quick"]) == code
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and words in err and "Traceback" not in err, err


def test_notebook_molecule_parameter_names_its_accepted_values():
    from atomint_helpers.notebook import check_smiles

    names = {"aspirin": "CC(=O)Oc1ccccc1C(=O)O"}
    assert check_smiles("molecule", "aspirin", names) == names["aspirin"]
    assert check_smiles("molecule", "CCO", names) == "CCO"
    for bad in ("asprin", "C.C", "", 3):
        with pytest.raises(AtomintError) as e:
            check_smiles("molecule", bad, names)
        assert "'aspirin'" in str(e.value) and "\n" not in str(e.value)


# ------------------------------------------------------------------------------------------ OS and resources
def test_disk_full_or_size_limit_during_a_save_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    import os
    import resource

    from atomint_helpers import io

    target = tmp_path / "state.pt"
    io.atomic_torch_save({"a": torch.zeros(2)}, target)
    before = target.read_bytes()
    # a real file-size limit (ulimit -f 64 KiB) in a child process saving a 4 MB tensor
    script = ("import torch\nfrom atomint_helpers import io, AtomintError\n"
              "try:\n    io.atomic_torch_save({'a': torch.zeros(1_000_000)}, %r)\n"
              "except AtomintError as e:\n    print(e)\n" % str(target))
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))  # noqa: E731
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, preexec_fn=limit,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert "file-size limit" in p.stdout and p.stdout.count("\n") == 1, p.stdout
    assert target.read_bytes() == before and sorted(q.name for q in tmp_path.iterdir()) == ["state.pt"]

    real_save = torch.save

    def zip_writer_fails(obj, f, *a, **k):  # what torch's zip writer raises on a full disk
        if isinstance(f, (str, os.PathLike)):
            Path(f).write_bytes(b"half")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")
        return real_save(obj, f, *a, **k)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", zip_writer_fails)
    monkeypatch.setattr(os, "fsync", full)  # a full disk shows at the latest when the data are flushed
    with pytest.raises(AtomintError) as e:
        io.atomic_torch_save({"a": torch.ones(2)}, target)
    assert "no space left" in str(e.value) and "\n" not in str(e.value)
    assert target.read_bytes() == before and sorted(q.name for q in tmp_path.iterdir()) == ["state.pt"]
    for code, words in ((errno.EFBIG, "file-size limit"), (errno.EACCES, "permission denied")):
        err = io.fs_error(PermissionError(code, "x") if code == errno.EACCES else OSError(code, "x"), target)
        assert words in str(err) and "\n" not in str(err)


def test_cli_turns_any_os_or_memory_error_into_one_line(monkeypatch, capsys):
    from atomint_helpers import cli

    for exc, words in ((PermissionError(errno.EACCES, "Permission denied", "/ro/m.png"), "permission denied"),
                       (OSError(errno.EFBIG, "File too large", "/x/big.csv"), "file-size limit"),
                       (MemoryError(), "out of memory")):
        def boom(args, exc=exc):
            raise exc

        monkeypatch.setattr(cli.explain, "_cli_explain", boom)  # add_cli reads it when the parser is built
        assert cli.main(["explain", "--smiles", "C"]) == EXIT_INPUT
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and err.startswith("atomint: error: ") and words in err, err


def test_a_read_only_cache_costs_only_recomputation(tmp_path, monkeypatch):
    """A cache that cannot be created (a file where its folder should be, as a read-only mount behaves for
    root too): a dipole model still loads, orients its charges and explains a molecule."""
    from ase.build import molecule

    from atomint_helpers.calculator import AtomintCalculator

    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ATOMINT_CACHE", str(blocker / "atomint"))
    a = molecule("CH3OH")
    a.calc = AtomintCalculator(MODELS / "schnet-dipole-quick-fold1")
    q = a.get_charges()
    assert np.isfinite(q).all() and abs(q.sum()) < 1e-4


def test_a_long_probe_grid_is_refused_with_its_estimate_and_a_shorter_one_shows_progress(capsys):
    from atomint_helpers.data.qm9 import load_sample
    from atomint_helpers.interpret.probe import ProbePotential

    atoms = load_sample().atoms(930)  # toluene
    model = store.load_model(MODELS / "schnet-energy-quick-fold0")
    pp = ProbePotential(model, atoms, "C")
    pts = atoms.positions.mean(0) + np.random.default_rng(0).normal(scale=3.0, size=(400, 3))
    with pytest.raises(AtomintError) as e:
        pp(pts, chunk_size=50, max_seconds=1e-9)
    msg = str(e.value)
    assert "would take about" in msg and "400 points" in msg and "coarser grid" in msg and "\n" not in msg
    full = pp(pts, chunk_size=50, progress=True)
    assert "probe grid" in capsys.readouterr().err
    # by default a bar only for a person at a terminal: a notebook's page or a log gets none, however long
    import atomint_helpers.interpret.probe as probe_module

    old, probe_module.PROGRESS_AFTER_S = probe_module.PROGRESS_AFTER_S, 0.0
    try:
        pp(pts, chunk_size=50)
    finally:
        probe_module.PROGRESS_AFTER_S = old
    assert "probe grid" not in capsys.readouterr().err
    np.testing.assert_allclose(full, pp(pts, progress=False), atol=1e-4)
    assert pp.estimated_seconds > 0


# ------------------------------------------------------------------------------------------ records
def test_run_names_and_data_dir_are_checked_for_every_profile(tmp_path):
    from atomint_helpers.training import train

    for bad in (".", "..", "../x", "a/b", ".hidden", ""):
        with pytest.raises(AtomintError, match="not a run name"):
            train("bp", "energy", profile="quick", models_dir=tmp_path, name=bad, progress=False)
    with pytest.raises(AtomintError, match="is not a folder"):
        train("bp", "energy", profile="quick", models_dir=tmp_path, data_dir=tmp_path / "nodata", progress=False)
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_resume_with_a_smaller_max_epochs_records_the_epochs_trained(tmp_path):
    from atomint_helpers.training import read_log, train

    folder = train("bp", "energy", fold=0, profile="quick", models_dir=tmp_path, progress=False, max_epochs=3)
    assert store.provenance(folder)["status"].startswith("stopped: max_epochs=3")
    state = folder / store.STATE
    st = torch.load(state, weights_only=True)
    st["done"] = False  # as a run stopped by its time budget leaves it
    torch.save(st, state)
    train("bp", "energy", fold=0, profile="quick", models_dir=tmp_path, progress=False, max_epochs=2)
    status = store.provenance(folder)["status"]
    assert "max_epochs=2" in status and "3 epochs were already trained" in status, status
    assert len(read_log(folder)) == 3
    shutil.rmtree(folder)


def test_papermill_with_an_unknown_molecule_name_fails_in_the_parameter_cell(tmp_path):
    import json
    import os

    out = tmp_path / "out.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "explain.ipynb"), str(out),
           "--no-progress-bar", "-p", "profile", "quick", "-p", "out_dir", str(tmp_path / "results"),
           "-p", "molecule", "asprin"]
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300)
    assert proc.returncode != 0
    cells = json.loads(out.read_text())["cells"]
    errors = [(i, o) for i, c in enumerate(cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1
    i, err = errors[0]
    assert "check_smiles" in "".join(cells[i]["source"])  # the parameter cell, before any model is loaded
    assert err["ename"] == "AtomintError" and "'asprin'" in err["evalue"] and "'aspirin'" in err["evalue"]


def test_png_into_a_read_only_folder_is_one_line_naming_the_picture(tmp_path, monkeypatch):
    from ase.build import molecule
    from matplotlib.figure import Figure

    from atomint_helpers.depict import depict_latent

    def denied(self, fname, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(fname))

    monkeypatch.setattr(Figure, "savefig", denied)  # what a read-only folder does (tests may run as root)
    a = molecule("CH4")
    with pytest.raises(AtomintError) as e:
        depict_latent(a, np.zeros(len(a)), "q_i", "e", tmp_path / "m.png")
    assert str(e.value).startswith(f"cannot write {tmp_path / 'm.png'}: permission denied")
    assert list(tmp_path.iterdir()) == []


def test_many_molecules_show_a_progress_bar_and_the_same_numbers(capsys):
    from ase.build import molecule

    from atomint_helpers.cli.explain_table import explain

    model = store.load_model(MODELS / "schnet-energy-quick-fold0")
    frames = [molecule("CH4"), molecule("CH3OH"), molecule("H2O")]
    quiet, _ = explain(frames, [model], ["e"], progress=False)
    assert "explain" not in capsys.readouterr().err
    shown, _ = explain(frames, [model], ["e"], progress=True)
    assert "explain" in capsys.readouterr().err
    assert quiet.equals(shown)


@pytest.mark.parametrize("module, argv, after", [
    ("atomint_helpers.cli", ["explain", "--smiles", "CCO", "--model", str(MODELS / "schnet-energy-quick-fold0")], 1.0),
    ("atomint_helpers.book", ["build", "--profile", "quick", "--only", "data", "--build-dir", "{tmp}/_build"], 6.0),
], ids=["explain", "book-notebook-running"])
def test_ctrl_c_of_a_running_command_is_one_line_and_exit_130(tmp_path, module, argv, after):
    """A real SIGINT, sent once the command is running (importing, loading, or executing a notebook)."""
    import os
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", module, *[a.replace("{tmp}", str(tmp_path)) for a in argv]],
                         cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=180)
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    if p.returncode == 130:
        assert len(lines) == 1 and "interrupted" in lines[0] and "Traceback" not in err, err
    else:  # it finished before the signal: still no traceback
        assert p.returncode == 0 and "Traceback" not in err, (p.returncode, err)
