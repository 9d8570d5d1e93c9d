"""Faulty clients: the reference client (examples/client.py) with one behaviour broken, each breaking one client rule.

    python tests/client/faulty_clients.py NAME      # under `conformance client -- ...`, reads CONFORMANCE_*

Each entry of FAULTY_CLIENTS names the rule suffix it breaks, the API its flow uses, the troubles it needs
to show its fault (`conformance client --trouble KIND`; none: `--no-trouble`), and how to run it in-process
(for the payments_mock fixture: `ask` sets up that trouble with the fixture's API instead of a schedule).
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples import client as reference  # noqa: E402

# -- broken parts ------------------------------------------------------------------------------------------------


class TokenPerCall(reference.TokenCache):
    """Asks for a new token before every request."""

    def get(self) -> str:
        self._token = None
        return super().get()


class NewKeyOnRetry(reference.PaymentsClient):
    """Makes the idempotency key inside the retry loop: every attempt carries a new one."""

    def send(self, method: str, path: str, **request: Any) -> Any:
        headers = dict(request.pop("headers", {}))
        for name in ("Idempotency-Key", "request-id"):
            if name in headers:
                headers[name] = str(uuid.uuid4())
        return super().send(method, path, headers=headers, **request)


class SharedKey(reference.PaymentsClient):
    """One idempotency key for every write."""

    def send(self, method: str, path: str, **request: Any) -> Any:
        headers = dict(request.pop("headers", {}))
        if "Idempotency-Key" in headers:
            headers["Idempotency-Key"] = "the-one-key"
        return super().send(method, path, headers=headers, **request)


class IgnoresRetryAfter(reference.PaymentsClient):
    """Retries a 429 after a fixed 0.15 s, whatever Retry-After says."""

    def pause(self, attempt: Any, response: Any = None) -> None:
        time.sleep(0.15)


class RetriesAtOnce(reference.PaymentsClient):
    """Retries without any pause."""

    def pause(self, attempt: Any, response: Any = None) -> None:
        return None


class RetriesRejected(reference.PaymentsClient):
    """Treats a 400 as worth retrying."""

    def retryable(self, status: int) -> bool:
        return status == 400 or super().retryable(status)

    def pause(self, attempt: Any, response: Any = None) -> None:
        time.sleep(0.12)


class Unbounded(reference.PaymentsClient):
    """Retries a failing request nine times."""

    attempts = 10

    def pause(self, attempt: Any, response: Any = None) -> None:
        time.sleep(0.12)


class KeepsRevokedToken(reference.PaymentsClient):
    """On a 401 it tries again with the same token."""

    def unauthorized(self, token: str) -> None:
        return None


# -- flows that do something wrong -------------------------------------------------------------------------------


def _card_payment(client: Any, amount: int, capture: str) -> Any:
    return client.call("POST", "/payments", json=reference.card_payment(amount, capture, reference.order_number()),
                       headers={"request-id": str(uuid.uuid4())}, retry_safe=True)


def card_in_url(client: Any) -> None:
    sale = _card_payment(client, 1234, "NOW").json()
    client.call("GET", f"/payments/{sale['transactionId']}", params={"accountNumber": "4012000033330026"})


def capture_voided(client: Any) -> None:
    payment = _card_payment(client, 2000, "MANUAL").json()
    client.call("PATCH", f"/payments/{payment['transactionId']}", json={"isVoid": True},
                headers={"request-id": str(uuid.uuid4())}, retry_safe=True)
    client.call("POST", f"/payments/{payment['transactionId']}/captures", json={"captureMethod": "NOW"},
                headers={"request-id": str(uuid.uuid4())}, retry_safe=True)


def over_refund(client: Any) -> None:
    sale = _card_payment(client, 1234, "NOW").json()
    client.call("POST", "/refunds", json=reference.card_refund(sale["transactionId"], 5000),
                headers={"request-id": str(uuid.uuid4())}, retry_safe=True)


def scenario_payment(amount: int) -> Any:
    """A card payment of a scenario-trigger amount (10400 is answered 400, 10503 is answered 503, every time)."""
    return lambda client: _card_payment(client, amount, "NOW")


def _bank_payment(client: Any, **change: Any) -> Any:
    body = {**reference.bank_payment(reference.order_number()), **change}
    return client.call("POST", "/payments", json={k: v for k, v in body.items() if v is not None},
                       headers={"Idempotency-Key": str(uuid.uuid4())}, retry_safe=True)


def two_bank_payments(client: Any) -> None:
    """Two payments, each read back once: enough traffic to show a fault, without the reference's polling."""
    for _ in range(2):
        response = _bank_payment(client)
        if response.status_code == 201:
            client.call("GET", f"/payments/{response.json()['id']}")


def http_redirect(client: Any) -> None:
    _bank_payment(client, redirectURL="http://shop.example.com/return")


def invalid_request(client: Any) -> None:
    _bank_payment(client, creditor=None)


def polls_hastily(client: Any) -> None:
    """Polls a payment's status 60 times without a pause, and past its outcome (it waits for a credit)."""
    end_to_end_id = uuid.uuid4().hex[:20]
    client.call("POST", "/payments", json=reference.global_payment(end_to_end_id, 100.00, "INV-1"), retry_safe=True)
    reference.poll(lambda: client.call("GET", "/payments/status", params={"endToEndId": end_to_end_id}),
                   lambda b: (b.get("paymentStatus") or {}).get("status"), {"COMPLETED_CREDITED"},
                   polls=60, every=0.0)


def does_nothing(client: Any) -> None:
    return None


# -- the catalogue ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaultyClient:
    suffix: str
    """The client rule it breaks (the rule ID is the API's prefix and this)."""
    api: str
    troubles: tuple[str, ...] = ()
    """The troubles `conformance client` must inject to show the fault (none: --no-trouble)."""
    client: type = reference.PaymentsClient
    tokens: type = reference.TokenCache
    flow: Any = two_bank_payments
    """What it does (two Pay By Bank payments unless said otherwise)."""
    ask: tuple[str, dict[str, Any]] | None = None
    """Under the fixture: the fixture method and arguments that give the same trouble."""


PBB = "pay-by-bank"
OP = "online-payments"
GP = "global-payments"

FAULTY_CLIENTS: dict[str, FaultyClient] = {
    "token-per-call": FaultyClient("CLIENT-TOKEN-REUSE", PBB, tokens=TokenPerCall),
    "keeps-revoked-token": FaultyClient("CLIENT-TOKEN-REUSE", PBB, ("token-revoked",), client=KeepsRevokedToken,
                                        ask=("revoke_tokens", {})),
    "new-key-on-retry": FaultyClient("CLIENT-IDEMPOTENT-RETRY", PBB, ("ambiguous-503",), client=NewKeyOnRetry,
                                     ask=("fail_next", {"operation": "createPayment", "api": PBB, "status": 503})),
    "shared-key": FaultyClient("CLIENT-IDEMPOTENT-RETRY", PBB, client=SharedKey),
    "ignores-retry-after": FaultyClient("CLIENT-BACKOFF", PBB, ("rate-limited",), client=IgnoresRetryAfter,
                                        ask=("fail_next", {"operation": "createPayment", "api": PBB, "status": 429,
                                                           "processed": False, "retry_after": 1})),
    "retries-at-once": FaultyClient("CLIENT-BACKOFF", PBB, ("ambiguous-503",), client=RetriesAtOnce,
                                    ask=("fail_next", {"operation": "createPayment", "api": PBB, "status": 503})),
    "retries-rejected": FaultyClient("CLIENT-BACKOFF", OP, client=RetriesRejected, flow=scenario_payment(10400)),
    "unbounded-retries": FaultyClient("CLIENT-BACKOFF", OP, client=Unbounded, flow=scenario_payment(10503)),
    "card-in-url": FaultyClient("CLIENT-NO-SECRETS-IN-URL", OP, flow=card_in_url),
    "http-redirect-url": FaultyClient("CLIENT-HTTPS-URLS", PBB, flow=http_redirect),
    "invalid-request": FaultyClient("CLIENT-REQUEST-CONFORMS", PBB, flow=invalid_request),
    "capture-voided": FaultyClient("CLIENT-STATE-MACHINE", OP, flow=capture_voided),
    "over-refund": FaultyClient("CLIENT-STATE-MACHINE", OP, flow=over_refund),
    "polls-hastily": FaultyClient("CLIENT-POLLING-BOUNDED", GP, flow=polls_hastily),
    "does-nothing": FaultyClient("CLIENT-EXERCISED", PBB, flow=does_nothing,
                                 ask=("fail_next", {"operation": "createPayment", "api": PBB})),
}


def run(name: str, argv: list[str] | None = None) -> int:
    """Run a faulty client (reads CONFORMANCE_* from the environment, like the reference)."""
    faulty = FAULTY_CLIENTS[name]
    flows = {faulty.api: (faulty.flow, reference.FLOWS[faulty.api][1])}
    return reference.main(["--api", faulty.api, *(argv or [])], client_class=faulty.client,
                          tokens_class=faulty.tokens, flows=flows)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
