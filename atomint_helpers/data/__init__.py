"""Data: QM9 molecules and Materials Project crystals, splits, neighbour pairs and batches."""
from .qm9 import QM9, load_qm9, load_sample  # noqa: F401
from .splits import split  # noqa: F401
