"""Argument types that refuse bad values at parse time with a one-line message (argparse's usage + error)."""
from __future__ import annotations

import argparse
import math


def _number(kind, text: str, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def positive_int(text: str) -> int:
    value = _number(int, text, "a whole number ≥ 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number ≥ 1")
    return value


#: the largest fold number: the fold seeds numpy, torch and the split, and every seed must fit 32 bits
MAX_FOLD = 2 ** 31 - 1


def fold_number(text: str) -> int:
    value = _number(int, text, "a fold number ≥ 0")
    if not 0 <= value <= MAX_FOLD:
        raise argparse.ArgumentTypeError(f"{text} is not a fold number ≥ 0 and ≤ {MAX_FOLD:,} (the fold is the "
                                         f"split's seed)")
    return value


def positive_minutes(text: str) -> float:
    value = _number(float, text, "a finite number of minutes > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a finite number of minutes > 0")
    return value


def grid_spacing(text: str) -> float:
    """A grid spacing in Å between 0.01 and 2 (finer grids of a molecule run out of memory, coarser say nothing)."""
    value = _number(float, text, "a grid spacing in Å")
    if not 0.01 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"{text} Å is outside the accepted grid spacings, 0.01–2 Å")
    return value
