"""Errors a user can act on, and the exit codes the CLI maps them to.

Every failure that is the user's input (a bad spec, an unreachable origin) is raised as a
ConformanceError; the CLI prints its message as one line and exits with its code, no traceback.
"""

from __future__ import annotations

EXIT_OK = 0
"""The target conforms."""
EXIT_NONCONFORMANT = 1
"""The run found a nonconformance."""
EXIT_USAGE = 2
"""Usage, configuration or spec error."""
EXIT_UNREACHABLE = 3
"""The target could not be reached, or TLS failed."""


class ConformanceError(Exception):
    """An error with a one-line message for the user and an exit code."""

    exit_code = EXIT_USAGE

    def __str__(self) -> str:  # one line, whatever the cause carried
        return " ".join(super().__str__().split())


class UsageError(ConformanceError):
    """A bad option, an unknown name, a missing credential."""


class SpecError(ConformanceError):
    """A spec or rules table that is missing, unreadable or invalid."""


class TargetUnreachable(ConformanceError):
    """The origin refused, timed out, or failed the TLS handshake."""

    exit_code = EXIT_UNREACHABLE
