"""atomint: the runnable companion to Schütt, Gastegger, Tkatchenko & Müller (2019),
"Quantum-chemical insights from interpretable atomistic neural networks".

Importing the package applies the one compatibility shim schnetpack 2.1.1 needs with torch >= 2.5
(``T_co`` was renamed ``_T_co`` in ``torch.utils.data.dataloader``); see ARCHITECTURE.md ("Environment"),
and keeps RDKit's import announcement off the chapter pages.
"""
from __future__ import annotations

__version__ = "0.1.0"

#: exit statuses of every ``atomint`` command: a malformed command line (argparse), bad input (a file, a
#: structure, a value the command cannot use), a data set or checkpoint that is not there, Ctrl-C
EXIT_USAGE, EXIT_INPUT, EXIT_MISSING, EXIT_INTERRUPTED = 2, 3, 4, 130


def _schnetpack_shim() -> None:
    try:
        import torch.utils.data.dataloader as _dl
    except ImportError:  # torch not installed: the data layer still works
        return
    if not hasattr(_dl, "T_co") and hasattr(_dl, "_T_co"):
        _dl.T_co = _dl._T_co


class InterruptExits:
    """While importing in a command (``atomint …``, ``python -m atomint_helpers.book``), Ctrl-C ends the
    process with one line and exit status 130 (:data:`EXIT_INTERRUPTED`). Libraries imported meanwhile
    (torch, numpy) can turn a KeyboardInterrupt raised inside their own imports into an ImportError, so the
    signal is handled before it becomes an exception; the previous handler is restored afterwards. An
    interactive session or a notebook kernel keeps Python's KeyboardInterrupt."""

    def __init__(self, message: str = "atomint: interrupted"):
        self.message, self.previous = message, None

    def _exit(self, signum, frame):
        import os
        import sys

        sys.stderr.write(self.message + "\n")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)

    def __enter__(self):
        import signal
        import sys
        import threading

        interactive = hasattr(sys, "ps1") or sys.flags.interactive or "ipykernel" in sys.modules
        if not interactive and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._exit)
        return self

    def __exit__(self, *exc):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


with InterruptExits():
    _schnetpack_shim()


def _quiet_rdkit_import() -> None:
    """RDKit announces its Jupyter extensions at INFO level when imported in a notebook kernel; a chapter
    page should not show that line."""
    import logging

    logging.getLogger("rdkit").setLevel(logging.WARNING)


_quiet_rdkit_import()


class AtomintError(Exception):
    """Base class of every error atomint raises for bad input; its message says what to do. ``code`` is the
    exit status a command ends with (:data:`EXIT_INPUT`)."""

    code = EXIT_INPUT


class MissingError(AtomintError):
    """A data set, a checkpoint or one of its files that is not where atomint looked; the message names the
    places and how to get it (exit status :data:`EXIT_MISSING`)."""

    code = EXIT_MISSING


#: the optional packages atomint imports only where a feature needs them, and how to install each
OPTIONAL = {"rdkit": "pip install rdkit", "schnetpack": "pip install --no-deps schnetpack==2.1.1 (pip cannot install "
            "it with its own pins beside torch 2.13: its runtime dependencies come with atomint)"}


def require(module: str, purpose: str):
    """``module`` imported, or a :class:`MissingError` in one line naming what needs it and how to install it
    (``purpose``: e.g. "read SMILES")."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingError(f"{module} is needed to {purpose} but is not installed: {OPTIONAL[module]}") from None
