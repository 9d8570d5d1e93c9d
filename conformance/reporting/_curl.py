"""A failure's reproduction: each request as a curl command a reader can paste, secrets redacted.

Built from the already-redacted exchange, each part scrubbed once more as text (belt and braces: a
Basic credential or a token in the URL is caught here too). Every header the request carried is
kept (Content-Type included: without it a JSON API answers 400), except those curl sets itself.
The run's own credential becomes a shell variable, so a pasted command works once it is exported:

    export TOKEN=...                                    # a bearer token for the API
    export CLIENT_ID=... CLIENT_SECRET=...              # Basic credentials (the token endpoint)

A credential the run made up on purpose (an auth test's malformed or expired token) stays
[REDACTED]. Card data is masked (first six, last four) and expiry and CVV are left out: a comment
names those fields, which the reader fills with a test card (`conformance replay` does it itself).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from ..redaction import REDACTED, Redactor

_LEFT_TO_CURL = frozenset({"content-length", "host", "connection", "transfer-encoding", "accept-encoding"})
"""Headers curl sets itself; repeating them would only make the command wrong when edited."""

TOKEN_VARIABLE = "$TOKEN"
BASIC_VARIABLES = "$CLIENT_ID:$CLIENT_SECRET"


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: str | None,
    redactor: Redactor,
    credential: str | None = "run",
) -> str:
    """A multi-line curl command for one request (already redacted parts, scrubbed again).

    `credential` is how the request was authorised: "run" (the run's own: a shell variable here),
    "none", or "other" (made up on purpose: stays redacted)."""
    parts = [f"curl -sS -i -X {shlex.quote(method.upper())} {shlex.quote(redactor.text(url))}"]
    for name, value in (headers or {}).items():
        if name.lower() in _LEFT_TO_CURL:
            continue
        value = redactor.text(value)
        if name.lower() == "authorization" and credential != "other":
            scheme = value.split(" ", 1)[0]
            if value == f"{scheme} {REDACTED}" and scheme.lower() == "bearer":
                parts.append(f'-H "{name}: {scheme} {TOKEN_VARIABLE}"')
                continue
            if value == f"{scheme} {REDACTED}" and scheme.lower() == "basic":
                parts.append(f'-u "{BASIC_VARIABLES}"')
                continue
        parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    if body is not None:
        parts.append(f"--data-raw {shlex.quote(redactor.text(body))}")
    return " \\\n  ".join(parts)


def chain_script(what: str, steps: Sequence[Mapping[str, Any]]) -> str:
    """The reproduction of a failure: every step's curl in order, each under a comment saying what it is."""
    count = len(steps)
    variables = sorted({variable for step in steps for variable in _variables(step.get("curl") or "")})
    lines = [f"# {what}: {count} request{'s' if count != 1 else ''}, in order"]
    if variables:
        lines.append(f"# first export your own {', '.join(variables)}")
    for number, step in enumerate(steps, 1):
        what = step.get("operation") or f"{step['method']} request"
        last = " (the failing request)" if number == count and count > 1 else ""
        lines.append(f"# {number}/{count} {what}{last}")
        if step.get("credential") == "other":
            lines.append("# a credential made up on purpose (malformed, expired or of another scope), redacted")
        hidden = step.get("redacted_fields") or []
        if hidden:
            lines.append(f"# masked or left out here (card data, secrets), put test values back: {', '.join(hidden)}")
        lines.append(step.get("curl") or "")
    return "\n".join(lines)


def _variables(command: str) -> list[str]:
    found = []
    if TOKEN_VARIABLE in command:
        found.append("TOKEN")
    if BASIC_VARIABLES in command:
        found += ["CLIENT_ID", "CLIENT_SECRET"]
    return found
