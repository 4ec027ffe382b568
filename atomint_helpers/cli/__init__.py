"""The ``atomint`` command: ``atomint data|train|evaluate|explain|models``, one module per subcommand.

Every error is one line ``atomint: error: …`` on stderr, never a traceback, and the exit status says what
kind it was (:data:`atomint_helpers.EXIT_USAGE` and the others, defined once in the package):

* 2: the command line itself (an unknown option, a missing or malformed argument; argparse);
* 3: bad input: a file, structure or value the command cannot use, and file-system or memory errors
  (read-only folder, disk full, file-size limit, out of memory);
* 4: missing data or model: a data set, a checkpoint or one of its files not where atomint looked;
* 130: interrupted (Ctrl-C), with the one line ``atomint: interrupted``.
"""
from __future__ import annotations

import argparse
import sys

from .. import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_USAGE, AtomintError, __version__
from . import data, evaluate, explain, models, train


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument ends in one line ``atomint: error: [<subcommand>: ]…`` (exit status 2),
    like every other error of the command, instead of a usage block."""

    def error(self, message: str):
        where = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(EXIT_USAGE, f"atomint: error: {where}{message} (see `{self.prog} -h`)\n")


def build_parser() -> argparse.ArgumentParser:
    ap = OneLineParser(prog="atomint", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"atomint {__version__}",
                    help="print the package version and exit")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in (data, train, evaluate, explain, models):
        command.add_cli(sub)
    return ap


def _fail(message: str, code: int) -> int:
    print(f"atomint: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AtomintError as e:
        return _fail(str(e), e.code)
    except KeyboardInterrupt:
        print("atomint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        return _fail("out of memory; give a smaller input (fewer atoms, a coarser --spacing) or run on a machine "
                     "with more memory", EXIT_INPUT)
    except OSError as e:  # a file-system error no command turned into its own line (read-only, disk full, ...)
        from ..io import fs_error

        where = e.filename or "a file"
        return _fail(fs_error(e, where, "read or write"), EXIT_INPUT)
