"""The mock's request journal: every request it served, bounded, shown redacted behind the admin credentials.

The app records, for each request that reached it, its time, method, path, query, status, duration,
the API and operation it was routed to, its headers and its body size (and the body itself when it
is small). Entries live in a ring buffer of `size` entries, oldest dropped
first. Nothing is redacted on the hot path: redaction runs when the journal is read
(`GET /_mock/journal`), so card numbers, CVVs, tokens and secrets never leave the process.
Requests the HTTP layer refuses before the application sees them (an oversized head, a read timeout,
bad framing) are not in the journal.
"""

from __future__ import annotations

import time
import urllib.parse
from collections import deque
from datetime import UTC, datetime
from typing import Any

from ..redaction import Redactor

OPERATION = "conformance.operation"
"""Key of the ASGI scope under which the app leaves (api, operation id) for the journal."""

BODY_KEPT = 4096
"""Bodies up to this many bytes are kept (and shown redacted); of longer ones only the size."""


class RequestJournal:
    """A bounded journal of requests, filled by `record` (the app calls it for each HTTP request)."""

    def __init__(self, size: int = 1000) -> None:
        self.size = size
        self._entries: deque[tuple[Any, ...]] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._entries)

    async def record(self, app: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one HTTP request with `app`, and keep what it was."""
        started = time.time()
        body: list[bytes] = []
        seen = [0, None]  # bytes received, status

        async def receive_body() -> dict[str, Any]:
            message = await receive()
            chunk = message.get("body")
            if chunk:
                seen[0] += len(chunk)
                if seen[0] <= BODY_KEPT:
                    body.append(chunk)
            return message

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen[1] = message["status"]
            await send(message)

        try:
            await app(scope, receive_body, send_status)
        finally:
            # Only tuples, bytes, strings and numbers: the garbage collector stops tracking such an
            # entry, and a thousand of them cost no collection any time (a list of headers here
            # cost each request about 8 microseconds of collections).
            self._entries.append((started, time.time() - started, scope["method"], scope["path"],
                                  scope.get("query_string", b""), seen[1], scope.get(OPERATION),
                                  tuple(scope["headers"]), seen[0], b"".join(body) if seen[0] <= BODY_KEPT else None))

    def read(self, redactor: Redactor) -> list[dict[str, Any]]:
        """Every entry, oldest first, redacted."""
        return [self._entry(raw, redactor) for raw in list(self._entries)]

    @staticmethod
    def _entry(raw: tuple[Any, ...], redactor: Redactor) -> dict[str, Any]:
        started, duration, method, path, query, status, routed, headers, size, body = raw
        api, operation = routed if routed else (None, None)
        query_text = query.decode("latin-1") if query else ""
        return {
            "time": datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": method,
            "path": redactor.text(urllib.parse.unquote(path)),
            "query": redactor.text(query_text) if query_text else None,
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "api": api,
            "operation": operation,
            "headers": redactor.headers([(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers]),
            "body": {"bytes": size, "text": redactor.body(body) if body else None},
        }
