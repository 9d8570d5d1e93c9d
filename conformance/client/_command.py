"""Running the integrator's command (their test suite, a script, their app in a test mode) with the variables set.

The command inherits the terminal (its output is the integrator's to read) and the environment, plus
the CONFORMANCE_* variables. Its exit status is reported, not judged: a failing test suite says
something about the integration, not about its HTTP behaviour. Ctrl-C reaches the command too (same
process group); it gets a few seconds to end before it is terminated, then killed. `deadline` stops a
command that runs too long the same way.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .._errors import UsageError

GRACE_SECONDS = 5.0
"""How long a command has to end after SIGINT or SIGTERM before it is terminated, then killed."""


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    """The command's exit code; minus the signal number when a signal ended it."""
    seconds: float
    stopped: str | None = None
    """Why the command was stopped before it ended on its own, if it was."""


def check_command(argv: Sequence[str]) -> None:
    """A usage error, before anything starts, when there is no command or it cannot be found."""
    if not argv:
        raise UsageError("give the command to run after --, e.g. conformance client -- python -m pytest tests/")
    if shutil.which(argv[0]) is None and not os.path.exists(argv[0]):
        raise UsageError(f"cannot run {argv[0]!r}: no such command")


def run_command(argv: Sequence[str], environ: Mapping[str, str], deadline: float | None = None) -> CommandResult:
    """Run `argv` with `environ` added to this process's environment; wait for it (at most `deadline` seconds)."""
    check_command(argv)
    started = time.monotonic()
    try:
        process = subprocess.Popen(list(argv), env={**os.environ, **environ})
    except OSError as exc:
        raise UsageError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
    stopped = None
    try:
        process.wait(timeout=deadline)
    except subprocess.TimeoutExpired:
        stopped = f"still running after --duration {deadline:g} s: stopped"
        _stop(process, signal.SIGTERM)
    except KeyboardInterrupt:
        _stop(process, signal.SIGINT)
        raise
    return CommandResult(process.returncode, round(time.monotonic() - started, 3), stopped)


def _stop(process: subprocess.Popen, first: int) -> None:
    """Signal the command, give it GRACE_SECONDS, then terminate, then kill."""
    for sent in (first, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            process.send_signal(sent)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
