import os
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def full_data_dir() -> Path | None:
    env = os.environ.get("ATOMINT_DATA")
    if env and (Path(env) / "qm9" / "qm9.npz").is_file():
        return Path(env)
    return None


@pytest.fixture(scope="session")
def sample():
    from atomint_helpers.data.qm9 import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def full_qm9():
    d = full_data_dir()
    if d is None:
        if os.environ.get("CI"):
            pytest.fail("CI must set ATOMINT_DATA to a folder with the full QM9 (qm9/qm9.npz)")
        pytest.skip("full QM9 not available (set ATOMINT_DATA)")
    from atomint_helpers.data.qm9 import load_qm9

    return load_qm9(d)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes caches into a per-session temp folder, never into ~/.cache."""
    cache = tmp_path_factory.getbasetemp() / "atomint-cache"
    monkeypatch.setenv("ATOMINT_CACHE", str(cache))
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
