"""A failure's chain: the earlier exchanges of the same test (or callbacks of the same resource) that led to it.

A refund that breaks a limit means nothing without the payment it refunds, so a failure carries the
exchanges it depends on. Dependence is read from the data, not from the suite's code: two exchanges are
linked when they share an identifier (a value that looks generated: a resource id, an idempotency key,
an end-to-end id), wherever it appears (URL, header, request or response body). The chain is the
closure of those links backwards from the failing exchange, oldest first, at most `CHAIN_LIMIT` long.
Constants of the spec's examples (merchant ids, references, amounts) are not identifiers, so unrelated
examples of one generated test do not link through them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .. import pointers
from ._model import Exchange

CHAIN_LIMIT = 10
"""At most this many exchanges before the failing one are kept."""

_IDENTIFIER = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9._~-]{12,200}$")
"""Looks generated: 12 characters or more, letters and digits, no spaces, slashes or colons (not a date)."""

_NOT_LINKS = frozenset({"user-agent", "accept", "accept-encoding", "connection", "content-type", "content-length",
                        "host", "authorization", "proxy-authorization", "cookie", "set-cookie", "date", "server",
                        "x-schemathesis-testcaseid", "etag", "last-modified", "traceparent"})
"""Headers whose values never name a resource."""


def is_identifier(value: Any) -> bool:
    """Whether a value looks generated (a resource id, a key): what links exchanges, what replay carries forward."""
    return isinstance(value, str) and bool(_IDENTIFIER.match(value))


def identifiers(exchange: Exchange) -> set[str]:
    """The identifier-like values an exchange carries, request and answer."""
    return {value for value in _values(exchange) if is_identifier(value)}


def chain_of(history: Sequence[Exchange], failing: Exchange, limit: int = CHAIN_LIMIT) -> list[Exchange]:
    """The exchanges of `history` (oldest first) before `failing` that it depends on, oldest first."""
    position = next((index for index, exchange in enumerate(history) if exchange is failing), len(history))
    earlier = history[:position]
    needed = identifiers(failing)
    chosen: list[Exchange] = []
    for exchange in reversed(earlier):
        if len(chosen) >= limit or not needed:
            break
        carried = identifiers(exchange)
        if carried & needed:
            chosen.append(exchange)
            needed |= carried
    return list(reversed(chosen))


def _values(exchange: Exchange) -> Iterator[str]:
    parts = urlsplit(str(exchange.url))
    yield from (unquote(segment) for segment in parts.path.split("/") if segment)
    yield from (value for _, value in parse_qsl(parts.query))
    for headers in (exchange.request_headers, exchange.response_headers):
        for name, value in _header_items(headers):
            if name.lower() not in _NOT_LINKS:
                yield value
    for body in (exchange.request_body, exchange.response_body):
        yield from (value for _, value in pointers.leaves(_parsed(body)) if isinstance(value, str))


def _header_items(headers: Any) -> Iterable[tuple[str, str]]:
    if not headers:
        return ()
    items = headers.items() if hasattr(headers, "items") else headers
    return ((str(name), str(value)) for name, value in items)


def _parsed(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: a hostile answer nested too deeply to read
            return dict(parse_qsl(body)) if "=" in body else body
    return body
