"""A committed run at an earlier commit: its stages read from git, a stage extracted into the cache once,
migrated and verified as today's loader verifies, and a tampered blob refused before it reaches the cache."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.store import history

ROOT = Path(__file__).resolve().parents[1]
RUN = "schnet-dipole-quick-fold0"


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                   capture_output=True)


def _commit(repo, msg):
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", msg)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _save(folder, prov, epochs):
    p = {"status": "training", **prov, "epochs": epochs, "metrics": {"val": {"mae": 10.0 / epochs}}}
    (folder / store.PROVENANCE).write_text(json.dumps(p, indent=1))


def _save_old_format(folder, prov, epochs):
    """A save as the code before the charge offsets, ``embedding_std`` and config hashes wrote it."""
    config = json.loads((folder / store.CONFIG).read_text())
    del config["representation"]["embedding_std"]
    (folder / store.CONFIG).write_text(json.dumps(config, indent=2))
    state = torch.load(folder / store.WEIGHTS, weights_only=True)
    del state["head.element_charge"]
    torch.save(state, folder / store.WEIGHTS)
    p = {k: v for k, v in prov.items() if k != "config_sha256"}
    _save(folder, {**p, "weights_sha256": store.sha256_file(folder / store.WEIGHTS)}, epochs)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A git repository whose models/<RUN> was committed at epochs 1 (an old-format save: config without
    embedding_std, weights without the charge offsets, no config_sha256), 2, 2 again (same epoch count,
    provenance rewritten) and 3 (weights replaced, provenance not: tampered)."""
    repo = tmp_path_factory.mktemp("repo")
    _git(repo, "init", "-q")
    run = repo / "models" / RUN
    shutil.copytree(ROOT / "models" / RUN, run, ignore=shutil.ignore_patterns(".*"))
    prov = json.loads((run / store.PROVENANCE).read_text())
    _save_old_format(run, prov, 1)
    commits = {1: _commit(repo, "epoch 1")}
    shutil.copytree(ROOT / "models" / RUN, run, ignore=shutil.ignore_patterns(".*"), dirs_exist_ok=True)
    _save(run, prov, 2)
    _commit(repo, "epoch 2")
    _save(run, {**prov, "status": "stopped"}, 2)
    commits[2] = _commit(repo, "epoch 2, provenance rewritten")
    state = torch.load(run / store.WEIGHTS, weights_only=True)
    torch.save({k: v + 1.0 if v.is_floating_point() else v for k, v in state.items()}, run / store.WEIGHTS)
    _save(run, prov, 3)
    commits[3] = _commit(repo, "epoch 3, weights replaced")
    (repo / "README").write_text("no models here\n")
    shutil.rmtree(repo / "models")
    commits["none"] = _commit(repo, "models removed")
    return repo, commits


def test_stages_one_per_epoch_count_newest_commit(repo):
    root, commits = repo
    st = history.stages(RUN, root)
    assert [s.epochs for s in st] == [1, 2, 3]
    assert st[1].commit == commits[2]  # the newer of the two epoch-2 commits
    assert st[1].status == "stopped"
    assert st[0].val_mae == pytest.approx(10.0)
    assert history.nearest(st, 2).epochs == 2 and history.nearest(st, 100).epochs == 3
    assert history.nearest(st, 1.5).epochs == 1  # a tie goes to the earlier stage


def test_extract_migrates_an_old_save_and_loads_verified(repo, tmp_path):
    root, commits = repo
    st = history.stages(RUN, root)[0]
    folder = history.extract(st, root, tmp_path)
    assert folder == tmp_path / "history" / commits[1][:12] / RUN
    prov = json.loads((folder / store.PROVENANCE).read_text())
    config = json.loads((folder / store.CONFIG).read_text())
    assert prov["config_sha256"] == store.config_sha256(config) and config["representation"]["embedding_std"] is None
    assert prov["migrated_from"]["config_sha256"] is None
    model = store.load_model(folder, orient=False)
    assert model.config["model"] == "schnet" and float(model.head.element_charge.detach().abs().max()) == 0.0
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary left
    before = (folder / store.WEIGHTS).stat().st_mtime_ns
    assert history.extract(st, root, tmp_path) == folder  # written once
    assert (folder / store.WEIGHTS).stat().st_mtime_ns == before


def test_a_folder_cached_in_the_old_format_is_migrated_where_it_lies(repo, tmp_path):
    root, commits = repo
    st = history.stages(RUN, root)[0]
    cached = tmp_path / "history" / commits[1][:12] / RUN
    cached.mkdir(parents=True)
    for name in (store.CONFIG, store.WEIGHTS, store.PROVENANCE):  # the old-format save as committed
        (cached / name).write_bytes(subprocess.run(["git", "-C", str(root), "show", f"{st.commit}:models/{RUN}/{name}"],
                                                   capture_output=True, check=True).stdout)
    assert history.extract(st, root, tmp_path) == cached
    assert store.read_json(cached / store.CONFIG)["representation"]["embedding_std"] is None
    store.load_model(cached, orient=False)


def test_a_tampered_weights_blob_is_refused_and_not_cached(repo, tmp_path):
    root, _ = repo
    st = history.stages(RUN, root)[2]
    with pytest.raises(AtomintError, match="refused|cannot be verified") as e:
        history.extract(st, root, tmp_path)
    assert "\n" not in str(e.value)
    where = tmp_path / "history" / st.commit[:12]
    assert not (where / RUN).exists() and not list(where.iterdir())


def test_errors_are_one_line(repo, tmp_path):
    root, commits = repo
    with pytest.raises(AtomintError, match="no committed history of models/bp-energy-quick-fold0"):
        history.stages("bp-energy-quick-fold0", root)
    gone = history.Stage(RUN, commits["none"], 4, None, "training")
    with pytest.raises(AtomintError, match="has no folder models/"):
        history.extract(gone, root, tmp_path)
    with pytest.raises(AtomintError, match="not a git repository"):
        history.stages(RUN, tmp_path)
    with pytest.raises(AtomintError, match="no stages"):
        history.nearest([], 10)


def test_without_git_the_error_is_one_line(repo, tmp_path, monkeypatch):
    root, _ = repo
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable on the path
    with pytest.raises(AtomintError, match="git is not installed"):
        history.stages(RUN, root)
