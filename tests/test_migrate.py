"""The one migration step: a checkpoint written in an earlier format (config options missing, the dipole head's
charge offsets missing from its weights, no config hash) becomes a current one that loads, verified, and
predicts what the earlier code predicted; a second run changes nothing; a folder whose files do not match its
provenance is refused and left as it was; a run that was training in the old format resumes after migrating."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.data.qm9 import load_sample
from atomint_helpers.io import folder_lock
from atomint_helpers.models import build
from atomint_helpers.models.predict import predict
from atomint_helpers.store.migrate import ELEMENT_CHARGE, MIGRATED_FROM, main, migrate_folder, to_current
from atomint_helpers.training import read_log, train

TODAY = "2026-12-07"


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A quick SchNet dipole run stopped after its first epoch (resumable to more epochs)."""
    d = tmp_path_factory.mktemp("models")
    return train("schnet", "dipole", 0, "quick", d, max_epochs=1, progress=False, threads=1)


@pytest.fixture(scope="module")
def molecules():
    return qm9_atoms_data(load_sample())


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}


def _write_old_config(folder):
    """The config as code before ``embedding_std`` existed wrote it, and the provenance's hash of it."""
    config = store.read_json(folder / store.CONFIG)
    del config["representation"]["embedding_std"]
    store.atomic_write_json(folder / store.CONFIG, config)
    prov = store.read_json(folder / store.PROVENANCE)
    store.atomic_write_json(folder / store.PROVENANCE, {**prov, "config_sha256": store.config_sha256(config)})


def _old_format(one_epoch, folder, drop_config_hash=False):
    """``one_epoch`` as a checkpoint of a run trained before the charge offsets and ``embedding_std`` existed:
    its weights without ``head.element_charge`` (the earlier model had none: zeros), its config without
    ``embedding_std``; returns what that model predicts (D) for 50 sample molecules."""
    shutil.copytree(one_epoch, folder, ignore=shutil.ignore_patterns(".*"))
    state = torch.load(folder / store.WEIGHTS, weights_only=True)
    config = store.read_json(folder / store.CONFIG)
    model = build(config)
    model.load_state_dict({**state, ELEMENT_CHARGE: torch.zeros_like(state[ELEMENT_CHARGE])})
    state.pop(ELEMENT_CHARGE)
    torch.save(state, folder / store.WEIGHTS)
    prov = store.read_json(folder / store.PROVENANCE)
    prov["weights_sha256"] = store.sha256_file(folder / store.WEIGHTS)
    store.atomic_write_json(folder / store.PROVENANCE, prov)
    _write_old_config(folder)
    if drop_config_hash:
        prov = store.read_json(folder / store.PROVENANCE)
        del prov["config_sha256"]
        store.atomic_write_json(folder / store.PROVENANCE, prov)
    return model


def test_an_old_checkpoint_migrates_to_one_that_loads_and_predicts_as_before(one_epoch, molecules, tmp_path):
    folder = tmp_path / "old"
    before = _old_format(one_epoch, folder)
    old = store.read_json(folder / store.PROVENANCE)
    with pytest.raises(AtomintError):  # the current code reads only the current format
        store.load_model(folder, orient=False)
    assert migrate_folder(folder, TODAY) == ("migrated", "config, weights, config_sha256")
    model = store.load_model(folder, orient=False)  # weights and config verified against the new provenance
    rows = np.arange(50)
    assert np.array_equal(predict(model, molecules, rows), predict(before, molecules, rows))
    assert float(model.head.element_charge.detach().abs().max()) == 0.0
    assert store.read_json(folder / store.CONFIG)["representation"]["embedding_std"] is None
    prov = store.read_json(folder / store.PROVENANCE)
    assert prov[MIGRATED_FROM] == {"weights_sha256": old["weights_sha256"], "config_sha256": old["config_sha256"],
                                   "date": TODAY}
    assert prov["weights_sha256"] == store.sha256_file(folder / store.WEIGHTS) != old["weights_sha256"]
    assert {k: v for k, v in prov.items() if "sha256" not in k and k != MIGRATED_FROM} == \
           {k: v for k, v in old.items() if "sha256" not in k}  # nothing else in the provenance changes
    # the migrated checkpoint is what the current code writes for the same run
    assert store.read_json(folder / store.CONFIG) == json.loads(json.dumps(build(model.config).config))


def test_a_second_migration_changes_nothing(one_epoch, tmp_path, capsys):
    folder = tmp_path / "models" / "old"
    _old_format(one_epoch, folder, drop_config_hash=True)
    assert main([str(folder.parent)]) == 0
    after = _snapshot(folder)
    assert "config_sha256" in store.read_json(folder / store.PROVENANCE)
    assert migrate_folder(folder) == ("ok", "already in the current format")
    assert main([str(folder.parent)]) == 0 and "0 migrated, 1 ok" in capsys.readouterr().out
    assert _snapshot(folder) == after
    assert migrate_folder(one_epoch) == ("ok", "already in the current format")  # what training writes is current


def test_weights_that_do_not_match_their_provenance_are_refused(one_epoch, tmp_path, capsys):
    folder = tmp_path / "models" / "tampered"
    _old_format(one_epoch, folder)
    state = torch.load(folder / store.WEIGHTS, weights_only=True)
    torch.save({k: v + 1.0 if v.is_floating_point() else v for k, v in state.items()}, folder / store.WEIGHTS)
    files = _snapshot(folder)
    with pytest.raises(AtomintError, match=f"checkpoint {folder} is not migrated: weights.pt does not match") as e:
        migrate_folder(folder)
    assert "\n" not in str(e.value)
    assert _snapshot(folder) == files and not (folder / store.commit.STAGING).exists()
    assert main([str(folder.parent)]) == 1 and f"refused  {folder}: " in capsys.readouterr().out
    assert main([str(tmp_path / "nowhere")]) == 2


def test_a_config_that_does_not_match_its_recorded_hash_is_refused(one_epoch, tmp_path):
    folder = shutil.copytree(one_epoch, tmp_path / "edited", ignore=shutil.ignore_patterns(".*"))
    config = store.read_json(folder / store.CONFIG)
    config["representation"]["cutoff"] = 4.0
    store.atomic_write_json(folder / store.CONFIG, config)
    with pytest.raises(AtomintError, match="config.json does not match the config_sha256"):
        migrate_folder(folder)


def test_a_folder_a_training_run_holds_is_skipped(one_epoch, tmp_path):
    folder = tmp_path / "live"
    _old_format(one_epoch, folder)
    files = _snapshot(folder)
    with folder_lock(folder, "run"):
        outcome, why = migrate_folder(folder)
    assert outcome == "skipped" and "training run holds it" in why
    assert _snapshot(folder) == files


def test_every_option_earlier_code_left_out_is_written_down():
    """The defaults earlier code assumed are the models' own: a config without them builds the same model as
    the migrated one, and the migrated config is what the model records."""
    for model, rep, key, value in (("schnet", {"n_atom_basis": 16}, "embedding_std", None),
                                   ("bp", {"n_radial": 4, "n_angular": 2}, "clip_features", False)):
        current = json.loads(json.dumps(build({"model": model, "target": "energy", "representation": rep}).config))
        old = json.loads(json.dumps(current))
        del old["representation"][key]  # as earlier code wrote it
        new, state, prov = to_current(old, None, {})
        assert key not in old["representation"] and new["representation"][key] == value
        assert new == current
        assert prov["config_sha256"] == store.config_sha256(new) and state is None
    with pytest.raises(AtomintError, match="lacks the key 'target'"):
        to_current({"model": "bp", "elements": [1]}, None, {})


def test_a_run_started_in_the_old_format_resumes_after_its_migration(one_epoch, tmp_path):
    models = tmp_path / "models"
    folder = shutil.copytree(one_epoch, models / one_epoch.name, ignore=shutil.ignore_patterns(".*"))
    _write_old_config(folder)
    with pytest.raises(AtomintError, match="holds a run with a different config"):
        train("schnet", "dipole", 0, "quick", models, max_epochs=2, progress=False, threads=1)
    assert migrate_folder(folder)[0] == "migrated"
    train("schnet", "dipole", 0, "quick", models, max_epochs=2, progress=False, threads=1)
    assert [r["epoch"] for r in read_log(folder)] == [1, 2]
    assert read_log(folder)[0] == read_log(one_epoch)[0]  # the first epoch is the migrated run's, not retrained
    prov = store.read_json(folder / store.PROVENANCE)
    assert prov["epochs"] == 2 and prov["config_sha256"] == store.config_sha256(store.read_json(folder / store.CONFIG))
    assert prov["migrated_from"]["config_sha256"] != prov["config_sha256"]  # the record survives the resumed saves
    store.load_model(folder, orient=False)


MODELS = Path(__file__).resolve().parents[1] / "models"
COMMITTED = [p.parent for p in sorted(MODELS.rglob(store.CONFIG))]


@pytest.mark.parametrize("folder", COMMITTED, ids=lambda p: str(p.relative_to(MODELS)))
def test_every_committed_checkpoint_is_in_the_current_format(folder):
    """Its config names every option (the migration would add nothing) and its provenance records that
    config's sha256; the weights' sha256 is checked by every load (tests/test_committed_checkpoints.py)."""
    config, prov = store.read_json(folder / store.CONFIG), store.read_json(folder / store.PROVENANCE)
    new, _, new_prov = to_current(config, None, prov)
    assert new == config
    assert prov["config_sha256"] == new_prov["config_sha256"]
