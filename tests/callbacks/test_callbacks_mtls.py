"""Mutual TLS on the callback channel, with certificates from trustme (a library made for test PKIs)."""

from __future__ import annotations

import pytest
from callbacks_support import one_line_error, serve

from examples.receiver import CallbackReceiver

API = "global-payments"


def _tls(certificates, **extra):
    return {"cert": str(certificates.server), "client_ca": str(certificates.ca), **extra}


def test_receiver_requiring_client_certificates_passes(certificates, run_callbacks):
    with serve(CallbackReceiver(API).app(), **_tls(certificates)) as origin:
        run = run_callbacks(
            "--api",
            API,
            "--target",
            f"{origin}/callbacks",
            "--client-cert",
            str(certificates.client),
            "--ca",
            str(certificates.ca),
        )
    assert run.code == 0, run.out + run.err
    rules = {rule["id"]: rule for rule in run.certification["apis"][0]["rules"]}
    assert rules["GP-RECEIVER-MTLS"]["result"] == "passed"
    assert rules["GP-RECEIVER-MTLS"]["checks"]["passed"] == 2  # accepted with, refused without


def test_receiver_accepting_senders_without_certificate_is_flagged(certificates, run_callbacks):
    """CERT_OPTIONAL: the TLS layer asks for a certificate but lets a sender without one through."""
    with serve(CallbackReceiver(API).app(), **_tls(certificates, client_cert_required=False)) as origin:
        run = run_callbacks(
            "--api",
            API,
            "--target",
            f"{origin}/callbacks",
            "--client-cert",
            str(certificates.client),
            "--ca",
            str(certificates.ca),
        )
    assert run.code == 1, run.out + run.err
    assert " GP-RECEIVER-MTLS [paymentInitiationStatus]: 1 failure; first F1: a sender without a client certificate " \
        "was not refused" in run.out
    assert run.failed_rules() == {"GP-RECEIVER-MTLS"}


def test_receiver_without_tls_client_auth_is_flagged(certificates, run_callbacks):
    """Plain server TLS, no client authentication at all: the certificate is never even asked for."""
    with serve(CallbackReceiver(API).app(), cert=str(certificates.server)) as origin:
        run = run_callbacks(
            "--api",
            API,
            "--target",
            f"{origin}/callbacks",
            "--client-cert",
            str(certificates.client),
            "--ca",
            str(certificates.ca),
        )
    assert run.code == 1, run.out + run.err
    assert run.failed_rules() == {"GP-RECEIVER-MTLS"}


def test_untrusted_receiver_certificate_is_a_tls_failure(certificates, run_callbacks):
    with serve(CallbackReceiver(API).app(), cert=str(certificates.server)) as origin:
        run = run_callbacks("--api", API, "--target", f"{origin}/callbacks", "--ca", str(certificates.other_ca))
    one_line_error(run, 3, "TLS handshake", "certificate verify failed")


def test_system_store_does_not_trust_a_private_ca(certificates, run_callbacks):
    with serve(CallbackReceiver(API).app(), cert=str(certificates.server)) as origin:
        run = run_callbacks("--api", API, "--target", f"{origin}/callbacks")
    one_line_error(run, 3, "TLS handshake")


def test_missing_client_certificate_is_a_tls_failure(certificates, run_callbacks):
    """A receiver requiring mutual TLS, a sender configured without it: refused at first contact."""
    with serve(CallbackReceiver(API).app(), **_tls(certificates)) as origin:
        run = run_callbacks("--api", API, "--target", f"{origin}/callbacks", "--ca", str(certificates.ca))
    one_line_error(run, 3, "closed the TLS connection", "--client-cert")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--client-cert", "/nonexistent/client.pem"), "--client-cert /nonexistent/client.pem: file not found"),
        (("--ca", "/nonexistent/ca.pem"), "--ca /nonexistent/ca.pem: file not found"),
    ],
)
def test_missing_tls_files_are_usage_errors(options, message, run_callbacks):
    run = run_callbacks("--api", API, "--target", "https://127.0.0.1:9/callbacks", *options)
    one_line_error(run, 2, message)


def test_a_file_that_is_not_a_certificate_is_a_usage_error(tmp_path, run_callbacks):
    bogus = tmp_path / "client.pem"
    bogus.write_text("not a certificate\n")
    run = run_callbacks("--api", API, "--target", "https://127.0.0.1:9/callbacks", "--client-cert", str(bogus))
    one_line_error(run, 2, "not a PEM certificate")
