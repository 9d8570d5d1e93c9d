"""Callback delivery to real local receivers: order, at-least-once retries, giving up, mutual TLS, admin."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest
import trustme
from mock_support import Api, Receiver, spec, wait_until

from conformance import UsageError
from conformance.mock import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockServer, RetryPolicy

# The canonical initiation for today (UK Faster Payments) completes (GP-SCENARIO-COMPLETED).
NORMAL_PATH = list(spec("global-payments").rules.scenario("GP-SCENARIO-COMPLETED").callbacks.statuses)
TWO_CALLBACKS = {"/payments/paymentAmount": 100.04}  # GP-SCENARIO-REJECTED: PENDING, then REJECTED


def test_a_receiver_answering_500_twice_gets_the_callback_three_times_and_no_more():
    policy = RetryPolicy(base=0.01, factor=2, cap=0.1, attempts=6)
    with Receiver(plan=[500, 500]) as receiver, MockServer(callback_url=receiver.url, retry=policy,
                                                             callback_interval=0.01) as mock:
        api = Api(mock)
        ack = api.gp_initiated()
        wait_until(lambda: receiver.gp_statuses(ack["firmRootId"])[-1:] == NORMAL_PATH[-1:], what="delivery")
        assert mock.wait_idle()  # the last status reached, every callback delivered: nothing more will come
        # Callbacks of one payment go out one after another: nothing overtakes the PENDING being retried.
        assert receiver.gp_statuses(ack["firmRootId"]) == ["PENDING"] * 3 + NORMAL_PATH[1:]
        attempts = [entry for entry in mock.callback_log if entry["resource"] == ack["firmRootId"]]
        assert [(a["attempt"], a["status"]) for a in attempts[:3]] == [(1, 500), (2, 500), (3, 200)]
        assert mock.given_up == []
        api.close()


def test_pay_by_bank_retries_too_and_keeps_order():
    policy = RetryPolicy(base=0.01, factor=2, cap=0.1, attempts=6)
    with Receiver(plan=[503]) as receiver, MockServer(callback_url=receiver.url, retry=policy,
                                                        callback_interval=0.01) as mock:
        api = Api(mock)
        payment = api.pbb_payment().json()
        wait_until(lambda: receiver.pbb_statuses(payment["id"])[-1:] == ["SETTLED"], what="delivery")
        assert receiver.pbb_statuses(payment["id"]) == ["NONE", "NONE", "SENT", "SETTLED"]
        api.close()


def test_undeliverable_callbacks_are_retried_then_given_up_and_recorded():
    policy = RetryPolicy(base=0.01, factor=2, cap=0.05, attempts=3)
    with Receiver(default=500) as receiver, MockServer(callback_url=receiver.url, retry=policy,
                                                         callback_interval=0.01) as mock:
        api = Api(mock)
        ack = api.gp_initiated(**TWO_CALLBACKS)  # PENDING then REJECTED
        wait_until(lambda: len(mock.given_up) == 2, what="both callbacks to be given up")
        assert receiver.gp_statuses(ack["firmRootId"]) == ["PENDING"] * 3 + ["REJECTED"] * 3
        first = mock.given_up[0]
        assert first["attempts"] == 3 and first["last_status"] == 500 and first["url"] == receiver.url + "/status"
        assert first["body"]["callbacks"][0]["paymentStatus"] == "PENDING"
        log = api.admin("GET", "/_mock/callbacks").json()
        assert len(log["given_up"]) == 2
        assert {"time", "url", "status", "error", "body", "attempt"} <= set(log["attempts"][0])
        api.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_retried_then_given_up():
    policy = RetryPolicy(base=0.01, factor=2, cap=0.05, attempts=4)
    url = f"http://127.0.0.1:{_closed_port()}/callbacks"
    with MockServer(callback_url=url, retry=policy, callback_interval=0.01) as mock:
        api = Api(mock)
        payment = api.pbb_payment(**{"/paymentAmount/value": "20.02"}).json()  # NONE then CANCELLED
        wait_until(lambda: len(mock.given_up) == 2, what="both callbacks to be given up")
        attempts = [entry for entry in mock.callback_log if entry["resource"] == payment["id"]]
        assert len(attempts) == 8
        assert all(a["status"] is None and "Connect" in a["error"] for a in attempts)
        api.close()


def test_a_receiver_that_does_not_answer_in_time_is_retried():
    policy = RetryPolicy(base=0.01, factor=2, cap=0.05, attempts=2, timeout=0.2)
    with Receiver(delay=0.5) as receiver, MockServer(callback_url=receiver.url, retry=policy,
                                                     callback_interval=0.01) as mock:
        api = Api(mock)
        ack = api.gp_initiated(**TWO_CALLBACKS)
        wait_until(lambda: len(mock.given_up) == 2, what="both callbacks to be given up")
        attempts = [entry for entry in mock.callback_log if entry["resource"] == ack["firmRootId"]]
        assert len(attempts) == 4 and all("timed out" in a["error"] for a in attempts)
        api.close()


def test_back_off_grows_by_the_factor_up_to_the_cap():
    policy = RetryPolicy(base=0.05, factor=2, cap=0.3, attempts=6)
    assert [policy.delay(n) for n in range(1, 6)] == [0.05, 0.1, 0.2, 0.3, 0.3]
    with pytest.raises(UsageError):
        RetryPolicy(attempts=0)


def test_without_a_callback_url_nothing_is_sent_and_the_log_says_so(mock, api):
    mock.set_callback_url(None)
    payment = api.pbb_payment().json()
    wait_until(lambda: any(e["resource"] == payment["id"] for e in mock.callback_log), what="a log entry")
    entry = next(e for e in mock.callback_log if e["resource"] == payment["id"])
    assert entry["error"] == "no callback URL registered"


def test_the_admin_endpoint_registers_the_callback_url(mock, api):
    with Receiver() as receiver:
        registered = api.admin("POST", "/_mock/callback-url", json={"url": receiver.url})
        assert registered.status_code == 200 and registered.json() == {"url": receiver.url}
        assert mock.callback_url == receiver.url
        ack = api.gp_initiated()
        wait_until(lambda: receiver.gp_statuses(ack["firmRootId"]) == NORMAL_PATH, what="every callback")
        assert receiver.received[0]["content_type"] == "application/json"
        assert api.admin("POST", "/_mock/callback-url", json={"url": "ftp://x"}).status_code == 400
        assert api.admin("POST", "/_mock/callback-url", content=b"nope").status_code == 400
        assert api.admin("POST", "/_mock/callback-url", json={"url": None}).json() == {"url": None}
    with pytest.raises(UsageError):
        mock.set_callback_url("not a url")


def test_admin_index_and_faults(mock, api):
    index = api.admin("GET", "/_mock").json()
    assert index["apis"]["pay-by-bank"] == "/tsapi/pay-by-bank/v2"
    faults = api.admin("GET", "/_mock/faults").json()
    assert faults["active"] == [] and len(faults["faults"]) >= 20


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a receiver certificate for 127.0.0.1, and a client certificate for the mock."""
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("pki")
    server = ca.issue_cert("127.0.0.1")
    client = ca.issue_cert("conformance-mock-client")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    client_file = folder / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(client_file)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    return {"ca": ca_file, "client": client_file, "receiver_context": context}


def test_mutual_tls_on_the_callback_channel(pki):
    policy = RetryPolicy(base=0.01, factor=2, cap=0.05, attempts=2)
    with Receiver(tls=pki["receiver_context"]) as receiver:
        with MockServer(callback_url=receiver.url, retry=policy, callback_interval=0.01,
                        callback_client_cert=pki["client"], callback_ca=pki["ca"]) as mock:
            api = Api(mock)
            ack = api.gp_initiated()
            wait_until(lambda: receiver.gp_statuses(ack["firmRootId"]) == NORMAL_PATH, what="callbacks over mTLS")
            presented = receiver.received[0]["peer_cert"]  # the mock's client certificate, as the receiver saw it
            assert ("DNS", "conformance-mock-client") in presented["subjectAltName"]
            api.close()
        # Without the client certificate the receiver refuses the handshake: retried, then given up.
        with MockServer(callback_url=receiver.url, retry=policy, callback_interval=0.01,
                        callback_ca=pki["ca"]) as mock:
            api = Api(mock)
            api.gp_initiated(**TWO_CALLBACKS)
            wait_until(lambda: len(mock.given_up) == 2, what="callbacks to be given up")
            assert all(entry["last_status"] is None for entry in mock.given_up)
            api.close()


def test_a_bad_client_certificate_is_one_clear_error(tmp_path):
    missing = tmp_path / "nope.pem"
    with pytest.raises(UsageError, match="callback client certificate"):
        MockServer(callback_client_cert=missing)


def test_admin_endpoint_answers_plain_http_clients(mock):
    credentials = (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert httpx.get(mock.origin + "/_mock/callbacks", auth=credentials).status_code == 200
