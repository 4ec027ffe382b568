"""Data-parallel training with two CPU processes (``atomint train --processes 2``: DDP, gloo): a kill of rank 0
and the resume, rank 0 alone writing the run folder, the result loading, and the same weights as one process
on the same global batches."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from atomint_helpers import EXIT_USAGE, AtomintError, io, store
from atomint_helpers.training import read_log, train

#: stage 2 (cosine, weight average) from epoch 2 on, so that the kill falls inside it and the weight average
#: is resumed from state.pt
OVERRIDES = {"extend": {"schnet": {"from_epoch": 1, "lr": 1e-3, "ema_decay": 0.9}}}

#: rank 0 trains the quick SchNet on two processes and SIGKILLs itself right after its second epoch's save,
#: having written its helpers' process ids to argv[2] (the helpers run atomint unpatched)
KILLED_AFTER_EPOCH_2 = """
import os, signal, sys
from pathlib import Path
from atomint_helpers.training import run

epoch = run.train_epoch


def epoch_then_kill(r, *args):
    epoch(r, *args)
    if r.epoch == 2:
        Path(sys.argv[2]).write_text(" ".join(str(p.pid) for p in args[-1].helpers))
        os.kill(os.getpid(), signal.SIGKILL)


run.train_epoch = epoch_then_kill
run.train("schnet", "energy", 0, "quick", sys.argv[1], max_epochs=3, progress=False, processes=2, overrides=%r)
""" % (OVERRIDES,)

FILES = {store.CONFIG, store.LOG, store.PROVENANCE, store.SPLIT, store.STATE, store.WEIGHTS, io.LOCK}


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped by its new parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return False
    try:  # no /proc: ask the kernel
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_processes_resume_after_kill_and_match_one_process(tmp_path):
    two, pids = tmp_path / "two", tmp_path / "helpers.txt"
    script = tmp_path / "killed.py"
    script.write_text(KILLED_AFTER_EPOCH_2)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p)}
    r = subprocess.run([sys.executable, str(script), str(two), str(pids)], capture_output=True, text=True, env=env)
    assert r.returncode == -9, r.stderr[-2000:]
    folder = two / "schnet-energy-quick-fold0"
    assert [row["epoch"] for row in read_log(folder)] == [1, 2]
    helpers = [int(p) for p in pids.read_text().split()]
    assert len(helpers) == 1
    deadline = time.time() + 60  # the helper ends with rank 0 (parent-death signal)
    while any(_alive(p) for p in helpers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in helpers), "the helper process outlived rank 0"

    train("schnet", "energy", 0, "quick", two, max_epochs=3, progress=False, processes=2, overrides=OVERRIDES)
    # rank 0 alone wrote the folder: one log row per epoch, the files of one checkpoint, no temporaries
    assert [row["epoch"] for row in read_log(folder)] == [1, 2, 3]
    assert {p.name for p in folder.iterdir()} == FILES
    prov = store.provenance(folder)
    assert prov["processes"] == 2 and prov["epochs"] == 3 and prov["metrics"]["test"]["n"] == 800
    model = store.load_model(folder)  # weights and config verified against provenance
    assert model.config["target"] == "energy"

    one = train("schnet", "energy", 0, "quick", tmp_path / "one", max_epochs=3, progress=False, threads=1,
                overrides=OVERRIDES)
    a = torch.load(folder / store.STATE, weights_only=True)
    b = torch.load(one / store.STATE, weights_only=True)
    assert a["model"].keys() == b["model"].keys()
    for k in a["model"]:  # the same global batches: one process's steps, to float rounding
        assert torch.allclose(a["model"][k], b["model"][k], rtol=1e-5, atol=1e-5), k
    for x, y in zip(a["ema"], b["ema"]):
        assert torch.allclose(x, y, rtol=1e-5, atol=1e-5)
    la, lb = read_log(folder), read_log(one)
    assert np.allclose([row["val_mae"] for row in la], [row["val_mae"] for row in lb], rtol=1e-4)
    assert np.allclose([row["train_mae"] for row in la], [row["train_mae"] for row in lb], rtol=1e-4)


def test_a_helper_may_not_write_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_READ_ONLY", [])
    folder = tmp_path / "run"
    folder.mkdir()
    io.read_only(folder, "training process rank 1")
    with pytest.raises(AtomintError, match=r"training process rank 1 may not write .*run/log.csv: only"):
        io.atomic_write_bytes(folder / "log.csv", b"")
    with pytest.raises(AtomintError, match="may not write"):
        with store.saving(folder):
            pass
    io.atomic_write_bytes(tmp_path / "elsewhere.txt", b"ok")  # outside the folder: allowed
    assert sorted(p.name for p in folder.iterdir()) == []


def test_bad_process_counts_are_named(tmp_path):
    with pytest.raises(AtomintError, match=r"processes must be a whole number ≥ 1, got 0"):
        train("schnet", "energy", 0, "quick", tmp_path, processes=0, progress=False)
    with pytest.raises(AtomintError, match=r"PyTorch Lightning: use --devices N"):
        train("schnet", "energy", 0, "paper", tmp_path, processes=2, progress=False)
    r = subprocess.run([sys.executable, "-m", "atomint_helpers.cli", "train", "--model", "schnet", "--target",
                        "energy", "--processes", "0"], capture_output=True, text=True)
    assert r.returncode == EXIT_USAGE and "--processes" in r.stderr


def test_shares_cover_the_global_batch_and_their_gradients_average_to_its_gradient(sample):
    """Without processes: the ranks' shares of a global batch partition it in order, and the average of the
    ranks' gradients (what DDP all-reduces) is the gradient of the global batch's mean squared error, also
    where a share is empty."""
    from atomint_helpers.data.batch import qm9_atoms_data
    from atomint_helpers.models import build
    from atomint_helpers.training.parallel import Ranks, step_loss

    data = qm9_atoms_data(sample, cutoff=5.0)
    torch.manual_seed(0)
    model = build({"model": "schnet", "target": "energy",
                   "representation": dict(n_atom_basis=16, n_interactions=1, n_rbf=8, cutoff=5.0)})
    model.fit_statistics(data, np.arange(200))

    def grads(rows, ranks):
        model.zero_grad()
        loss, sq, ab = step_loss(model, data, rows, ranks, "energy")
        loss.backward()
        return [p.grad.clone() for p in model.parameters()], sq, ab

    for rows, world in ((np.arange(37, 77), 2), (np.arange(5, 45), 3), (np.array([3, 9]), 3)):
        cost = data.n_atoms[rows] + data.pairs.ptr[rows + 1] - data.pairs.ptr[rows]
        shares = [Ranks(r, world).share(rows, cost) for r in range(world)]
        assert np.array_equal(np.concatenate(shares), rows)
        full, sq, ab = grads(rows, Ranks())
        parts = [grads(rows, Ranks(r, world)) for r in range(world)]
        for i, g in enumerate(full):
            mean = sum(p[0][i] for p in parts) / world
            assert float((mean - g).abs().max()) <= 1e-5 * float(g.abs().max()) + 1e-7, i
        assert sum(p[1] for p in parts) == pytest.approx(sq, rel=1e-5)
        assert sum(p[2] for p in parts) == pytest.approx(ab, rel=1e-5)
