"""The committed ``cpu`` QM9 checkpoints reproduce the test errors their provenance records, on the full QM9
(what ``atomint evaluate`` checks): weights, config, split and data are still those the run was scored on.
A run still training has no recorded test error yet and is not collected."""
from pathlib import Path

import pytest

from atomint_helpers import store
from atomint_helpers.cli.evaluate import MAE_TOLERANCE
from atomint_helpers.interpret.evaluation import evaluate_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def _finished_cpu_runs() -> list[Path]:
    runs = []
    for folder in sorted((ROOT / "models").glob("*-cpu-fold*")):
        if not (folder / store.PROVENANCE).is_file() or store.read_json(folder / store.CONFIG).get("target") not in (
                "energy", "dipole"):
            continue
        if store.read_json(folder / store.PROVENANCE).get("metrics", {}).get("test"):
            runs.append(folder)
    return runs


RUNS = _finished_cpu_runs()


def test_the_finished_checkpoints_cover_both_models_and_targets():
    names = {f.name.rsplit("-cpu-", 1)[0] for f in RUNS}
    assert names == {"bp-energy", "bp-dipole", "schnet-energy", "schnet-dipole"}, names


@pytest.mark.parametrize("folder", RUNS, ids=[f.name for f in RUNS])
def test_a_committed_checkpoint_reproduces_its_recorded_test_errors(folder, full_qm9):
    ev = evaluate_checkpoint(folder, full_qm9)
    recorded = ev.provenance["metrics"]["test"]
    assert not ev.on_sample and ev.metrics["n"] == recorded["n"]
    assert ev.metrics["mae"] == pytest.approx(recorded["mae"], rel=MAE_TOLERANCE)
    assert ev.metrics["rmse"] == pytest.approx(recorded["rmse"], rel=MAE_TOLERANCE)
