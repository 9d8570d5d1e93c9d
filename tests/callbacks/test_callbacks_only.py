"""`conformance callbacks --only WEBHOOK:STATUS [--body FILE]`: one chosen callback, sent to a real receiver."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from callbacks_support import one_line_error

from conformance._specs import load_spec
from conformance.callbacks import webhooks


@pytest.fixture
def receiver():
    """A loopback receiver that keeps what it is sent and answers `answers["status"]`."""
    received: list[dict] = []
    answers = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
            self.send_response(answers["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received, answers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_only_sends_one_valid_callback_of_the_chosen_status(run_callbacks, receiver):
    origin, received, _ = receiver
    run = run_callbacks("--api", "global-payments", "--target", f"{origin}/cb/{{webhook}}",
                        "--only", "paymentInitiationStatus:COMPLETED")
    assert run.code == 0, run.out + run.err
    assert len(received) == 1 and received[0]["path"] == "/cb/paymentInitiationStatus"
    assert received[0]["headers"]["Content-Type"] == "application/json"
    body = json.loads(received[0]["body"])
    assert [record["paymentStatus"] for record in body["callbacks"]] == ["COMPLETED"]
    spec = load_spec("global-payments")
    webhook = next(w for w in webhooks(spec) if w.name == "paymentInitiationStatus")
    assert spec.validator(webhook.schema_pointer, "response").is_valid(body)
    sent = f"sent paymentInitiationStatus COMPLETED to {origin}/cb/paymentInitiationStatus: HTTP 200 in "
    assert run.out.startswith(sent)
    assert not run.report_dir.exists()  # one callback, no certification


def test_only_with_a_body_sends_the_file_as_is_and_says_it_does_not_match(run_callbacks, receiver, tmp_path):
    origin, received, _ = receiver
    own = tmp_path / "custom.json"
    own.write_bytes(b'{"paymentId": "my-own-id",  "status": "SETTLED", "extra": true}')
    run = run_callbacks("--api", "pay-by-bank", "--target", origin, "--only", "payments:SETTLED", "--body", str(own))
    assert run.code == 0, run.out + run.err
    assert received[0]["body"] == own.read_bytes()  # byte for byte, double space included
    assert "note: " in run.err and "does not match the payments schema" in run.err and "sent as is" in run.err


def test_only_reports_a_receiver_that_does_not_acknowledge(run_callbacks, receiver):
    origin, received, answers = receiver
    answers["status"] = 500
    run = run_callbacks("--api", "pay-by-bank", "--target", origin, "--only", "payouts:FAILED")
    assert run.code == 1 and "HTTP 500" in run.out and len(received) == 1


@pytest.mark.parametrize("choice, fragments", [
    ("payments:PROCESSING", ("'PROCESSING' is not a documented status of payments", "NONE, SENT")),
    ("refunds:SETTLED", ("pay-by-bank has no webhook 'refunds'", "payments, payouts")),
    ("payments", ("--only takes WEBHOOK:STATUS",)),
])
def test_only_refuses_what_the_spec_does_not_document(run_callbacks, receiver, choice, fragments):
    origin, received, _ = receiver
    one_line_error(run_callbacks("--api", "pay-by-bank", "--target", origin, "--only", choice), 2, *fragments)
    assert received == []


def test_body_without_only_is_a_usage_error(run_callbacks, receiver, tmp_path):
    origin, _, _ = receiver
    (tmp_path / "b.json").write_text("{}")
    one_line_error(run_callbacks("--api", "pay-by-bank", "--target", origin, "--body", str(tmp_path / "b.json")), 2,
                   "--body goes with --only")
