"""Test helpers for the mock: an integrator-like client, a real callback receiver, the scenario runner.

Everything goes over real HTTP on loopback. Waits are bounded polls that fail only when what is
awaited never happens; nothing asserts on timing.
"""

from __future__ import annotations

import datetime as dt
import http.server
import itertools
import json
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from conformance import load_spec
from conformance.mock import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockServer

MERCHANT_ID = "998482157630"
SCOPE = "jpm:payments:sandbox"
_counter = itertools.count(1)


def utc_today() -> dt.date:
    """The mock's "today" (UTC), which execution dates are judged against."""
    return dt.datetime.now(dt.UTC).date()


def unique(prefix: str = "t") -> str:
    """A short unique token usable in ids (letters, digits, dashes)."""
    return f"{prefix}{next(_counter)}x{uuid.uuid4().hex[:10]}"


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy; fail the test if it never is within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


_SPECS: dict[str, Any] = {}


def spec(name: str):
    if name not in _SPECS:
        _SPECS[name] = load_spec(name)
    return _SPECS[name]


def example(api: str, operation_id: str, *preferred: str) -> Any:
    """A fresh copy of the operation's canonical (first) request example, or the first of `preferred` it has."""
    return spec(api).example_request(operation_id, preferred)


def gp_ack(response: httpx.Response) -> dict[str, Any]:
    """The `{endToEndId, firmRootId}` of a Global Payments 202 acknowledgement (the test fails on anything else)."""
    assert response.status_code == 202, response.text
    return response.json()["paymentInitiationResponse"]


def set_pointer(document: dict[str, Any], pointer: str, value: Any) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]
    node = document
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def get_pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/") if p]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def subset_matches(expected: Any, actual: Any) -> bool:
    """The rules tables' subset semantics: dicts key by key, lists "each expected item matches some item"."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset_matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and all(any(subset_matches(e, a) for a in actual) for e in expected)
    return expected == actual and type(expected) is type(actual)


class Api:
    """A client of one running mock, sending requests the way an integrator would."""

    def __init__(self, mock: MockServer, scope: str = SCOPE) -> None:
        self.mock = mock
        self.http = httpx.Client(timeout=10)
        self.token = self.fetch_token(scope)

    def close(self) -> None:
        self.http.close()

    def fetch_token(self, scope: str | None = SCOPE, client: tuple[str, str] | None = None) -> str:
        response = self.token_request(scope=scope, client=client)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def token_request(self, scope: str | None = SCOPE, client: tuple[str, str] | None = None,
                      grant_type: str | None = "client_credentials", **form: str) -> httpx.Response:
        data = {k: v for k, v in {"grant_type": grant_type, "scope": scope, **form}.items() if v is not None}
        return self.http.post(self.mock.token_url, auth=client or (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET), data=data)

    def request(self, api: str, method: str, path: str, json_body: Any = None, *, token: str | None = "default",
                headers: dict[str, str] | None = None, params: dict[str, str] | None = None,
                content: bytes | None = None) -> httpx.Response:
        sent = {} if token is None else {"authorization": f"Bearer {self.token if token == 'default' else token}"}
        sent.update(headers or {})
        kwargs: dict[str, Any] = {"headers": sent, "params": params}
        if content is not None:
            kwargs["content"] = content
        elif json_body is not None:
            kwargs["json"] = json_body
        return self.http.request(method, self.mock.base_url(api) + path, **kwargs)

    def admin(self, method: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        """A request to an admin endpoint (/_mock/...), with the mock's client credentials."""
        return self.http.request(method, self.mock.origin + endpoint, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
                                 **kwargs)

    # Shorthands with the headers each API needs.
    def op(self, method: str, path: str, body: Any = None, request_id: str | None = None, **kw: Any) -> httpx.Response:
        # request-id on every request: writes need a fresh one, and some reads (captures, reads by request) too.
        headers = {"merchant-id": MERCHANT_ID, **kw.pop("headers", {})}
        headers.setdefault("request-id", request_id or unique("r"))
        return self.request("online-payments", method, path, body, headers=headers, **kw)

    def gp(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.request("global-payments", method, path, body, **kw)

    def pbb(self, method: str, path: str, body: Any = None, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if method != "GET":
            headers.setdefault("Idempotency-Key", key or unique("k"))
        return self.request("pay-by-bank", method, path, body, headers=headers, **kw)

    # Common flows.
    def sale(self, **changes: Any) -> dict[str, Any]:
        body = example("online-payments", "V2PaymentPost")
        body.update(changes)
        response = self.op("POST", "/payments", body)
        assert response.status_code == 200, response.text
        return response.json()

    def gp_payment(self, **changes: Any) -> httpx.Response:
        """The canonical initiation (`{payments: {...}}`) for today with a fresh endToEndId, `changes` (pointer:
        value, from the body's root) applied."""
        body = example("global-payments", "initiatePayments")
        body["payments"]["requestedExecutionDate"] = utc_today().isoformat()
        body["payments"]["paymentIdentifiers"]["endToEndId"] = unique("E")
        for pointer, value in changes.items():
            set_pointer(body, pointer, value)
        return self.gp("POST", "/payments", body)

    def gp_initiated(self, **changes: Any) -> dict[str, Any]:
        """`gp_payment`'s acknowledgement: `{endToEndId, firmRootId}`."""
        return gp_ack(self.gp_payment(**changes))

    def pbb_payment(self, **changes: Any) -> httpx.Response:
        body = example("pay-by-bank", "createPayment")
        for pointer, value in changes.items():
            set_pointer(body, pointer, value)
        return self.pbb("POST", "/payments", body)

    def settled_pbb_payment(self) -> dict[str, Any]:
        created = self.pbb_payment()
        assert created.status_code == 201, created.text
        payment_id = created.json()["id"]
        wait_until(lambda: self.pbb("GET", f"/payments/{payment_id}").json()["status"] == "SETTLED",
                   what="the payment to settle")
        return created.json()


class Receiver:
    """A real HTTP server on loopback that records every callback it is sent.

    `plan` lists the statuses of the first answers (then `default`); `delay` makes it slow to answer.
    With `tls`, it serves HTTPS and records the client certificate's subject (None without one).
    """

    def __init__(self, plan: Iterable[int] = (), default: int = 200, delay: float = 0.0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.plan = list(plan)
        self.default = default
        self.delay = delay
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes: without this, Nagle's algorithm and the client's
                # delayed ACK hold the body back ~40 ms on every callback.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                peer = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
                with receiver._lock:
                    status = receiver.plan.pop(0) if receiver.plan else receiver.default
                    receiver.received.append({
                        "path": self.path, "body": json.loads(raw), "status": status, "time": time.monotonic(),
                        "content_type": self.headers.get("content-type"), "peer_cert": peer,
                    })
                if receiver.delay:
                    time.sleep(receiver.delay)
                payload = b'{"ok": true}'
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/callbacks"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bodies(self) -> list[Any]:
        with self._lock:
            return [entry["body"] for entry in self.received]

    def gp_statuses(self, firm_root_id: str) -> list[str]:
        return [b["callbacks"][0]["paymentStatus"] for b in self.bodies()
                if "callbacks" in b and b["callbacks"][0].get("firmRootId") == firm_root_id]

    def pbb_statuses(self, resource_id: str) -> list[str]:
        return [b["status"] for b in self.bodies() if b.get("id") == resource_id]


# -- the scenario runner ---------------------------------------------------------------------------------------------

_DATE = re.compile(r"^\$today(?:([+-])(\d+)d)?$")
_MISSING = object()


def _resolve(value: Any, given: httpx.Response | None, current: Any = _MISSING) -> Any:
    """A scenario value with `$response.body#`, `$today[+-Nd]` and `$present` resolved; `current` is the example's
    value there (`$present` keeps it; a date replacing a card expiry {month, year} takes that day's month)."""
    if value == "$present":
        assert current is not _MISSING, "the scenario asks for a value its example does not carry"
        return current
    if isinstance(value, str) and value.startswith("$response.body#"):
        assert given is not None
        return get_pointer(given.json(), value[len("$response.body#"):])
    if isinstance(value, str) and _DATE.match(value):
        sign, days = _DATE.match(value).groups()
        delta = int(days or 0) * (-1 if sign == "-" else 1)
        day = utc_today() + dt.timedelta(days=delta)
        if isinstance(current, dict) and {"month", "year"} <= set(current):
            if delta < 0:  # a card is good to the end of its expiry month: the month before this one
                day = day.replace(day=1) - dt.timedelta(days=1)
            return {**current, "month": day.month, "year": day.year}
        return day.isoformat()
    return value


def _fresh_body_keys(spec_name: str, operation_id: str, body: Any) -> None:
    """Every scenario is a new resource: the idempotency keys the rules table reads from the body get new values
    (header keys are fresh already, see `Api.op` and `Api.pbb`)."""
    for entry in spec(spec_name).rules.idempotency:
        if operation_id in entry.operations and entry.key.startswith("$request.body#"):
            set_pointer(body, entry.key.partition("#")[2], unique("K"))


def scenario_request(api: Api, spec_name: str, operation_id: str, when: dict[str, Any],
                     given: httpx.Response | None = None, path: dict[str, Any] | None = None,
                     example_names: tuple[str, ...] = ()) -> httpx.Response:
    """Send the operation's example (the first, or the first of `example_names` the document has) with `when`
    applied, as a rules-table scenario says."""
    the_spec = spec(spec_name)
    operation = the_spec.operations[operation_id]
    body = example(spec_name, operation_id, *example_names)
    if isinstance(body, dict):
        _fresh_body_keys(spec_name, operation_id, body)
    for pointer, value in when.items():
        try:
            current = get_pointer(body, pointer)
        except (KeyError, IndexError, TypeError):
            current = _MISSING
        set_pointer(body, pointer, _resolve(value, given, current))
    url_path = operation.path
    for name, value in (path or {}).items():
        url_path = url_path.replace("{" + name + "}", str(_resolve(value, given)))
    if spec_name == "oauth":
        return api.http.post(api.mock.origin + the_spec.base_path + url_path, data=body,
                             auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    method = operation.method
    if spec_name == "online-payments":
        return api.op(method, url_path, body)
    if spec_name == "pay-by-bank":
        return api.pbb(method, url_path, body)
    return api.gp(method, url_path, body)


def settle_given(api: Api, spec_name: str, answer: httpx.Response) -> None:
    """A Pay By Bank payout needs its source payment SETTLED: wait for it before the scenario's request."""
    if spec_name == "pay-by-bank" and answer.status_code == 201 and "paymentLinkURL" in answer.json():
        payment_id = answer.json()["id"]
        wait_until(lambda: api.pbb("GET", f"/payments/{payment_id}").json()["status"] in ("SETTLED", "FAILED",
                                                                                         "CANCELLED"),
                   what="the given payment to reach a final status")
