"""The common shape of atomint's datasets: named numpy arrays plus where they came from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class ArraySet:
    """Concatenated per-structure and per-atom arrays (``arrays``), readable as attributes (``ds.Z``);
    ``source`` says where they came from (``'sample'`` for the embedded sample) and ``sha256`` is the
    data file's checksum (recorded in every model's provenance)."""

    arrays: dict[str, np.ndarray]
    source: str
    path: Path
    sha256: str = ""

    def __getattr__(self, key):
        arrays = self.__dict__.get("arrays")
        if arrays is not None and key in arrays:
            return arrays[key]
        raise AttributeError(key)

    @property
    def is_sample(self) -> bool:
        return self.source == "sample"
