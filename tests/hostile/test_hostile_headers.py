"""Probe class 3, header size: a request line and headers above the cap are a 431, whether the head
arrives at once or keeps coming (a 100 MB header is cut off after the cap, not read to its end)."""

from __future__ import annotations

from hostile_support import LIMITS, connect, exchange, json_of, read_until_closed, status_of


def test_a_header_above_the_cap_is_431(mock):
    answer = exchange(mock.port, b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\nX-Big: "
                      + b"a" * (LIMITS.max_header_bytes + 1) + b"\r\n\r\n")
    assert status_of(answer) == 431
    assert json_of(answer)["error"] == "request_header_fields_too_large"


def test_a_header_that_never_ends_is_cut_off_at_the_cap(mock):
    with connect(mock.port) as sock:
        sock.sendall(b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 100 * 1024 * 1024:  # the probe's 100 MB; the server answers long before
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_until_closed(sock)
    assert status_of(answer) == 431
    assert sent < 100 * 1024 * 1024


def test_a_header_below_the_cap_is_served(mock):
    answer = exchange(mock.port, b"GET /api/v2/healthcheck/payments HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                      b"X-Big: " + b"a" * (LIMITS.max_header_bytes // 2) + b"\r\n\r\n")
    assert status_of(answer) == 200
