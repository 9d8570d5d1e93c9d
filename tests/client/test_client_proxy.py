"""The recording proxy is a hostile-peer server: capped headers and bodies, read and idle timeouts, a bounded
number of connections, a total deadline per exchange with the provider. And it records what it serves."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from conformance import SPEC_NAMES, load_spec
from conformance.checks._traffic import UPSTREAM_FAILED
from conformance.client import Limits, RecordingProxy, Schedule
from conformance.client._injector import Injector
from conformance.client._upstream import Upstream
from conformance.mock import MockServer

LIMITS = Limits(max_header_bytes=2048, max_body_bytes=4096, read_seconds=0.5, idle_seconds=0.5, max_connections=4)


@pytest.fixture(scope="module")
def specs():
    return {name: load_spec(name) for name in SPEC_NAMES}


@pytest.fixture(scope="module")
def mock():
    with MockServer(port=0) as server:
        yield server


@pytest.fixture
def proxy(specs, mock):
    upstream = Upstream(mock.origin, deadline=2.0, revoke=mock.revoke_tokens)
    with RecordingProxy(specs, upstream, Injector(Schedule.none(), specs), limits=LIMITS) as running:
        yield running


def _raw(proxy: RecordingProxy, data: bytes, wait: float = 3.0) -> bytes:
    """Send bytes on a fresh connection and read until the proxy closes it. The proxy's own timeouts are
    0.5 s; `wait` only bounds the test: a connection still open after it fails, whatever it received."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        except TimeoutError:
            raise AssertionError(f"the proxy kept the connection open; it had sent {received[:60]!r}") from None
        return received


def test_oversized_headers_are_refused_with_431(proxy):
    answer = _raw(proxy, b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_oversized_bodies_are_refused_with_413(proxy):
    body = b"{" + b" " * 8000 + b"}"
    head = f"POST /tsapi/pay-by-bank/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    assert _raw(proxy, head + body).startswith(b"HTTP/1.1 413 ")


def test_a_request_that_stalls_gets_408_and_is_closed(proxy):
    answer = _raw(proxy, b"POST /tsapi/pay-by-bank/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12")
    assert answer.startswith(b"HTTP/1.1 408 ")  # and closed: _raw fails on a connection left open


def test_an_idle_connection_is_closed(proxy):
    assert _raw(proxy, b"") == b""


def test_garbage_is_refused_with_400(proxy):
    assert _raw(proxy, b"\x16\x03\x01 not http at all\r\n\r\n").startswith(b"HTTP/1.1 400 ")


def test_connections_past_the_limit_are_closed_at_once(proxy):
    held = [socket.create_connection(("127.0.0.1", proxy.port)) for _ in range(LIMITS.max_connections)]
    try:
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as extra:
            extra.sendall(b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                assert extra.recv(100) == b""
            except ConnectionResetError:
                pass
    finally:
        for sock in held:
            sock.close()


def test_a_provider_that_never_answers_is_a_504_within_the_deadline(specs):
    silent = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    upstream = Upstream(f"http://127.0.0.1:{silent.getsockname()[1]}", deadline=0.5)
    try:
        with RecordingProxy(specs, upstream, Injector(Schedule.none(), specs), limits=LIMITS) as proxy:
            # The upstream deadline is 0.5 s; a proxy without one would leave httpx to raise at its own 5 s.
            response = httpx.get(proxy.origin + "/tsapi/pay-by-bank/v2/payments/abc", timeout=5)
            assert response.status_code == 504
            (exchange,) = proxy.exchanges()
            assert exchange.outcome == UPSTREAM_FAILED and exchange.operation == "getPayment"
    finally:
        silent.close()


def test_every_request_is_recorded_and_named_keep_alive_included(proxy):
    with httpx.Client(timeout=5) as http:
        assert http.get(proxy.origin + "/api/v2/healthcheck/payments").status_code == 200
        assert http.get(proxy.origin + "/tsapi/pay-by-bank/v2/payments/abc").status_code in (401, 404)
        assert http.get(proxy.origin + "/_mock/faults").status_code == 404  # the admin is not the client's
        assert http.get(proxy.origin + "/nowhere").status_code == 404
    named = [(e.api, e.operation, e.status) for e in proxy.exchanges()]
    assert named[0] == ("online-payments", "V2PaymentHealthGet", 200)
    assert named[1][:2] == ("pay-by-bank", "getPayment")
    assert [e.seq for e in proxy.exchanges()] == [1, 2, 3, 4]
    assert named[3][:2] == (None, None)
