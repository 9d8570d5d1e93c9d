"""Probe class 2, bodies: credentials are checked before a byte of the body is read, a body above the
cap is a 413 in the API's error shape (declared or chunked), and an upload answered early still lets
the client read its answer before the connection closes."""

from __future__ import annotations

import httpx
from hostile_support import (
    CREATE,
    LIMITS,
    PATIENCE,
    connect,
    error_body_problems,
    header_of,
    json_of,
    read_answer,
    read_until_closed,
    status_of,
)

HUNDRED_MB = 100 * 1024 * 1024


def test_an_unauthenticated_body_is_answered_401_without_being_read(mock):
    with connect(mock.port) as sock:
        sock.sendall(b"POST /tsapi/pay-by-bank/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Idempotency-Key: k1\r\nContent-Length: %d\r\n\r\n" % HUNDRED_MB + b"{" * 4096)
        answer = read_answer(sock)  # the other 100 MB are never sent: a server reading first would wait for them
        assert status_of(answer) == 401
        assert header_of(answer, "connection") == "close"
        assert read_until_closed(sock) == b""


def test_a_declared_length_above_the_cap_is_413_before_the_body(mock, bearer):
    path, _, headers = CREATE["pay-by-bank"]
    with connect(mock.port) as sock:
        sock.sendall(b"POST /tsapi/pay-by-bank/v2" + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nIdempotency-Key: k2\r\nAuthorization: " + bearer.encode()
                     + b"\r\nContent-Length: 1000000000000\r\n\r\n")
        answer = read_answer(sock)
    assert status_of(answer) == 413
    assert error_body_problems("pay-by-bank", json_of(answer), 413) == []


def test_a_chunked_body_is_cut_off_at_the_cap(mock, bearer):
    path, _, headers = CREATE["online-payments"]
    padding = b"x" * (LIMITS.max_body_bytes + 1)

    def chunks():
        yield b'{"padding": "'
        for start in range(0, len(padding), 8192):
            yield padding[start:start + 8192]
        yield b'"}'

    answer = httpx.post(mock.base_url("online-payments") + path, content=chunks(), timeout=PATIENCE,
                        headers={**headers, "authorization": bearer, "content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert error_body_problems("online-payments", answer.json(), 413) == []


def test_a_large_upload_answered_early_still_reads_its_answer(mock):
    """The 100 MB upload of the probe, unauthenticated: the client sends it all, then reads its 401."""
    block = b" " * (1024 * 1024)

    def body():
        for _ in range(HUNDRED_MB // len(block)):
            yield block

    answer = httpx.post(mock.base_url("pay-by-bank") + "/payments", content=body(), timeout=PATIENCE,
                        headers={"content-type": "application/json", "content-length": str(HUNDRED_MB)})
    assert answer.status_code == 401
