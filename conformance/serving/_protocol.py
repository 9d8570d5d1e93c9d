"""uvicorn's httptools protocol with the limits it lacks: header size, read timeouts, strict framing.

uvicorn (0.54) bounds none of these on its fast httptools path: a header grows without limit (and
httptools joins its pieces quadratically), a connection that never sends a request, or sends one
byte at a time, stays open for ever, and `Transfer-Encoding: gzip, chunked` or a request without
`Host` is served. This subclass adds, per connection:

- the head (request line and headers) capped at `max_header_bytes`: 431;
- a deadline from a request's first byte to the end of its headers (`header_timeout`) and from there
  to the end of its body (`body_timeout`): 408, and the connection closes;
- `idle_timeout` for a connection with no request in progress, a fresh one included (uvicorn arms
  its keep-alive timer only after a first answer);
- RFC 9112 framing: HTTP/1.1 needs exactly one Host (400); a transfer coding other than `chunked`
  alone is 501 (400 on HTTP/1.0); two Authorization headers are refused (400), never one picked;
- a cap on open connections: beyond it, the connection that has waited longest outside the
  application is closed, so that a flood of idle sockets cannot lock new clients out;
- a request answered before its body was read in full (a 401 before a 100 MB upload) is answered
  with `connection: close` and the connection closes, rather than parsing a body nobody wants.

Deadlines are timestamps that one sweep per server checks (every quarter of the shortest timeout,
at most every second), not a timer per request: a deadline passes at most that late.

h11 has a header cap but no read timeouts either, and serves the mock at about half the rate; the
measurements are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ._limits import ServerLimits

logger = logging.getLogger("conformance.serving")

_REASONS = {400: "bad_request", 408: "request_timeout", 413: "payload_too_large",
            431: "request_header_fields_too_large", 501: "not_implemented"}
_FRAMING = frozenset({b"host", b"content-length", b"transfer-encoding", b"authorization", b"proxy-authorization"})
"""Headers the head checks look at (credentials among them: one set per request)."""


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the protocol answers with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class ConnectionPool:
    """One server's connections: those outside the application (waiting for or reading a request head),
    oldest first, which are the ones to close when the connection cap is reached; and the sweep that
    enforces every connection's deadline.

    One sweep every `interval` seconds replaces a timer per request (creating and cancelling two
    timers cost a POST about 5 microseconds): a deadline is then kept within `interval`."""

    def __init__(self, cap: int, interval: float) -> None:
        self.cap = cap
        self.interval = interval
        self.waiting: dict[HardenedProtocol, None] = {}
        self.evicted = 0
        self._sweeping: Any = None

    def watch(self, protocol: HardenedProtocol) -> None:
        """Make sure the sweep runs while `protocol`'s server has connections."""
        if self._sweeping is None:
            self._sweeping = protocol.loop.call_later(self.interval, self._sweep, protocol.loop, protocol.connections)

    def _sweep(self, loop: Any, connections: set[Any]) -> None:
        now = loop.time()
        for protocol in list(connections):
            deadline = protocol.deadline
            if deadline is not None and deadline <= now:
                protocol.deadline_passed()
        self._sweeping = None
        if connections:
            self._sweeping = loop.call_later(self.interval, self._sweep, loop, connections)


class HardenedProtocol(HttpToolsProtocol):
    """Use through `protocol_class(limits)`, which binds the limits and a connection pool."""

    limits: ServerLimits
    pool: ConnectionPool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self.deadline: float | None = None
        """Loop time by which the connection must have moved on (None: the application has the request)."""
        self._overdue: str | None = None
        """What a passed deadline means: a 408 with this message, or (None) an idle connection to close."""
        self._keep_alive: bool | None = None
        """While a body is read: whether the connection stays open after the answer, if the body is all read."""
        self._refusal: _Refused | None = None
        self._write_timer: Any = None

    # -- connection lifecycle -------------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        pool = self.pool
        if len(self.connections) > pool.cap:
            if pool.waiting:
                oldest = next(iter(pool.waiting))
                del pool.waiting[oldest]
                pool.evicted += 1
                oldest.transport.close()
            else:
                logger.debug("connection cap reached with every connection busy: closing the new one")
                transport.close()
                return
        self.pool.watch(self)
        self._wait_for_request()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.waiting.pop(self, None)
        self.deadline = None
        if self._write_timer is not None:
            self._write_timer.cancel()
        super().connection_lost(exc)

    def _wait_for_request(self) -> None:
        """No request in progress: the idle deadline runs and the connection may be evicted."""
        self.pool.waiting[self] = None
        self._set_deadline(self.limits.idle_timeout, None)

    # -- reading --------------------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            return  # no protocol is upgraded to; the request is answered as uvicorn does, as plain HTTP
        except httptools.HttpParserError as exc:
            refusal = self._refusal
            if refusal is not None:
                self._refuse(refusal.status, refusal.message)
            else:
                self._refuse(400, f"malformed HTTP request: {exc}")
            return
        if self._in_head and self._head_bytes > self.limits.max_header_bytes:
            self._refuse(431, f"the request line and headers exceed {self.limits.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._set_deadline(self.limits.header_timeout, "the request headers did not arrive in time")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self.deadline = None
        body_follows = self._check_head()
        self.pool.waiting.pop(self, None)
        super().on_headers_complete()
        if body_follows:
            self._set_deadline(self.limits.body_timeout, "the request body did not arrive in time")
            # Until the body is in, an answer closes the connection (uvicorn then says `connection: close`):
            # the rest of a body nobody wants is never read.
            self._keep_alive, self.cycle.keep_alive = self.cycle.keep_alive, False

    def on_message_complete(self) -> None:
        self.deadline = None
        self._in_head = True
        if self._keep_alive is not None:
            if not self.cycle.response_started:
                self.cycle.keep_alive = self._keep_alive
            self._keep_alive = None
        super().on_message_complete()

    def _check_head(self) -> bool:
        """Refuse a head that is too large or framed ambiguously; True when a body follows it."""
        headers = self.headers
        size = len(self.url) + 4 * len(headers)
        framing = []
        for name, value in headers:
            size += len(name) + len(value)
            if name in _FRAMING:
                framing.append((name, value))
        if size > self.limits.max_header_bytes:
            raise self._stop(431, f"the request line and headers exceed {self.limits.max_header_bytes} bytes")
        hosts = credentials = 0
        codings: list[bytes] = []
        length = b""
        for name, value in framing:
            if name == b"host":
                hosts += 1
            elif name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                codings += [c.strip().lower() for c in value.split(b",") if c.strip()]
            else:
                credentials += 1
        version = self.parser.get_http_version()
        if hosts > 1 or (hosts == 0 and version == "1.1"):
            raise self._stop(400, "an HTTP/1.1 request needs exactly one Host header")
        if credentials > 1:
            raise self._stop(400, "more than one Authorization header: send one set of credentials")
        if codings:
            if version != "1.1":
                raise self._stop(400, f"Transfer-Encoding is not allowed in HTTP/{version}")
            unknown = [c for c in codings if c != b"chunked"]
            if unknown:
                raise self._stop(501, f"transfer coding {unknown[0].decode('latin-1')!r} is not supported")
            if len(codings) > 1:
                raise self._stop(400, "chunked may be applied only once")
            return True
        return length.strip() not in (b"", b"0")

    def _stop(self, status: int, message: str) -> _Refused:
        self._refusal = _Refused(status, message)
        return self._refusal

    # -- deadlines -----------------------------------------------------------------------------------------------

    def _set_deadline(self, seconds: float, overdue: str | None) -> None:
        self.deadline = self.loop.time() + seconds
        self._overdue = overdue

    def deadline_passed(self) -> None:
        """Called by the pool's sweep: an idle connection closes, a late request gets its 408."""
        self.deadline = None
        if self._overdue is None:
            self.pool.waiting.pop(self, None)
            self.transport.close()
        else:
            self._refuse(408, self._overdue)

    def pause_writing(self) -> None:
        """The client is not reading its answer: give it `body_timeout` to start again."""
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.limits.body_timeout, self.transport.abort)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    # -- answering ------------------------------------------------------------------------------------------------

    def on_response_complete(self) -> None:
        """uvicorn's, with the idle deadline in place of its keep-alive timer."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self.pool.waiting.pop(self, None)
            self._wait_for_request()

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with a JSON error (unless an answer has begun) and close the connection."""
        self.deadline = None
        if self.transport.is_closing():
            return
        logger.debug("refused a request with %d: %s", status, message)
        cycle = self.cycle
        started = False
        if cycle is not None and not cycle.response_complete:
            started = cycle.response_started
            cycle.disconnected = True  # the application's receive() now says the client is gone
            cycle.message_event.set()
        if not started:
            body = json.dumps({"error": _REASONS.get(status, "refused"), "message": message}).encode()
            self.transport.write(b"".join([
                STATUS_LINE[status], b"content-type: application/json\r\n",
                b"content-length: ", str(len(body)).encode(), b"\r\nconnection: close\r\n\r\n", body,
            ]))
        self.transport.close()


def protocol_class(limits: ServerLimits) -> type[HardenedProtocol]:
    """A protocol class for one server: its limits, and its own pool of connections."""
    shortest = min(limits.header_timeout, limits.body_timeout, limits.idle_timeout)
    pool = ConnectionPool(limits.connection_cap(), interval=min(1.0, max(0.05, shortest / 4)))
    return type("HardenedProtocol", (HardenedProtocol,), {"limits": limits, "pool": pool})
