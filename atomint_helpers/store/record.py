"""What ``provenance.json`` records about a run besides its numbers: the code's git commit, the software and
machine it ran on, and the sha256 of its model config (checked at every load, :mod:`.loading`)."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

import torch


def git_commit() -> str:
    """The package's git commit (``HEAD``), or ``"unknown"`` outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except Exception:
        return "unknown"


def environment() -> dict:
    """``versions`` (python, torch, numpy, schnetpack and ase where installed), ``device`` (CPU cores and
    torch threads, or the GPU's name) and ``host_platform``."""
    import numpy

    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    for mod in ("schnetpack", "ase"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            pass
    return {"versions": versions, "device": f"{platform.machine()} CPU, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads" if not torch.cuda.is_available() else
            torch.cuda.get_device_name(0), "host_platform": platform.platform()}


def config_sha256(config: dict) -> str:
    """sha256 of a model config's canonical JSON (keys sorted, no whitespace): any changed value changes it,
    a re-indented file or a checkout with other line endings does not."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()
