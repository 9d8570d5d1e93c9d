"""Helpers of the hostile-input tests: raw HTTP over sockets, a mock with short limits, its clients.

Hostile peers do what well-behaved clients cannot be made to do (send half a request, two
Authorization headers, a 100 MB header), so most probes here write raw bytes to a socket. A probe
waits for the server with a generous bound: a server that never answers or never closes fails the
test when the bound passes; nothing asserts how fast it was.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx

from conformance import load_spec
from conformance.mock import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockServer, ServerLimits

PATIENCE = 10.0
"""Seconds a probe waits for the server to answer or close (the limits under test are far shorter)."""

LIMITS = ServerLimits(max_body_bytes=64 * 1024, header_timeout=0.5, body_timeout=0.5, idle_timeout=0.5)
"""Short limits, so that the probes of timeouts are quick."""

ADMIN = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
MERCHANT_ID = "998482157630"


class ServerKeptWaiting(AssertionError):
    """The server neither answered nor closed within PATIENCE."""


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    sock.settimeout(PATIENCE)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection; ServerKeptWaiting if it never does."""
    received = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    except TimeoutError:
        raise ServerKeptWaiting(f"the server kept the connection open; it sent {received[:200]!r}") from None
    except ConnectionResetError:
        return received


def read_answer(sock: socket.socket) -> bytes:
    """One answer's head and (Content-Length) body, without waiting for the connection to close."""
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except TimeoutError:
        raise ServerKeptWaiting(f"no answer; the server sent {received[:200]!r}") from None


def exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes on a fresh connection; everything the server sends until it closes."""
    with connect(port) as sock:
        sock.sendall(data)
        return read_until_closed(sock)


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def header_of(answer: bytes, name: str) -> str | None:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def json_of(answer: bytes) -> Any:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


def token(mock: MockServer) -> str:
    answer = httpx.post(mock.token_url, auth=ADMIN, data={"grant_type": "client_credentials"}, timeout=PATIENCE)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def example(api: str, operation: str) -> dict[str, Any]:
    return next(iter(load_spec(api).examples(operation).values()))


CREATE = {
    "online-payments": ("/payments", "V2PaymentPost", {"merchant-id": MERCHANT_ID, "request-id": "hostile-1"}),
    "global-payments": ("/payments", "initiatePayments", {}),
    "pay-by-bank": ("/payments", "createPayment", {"Idempotency-Key": "hostile-1"}),
}
"""A create operation of each API with the headers it needs."""


def error_body_problems(api: str, body: Any, status: int = 400) -> list[str]:
    """How an error body breaks the API's documented error shape (none: it is that shape). A 400 has the
    create operation's documented 400 schema (Global Payments documents one shape per answer), else the rules
    table's error schema; any other status the schema the spec documents for its 401s."""
    spec = load_spec(api)
    if status == 400:
        schema = spec.response_schema(CREATE[api][1], 400) or spec.rules.errors.schema
    else:
        schema = _documented_401_schema(api)
    return [error.message for error in spec.validator(schema, "response").iter_errors(body)]


def _documented_401_schema(api: str) -> str:
    spec = load_spec(api)
    for operation in spec.operations.values():
        answer = (spec.resolve(operation.pointer).get("responses") or {}).get("401")
        if answer:
            answer = spec.resolve(answer["$ref"]) if "$ref" in answer else answer
            schema = answer["content"]["application/json"]["schema"]
            return schema.get("$ref") or operation.pointer + "/responses/401/content/application~1json/schema"
    raise AssertionError(f"{api} documents no 401 answer")
