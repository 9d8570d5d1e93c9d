"""Determinism, the `conformance examples` command, and a generated request sent through Schemathesis."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import strategies as st

import strategies
from conformance import load_spec
from conformance.cli import main
from strategies.formats import TEST_CARDS

# -- determinism -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: strategies.requests("pay-by-bank", "createPayment"),
    lambda: strategies.callbacks("global-payments", "paymentInitiationStatus"),
    lambda: strategies.invalid("online-payments", "V2PaymentPost"),
], ids=["requests", "callbacks", "invalid"])
def test_the_same_seed_yields_the_same_examples(make) -> None:
    def shown(values):
        return [json.dumps(v.as_dict() if hasattr(v, "as_dict") else
                           [v[0].as_dict(), str(v[1])] if isinstance(v, tuple) else v, sort_keys=True, default=str)
                for v in values]

    first = shown(strategies.sample(make(), 12, seed=5))
    again = shown(strategies.sample(make(), 12, seed=5))
    other = shown(strategies.sample(make(), 12, seed=6))
    assert first == again
    assert first != other


def test_a_sample_is_distinct_even_where_the_engine_repeats_itself() -> None:
    """Hypothesis' engine repeats about one Global Payments callback in eight; a sample of them repeats none."""
    bodies = strategies.sample(strategies.callbacks("global-payments", "paymentInitiationStatus"), 300, seed=3)
    assert len(bodies) == 300
    assert len({json.dumps(body, sort_keys=True) for body in bodies}) == 300


def test_a_strategy_with_fewer_values_than_asked_fills_up_with_repeats() -> None:
    drawn = strategies.sample(st.sampled_from(["A", "B", "C"]), 7, seed=1)
    assert len(drawn) == 7 and set(drawn[:3]) == {"A", "B", "C"}


# -- the CLI ---------------------------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(["examples", *argv])
    out, err = capsys.readouterr()
    return code, [line for line in out.splitlines() if line], err


def test_examples_prints_n_json_lines_for_an_operation(capsys) -> None:
    code, lines, _ = run(capsys, "--api", "pay-by-bank", "--operation", "createPayment", "-n", "4", "--seed", "3")
    assert code == 0 and len(lines) == 4
    spec = load_spec("pay-by-bank")
    validator = spec.validator("#/components/schemas/PaymentCreate", "request")
    for line in lines:
        request = json.loads(line)
        assert request["method"] == "POST" and request["path"] == "/payments"
        assert validator.is_valid(request["body"]) and request["headers"]["Idempotency-Key"]


def test_examples_for_a_callback_status_and_the_same_seed_twice(capsys) -> None:
    argv = ("--api", "global-payments", "--callback", "paymentInitiationStatus", "--status", "BLOCKED",
            "-n", "3", "--seed", "9")
    code, lines, _ = run(capsys, *argv)
    assert code == 0 and len(lines) == 3
    assert all(r["paymentStatus"] == "BLOCKED" for line in lines for r in json.loads(line)["callbacks"])
    assert run(capsys, *argv)[1] == lines


def test_examples_invalid_names_the_rule(capsys) -> None:
    code, lines, _ = run(capsys, "--api", "pay-by-bank", "--callback", "paymentCallback", "--invalid", "enum:/status",
                         "-n", "2")
    assert code == 0 and len(lines) == 2
    for line in lines:
        shown = json.loads(line)
        assert shown["rule"] == "enum:/status" and shown["keyword"] == "enum"
        assert shown["example"]["status"] not in ("NONE", "SENT", "SETTLED", "FAILED", "CANCELLED")
    code, lines, _ = run(capsys, "--api", "online-payments", "--operation", "V2PaymentPost", "--invalid", "any",
                         "-n", "5")
    assert code == 0 and len(lines) == 5 and all(json.loads(line)["rule"] for line in lines)


def test_examples_print_no_card_number_but_documented_test_cards(capsys) -> None:
    """Examples print whole (tests/test_examples_card_data.py): no card number but a documented test card.

    Payments draw one of sixteen methods; a fraud check names a card in about one draw in three.
    """
    documented = {pan for cards in TEST_CARDS.values() for pan in cards}
    pans = []
    for operation in ("V2PaymentPost", "V2FraudCheckPost"):
        code, lines, _ = run(capsys, "--api", "online-payments", "--operation", operation, "-n", "30", "--seed", "1")
        assert code == 0 and len(lines) == 30
        for line in lines:
            card = json.loads(line)["body"]["paymentMethodType"].get("card") or {}
            if "accountNumber" in card and card.get("accountNumberType") in (None, "PAN"):
                pans.append(card["accountNumber"])
    assert pans, "no PAN printed: nothing was checked"
    assert set(pans) <= documented


def test_examples_list_json_names_every_target(capsys) -> None:
    code, lines, _ = run(capsys, "--list", "--json")
    assert code == 0
    rows = [json.loads(line) for line in lines]
    assert {(r["api"], r["kind"], r["name"]) for r in rows} >= {
        ("pay-by-bank", "callback", "payments"), ("global-payments", "callback", "paymentInitiationStatus"),
        ("online-payments", "operation", "V2PaymentPost"), ("oauth", "operation", "requestAccessToken"),
    }
    for row in rows:
        assert row["spec"].endswith(".yaml") and row["pointer"].startswith("#/")
        load_spec(row["spec"]).resolve(row["pointer"])
        assert isinstance(row["rules"], list)


@pytest.mark.parametrize("argv", [
    ("--api", "no-such-api", "--operation", "x"),
    ("--api", "pay-by-bank", "--operation", "noSuchOperation"),
    ("--api", "pay-by-bank", "--callback", "noSuchCallback"),
    ("--api", "pay-by-bank", "--operation", "payments"),
    ("--api", "pay-by-bank", "--callback", "payments", "--status", "LOST"),
    ("--api", "pay-by-bank", "--callback", "payments", "--invalid", "enum:/nope"),
    ("--api", "pay-by-bank", "--operation", "createPayment", "--status", "NONE"),
    ("--api", "pay-by-bank"),
], ids=["api", "operation", "callback", "kind", "status", "rule", "status-on-operation", "nothing"])
def test_unknown_names_end_in_one_line_and_exit_code_2(capsys, argv) -> None:
    code, lines, err = run(capsys, *argv)
    assert code == 2 and not lines
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# -- a generated request, sent through Schemathesis to a real server ---------------------------------


class _Recorder(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length", 0))
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.received = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_request_goes_out_through_schemathesis_as_generated(recorder: str) -> None:
    spec = load_spec("pay-by-bank")
    request = strategies.sample(strategies.requests(spec, "createPayment"), 1, seed=4)[0]
    response = request.case(spec.schemathesis(recorder)).call(base_url=recorder + spec.base_path)
    assert response.status_code == 201
    sent = _Recorder.received[0]
    assert sent["path"] == "/tsapi/pay-by-bank/v2/payments" == request.url("http://x").removeprefix("http://x")
    assert json.loads(sent["body"]) == request.body
    assert sent["headers"]["Idempotency-Key"] == request.headers["Idempotency-Key"]
