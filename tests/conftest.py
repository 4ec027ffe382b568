import os
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _user_cache() -> Path:
    """atomint's cache folder as the user's environment names it, read before any test isolates
    ``ATOMINT_CACHE`` (see ``_isolated_cache``); nothing is created."""
    from atomint_helpers.data.paths import cache_dir

    return cache_dir(create=False)


USER_CACHE = _user_cache()


def full_data_dir() -> Path | None:
    env = os.environ.get("ATOMINT_DATA")
    if env and (Path(env) / "qm9" / "qm9.npz").is_file():
        return Path(env)
    return None


def _full_or_none(npz: Path):
    """The full QM9 read from ``npz``, or None when it is missing, unreadable or not all 130,831 molecules
    (a cache may hold a smaller conversion, e.g. from a test archive)."""
    from atomint_helpers import AtomintError
    from atomint_helpers.data.qm9 import N_MOLECULES_FULL, read_npz

    if not npz.is_file():
        return None
    try:
        ds = read_npz(npz, "qm9pack cache")
    except AtomintError as e:
        warnings.warn(f"ignoring {npz} for the full-QM9 tests: {e}", stacklevel=2)
        return None
    return ds if len(ds) == N_MOLECULES_FULL else None


def find_full_qm9(user_cache: Path | None = USER_CACHE, convert_into: Path | None = None):
    """The full QM9 for the tests, from the first place that has it: ``ATOMINT_DATA``; the user's atomint
    cache (``<cache>/qm9/qm9.npz``, made by ``load_qm9`` from qm9pack or by ``atomint data fetch``); or,
    with ``convert_into``, a conversion of the installed ``qm9pack`` package into that folder (~15 s).
    None when none of these has it."""
    from atomint_helpers.data.qm9 import load_qm9, qm9pack_cache

    d = full_data_dir()
    if d is not None:
        return load_qm9(d)
    if user_cache is not None:
        ds = _full_or_none(Path(user_cache) / "qm9" / "qm9.npz")
        if ds is not None:
            return ds
    if convert_into is not None:
        npz = qm9pack_cache(convert_if_missing=True, out_dir=Path(convert_into))
        if npz is not None:
            return _full_or_none(npz)
    return None


@pytest.fixture(scope="session")
def sample():
    from atomint_helpers.data.qm9 import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def full_qm9(tmp_path_factory):
    ds = find_full_qm9(USER_CACHE, convert_into=tmp_path_factory.getbasetemp() / "full-qm9")
    if ds is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide the full QM9: set ATOMINT_DATA to a folder with qm9/qm9.npz, or install "
                        "qm9pack==1.0.3")
        pytest.skip(f"full QM9 not available (set ATOMINT_DATA, or install qm9pack==1.0.3, or fill {USER_CACHE}/qm9 "
                    f"with `atomint data fetch`)")
    return ds


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test writes caches into a per-session temp folder, never into ~/.cache."""
    cache = tmp_path_factory.getbasetemp() / "atomint-cache"
    monkeypatch.setenv("ATOMINT_CACHE", str(cache))
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    import subprocess

    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def one_line_stderr(capsys, *words):
    """The one-line ``atomint: error: …`` a command printed, checked to name ``words``."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("atomint: error: ") and "\n" not in err and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
    return err
