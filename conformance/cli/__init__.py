"""The `conformance` command: one subcommand per module in this package.

Each module `_NAME.py` defines `HELP` (one line), `add_arguments(parser)` and `run(args) -> int`.
Errors the user can act on are ConformanceError: printed as one line (redacted: a URL's password
never reaches the console), mapped to an exit code. Ctrl-C and SIGTERM stop a command the same way
(conformance._signals): exit 130 or 143, after whatever report the command writes is marked incomplete.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import _signals
from .._errors import EXIT_USAGE, ConformanceError
from ..redaction import redact_text

SUBCOMMANDS = ("certify", "callbacks", "client", "receiver", "replay", "mock", "faults", "examples", "report", "specs")
"""In the order `--help` lists them; each is the module conformance.cli._<name>."""

EPILOG = """exit codes:
  0  the target conforms (or the command succeeded)
  1  nonconformance found
  2  usage, configuration or spec error (or the report directory cannot be written)
  3  target unreachable, timed out, or TLS failure
  130 interrupted (Ctrl-C); 143 terminated (SIGTERM); 141 the output pipe was closed (e.g. | head)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2 (argparse's own code, kept)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _load(name: str):
    return importlib.import_module(f"{__name__}._{name}")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(
        prog="conformance",
        description="Contract tests for the J.P. Morgan Payments APIs and their callbacks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = _load(name)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}._{name}":
                raise
            continue
        sub = commands.add_parser(
            name, help=module.HELP, description=module.HELP, epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with _signals.stop_signals():
            return int(args._run(args) or 0)
    except ConformanceError as exc:
        sys.stderr.write(f"conformance: error: {redact_text(str(exc))}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"conformance: {_signals.reason().split(' ')[0]}\n")
        return _signals.exit_code()


EXIT_BROKEN_PIPE = 141
"""The reader of our output went away (`conformance certify | head`): the shell's code for SIGPIPE."""


def entry_point() -> None:
    """The console script."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Nobody reads any more: say nothing further (not even at interpreter exit) and stop.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_BROKEN_PIPE
    raise SystemExit(code)
