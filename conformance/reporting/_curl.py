"""A failure's reproduction: the request as a curl command a reader can paste, secrets redacted.

Built from the already-redacted exchange, then scrubbed once more as text (belt and braces: a
Basic credential or a token in the URL is caught here too). Placeholders such as
"Bearer [REDACTED]" or a masked PAN must be replaced by the reader's own test values.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from ..redaction import Redactor

_LEFT_TO_CURL = frozenset({"content-length", "host", "connection", "transfer-encoding", "accept-encoding"})
"""Headers curl sets itself; repeating them would only make the command wrong when edited."""


def curl_command(method: str, url: str, headers: Mapping[str, str] | None, body: str | None, redactor: Redactor) -> str:
    """A multi-line curl command for one request (already redacted parts, scrubbed again)."""
    parts = [f"curl -sS -X {shlex.quote(method.upper())} {shlex.quote(url)}"]
    for name, value in (headers or {}).items():
        if name.lower() not in _LEFT_TO_CURL:
            parts.append(f"-H {shlex.quote(f'{name}: {value}')}")
    if body is not None:
        parts.append(f"--data-raw {shlex.quote(body)}")
    return redactor.text(" \\\n  ".join(parts))
