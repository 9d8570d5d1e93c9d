"""Rules no mock fault breaks, proven against a real server that breaks them: a proxy in front of the mock.

`certify --origin PROXY --callback-listen HOST:PORT` runs as against a provider's sandbox: the proxy
forwards every request to the embedded mock and every callback to the sink, rewriting one thing. Through
a transparent proxy the run conforms; with each mutation it names the rule the mutation breaks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from conformance.cli import main
from conformance.mock import MockServer
from conformance.suites._environment import WRONG_SCOPE

CLIENT_ID, CLIENT_SECRET = "proxy-tests", "proxy-tests-secret-value"
CALLBACKS = "/__callbacks"
SINK_TOKEN = "proxy-tests-sink-token"

Mutation = Callable[[str, str, int, Any], tuple[int, Any]]


class Proxy(ThreadingHTTPServer):
    """Forwards to the mock (answers) and to the sink (callbacks), letting `mutate` rewrite JSON on the way."""

    daemon_threads = True

    def __init__(self, upstream: str, sink_url: str) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream, self.sink_url = upstream, sink_url
        self.mutate_answer: Mutation | None = None
        self.mutate_callback: Callable[[Any], Any] | None = None
        self.http = httpx.Client(timeout=10)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Proxy

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        if self.path.startswith(CALLBACKS):
            body = json.loads(raw)
            if self.server.mutate_callback is not None:
                body = self.server.mutate_callback(body)
                if body is None:  # swallowed
                    return self._reply(200, {}, b"")
            answer = self.server.http.post(self.server.sink_url + self.path[len(CALLBACKS):], json=body)
            return self._reply(answer.status_code, {}, answer.content)
        answer = self.server.http.request(self.command, self.server.upstream + self.path, content=raw, headers=headers)
        content, status = answer.content, answer.status_code
        if self.server.mutate_answer is not None and "json" in answer.headers.get("content-type", ""):
            status, body = self.server.mutate_answer(self.command, self.path, status, json.loads(content))
            content = json.dumps(body).encode()
        passed = {k: v for k, v in answer.headers.items()
                  if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
        self._reply(status, passed, content)

    def _reply(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward


@pytest.fixture
def proxy(reserved_port):
    """A fresh mock behind a fresh proxy for each run, so that no callback of one run reaches the next."""
    port = reserved_port
    scopes = ("jpm:payments:sandbox", WRONG_SCOPE)
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=scopes) as mock:
        server = Proxy(mock.origin, f"http://127.0.0.1:{port}/{SINK_TOKEN}")
        server.listen_port = port
        mock.set_callback_url(server.origin + CALLBACKS + "/{api}/{webhook}")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server
        server.shutdown()
        server.http.close()


@pytest.fixture
def run(proxy, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("CONFORMANCE_SINK_TOKEN", SINK_TOKEN)

    def certify(*args: str) -> tuple[int, str]:
        code = main(["certify", "--origin", proxy.origin, "--callback-listen", f"127.0.0.1:{proxy.listen_port}",
                     "--report-dir", str(tmp_path / "reports"), "--quiet", "--rate-limit", "0", "--seed", "5", *args])
        out, err = capsys.readouterr()
        return code, out + err

    yield certify
    proxy.mutate_answer = proxy.mutate_callback = None


def test_through_a_transparent_proxy_the_mock_conforms(run):
    code, output = run()
    assert code == 0, output


def _answers(method: str | None, path_part: str, change: Callable[[dict], None]) -> Mutation:
    def mutate(verb: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        if method in (None, verb) and path_part in path and 200 <= status < 300 and isinstance(body, dict):
            change(body)
        return status, body
    return mutate


def _status(method: str, path_part: str, new_status: int) -> Mutation:
    def mutate(verb: str, path: str, status: int, body: Any) -> tuple[int, Any]:
        return (new_status if verb == method and path_part in path else status), body
    return mutate


def _drop_captures_cancelled(body: dict) -> None:
    for capture in (body.get("paymentRequest") or {}).get("captures") or []:
        if capture.get("transactionStatusCode") == "CANCELLED":
            capture["transactionStatusCode"] = "CLOSED"


def _reopen_voided(body: dict) -> None:
    if body.get("transactionState") == "VOIDED":
        body["transactionState"] = "AUTHORIZED"


ANSWER_MUTATIONS = {
    "OP-DOCUMENTED-STATUS": ("online-payments", _status("GET", "/healthcheck/payments", 202)),
    "OP-RESPONSE-SCHEMA": ("online-payments", _answers("POST", "/api/v2/payments", lambda b: b.update(
        transactionId=12345))),
    "OP-RESPONSE-ECHOES-REQUEST-ID": ("online-payments", _answers("POST", "/api/v2/payments", lambda b: b.update(
        requestId="not-the-request-id"))),
    "OP-MASKED-PAN-MATCHES-CARD": ("online-payments", _answers("POST", "/api/v2/payments", lambda b: b.get(
        "paymentMethodType", {}).get("card", {}).update(maskedAccountNumber="411111XXXXXX1111"))),
    "OP-REMAINING-REFUNDABLE-NOT-ABOVE-AMOUNT": ("online-payments", _answers(
        "GET", "/api/v2/payments/", lambda b: b.update(remainingRefundableAmount=b.get("amount", 0) + 100))),
    "OP-STATUS-COVERAGE": ("online-payments", _answers(None, "/api/v2/payments/", _drop_captures_cancelled)),
    "OP-PAYMENT-STATE-TRANSITIONS": ("online-payments", _answers("GET", "/api/v2/payments/", _reopen_voided)),
    "PBB-CREATED-NOT-AFTER-STATUS-UPDATE": ("pay-by-bank", _answers(
        "GET", "/pay-by-bank/v2/payments/", lambda b: b.update(createdAt="2999-01-01T00:00:00Z"))),
    "OAUTH-TOKEN-ECHOES-SCOPE": ("oauth", _answers("POST", "/access_token", lambda b: b.update(scope="jpm:other"))),
}


@pytest.mark.parametrize("rule", list(ANSWER_MUTATIONS))
def test_a_provider_breaking_a_rule_in_its_answers_is_caught(proxy, run, rule):
    api, mutation = ANSWER_MUTATIONS[rule]
    proxy.mutate_answer = mutation
    code, output = run("--api", api)
    assert code == 1, output
    assert rule in output.split("rules failed:")[-1], output


def _drop_first_payment_callback(body: Any) -> Any:
    return None if isinstance(body, dict) and body.get("status") == "NONE" else body


def _payout_names_another_payment(body: Any) -> Any:
    if isinstance(body, dict) and "payoutReference" in body:
        body["sourcePaymentId"] = "someone-else"
    return body


CALLBACK_MUTATIONS = {
    "PBB-FIRST-PAYMENT-CALLBACK-NONE": ("pay-by-bank", _drop_first_payment_callback),
    "PBB-CALLBACK-CORRELATES-WITH-PAYOUT": ("pay-by-bank", _payout_names_another_payment),
}


@pytest.mark.parametrize("rule", list(CALLBACK_MUTATIONS))
def test_a_provider_breaking_a_rule_in_its_callbacks_is_caught(proxy, run, rule):
    api, mutation = CALLBACK_MUTATIONS[rule]
    proxy.mutate_callback = mutation
    code, output = run("--api", api)
    assert code == 1, output
    assert rule in output.split("rules failed:")[-1], output
