"""What a run reports: one HTTP exchange as evidence, one failure of one rule, and the verdict."""

from __future__ import annotations

import enum
from dataclasses import dataclass
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


def _read(message: Any, attribute: str) -> Any:
    """An attribute that may raise when a streamed body was never read (httpx): None then."""
    try:
        return getattr(message, attribute, None)
    except Exception:  # httpx.RequestNotRead / ResponseNotRead
        return None
