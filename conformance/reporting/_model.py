"""What a run reports: one HTTP exchange as evidence, one failure of one rule, and the verdict."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Verdict(enum.StrEnum):
    """The outcome of a run. A run that did not complete is "incomplete" whatever it found so far."""

    CONFORMS = "conforms"
    NONCONFORMANT = "nonconformant"
    INCOMPLETE = "incomplete"

    @property
    def exit_code(self) -> int:
        """The exit code the CLI maps this verdict to (0 conforms, 1 otherwise; Ctrl-C is the CLI's 130)."""
        return 0 if self is Verdict.CONFORMS else 1


@dataclass
class Exchange:
    """One HTTP request and its answer, as evidence. Headers and bodies are taken as given
    (dict, list of pairs, str, bytes, JSON data); the Recorder redacts them before storing."""

    method: str
    url: str
    request_headers: Any = None
    request_body: Any = None
    status: int | None = None
    response_headers: Any = None
    response_body: Any = None
    elapsed_ms: float | None = None
    api: str | None = None
    operation: str | None = None
    intent: str | None = None
    """valid, invalid, negative or auth (a deliberately bad credential): what replay must send again."""
    expected_statuses: tuple[int, ...] = ()
    """Statuses the request asked for on purpose (a scenario trigger, a bad credential)."""
    credential: str | None = None
    """run (the run's own credential, a $TOKEN placeholder when shown), none, or other (made up on purpose)."""
    statuses: tuple[str, ...] = ()
    """The documented status values this exchange carries (a callback's PENDING), for sequences."""
    started_at: str | None = None
    """When the request was sent (ISO 8601), for the HAR."""
    trouble: dict[str, Any] | None = None
    """The trouble injected into this exchange (`conformance client`): its id, kind and what it did."""

    @classmethod
    def from_response(cls, response: Any) -> Exchange:
        """Build from an httpx, requests or Schemathesis response (each carries its request)."""
        request = response.request
        elapsed = _read(response, "elapsed")
        if hasattr(elapsed, "total_seconds"):
            elapsed = elapsed.total_seconds()
        content = _read(request, "content")  # httpx
        if content is None:
            content = _read(request, "body")  # requests.PreparedRequest
        return cls(
            method=str(request.method),
            url=str(request.url),
            request_headers=request.headers,
            request_body=content or None,
            status=getattr(response, "status_code", None),
            response_headers=response.headers,
            response_body=_read(response, "content"),
            elapsed_ms=None if elapsed is None else round(float(elapsed) * 1000, 1),
        )


@dataclass
class Failure:
    """One rule broken once: what was expected, what was seen, and the exchange that showed it."""

    api: str
    rule_id: str
    operation: str | None = None
    title: str = ""
    expected: Any = None
    observed: Any = None
    exchange: Exchange | None = None
    chain: list[Exchange] = field(default_factory=list)
    """The exchanges before `exchange` that led to it (the payment a refund refunds), oldest first."""
    trouble: dict[str, Any] | None = None
    """The injected trouble the failing exchange followed (`conformance client`): id, kind, description, exchange."""


def _read(message: Any, attribute: str) -> Any:
    """An attribute that may raise when a streamed body was never read (httpx): None then."""
    try:
        return getattr(message, attribute, None)
    except Exception:  # httpx.RequestNotRead / ResponseNotRead
        return None
