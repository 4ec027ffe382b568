"""A pytest plugin for nbval: printed decimals may differ in their last digit, nothing else may.

The committed outputs of the book's notebooks are compared as text. A float32 model evaluated with one
or two torch threads (``interpret.atom_terms.inference_threads`` picks by load, and a CI machine has its
own count) sums in another order, so a printed value can move by one unit in its last printed digit
(0.0708 → 0.0707, 8.03e-04 → 8.02e-04). Such pairs are reconciled before nbval compares; everything else
must match exactly:

- a decimal (a number with a point or an exponent) may differ from its reference by at most one unit
  in the last printed place of the coarser of the two;
- integers (counts, folds, epochs) and all words, verdicts and markup must be identical.

Loaded by ``tests/test_notebooks.py`` with ``-p nbval_numbers``.
"""
from __future__ import annotations

import re

# A decimal or integer that is not part of a word, a hex colour or a longer number.
NUMBER = re.compile(r"(?<![\w#.])[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]\d)")

# Slack on the comparison of |a − b| with one unit in the last place, for the binary rounding of the parse.
ULP_SLACK = 1.000001


def _unit_in_last_place(token: str) -> float:
    """One unit in the last printed digit of a decimal token: 1e-4 for '0.0708', 1e-5 for '-6.87e-03'."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def _value(token: str) -> float:
    return float(token.replace("−", "-"))


def _is_decimal(token: str) -> bool:
    return "." in token or "e" in token.lower()


def numbers_agree(ref: str, test: str) -> bool:
    """True when ``test`` equals ``ref`` except for decimals within one unit of their last printed place."""
    if ref == test:
        return True
    ref_parts, test_parts = NUMBER.split(ref), NUMBER.split(test)
    if ref_parts != test_parts:  # words, markup or the number of numbers differ
        return False
    for a, b in zip(NUMBER.findall(ref), NUMBER.findall(test)):
        if a == b:
            continue
        if not (_is_decimal(a) and _is_decimal(b)):
            return False
        ulp = max(_unit_in_last_place(a), _unit_in_last_place(b))
        if abs(_value(a) - _value(b)) > ulp * ULP_SLACK:
            return False
    return True


def _reconciled(ref_value, test_value):
    """``test_value`` with every string that agrees with its reference by :func:`numbers_agree` replaced
    by the reference (nbval keeps text outputs as a string or a list of lines)."""
    if isinstance(ref_value, str) and isinstance(test_value, str):
        return ref_value if numbers_agree(ref_value, test_value) else test_value
    if isinstance(ref_value, list) and isinstance(test_value, list) and len(ref_value) == len(test_value):
        if all(isinstance(v, str) for v in ref_value + test_value):
            joined_ref, joined_test = "".join(ref_value), "".join(test_value)
            return list(ref_value) if numbers_agree(joined_ref, joined_test) else test_value
    if isinstance(ref_value, dict) and isinstance(test_value, dict):
        return type(test_value)({k: _reconciled(ref_value[k], v) if k in ref_value else v
                                 for k, v in test_value.items()})
    return test_value


def reconcile_outputs(test: list, ref: list) -> list:
    """The test outputs of one cell, each reconciled with the reference output at its position."""
    if len(test) != len(ref):
        return test
    return [_reconciled(r, t) for t, r in zip(test, ref)]


def pytest_configure(config):
    from nbval.plugin import IPyNbCell

    original = IPyNbCell.compare_outputs
    if getattr(original, "_atomint_numbers", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        return original(self, reconcile_outputs(test, ref), ref, skip_compare)

    compare_outputs._atomint_numbers = True
    IPyNbCell.compare_outputs = compare_outputs
