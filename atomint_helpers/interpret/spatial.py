"""Moved to :mod:`atomint_helpers.exports` (kept for notebooks written before the move)."""
from ..exports import *  # noqa: F401,F403
from ..exports import load_checkpoint, read_cube, write_spatial  # noqa: F401
