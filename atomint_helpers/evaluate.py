"""Moved to :mod:`atomint_helpers.interpret.evaluation` (kept for notebooks written before the move)."""
from .interpret.evaluation import *  # noqa: F401,F403
