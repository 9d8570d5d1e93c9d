"""Realistic runs for the report tests, and the scan that proves no card data or secret leaked.

The data is what a certification run really handles: the spec's own test PAN, a CVV and expiry
in the card, an OAuth token request with Basic credentials and a client_secret, a JWT bearer
token in every request, the token in the token endpoint's answer, and a provider that leaks the
full PAN back (the OP-NO-CARD-DATA fault), so the evidence itself carries card data.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from card_support import luhn, without_uuids

from conformance.reporting import Exchange, Failure, Recorder

PAN = "4012000033330026"
CVV = "8351"
EXPIRY_YEAR = 2031
CLIENT_ID = "cid-integration-team"
CLIENT_SECRET = "cs-Zq7-4xYb91kPwe0sT3"
TOKEN = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaWQtaW50ZWdyYXRpb24tdGVhbSIsInNjb3BlIjoiam"
    "BtOnBheW1lbnRzOnNhbmRib3gifQ.R2F0ZXdheVNpZ25hdHVyZU5vdFJlYWxseUJ1dExvbmdFbm91Z2g"
)
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
ORIGIN = "http://127.0.0.1:48123"


def card_payment() -> dict:
    return {
        "amount": 1000,
        "currency": "USD",
        "merchant": {"merchantSoftware": {"companyName": "Acme", "productName": "Till"}},
        "paymentMethodType": {"card": {"accountNumber": PAN, "expiry": {"month": 5, "year": EXPIRY_YEAR}, "cvv": CVV}},
        "captureMethod": "NOW",
    }


def payment_exchange(leak: bool = True, status: int = 200) -> Exchange:
    answer = {
        "transactionId": "9f186d77-cb1b-4a9f-bb44-b5be91b891ac",
        "requestId": "40902d7b-4566-485c-bd07-7aef69557f55",
        "transactionState": "CLOSED",
        "responseStatus": "SUCCESS",
        "paymentMethodType": {"card": {"maskedAccountNumber": "401200XXXXXX0026"}},
    }
    if leak:
        answer["paymentMethodType"]["card"]["accountNumber"] = PAN
    return Exchange(
        "POST",
        f"{ORIGIN}/api/v2/payments",
        {
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json",
            "merchant-id": "998482157630",
            "request-id": "40902d7b-4566-485c-bd07-7aef69557f55",
        },
        json.dumps(card_payment()).encode(),
        status,
        [("content-type", "application/json"), ("set-cookie", f"session={TOKEN}")],
        json.dumps(answer).encode(),
        12.7,
    )


def token_exchange() -> Exchange:
    return Exchange(
        "POST",
        f"{ORIGIN}/am/oauth2/alpha/access_token",
        {"Authorization": f"Basic {BASIC}", "Content-Type": "application/x-www-form-urlencoded"},
        f"grant_type=client_credentials&scope=jpm%3Apayments%3Asandbox&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}",
        200,
        {"content-type": "application/json"},
        json.dumps(
            {"access_token": TOKEN, "scope": "jpm:payments:sandbox", "token_type": "Bearer", "expires_in": 3599}
        ),
        4.2,
    )


def record_run(recorder: Recorder, specs: dict, failing: bool) -> None:
    """A run over every bundled spec: generic rules pass, coverage is tracked, callbacks flow;
    when `failing`, the provider leaks the PAN and answers a token request it should refuse."""
    for spec in specs.values():
        for rule in ("DOCUMENTED-STATUS", "CONTENT-TYPE", "RESPONSE-SCHEMA", "STATUS-ENUM", "NO-CARD-DATA"):
            rule_id = f"{spec.prefix}-{rule}"
            recorder.rule(spec.name, rule_id, f"verifies {rule.lower().replace('-', ' ')}")
            for operation in list(spec.operations)[:2]:
                recorder.passed(spec.name, rule_id, operation, count=3)
    recorder.rule("online-payments", "OP-MASKED-PAN-MATCHES-CARD", "maskedAccountNumber is the PAN sent, masked")
    recorder.passed("online-payments", "OP-MASKED-PAN-MATCHES-CARD", "V2PaymentPost")
    recorder.skipped("global-payments", "GP-CALLBACK-RETRY", reason="no callback listener reachable")
    recorder.expect_statuses(
        "online-payments", "/transactionState", ["AUTHORIZED", "VOIDED", "PENDING", "DECLINED", "CLOSED", "ERROR"]
    )
    for status in ("AUTHORIZED", "CLOSED", "CLOSED", "VOIDED", "DECLINED"):
        recorder.saw_status("online-payments", "/transactionState", status)
    recorder.expect_statuses("pay-by-bank", "payments /status", ["NONE", "SENT", "SETTLED", "FAILED", "CANCELLED"])
    for status in ("NONE", "SENT", "SETTLED"):
        recorder.saw_status("pay-by-bank", "payments /status", status)
    recorder.callback(
        {
            "direction": "received",
            "api": "pay-by-bank",
            "webhook": "payments",
            "headers": {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
            "body": {"id": "pay_1", "status": "NONE", "debtor": {"card": PAN, "cvv": CVV}},
            "answered": 200,
        }
    )
    recorder.callback(
        {"direction": "received", "api": "pay-by-bank", "webhook": "payments", "raw": f"pan={PAN}&cvv={CVV}"}
    )
    if failing:
        recorder.failed(
            Failure(
                "online-payments",
                "OP-NO-CARD-DATA",
                "V2PaymentPost",
                f"The answer carries the full PAN {PAN} that was sent",
                expected="no full PAN or CVV in any answer",
                observed={"pointer": "/paymentMethodType/card/accountNumber", "value": PAN},
                exchange=payment_exchange(leak=True),
            )
        )
        recorder.failed(
            Failure(
                "oauth",
                "OAUTH-ERROR-SHAPE",
                "requestAccessToken",
                "A token request with the client secret in the body is answered 200, not 400",
                expected={"status": 400, "error": "invalid_request"},
                observed={"status": 200, "body": {"access_token": TOKEN}},
                exchange=token_exchange(),
            )
        )
        recorder.failed(
            Failure(
                "global-payments",
                "GP-STATUS-COVERAGE",
                None,
                "PENDING_POSTING was never seen",
                expected=["PENDING_POSTING"],
                observed=[],
            )
        )


@pytest.fixture
def make_recorder(specs):
    """Recorder(report_dir, ...) with this module's secrets and the bundled specs."""

    def make(report_dir: Path, **overrides) -> Recorder:
        options = dict(
            command="certify",
            target={
                "origin": ORIGIN,
                "embedded_mock": True,
                "token_url": f"https://{CLIENT_ID}:{CLIENT_SECRET}@auth.example/t",
            },
            specs=list(specs.values()),
            profile="quick",
            seed=20240917,
            secrets=(CLIENT_SECRET, TOKEN),
        )
        options.update(overrides)
        return Recorder(report_dir, **options)

    return make


# -- the leak scan --------------------------------------------------------------------------------

_DIGIT_GROUPS = re.compile(r"\d+(?:[ -]\d+)*")


def leaks(text: str) -> list[str]:
    """Everything in `text` that must never reach an artifact or the console. Independent of
    conformance.redaction on purpose: a scan sharing the redactor's code would share its bugs."""
    found = []
    compact = re.sub(r"[ -]", "", text)
    if PAN in compact:
        found.append("full PAN")
    for run in _DIGIT_GROUPS.findall(without_uuids(text)):
        digits = re.sub(r"[ -]", "", run)
        if 12 <= len(digits) <= 19 and digits[0] in "3456" and luhn(digits):
            found.append(f"card-like number {digits}")
    # Not inside a word, a UUID or a decimal: "...-a5fa8351fd7b", "...-8351-..." and "seconds": 0.8351 hold
    # the digits without holding a CVV.
    if re.search(rf"(?<![0-9A-Za-z.]){CVV}(?![0-9A-Za-z])", without_uuids(text)):
        found.append("CVV value")
    if re.search(r"(?i)[\\\"'\s.&?\[]c(vv|vc)2?[\\\"'\]]{0,3}\s*[:=]\s*[\\\"']{0,3}\d", text):
        found.append("CVV field with a value")
    # The year alone, not inside a word or an id: a random UUID ("...-2031-4bad-...") holds it without a card.
    if re.search(r"(?i)\"expiry\"\s*:\s*\{", text) or re.search(rf"(?<![0-9A-Za-z.-]){EXPIRY_YEAR}(?![0-9A-Za-z-])",
                                                                     text):
        found.append("card expiry")
    for secret, name in (
        (TOKEN, "bearer token"),
        (TOKEN[:40], "bearer token prefix"),
        (CLIENT_SECRET, "client secret"),
        (BASIC, "basic credentials"),
    ):
        if secret in text:
            found.append(name)
    for match in re.finditer(r"(?i)bearer\s+([A-Za-z0-9\-._~+/]+=*)", text):
        if (
            match.group(1) not in ("[REDACTED]",)
            and len(match.group(1)) >= 8
            and any(c.isdigit() for c in match.group(1))
        ):
            found.append(f"bearer credential {match.group(1)[:12]}...")
    if re.search(r"(?i)(access_token|client_secret)[\"']?\s*[=:]\s*[\"']?(?!\[REDACTED\])[A-Za-z0-9]", text):
        found.append("token or secret value")
    return found


def scan_directory(directory: Path) -> dict[str, list[str]]:
    """leaks() of every file under `directory` (hidden and partial files included)."""
    return {
        str(path.relative_to(directory)): problems
        for path in sorted(directory.rglob("*"))
        if path.is_file() and (problems := leaks(path.read_text(encoding="utf-8", errors="replace")))
    }
