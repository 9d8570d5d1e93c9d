"""Every client we run has a total deadline per exchange (issue 13, item 8).

A peer that trickles its answer one byte every half second never trips a per-read timeout: each
test points one of our clients at such a peer and requires that it gives up after its deadline with
a timeout, not after the peer runs out of bytes (TRICKLE_CAP, 20 s) with a dropped connection.
"""

from __future__ import annotations

import pytest
from client_peers import one_error_line, trickler

from conformance import load_spec
from conformance.auth import OAuthClient
from conformance.callbacks import Sender
from conformance.cli import main
from conformance.suites._requests import build
from conformance.suites._runtime import RunSettings, Target

TOKEN_PATH = "/am/oauth2/alpha/access_token"
TOKEN = {"access_token": "trickle-test-token-0001", "token_type": "Bearer", "expires_in": 3600}


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "trickle-client")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "trickle-secret-value")


@pytest.mark.parametrize("headers_too", [True, False], ids=["headers-trickled", "body-trickled"])
def test_certify_gives_up_on_a_trickling_origin_with_exit_3(tmp_path, capsys, credentials, headers_too):
    """The first contact (the reachability probe) has the deadline: one line, exit 3."""
    with trickler(headers_too=headers_too) as peer:
        code = main(["certify", "--origin", peer.origin, "--request-timeout", "1", "--quiet",
                     "--report-dir", str(tmp_path / "reports")])
    assert code == 3 and peer.outlasted == 0  # every client of the run gave up on the trickle
    assert "did not answer within 1 s" in one_error_line(capsys.readouterr().err)


def test_callbacks_gives_up_on_a_trickling_receiver_with_exit_3(tmp_path, capsys):
    with trickler() as peer:
        code = main(["callbacks", "--api", "pay-by-bank", "--target", peer.origin + "/cb/{webhook}",
                     "--deadline", "1", "--profile", "quick", "--report-dir", str(tmp_path / "reports")])
    assert code == 3 and peer.outlasted == 0  # every client of the run gave up on the trickle
    assert "did not answer within 1 s" in one_error_line(capsys.readouterr().err)


def test_a_callback_trickled_back_is_a_missed_deadline(tmp_path):
    """Past the probe, a receiver that trickles its acknowledgement has missed the deadline (a failure, judged)."""
    with trickler(headers_too=False) as peer, Sender(1.0) as sender:
        delivery = sender.deliver(peer.origin + "/cb/payments", b'{"id": "p1"}', "application/json")
    assert delivery.outcome == "timeout" and peer.outlasted == 0, delivery
    assert "1 s deadline" in delivery.observed


def test_the_client_proxy_gives_up_on_a_trickling_sandbox():
    """`conformance client --upstream URL` checks first that the sandbox answers: with the deadline too."""
    from conformance import TargetUnreachable
    from conformance.client._upstream import Upstream

    with trickler() as peer:
        with pytest.raises(TargetUnreachable, match="did not answer within 1 s"):
            Upstream(peer.origin, deadline=1.0).probe()
    assert peer.outlasted == 0


def test_the_token_client_gives_up_on_a_trickling_token_endpoint():
    from conformance import TargetUnreachable

    with trickler() as peer:
        client = OAuthClient(peer.origin + TOKEN_PATH, "trickle-client", "trickle-secret-value", timeout=1.0)
        try:
            with pytest.raises(TargetUnreachable, match="did not answer within 1 s"):
                client.token()
        finally:
            client.close()
    assert peer.outlasted == 0


@pytest.mark.parametrize("headers_too", [True, False], ids=["headers-trickled", "body-trickled"])
def test_certify_requests_have_a_total_deadline(headers_too):
    """A request of the suites (Schemathesis over requests) answered by trickle: judged "no answer in time"."""
    spec = load_spec("global-payments")
    with trickler(headers_too=headers_too, prompt={TOKEN_PATH: TOKEN}) as peer:
        settings = RunSettings(specs=[str(spec.path)], apis=[spec.name], base_urls={spec.name: peer.origin},
                               token_url=peer.origin + TOKEN_PATH, client_id="trickle-client",
                               client_secret="trickle-secret-value", timeout=1.0)
        target = Target(settings)
        try:
            operation = next(op for op, o in spec.operations.items() if not o.webhook and o.method == "GET")
            call = target.send(build(spec, operation))
        finally:
            target.close()
    assert call.status is None
    failures = [record for record in target.collector.to_records() if record["kind"] == "failed"]
    assert [(record["title"], record["observed"]) for record in failures] == [("No answer in time", "no answer")]
    assert peer.trickled == 1 and peer.outlasted == 0
