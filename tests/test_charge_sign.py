"""A dipole model's charge sign: decided by one convention (models.charge_sign, against QM9's Mulliken
charges on the trained, unflipped charges), recorded and applied by the loader, and read from the model's
declared record of what was loaded."""
from pathlib import Path

import numpy as np
import pytest
import torch

from atomint_helpers import AtomintError, store
from atomint_helpers.data.batch import qm9_atoms_data
from atomint_helpers.data.qm9 import load_sample
from atomint_helpers.models import build
from atomint_helpers.models.charge_sign import REFERENCE_MOLECULES, ChargeSign, mulliken_charge_sign

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ATOMINT_CACHE", str(tmp_path / "cache"))


def _pearson_with_mulliken(model) -> float:
    ds = load_sample()
    rows = np.arange(min(REFERENCE_MOLECULES, len(ds)))
    with torch.no_grad():
        q = torch.cat([model(b)["partial_charges"] for b in qm9_atoms_data(ds, cutoff=model.cutoff)
                       .batches(rows, 100)]).double().numpy()
    off = np.asarray(ds.arrays["offsets"])
    return float(np.corrcoef(q, np.asarray(ds.arrays["mulliken"])[off[0]:off[len(rows)]])[0, 1])


@pytest.mark.parametrize("name", ["bp-dipole-quick-fold0", "schnet-dipole-quick-fold2"])
def test_loaded_charges_correlate_positively_with_mulliken(name, fresh_cache):
    plain = store.load_model(MODELS / name, orient=False)
    decided = mulliken_charge_sign(plain)
    assert plain.charge_sign == 1  # deciding does not apply
    plain.head.charge_sign = -1.0
    assert mulliken_charge_sign(plain) == decided and plain.charge_sign == -1  # judged on the trained charges
    oriented = store.load_model(MODELS / name)
    assert oriented.loaded_from.charge_sign == decided and oriented.charge_sign == decided.sign
    assert _pearson_with_mulliken(oriented) > 0
    assert store.recorded_charge_sign(oriented.loaded_from.weights_sha256) == decided


def test_the_loader_records_what_it_loaded():
    folder = MODELS / "bp-energy-quick-fold0"
    m = store.load_model(folder)
    assert m.checkpoint == folder and m.loaded_from.weights_sha256 == store.provenance(folder)["weights_sha256"]
    assert m.loaded_from.charge_sign is None and m.charge_sign == 1  # no charges: nothing to flip
    assert build(m.config).checkpoint is None  # built in memory: loaded from nowhere


def test_a_charge_sign_is_plus_or_minus_one_and_needs_a_dipole_model():
    with pytest.raises(AtomintError, match=r"\+1 or -1"):
        ChargeSign(0, "none")
    with pytest.raises(AtomintError, match="needs a dipole model"):
        mulliken_charge_sign(store.load_model(MODELS / "bp-energy-quick-fold0"))
