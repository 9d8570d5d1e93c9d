"""An integration's own traffic, as the client rules see it: each request it sent and what became of it.

The recording proxy of `conformance client` (and of the `payments_mock` fixture) fills these in; the
client checks (`_client.py`) read them. Plain data: times are the proxy's monotonic clock, so gaps
between a failure and its retry are measured where the provider would measure them.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ..pointers import MISSING
from ._model import NOT_JSON, parse_body

ANSWERED = "answered"
"""The client got an answer (the provider's, or one injected in its place)."""
DROPPED = "dropped"
"""The connection was closed without an answer (an injected trouble, or a request the proxy refused to read)."""
CLIENT_GONE = "client-gone"
"""The client closed the connection before the answer came (its timeout)."""
UPSTREAM_FAILED = "upstream-failed"
"""The provider could not be reached or did not answer in time; the client got a 502 or 504 from the proxy."""


@dataclass
class ClientExchange:
    """One request the client sent, and what became of it."""

    seq: int
    method: str
    url: str
    """The URL as the client addressed it (the proxy's origin, path and query)."""
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    """Request headers, names in lower case (the last value of a repeated header)."""
    content: bytes
    """The request body as sent."""
    started: float
    """When the request's head arrived (monotonic seconds)."""
    started_at: str
    """The same, as UTC ISO 8601."""
    api: str | None = None
    operation: str | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    token_endpoint: bool = False
    ended: float | None = None
    """When the answer was sent, the connection dropped, or the client went away."""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_content: bytes = b""
    outcome: str = ANSWERED
    trouble: str | None = None
    """The ID of the injected trouble this request met (T1...), if any."""
    provider_status: int | None = None
    """What the provider answered, when the request was sent on (an injected trouble may hide it from the client)."""
    forwarded_content: bytes | None = None
    """What was sent on instead of `content`, when a trouble rewrote it (a scenario trigger)."""
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- the request, read -----------------------------------------------------------------------------

    @property
    def query_dict(self) -> dict[str, str]:
        return dict(self.query)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def data(self) -> Any:
        """The request body as data: JSON, a form's fields, MISSING when empty, NOT_JSON otherwise."""
        if "data" not in self.cache:
            if not self.content:
                self.cache["data"] = MISSING
            elif self.content_type == "application/x-www-form-urlencoded":
                try:
                    self.cache["data"] = dict(urllib.parse.parse_qsl(self.content.decode("utf-8"), strict_parsing=True))
                except (UnicodeDecodeError, ValueError):
                    self.cache["data"] = NOT_JSON
            else:
                self.cache["data"] = parse_body(self.content)
        return self.cache["data"]

    @property
    def response_body(self) -> Any:
        """The answer body as data (MISSING when empty or none, NOT_JSON when not JSON), as a check's Call has it."""
        if "answer" not in self.cache:
            self.cache["answer"] = parse_body(self.response_content) if self.response_content else MISSING
        return self.cache["answer"]

    @property
    def request(self) -> dict[str, Any]:
        """The request as runtime expressions read it ($request.header.X, $request.body#/p ...)."""
        return {"headers": self.headers, "query": self.query_dict, "path": self.path_parameters, "body": self.data}

    @property
    def bearer(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    # -- what became of it ------------------------------------------------------------------------------

    @property
    def succeeded(self) -> bool:
        return self.outcome == ANSWERED and self.status is not None and 200 <= self.status < 300

    @property
    def unanswered(self) -> bool:
        return self.outcome != ANSWERED

    @property
    def retry_after(self) -> float | None:
        """Retry-After of the answer in seconds (delta-seconds form), if any."""
        value = self.response_headers.get("retry-after", "").strip()
        try:
            return float(value) if value else None
        except ValueError:
            return None

    def describe(self) -> str:
        """One line: METHOD URL -> what happened (operation)."""
        what = f"HTTP {self.status}" if self.outcome == ANSWERED else self.outcome
        where = f" ({self.api} {self.operation})" if self.operation else ""
        return f"#{self.seq} {self.method} {self.url} -> {what}{where}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (bodies as text), for tests and the fixture's `exchanges`."""
        return {
            "seq": self.seq, "api": self.api, "operation": self.operation, "method": self.method, "url": self.url,
            "headers": dict(self.headers), "body": self.content.decode("utf-8", "replace"), "status": self.status,
            "response_headers": dict(self.response_headers),
            "response_body": self.response_content.decode("utf-8", "replace"), "outcome": self.outcome,
            "trouble": self.trouble, "elapsed_ms": self.elapsed_ms,
        }

    @property
    def elapsed_ms(self) -> float | None:
        return None if self.ended is None else round((self.ended - self.started) * 1000, 1)


def canonical(value: Any) -> str:
    """Data in one canonical text form, for comparing requests."""
    if value is MISSING:
        return ""
    if value is NOT_JSON:
        return "<not json>"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
