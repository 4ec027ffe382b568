"""Training end to end on the quick profile, resume after kill, and the checkpoint store's errors."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.training import predict, read_log, train


@pytest.fixture(scope="module")
def quick_bp(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    folder = train("bp", "energy", fold=0, profile="quick", models_dir=d, progress=False)
    return folder


def test_quick_training_writes_a_complete_checkpoint(quick_bp):
    for f in (store.WEIGHTS, store.CONFIG, store.PROVENANCE, store.LOG, store.SPLIT, store.STATE):
        assert (quick_bp / f).is_file(), f
    prov = store.provenance(quick_bp)
    cfg = json.loads((quick_bp / store.CONFIG).read_text())
    assert cfg["model"] == "bp" and cfg["target"] == "energy"
    assert prov["n_train"] == 1000 and prov["n_val"] == 200 and prov["n_test"] == 800
    assert prov["metrics"]["test"]["n"] == 800 and prov["metrics"]["test"]["mae"] > 0
    assert prov["data"]["source"] == "sample" and len(prov["data"]["sha256"]) == 64
    log = read_log(quick_bp)
    assert [r["epoch"] for r in log] == [1, 2, 3, 4]
    # training helps: the best validation MAE is below the first epoch's
    assert prov["metrics"]["val"]["mae"] <= log[0]["val_mae"]
    assert (quick_bp.parent / "INDEX.md").read_text().count("bp-energy-quick-fold0") == 1


def test_checkpoint_reproduces_recorded_test_metrics(quick_bp, sample):
    from atomint_helpers.data.batch import qm9_atoms_data
    from atomint_helpers.data.splits import load_split
    from atomint_helpers.training import attach_descriptors, metrics

    model = store.load_model(quick_bp)
    data = qm9_atoms_data(sample, cutoff=model.cutoff)
    rows = sample.rows(load_split(quick_bp / store.SPLIT)["test"])
    m = metrics(predict(model, data, rows), data.targets["energy"][rows])
    rec = store.provenance(quick_bp)["metrics"]["test"]
    assert m["mae"] == pytest.approx(rec["mae"], rel=1e-5) and m["rmse"] == pytest.approx(rec["rmse"], rel=1e-5)
    # precomputed descriptors (training path) and on-the-fly descriptors agree
    attach_descriptors(model, data)
    assert np.allclose(predict(model, data, rows), predict(store.load_model(quick_bp), qm9_atoms_data(sample), rows),
                       atol=1e-3)


def test_resume_after_kill_equals_uninterrupted(tmp_path):
    cmd = [sys.executable, "-m", "atomint_helpers.cli", "train", "--model", "bp", "--target", "dipole",
           "--profile", "quick", "--max-epochs", "8", "--threads", "1", "--quiet"]
    a = tmp_path / "a"
    subprocess.run(cmd + ["--models-dir", str(a)], check=True, capture_output=True)
    b = tmp_path / "b"
    proc = subprocess.Popen(cmd + ["--models-dir", str(b)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = b / "bp-dipole-quick-fold0" / "log.csv"
    t0 = time.time()
    while time.time() - t0 < 120:
        if log.is_file() and len(log.read_text().splitlines()) >= 3:  # header + 2 epochs
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_after = len(read_log(b / "bp-dipole-quick-fold0"))
    assert 2 <= killed_after < 8, killed_after
    r = subprocess.run(cmd + ["--models-dir", str(b)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wa = torch.load(a / "bp-dipole-quick-fold0" / "weights.pt", weights_only=True)
    wb = torch.load(b / "bp-dipole-quick-fold0" / "weights.pt", weights_only=True)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    la, lb = read_log(a / "bp-dipole-quick-fold0"), read_log(b / "bp-dipole-quick-fold0")
    assert [r["val_mae"] for r in la] == [r["val_mae"] for r in lb]
    assert not list(b.rglob(".*.tmp*"))  # no temporary files left behind


def test_finished_run_is_not_retrained(quick_bp, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(quick_bp.parent, copy)
    before = (copy / quick_bp.name / store.WEIGHTS).read_bytes()
    train("bp", "energy", fold=0, profile="quick", models_dir=copy, progress=False)
    assert (copy / quick_bp.name / store.WEIGHTS).read_bytes() == before
    assert len(read_log(copy / quick_bp.name)) == 4


def test_resume_from_a_state_for_other_parameters_is_named(quick_bp, tmp_path):
    """A training state written for a different parameter set (e.g. by an older atomint) gives a clear
    error naming the file, not an optimizer traceback."""
    copy = tmp_path / "m"
    shutil.copytree(quick_bp.parent, copy)
    state_path = copy / quick_bp.name / store.STATE
    st = torch.load(state_path, weights_only=True)
    st["done"] = False
    st["optimizer"]["param_groups"][0]["params"] = st["optimizer"]["param_groups"][0]["params"][:-1]
    torch.save(st, state_path)
    with pytest.raises(AtomintError, match=r"state.pt cannot resume this model"):
        train("bp", "energy", fold=0, profile="quick", models_dir=copy, progress=False, max_epochs=6)


@pytest.mark.parametrize("damage,match", [
    ("missing_weights", r"weights.pt is missing"),
    ("truncated_weights", r"weights.pt does not match provenance.json"),
    ("tampered_weights", r"weights.pt does not match provenance.json .* tampered"),
    ("truncated_unverified", r"weights.pt is corrupt or not a weights file"),
    ("missing_config", r"config.json is missing"),
    ("broken_config", r"config.json is not valid JSON"),
    ("missing_folder", r"does not exist"),
])
def test_damaged_checkpoints_are_named(quick_bp, tmp_path, damage, match):
    d = tmp_path / "ck"
    shutil.copytree(quick_bp, d)
    w = d / store.WEIGHTS
    verify = True
    if damage == "missing_weights":
        w.unlink()
    elif damage in ("truncated_weights", "truncated_unverified"):
        w.write_bytes(w.read_bytes()[:200])
        verify = damage == "truncated_weights"
    elif damage == "tampered_weights":
        sd = torch.load(w, weights_only=True)
        k = next(iter(sd))
        sd[k] = sd[k] + 1.0
        torch.save(sd, w)
    elif damage == "missing_config":
        (d / store.CONFIG).unlink()
    elif damage == "broken_config":
        (d / store.CONFIG).write_text("{not json")
    elif damage == "missing_folder":
        d = tmp_path / "nowhere"
    with pytest.raises(AtomintError, match=match):
        store.load_model(d, verify=verify)


def test_bad_profile_and_target():
    with pytest.raises(AtomintError, match="unknown profile 'fast'; accepted: quick, cpu, paper"):
        train("bp", "energy", profile="fast")
    with pytest.raises(AtomintError, match="unknown target 'gap'"):
        train("bp", "gap", profile="quick")


def test_paper_profile_path_runs_through_lightning(tmp_path, monkeypatch):
    """The `paper` profile trains through PyTorch Lightning (here on the quick data, 2 epochs, CPU) and
    writes the same checkpoint format; a re-run resumes from Lightning's last.ckpt instead of restarting."""
    import dataclasses

    from atomint_helpers import training

    lit = dataclasses.replace(training.PROFILES["quick"], lightning=True, max_epochs=2)
    monkeypatch.setitem(training.PROFILES, "quick", lit)
    folder = train("bp", "energy", fold=0, profile="quick", models_dir=tmp_path, progress=False)
    assert (folder / "lightning" / "last.ckpt").is_file()
    prov = store.provenance(folder)
    assert prov["epochs"] == 2 and prov["metrics"]["test"]["n"] == 800
    assert [r["epoch"] for r in read_log(folder)] == [1, 2]
    model = store.load_model(folder)  # best weights in atomint's format, weights_only=True
    assert model.config["model"] == "bp"
    train("bp", "energy", fold=0, profile="quick", models_dir=tmp_path, progress=False)
    assert store.provenance(folder)["epochs"] == 2


def test_crystal_paper_profile_runs_through_lightning(tmp_path, monkeypatch):
    """Crystals (periodic pairs, formation energy per atom) take the same Lightning path as QM9."""
    import dataclasses

    from atomint_helpers import training

    lit = dataclasses.replace(training.CRYSTAL_PROFILES["quick"], lightning=True, max_epochs=1)
    monkeypatch.setitem(training.CRYSTAL_PROFILES, "quick", lit)
    folder = train("schnet", "crystals", fold=0, profile="quick", models_dir=tmp_path, progress=False)
    assert folder.name == "schnet-mp-quick-fold0" and (folder / "lightning" / "last.ckpt").is_file()
    prov = store.provenance(folder)
    assert prov["epochs"] == 1 and prov["unit"] == "eV/atom" and prov["metrics"]["test"]["n"] == 200
    assert np.isfinite(prov["metrics"]["test"]["mae"])


def test_stale_temporaries_of_killed_writers_are_removed(tmp_path):
    from atomint_helpers import store

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".weights.pt.tmp{dead.pid}"
    live = tmp_path / f".state.pt.tmp{os.getppid()}"  # a running writer (our parent process) keeps its file
    for p in (stale, live):
        p.write_bytes(b"partial")
    (tmp_path / "weights.pt").write_bytes(b"whole")
    assert store.remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and (tmp_path / "weights.pt").read_bytes() == b"whole"


def test_fold_spread_reads_recorded_test_errors(tmp_path):
    """Table 1's fold comparison: recorded test MAEs per fold, their spread, unfinished folds left out of it,
    and the SchNet-vs-BP ordering compared fold by fold."""
    from atomint_helpers.interpret.evaluation import across_folds, schnet_better_on_folds

    recorded = {("bp", 0): 0.5, ("bp", 1): 0.6, ("bp", 2): 0.7, ("schnet", 0): 0.4, ("schnet", 1): 0.65,
                ("schnet", 2): None}  # SchNet fold 2 still training
    for (model, fold), mae in recorded.items():
        d = tmp_path / f"{model}-energy-cpu-fold{fold}"
        d.mkdir()
        store.atomic_write_json(d / store.CONFIG, {"model": model, "target": "energy"})
        metrics = {"val": {"mae": 1.0}} | ({"test": {"mae": mae, "rmse": 2 * mae, "n": 20831}} if mae else {})
        store.atomic_write_json(d / store.PROVENANCE, {"metrics": metrics, "epochs": 9,
                                                "status": "training" if mae is None else "stopped: max_epochs=9"})
    per_fold, spread = across_folds(tmp_path, "cpu", [0, 1, 2])
    assert len(per_fold) == 6 and per_fold["MAE"].isna().sum() == 1
    bp, schnet = (spread[spread["model"] == m].iloc[0] for m in ("Behler–Parrinello", "SchNet"))
    assert bp["folds"] == 3 and bp["mean MAE"] == pytest.approx(0.6) and bp["std MAE"] == pytest.approx(0.1)
    assert bp["paper MAE"] == 0.77 and schnet["paper MAE"] == 0.35
    assert schnet["folds"] == 2 and schnet["mean MAE"] == pytest.approx(0.525) and schnet["max MAE"] == 0.65
    assert schnet_better_on_folds(per_fold, "energy") == ([0, 1], [0])
    assert schnet_better_on_folds(per_fold, "dipole") == ([], [])
    with pytest.raises(AtomintError, match="no paper checkpoints"):
        across_folds(tmp_path, "paper", [0, 1, 2])
