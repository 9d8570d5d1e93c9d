"""Probe class 4, slow and idle peers: a connection that sends nothing, half a head or half a body is
closed after its timeout, and a flood of idle connections does not lock other clients out, even with
the descriptor limit of the probe (`ulimit -n 256`, 300 idle sockets)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

import httpx
from hostile_support import PATIENCE, connect, read_answer, read_until_closed, status_of

IDLE_FLOOD = 300
DESCRIPTOR_LIMIT = 256


def test_a_connection_that_sends_nothing_is_closed(mock):
    with connect(mock.port) as sock:
        assert read_until_closed(sock) == b""


def test_a_keep_alive_connection_is_closed_once_idle(mock):
    with connect(mock.port) as sock:
        sock.sendall(b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(read_answer(sock)) == 200
        assert read_until_closed(sock) == b""


def test_half_a_head_is_408_then_closed(mock):
    with connect(mock.port) as sock:
        sock.sendall(b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        for _ in range(3):  # a slowloris: a byte now and then keeps no timer from running out
            time.sleep(0.2)
            sock.sendall(b"a")
        answer = read_until_closed(sock)
    assert status_of(answer) == 408


def test_half_a_body_is_408_then_closed(mock, bearer):
    with connect(mock.port) as sock:
        sock.sendall(b"POST /tsapi/pay-by-bank/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Idempotency-Key: slow-body\r\nAuthorization: " + bearer.encode()
                     + b"\r\nContent-Length: 100\r\n\r\n{")
        answer = read_until_closed(sock)
    assert status_of(answer) == 408


def _limit_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, DESCRIPTOR_LIMIT))


def test_an_idle_flood_does_not_lock_other_clients_out():
    environment = dict(os.environ, CONFORMANCE_MOCK_CLIENT_SECRET="hostile-tests-secret")
    process = subprocess.Popen([sys.executable, "-m", "conformance", "mock", "--port", "0", "--idle-timeout", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                               preexec_fn=_limit_descriptors)
    flood = []
    try:
        origin = None
        for line in process.stdout:  # the banner, or the end of a mock that could not start
            if line.startswith("conformance mock: serving "):
                origin = line.split()[-1]
                break
        assert origin, "the mock did not start: " + process.stderr.read()
        port = int(origin.rsplit(":", 1)[1])
        for _ in range(IDLE_FLOOD):
            flood.append(connect(port))
        answer = httpx.get(origin + "/api/v2/healthcheck/payments", timeout=PATIENCE)
        assert answer.status_code == 200
    finally:
        for sock in flood:
            sock.close()
        process.terminate()
        process.communicate(timeout=30)
