"""A run's spec: checked once at train(), and what it records exactly what the committed runs recorded, so a run
started by earlier code resumes with this code (config.json, its sha256, provenance's profile settings and seed,
the epoch log)."""
from pathlib import Path

import pytest

from atomint_helpers import AtomintError, store
from atomint_helpers.data.elements import QM9_ELEMENTS, QM9_SYMBOLS, symbols
from atomint_helpers.store.curves import CurveRun
from atomint_helpers.training import RunSpec, curve
from atomint_helpers.training.loop import read_log, write_log

MODELS = Path(__file__).resolve().parents[1] / "models"
CURVE_RUNS = sorted(p for p in (MODELS / "curve").glob("*-fold*") if (p / store.CONFIG).is_file())
RUNS = sorted(p for p in MODELS.glob("*-fold*") if (p / store.CONFIG).is_file())


def _curve_run(folder: Path) -> CurveRun:
    model, _, _, size, fold = folder.name.split("-")
    return CurveRun(model, int(size[1:]), int(fold[4:]))


@pytest.mark.parametrize("folder", CURVE_RUNS, ids=lambda p: p.name)
def test_a_curve_run_resumes_with_what_it_recorded(folder):
    """The spec the curve command builds for a committed curve run: the same folder, config (key by key and by
    sha256), profile settings (key by key) and seed as its config.json and provenance.json."""
    spec = RunSpec.build(**curve.train_arguments(_curve_run(folder), MODELS))
    prov = store.read_json(folder / store.PROVENANCE)
    config = store.read_json(folder / store.CONFIG)
    assert spec.folder == folder
    new = spec.config()
    assert sorted(new) == sorted(config)
    for key in config:
        assert new[key] == config[key], key
    assert store.config_sha256(new) == prov["config_sha256"]
    settings = spec.profile_settings()
    assert sorted(settings) == sorted(prov["profile_settings"])
    for key, value in prov["profile_settings"].items():
        assert settings[key] == value, key
    assert spec.seeded().seed == prov["seed"] and spec.screens_restarts is None
    assert (spec.model, spec.target, spec.fold, spec.profile) == (prov["model"], prov["target"], prov["fold"],
                                                                  prov["profile"])


@pytest.mark.parametrize("folder", RUNS, ids=lambda p: p.name)
def test_a_committed_run_rebuilds_its_config(folder):
    """Every committed run's model config, as a spec of its model, target, fold and profile writes it (and
    compares it at resume), key by key and by the sha256 its provenance holds."""
    prov = store.read_json(folder / store.PROVENANCE)
    config = store.read_json(folder / store.CONFIG)
    spec = RunSpec.build(prov["model"], prov["target"], prov["fold"], prov["profile"], MODELS,
                         name=folder.name, seed=prov["seed"], head=config.get("head"))
    new = spec.config()
    assert sorted(new) == sorted(config)
    for key in config:
        assert new[key] == config[key], key
    assert store.config_sha256(new) == prov["config_sha256"]


@pytest.mark.parametrize("folder", CURVE_RUNS[:3], ids=lambda p: p.name)
def test_the_epoch_log_is_read_and_written_back_byte_for_byte(folder, tmp_path):
    """A resumed run reads its log.csv and writes it again after each epoch: the committed log comes back
    unchanged."""
    write_log(tmp_path, read_log(folder))
    assert (tmp_path / store.LOG).read_bytes() == (folder / store.LOG).read_bytes()


def test_the_spec_is_checked_once_at_the_entry(tmp_path):
    with pytest.raises(AtomintError, match="unknown model 'painn'"):
        RunSpec.build("painn", "energy", 0, "quick", tmp_path)
    with pytest.raises(AtomintError, match="unknown target 'charge'"):
        RunSpec.build("bp", "charge", 0, "quick", tmp_path)
    with pytest.raises(AtomintError, match="SchNet only"):
        RunSpec.build("bp", "crystals", 0, "quick", tmp_path)
    with pytest.raises(AtomintError, match="fold must be a whole number"):
        RunSpec.build("bp", "energy", -1, "quick", tmp_path)
    with pytest.raises(AtomintError, match="unknown profile"):
        RunSpec.build("bp", "energy", 0, "fast", tmp_path)
    with pytest.raises(AtomintError, match="processes must be"):
        RunSpec.build("bp", "energy", 0, "quick", tmp_path, processes=0)
    with pytest.raises(AtomintError, match="not a run name"):
        RunSpec.build("bp", "energy", 0, "quick", tmp_path, name="../elsewhere")
    assert not any(tmp_path.iterdir())  # a refused run creates nothing


def test_restart_screening_is_decided_by_the_spec_and_its_candidates_screen_nothing(tmp_path):
    spec = RunSpec.build("schnet", "dipole", 2, "cpu", tmp_path)
    assert spec.screens_restarts == {"candidates": 3, "epochs": 3}
    assert RunSpec.build("schnet", "dipole", 2, "cpu", tmp_path, seed=2).screens_restarts is None
    assert RunSpec.build("schnet", "energy", 2, "cpu", tmp_path).screens_restarts is None
    cand = spec.candidate(1002, 3)
    assert cand.folder == spec.folder / "restarts" / "seed1002" and cand.seed == 1002
    assert cand.screens_restarts is None and cand.prof.extend == {} and cand.prof.max_epochs == 3
    assert spec.seeded().seed == 2 and spec.seeded(1002).seed == 1002
    # two processes: one torch thread each unless asked otherwise
    assert RunSpec.build("bp", "energy", 0, "quick", tmp_path, processes=2).threads == 1


def test_qm9_elements_are_one_list():
    from atomint_helpers.data import qm9
    from atomint_helpers.descriptors.acsf import ACSF
    from atomint_helpers.models import DEFAULT_ELEMENTS, domain
    from atomint_helpers.models.bp import BPConfig

    assert QM9_SYMBOLS == tuple(symbols(QM9_ELEMENTS)) == ("H", "C", "N", "O", "F")
    for elements in (qm9.ELEMENTS, domain.QM9_ELEMENTS, DEFAULT_ELEMENTS,
                     BPConfig().elements, tuple(ACSF().elements)):
        assert tuple(elements) == QM9_ELEMENTS
