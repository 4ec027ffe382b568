"""Moved to :mod:`atomint_helpers.report.claims` (kept for notebooks written before the move)."""
from ..report.claims import *  # noqa: F401,F403
