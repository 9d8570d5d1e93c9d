"""Certification of an integration's own client: its traffic, recorded and judged under injected trouble.

`conformance client -- COMMAND` and the `payments_mock` pytest fixture put a recording proxy between
the integration and the provider (the embedded mock, or a sandbox), inject trouble on a schedule drawn
from a seed (a 503 or a dropped connection after a create was processed, a timeout, a 429 with
Retry-After, a revoked token, a decline), and judge every exchange by the client rules
(specs/client.rules.yaml; the judging functions are conformance/checks/_client.py). docs/client.md.

    from conformance.client import ClientSession, Schedule
"""

from ._command import CommandResult, run_command
from ._proxy import Limits, RecordingProxy
from ._schedule import Schedule, Trouble
from ._session import ClientSession, base_url_variable

__all__ = [
    "ClientSession",
    "CommandResult",
    "Limits",
    "RecordingProxy",
    "Schedule",
    "Trouble",
    "base_url_variable",
    "run_command",
]
