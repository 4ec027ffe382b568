"""Nothing lost, nothing silent, on the run side: one writer per run folder, arguments refused in one line,
commands that refuse checkpoints of a target they do not handle, a grid memory budget, evaluate's warning."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from atomint_helpers import EXIT_INPUT, EXIT_USAGE, AtomintError, store
from atomint_helpers.io import folder_lock

from cli_run import cli, one_line_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_second_writer_of_a_run_folder_is_refused_and_a_killed_holder_leaves_no_lock(tmp_path):
    from atomint_helpers.training import train

    run = tmp_path / "bp-energy-quick-fold0"
    run.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from atomint_helpers.io import folder_lock\n"
                               f"with folder_lock({str(run)!r}):\n    print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(AtomintError, match=f"in use by process {holder.pid}"):
        train("bp", "energy", 0, "quick", tmp_path, max_epochs=1, progress=False)
    holder.kill()
    holder.wait()
    with folder_lock(run):  # the kernel released the dead holder's lock
        pass
    f = train("bp", "energy", 0, "quick", tmp_path, max_epochs=1, progress=False)
    assert store.provenance(f)["epochs"] == 1


@pytest.mark.parametrize("args, words", [
    (("--fold", "-1"), ("--fold", "≥ 0")),
    (("--threads", "0"), ("--threads", "≥ 1")),
    (("--threads", "-1"), ("--threads",)),
    (("--max-epochs", "0"), ("--max-epochs", "≥ 1")),
    (("--max-minutes", "nan"), ("--max-minutes", "finite")),
])
def test_bad_training_arguments_are_one_line_errors_and_create_nothing(tmp_path, args, words):
    p = cli("train", "--model", "bp", "--target", "energy", "--models-dir", tmp_path, *args)
    one_line_error(p, *words, code=EXIT_USAGE)
    assert not any(tmp_path.iterdir())


def test_spacing_out_of_range_is_refused(tmp_path):
    one_line_error(cli("explain", "--smiles", "C", "--model", ROOT / "models" / "bp-dipole-quick-fold0", "--esp",
                       "--spacing", "1e-300", cwd=tmp_path), "--spacing", "0.01–2 Å", code=EXIT_USAGE)


def test_explain_refuses_checkpoints_of_targets_it_does_not_handle(tmp_path):
    crystal = ROOT / "models" / "schnet-mp-quick-fold0"
    one_line_error(cli("explain", "--smiles", "C", "--model", crystal, cwd=tmp_path), "crystals", "energy, dipole",
                   code=EXIT_INPUT)


def test_grid_budget_is_checked_before_allocating_and_says_which_spacing_fits():
    from ase import Atoms

    from atomint_helpers.interpret.grid import MAX_GRID_POINTS, box_grid

    far = Atoms("C3", positions=[[0, 0, 0], [60, 0, 0], [0, 60, 0]])
    t0 = time.time()
    with pytest.raises(AtomintError, match=r"use a spacing of at least (\d+\.\d+) Å") as e:
        box_grid(far, spacing=0.1)
    assert time.time() - t0 < 5  # refused before any large allocation
    fits = float(str(e.value).split("at least ")[1].split(" Å")[0])
    g = box_grid(far, spacing=fits * 1.01)
    assert np.prod(g.shape) <= MAX_GRID_POINTS


def test_evaluate_warns_when_the_recorded_mae_is_not_reproduced(tmp_path, full_qm9):
    import shutil

    src = ROOT / "models" / "bp-energy-quick-fold0"
    run = tmp_path / src.name
    shutil.copytree(src, run)
    prov = store.provenance(run)
    ok = cli("evaluate", run)
    assert ok.returncode == 0 and "warning" not in ok.stderr, ok.stderr
    prov["metrics"]["test"]["mae"] *= 1.01
    store.atomic_write_json(run / store.PROVENANCE, prov)
    bad = cli("evaluate", run)
    assert bad.returncode == 0 and "differs from the recorded one" in bad.stderr, bad.stderr
