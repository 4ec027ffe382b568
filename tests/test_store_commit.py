"""A checkpoint is saved as one unit and loaded only whole and verified: a kill at any instant of a run's saves
leaves a folder that reads (and resumes) as one of its complete checkpoints; a config or weights that differ
from the provenance's hashes, or a provenance without them, are refused."""
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.store import commit
from atomint_helpers.training import read_log, train

ROOT = Path(__file__).resolve().parents[1]

CONTRACT = (store.CONFIG, store.WEIGHTS, store.PROVENANCE, store.STATE, store.LOG, store.SPLIT)


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A quick BP energy run stopped after its first epoch (resumable to more epochs)."""
    d = tmp_path_factory.mktemp("models")
    return train("bp", "energy", 0, "quick", d, max_epochs=1, progress=False, threads=1)


def _files(read_path) -> dict:
    return {n: read_path(n).read_bytes() if read_path(n).is_file() else None for n in CONTRACT}


def test_a_kill_at_any_instant_of_the_saves_leaves_one_complete_checkpoint(one_epoch, tmp_path, monkeypatch):
    """Resume the run for one more epoch while recording the folder just before every file-system step of
    its saves (each write's flush, rename, removal, torch.save): a kill at that instant leaves exactly that
    folder. Every such folder must read, and after the next writer's recovery hold, the files of one of the
    complete checkpoints the run committed, byte for byte, and load with its hashes verified."""
    run = tmp_path / "models" / one_epoch.name
    shutil.copytree(one_epoch, run)
    snaps, committed, busy = [], [_files(lambda n: run / n)], [False]

    def snap():
        if not busy[0]:
            busy[0] = True
            try:
                snaps.append(shutil.copytree(run, tmp_path / "snaps" / f"{len(snaps):03d}", ignore_dangling_symlinks=True))
            finally:
                busy[0] = False

    def hook(fn, path_arg=0):
        def wrapped(*a, **k):
            p = a[path_arg] if len(a) > path_arg else None
            if p is None or isinstance(p, int) or str(os.fspath(p)).startswith(str(run)):
                snap()
            return fn(*a, **k)
        return wrapped

    monkeypatch.setattr(os, "replace", hook(os.replace))
    monkeypatch.setattr(os, "unlink", hook(os.unlink))
    monkeypatch.setattr(os, "fsync", hook(os.fsync))
    monkeypatch.setattr(torch, "save", hook(torch.save, 1))
    monkeypatch.setattr(commit, "_fsync", hook(commit._fsync))
    real_commit = commit.Save.commit

    def commit_and_record(self):
        out = real_commit(self)
        committed.append(_files(lambda n: run / n))
        return out

    monkeypatch.setattr(commit.Save, "commit", commit_and_record)
    train("bp", "energy", 0, "quick", run.parent, max_epochs=2, progress=False, threads=1)
    monkeypatch.undo()

    assert len(snaps) >= 20 and len(committed) >= 3  # the first save, the epoch's, the finish's
    assert any((s / commit.JOURNAL).exists() for s in snaps)  # some instants fall inside a commit
    for s in snaps:
        with store.reading(s) as path:
            seen = _files(path)
        assert seen in committed, f"{s.name}: readers see a mix of saves"
        store.load_model(s)  # weights and config match the provenance
        store.remove_stale_temporaries(s)
        store.recover(s)  # what the next run (or the migration) does first
        assert _files(lambda n: s / n) in committed, f"{s.name}: recovery left a mix of saves"
        assert not (s / commit.JOURNAL).exists() and not (s / commit.STAGING).exists()
        assert read_log(s)[-1]["epoch"] in (1, 2)


def test_a_save_killed_after_its_commit_point_is_read_whole_and_rolled_forward(one_epoch, tmp_path):
    run = shutil.copytree(one_epoch, tmp_path / "run")
    old = _files(lambda n: run / n)
    save = commit.Save(run)
    prov = {**store.provenance(run), "status": "new"}
    (save.dir / store.LOG).write_text("epoch\n")
    store.atomic_write_json(save.dir / store.PROVENANCE, prov)
    files = {n: store.sha256_file(save.dir / n) for n in save.staged()}
    store.atomic_write_json(run / commit.JOURNAL, {"files": files})  # the commit point, then "killed"
    os.replace(save.dir / store.LOG, run / store.LOG)  # one rename done, one still staged
    assert store.provenance(run)["status"] == "new"  # readers see the new save whole
    assert json.loads((run / store.PROVENANCE).read_bytes()) != prov  # (the folder itself is still mixed)
    assert store.recover(run) == "completed"
    assert store.read_json(run / store.PROVENANCE)["status"] == "new" and (run / store.LOG).read_text() == "epoch\n"
    assert (run / store.WEIGHTS).read_bytes() == old[store.WEIGHTS]
    # a save killed before its commit point is discarded
    save = commit.Save(run)
    (save.dir / store.WEIGHTS).write_bytes(b"half")
    assert store.recover(run) == "discarded" and store.read_json(run / store.PROVENANCE)["status"] == "new"


@pytest.mark.parametrize("damage, match", [
    ("config_cutoff", r"config.json does not match provenance.json .* tampered"),
    ("config_hash_missing", r"records no config_sha256 .*store\.migrate"),
    ("provenance_emptied", r"records no weights_sha256"),
    ("weights_flipped_provenance_emptied", r"records no weights_sha256"),
])
def test_a_checkpoint_that_cannot_be_verified_is_refused(one_epoch, tmp_path, damage, match):
    run = shutil.copytree(one_epoch, tmp_path / "run")
    store.load_model(run)  # intact: loads
    prov = store.read_json(run / store.PROVENANCE)
    if damage == "config_cutoff":
        cfg = store.read_json(run / store.CONFIG)
        cfg["representation"]["cutoff"] = 4.0  # loads fine without the check, and predicts differently
        (run / store.CONFIG).write_text(json.dumps(cfg, indent=2))
    elif damage == "config_hash_missing":
        del prov["config_sha256"]
        (run / store.PROVENANCE).write_text(json.dumps(prov))
    else:
        (run / store.PROVENANCE).write_text("{}")
        if damage.startswith("weights_flipped"):
            sd = torch.load(run / store.WEIGHTS, weights_only=True)
            torch.save({k: -v for k, v in sd.items()}, run / store.WEIGHTS)
    with pytest.raises(AtomintError, match=match) as e:
        store.load_model(run)
    assert "\n" not in str(e.value)


def test_a_reindented_config_still_verifies(one_epoch, tmp_path):
    run = shutil.copytree(one_epoch, tmp_path / "run")
    cfg = store.read_json(run / store.CONFIG)
    (run / store.CONFIG).write_text(json.dumps(cfg, indent=4).replace("\n", "\r\n"))
    store.load_model(run)
