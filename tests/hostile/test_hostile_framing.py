"""Probe class 6, lenient HTTP: framing is read as RFC 9112 says, and ambiguous credentials are refused."""

from __future__ import annotations

import pytest
from hostile_support import exchange, status_of

HEALTH = b"GET /api/v2/healthcheck/payments HTTP/1.1\r\n"


@pytest.mark.parametrize(("request_bytes", "status"), [
    pytest.param(b"POST /api/v2/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                 501, id="unknown-transfer-coding"),
    pytest.param(b"POST /api/v2/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, id="chunked-twice"),
    pytest.param(b"POST /api/v2/payments HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                 400, id="transfer-encoding-in-http-1.0"),
    pytest.param(HEALTH + b"\r\n", 400, id="http-1.1-without-host"),
    pytest.param(HEALTH + b"Host: a\r\nHost: b\r\n\r\n", 400, id="two-hosts"),
    pytest.param(b"POST /api/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                 400, id="two-content-lengths"),
    pytest.param(b"POST /api/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nabc", 400,
                 id="content-length-not-a-number"),
])
def test_ambiguous_framing_is_refused(mock, request_bytes, status):
    assert status_of(exchange(mock.port, request_bytes)) == status


def test_two_authorization_headers_are_refused_even_if_one_is_good(mock, bearer):
    answer = exchange(mock.port, b"GET /tsapi/v1/payments/status?endToEndId=E1 HTTP/1.1\r\nHost: x\r\n"
                      b"Authorization: Bearer forged\r\nAuthorization: " + bearer.encode() + b"\r\n\r\n")
    assert status_of(answer) == 400


def test_http_1_0_without_host_is_served(mock):
    assert status_of(exchange(mock.port, b"GET /api/v2/healthcheck/payments HTTP/1.0\r\n\r\n")) == 200
