"""Probe class 9, the callback sink facing forgers and broken peers: only its per-run token's paths are
served (a forged callback elsewhere is 404 and never judged), framing and queries it cannot read are a
400 without a traceback, bodies are capped, and what it keeps and serves is redacted."""

from __future__ import annotations

import json

import httpx
import pytest
from hostile_support import PATIENCE, exchange, status_of

from conformance.reporting import Recorder
from conformance.serving import ServerLimits
from conformance.sink import CallbackSink

PAYMENT = {"id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "status": "NONE", "createdAt": "2024-05-01T10:40:00Z",
           "statusUpdatedAt": "2024-05-01T10:40:00Z", "paymentLinkURL": "https://pay.example.com/l/1",
           "paymentQRCode": "https://pay.example.com/q/1.png"}
LIMITS = ServerLimits(max_body_bytes=8192, header_timeout=0.5, body_timeout=0.5, idle_timeout=0.5)


@pytest.fixture
def sink(tmp_path):
    recorder = Recorder(tmp_path, command="certify")
    with CallbackSink(refusals=0, limits=LIMITS, recorder=recorder) as server:
        yield server


def test_a_forged_callback_outside_the_token_is_404_and_never_judged(sink):
    forged = [f"{sink.origin}/callbacks", f"{sink.origin}/pay-by-bank/payments",
              f"{sink.origin}/{'x' * len(sink.token)}/pay-by-bank/payments", f"{sink.origin}/_sink/deliveries"]
    for url in forged:
        assert httpx.post(url, json=PAYMENT, timeout=PATIENCE).status_code == 404, url
        assert httpx.get(url, timeout=PATIENCE).status_code == 404, url
    assert sink.deliveries == [] and sink.results == []
    assert httpx.post(sink.url_for("pay-by-bank", "payments"), json=PAYMENT, timeout=PATIENCE).status_code == 200
    assert len(sink.deliveries) == 1


@pytest.mark.parametrize(("head", "status"), [
    (b"Content-Length: abc\r\n\r\n{}", 400),
    (b"Content-Length: 1000000000000\r\n\r\n{}", 413),
    (b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
])
def test_framing_the_sink_cannot_read_is_refused_without_a_traceback(sink, capfd, head, status):
    path = f"/{sink.token}/pay-by-bank/payments".encode()
    answer = exchange(sink.port, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head)
    assert status_of(answer) == status
    assert sink.deliveries == []
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("query", ["since=abc", "since=-1", "sinse=1"])
def test_a_query_the_sink_cannot_read_is_400_without_a_traceback(sink, capfd, query):
    answer = httpx.get(f"{sink.base}/_sink/deliveries?{query}", timeout=PATIENCE)
    assert answer.status_code == 400
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_above_the_cap_is_413(sink):
    big = dict(PAYMENT, padding="x" * LIMITS.max_body_bytes)
    assert httpx.post(sink.url_for("pay-by-bank", "payments"), json=big, timeout=PATIENCE).status_code == 413
    assert sink.deliveries == []


def test_what_the_sink_keeps_and_serves_is_redacted(sink, tmp_path):
    card = {"number": "4012000033330026", "cvv": "123", "expiryDate": "12/30"}
    answer = httpx.post(sink.url_for("pay-by-bank", "payments"), json=dict(PAYMENT, card=card), timeout=PATIENCE,
                        headers={"authorization": "Bearer callback-secret-token"})
    assert answer.status_code == 200
    served = json.dumps(httpx.get(f"{sink.base}/_sink/deliveries", timeout=PATIENCE).json())
    kept = json.dumps([d.body for d in sink.deliveries] + [d.text for d in sink.deliveries]
                      + [d.headers for d in sink.deliveries] + [d.path for d in sink.deliveries])
    recorded = (tmp_path / "callbacks.ndjson").read_text()
    for text in (served, kept, recorded):
        assert "401200XXXXXX0026" in text
        for secret in ("4012000033330026", '"123"', "12/30", "callback-secret-token", sink.token):
            assert secret not in text


def test_a_sender_faster_than_the_judging_waits_instead_of_piling_up(tmp_path):
    """Judging runs after the answer, on one thread; past `max_judgements_due` waiting judgements a new
    callback is not answered until one is done, so a flooding sender is slowed, never held in memory."""
    import threading
    import time

    judging = threading.Event()
    with CallbackSink(refusals=0, limits=LIMITS, max_judgements_due=2) as sink:
        original = sink.judge.callback
        sink.judge.callback = lambda delivery: (judging.wait(PATIENCE), original(delivery))[1]
        url = sink.url_for("pay-by-bank", "payments")
        answers: dict[int, int] = {}

        def send(number: int) -> None:
            body = dict(PAYMENT, id=f"7c9e6679-7425-40de-944b-e07fc1f9{number:04d}")
            answers[number] = httpx.post(url, json=body, timeout=PATIENCE).status_code

        senders = [threading.Thread(target=send, args=(number,)) for number in range(4)]
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + PATIENCE
        while len(answers) < 2 and time.monotonic() < deadline:  # two are answered: their judgements are due
            time.sleep(0.02)
        time.sleep(0.3)  # room for a third answer, had the sink queued it
        answered_while_judging_held = len(answers)
        judging.set()
        for sender in senders:
            sender.join(PATIENCE)
        judged = len(sink.results)  # waits for the judgements due
    assert answered_while_judging_held == 2  # one being judged, one queued: the other two senders wait
    assert answers == {number: 200 for number in range(4)} and judged > 0 and len(sink.deliveries) == 4
