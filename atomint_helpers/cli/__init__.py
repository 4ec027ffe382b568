"""The ``atomint`` command: ``atomint data|train|evaluate|explain``, one module per subcommand.

Errors in the user's input (missing data, bad files, unknown elements) and every file-system or memory
error (read-only folder, disk full, file-size limit, out of memory) are printed as one line
``atomint: error: …`` with exit status 2, never as a traceback; Ctrl-C ends in one line and exit status 130.
"""
from __future__ import annotations

import argparse
import sys

from .. import AtomintError
from . import data, evaluate, explain, train


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument ends in one line ``atomint: error: <command>: …`` (exit status 2),
    like every other error of the command, instead of a usage block."""

    def error(self, message: str):
        self.exit(2, f"atomint: error: {self.prog}: {message} (see `{self.prog} -h`)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(prog="atomint", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for command in (data, train, evaluate, explain):
        command.add_cli(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AtomintError as e:
        print(f"atomint: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("atomint: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("atomint: error: out of memory; give a smaller input (fewer atoms, a coarser --spacing) or run on a "
              "machine with more memory", file=sys.stderr)
        return 2
    except OSError as e:  # a file-system error no command turned into its own line (read-only, disk full, ...)
        from ..io import fs_error

        where = e.filename or "a file"
        print(f"atomint: error: {fs_error(e, where, 'read or write')}", file=sys.stderr)
        return 2

