"""atomint: the runnable companion to Schütt, Gastegger, Tkatchenko & Müller (2019),
"Quantum-chemical insights from interpretable atomistic neural networks".

Importing the package applies the one compatibility shim schnetpack 2.1.1 needs with torch >= 2.5
(``T_co`` was renamed ``_T_co`` in ``torch.utils.data.dataloader``); see ARCHITECTURE.md ("Environment"),
and keeps RDKit's import announcement off the chapter pages.
"""
from __future__ import annotations

__version__ = "0.1.0"


def _schnetpack_shim() -> None:
    try:
        import torch.utils.data.dataloader as _dl
    except ImportError:  # torch not installed: the data layer still works
        return
    if not hasattr(_dl, "T_co") and hasattr(_dl, "_T_co"):
        _dl.T_co = _dl._T_co


def _interrupted_while_importing() -> None:
    """Ctrl-C while torch imports (seconds) in a command (``atomint …``, ``python -m atomint_helpers.book``):
    one line and exit status 130, like a Ctrl-C anywhere else in a command; an interactive session or a
    notebook kernel gets its KeyboardInterrupt as usual."""
    import sys

    if hasattr(sys, "ps1") or sys.flags.interactive or "ipykernel" in sys.modules:
        raise KeyboardInterrupt
    print("atomint: interrupted", file=sys.stderr)
    raise SystemExit(130)


try:
    _schnetpack_shim()
except KeyboardInterrupt:
    _interrupted_while_importing()


def _quiet_rdkit_import() -> None:
    """RDKit announces its Jupyter extensions at INFO level when imported in a notebook kernel; a chapter
    page should not show that line."""
    import logging

    logging.getLogger("rdkit").setLevel(logging.WARNING)


_quiet_rdkit_import()


class AtomintError(Exception):
    """Base class of every error atomint raises for bad input; its message says what to do."""
