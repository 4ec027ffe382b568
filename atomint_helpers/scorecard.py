"""Moved to :mod:`atomint_helpers.report.scorecard` (kept for notebooks written before the move)."""
from .report.scorecard import *  # noqa: F401,F403
from .report.scorecard import HOLDS_MARK  # noqa: F401
