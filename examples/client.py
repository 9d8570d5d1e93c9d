"""A reference client for the J.P. Morgan Payments APIs. Copy it, then adapt it.

It passes `conformance client` under every profile because it does the few things a payments
client must do when the network and the provider misbehave:

- one token, reused until shortly before it expires; a 401 drops it, and the request is sent once more
  with a fresh one;
- every write carries an idempotency key (Online Payments `request-id`, Global Payments `endToEndId`,
  Pay By Bank `Idempotency-Key`) made once per payment, so that a retry after a 503, a dropped
  connection or a timeout repeats the same payment instead of paying twice;
- retries are bounded (4) and spaced (exponential back-off with jitter, at least 0.125 s), wait at least
  what `Retry-After` says, and are only for what may succeed later: no answer, 5xx, 408, 429. A 4xx
  means the request is wrong: sending it again unchanged cannot help;
- polling a status is bounded (40 reads, 0.25 s apart) and stops at an outcome (a final status, or
  Global Payments' COMPLETED) or at an answer other than 200;
- follow-ups are asked only of resources in a state that allows them (capture or void an AUTHORIZED
  payment, refund a CLOSED sale, pay out of a SETTLED payment);
- no card data or token in a URL; https for every URL handed to the provider.

It reads where to go from the environment `conformance client` sets (CONFORMANCE_TOKEN_URL,
CONFORMANCE_CLIENT_ID, CONFORMANCE_CLIENT_SECRET, CONFORMANCE_BASE_URL_<API>) and runs one checkout
flow per API whose base URL is set:

    conformance client -- python -m examples.client
    conformance client --profile thorough --seed 7 -- python -m examples.client --rounds 3
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

log = logging.getLogger("payments-client")

RETRYABLE = {408, 429, 500, 502, 503, 504}
"""Answers that may succeed later. Every other 4xx says the request itself is wrong."""


class TokenCache:
    """OAuth 2.0 client-credentials tokens, cached until `refresh_share` of their lifetime is left."""

    def __init__(self, http: httpx.Client, url: str, client_id: str, client_secret: str,
                 scope: str = "jpm:payments:sandbox", refresh_share: float = 0.1) -> None:
        self.http, self.url, self.scope, self.refresh_share = http, url, scope, refresh_share
        self.auth = (client_id, client_secret)
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                self._token, lifetime = self._fetch()
                self._renew_at = time.monotonic() + lifetime * (1 - self.refresh_share)
            return self._token

    def drop(self, token: str) -> None:
        """The provider refused `token` (revoked, expired early): the next get() fetches another."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        for attempt in retries():
            try:
                response = self.http.post(self.url, auth=self.auth,
                                          data={"grant_type": "client_credentials", "scope": self.scope})
            except httpx.TransportError:
                attempt.wait()
                continue
            if response.status_code in RETRYABLE:
                attempt.wait(response)
                continue
            response.raise_for_status()
            body = response.json()
            return body["access_token"], float(body.get("expires_in", 300))
        raise RuntimeError("the token endpoint did not answer")


class _Attempt:
    def __init__(self, number: int, base: float, cap: float) -> None:
        self.number, self.base, self.cap = number, base, cap

    def wait(self, response: httpx.Response | None = None) -> None:
        """Exponential back-off with equal jitter, and never less than Retry-After."""
        ceiling = min(self.cap, self.base * 2 ** self.number)
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after) + 0.05)
        time.sleep(delay)


def retries(attempts: int = 5, base: float = 0.25, cap: float = 2.0) -> Iterator[_Attempt]:
    """The first try and at most attempts-1 retries."""
    for number in range(attempts):
        yield _Attempt(number, base, cap)


class PaymentsClient:
    """HTTP to one API: the bearer token, retries that are safe, back-off."""

    attempts = 5
    """The first try and at most four retries."""

    def __init__(self, http: httpx.Client, tokens: TokenCache, base_url: str, headers: dict[str, str] | None = None):
        self.http, self.tokens, self.base_url = http, tokens, base_url.rstrip("/")
        self.headers = headers or {}

    def call(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, retry_safe: bool | None = None) -> httpx.Response:
        """One request, retried only when that is safe: reads, and writes carrying an idempotency key
        (the caller makes the key once, so every attempt carries the same one)."""
        safe = method == "GET" if retry_safe is None else retry_safe
        refreshed = False
        response: httpx.Response | None = None
        for attempt in retries(self.attempts):
            token = self.tokens.get()
            try:
                response = self.send(method, path, json=json, params=params,
                                     headers={**self.headers, **(headers or {}), "Authorization": f"Bearer {token}"})
            except httpx.TransportError as exc:  # no answer: a timeout, a dropped connection
                if not safe or attempt.number == self.attempts - 1:
                    raise
                log.info("%s %s: %s, retrying", method, path, type(exc).__name__)
                self.pause(attempt)
                continue
            if response.status_code == 401 and not refreshed:
                self.unauthorized(token)
                refreshed = True
                continue
            if self.retryable(response.status_code) and safe and attempt.number < self.attempts - 1:
                log.info("%s %s: %s, retrying", method, path, response.status_code)
                self.pause(attempt, response)
                continue
            return response
        if response is None:
            raise RuntimeError(f"{method} {path}: no answer after retries")
        return response

    def send(self, method: str, path: str, **request: Any) -> httpx.Response:
        return self.http.request(method, self.base_url + path, **request)

    def retryable(self, status: int) -> bool:
        return status in RETRYABLE

    def pause(self, attempt: _Attempt, response: httpx.Response | None = None) -> None:
        attempt.wait(response)

    def unauthorized(self, token: str) -> None:
        """A 401: the token was revoked or expired early; drop it so that the retry gets a fresh one."""
        self.tokens.drop(token)


def poll(read: Any, status_of: Any, final: set[str], polls: int = 40, every: float = 0.25) -> Any:
    """Read until the status is final, at most `polls` times, `every` seconds apart; the last body read.

    An answer other than 200 ends the polling: call() already retried what may succeed later, and a 4xx
    (an unknown id) is not going to change by asking again."""
    body = None
    for number in range(polls):
        if number:
            time.sleep(every)
        response = read()
        if response.status_code != 200:
            return body
        body = response.json()
        if status_of(body) in final:
            return body
    return body


# -- the requests: your orders, cards and accounts go here -------------------------------------------------------

MERCHANT = {"merchantSoftware": {"companyName": "Example Shop", "productName": "checkout"}}


def order_number() -> str:
    """A new order's number: two orders of the same amount are two requests, not one sent twice."""
    return f"ORDER-{uuid.uuid4().hex[:12]}"


def card_payment(amount: int, capture: str, order: str) -> dict[str, Any]:
    """An Online Payments card payment: captureMethod NOW is a sale, MANUAL an authorization captured later."""
    expiry = {"month": 12, "year": datetime.date.today().year + 2}
    return {"captureMethod": capture, "amount": amount, "currency": "USD", "merchant": MERCHANT,
            "merchantOrderNumber": order,
            "paymentMethodType": {"card": {"accountNumber": "4012000033330026", "expiry": expiry}},
            "initiatorType": "CARDHOLDER", "accountOnFile": "NOT_STORED"}


def card_refund(transaction_id: str, amount: int) -> dict[str, Any]:
    """A refund of part of an earlier Online Payments payment."""
    return {"amount": amount, "currency": "USD", "merchant": MERCHANT,
            "paymentMethodType": {"transactionReference": {"transactionReferenceId": transaction_id}}}


def global_payment(end_to_end_id: str, amount: float, invoice: str) -> dict[str, Any]:
    """A Global Payments UK Faster Payment for today, naming the invoice it pays; its endToEndId is the idempotency
    key."""
    return {"payments": {
        "requestedExecutionDate": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "paymentIdentifiers": {"endToEndId": end_to_end_id}, "transferType": "CREDIT", "paymentType": "RTP",
        "paymentCurrency": "GBP", "paymentAmount": amount,
        "debtor": {"debtorName": "Example Shop Ltd", "debtorAccount": {"accountId": "40051234", "accountType": "DDA"}},
        "debtorAgent": {"financialInstitutionId": {"bic": "CHASGB2L"}},
        "creditorAgent": {"financialInstitutionId": {"clearingSystemId": {"id": "309634"}}},
        "creditor": {"creditorName": "Supplier Ltd", "creditorAccount": {"accountId": "31926819"}},
        "remittanceInformation": {"unstructuredInformation": [f"Invoice {invoice}"]}}}


def bank_payment(reference: str) -> dict[str, Any]:
    """A Pay By Bank payment to the shop's account; the customer comes back to an https redirectURL."""
    return {"paymentAmount": {"value": "10.50", "currency": "GBP"}, "paymentType": "RTP", "market": "GB",
            "redirectURL": "https://shop.example.com/return", "reference": reference,
            "creditor": {"name": "Example Shop Ltd",
                         "account": {"accountId": "40051512345678", "accountIdType": "SORT_CODE"}}}


# -- one checkout per API ---------------------------------------------------------------------------------------


def online_payments(client: PaymentsClient) -> None:
    """A sale and its partial refund, an authorization and its capture, an authorization and its void, each
    followed by a read: by transaction id, by the capture's own id, by the request-id of the write."""

    def write(method: str, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        """A write with its request-id (the idempotency key: made once, sent with every attempt)."""
        return client.call(method, path, json=body, headers={"request-id": key or str(uuid.uuid4())}, retry_safe=True)

    def read(path: str, **params: str) -> httpx.Response:
        return client.call("GET", path, params=params or None, headers={"request-id": str(uuid.uuid4())})

    def pay(amount: int, capture: str, key: str | None = None) -> dict[str, Any] | None:
        response = write("POST", "/payments", card_payment(amount, capture, order_number()), key)
        log.info("online-payments: payment of %s answered %s", amount, response.status_code)
        return response.json() if response.status_code == 200 else None

    sale = pay(5000, "NOW")
    if sale and sale.get("transactionState") == "CLOSED" and sale.get("responseStatus") == "SUCCESS":
        response = write("POST", "/refunds", card_refund(sale["transactionId"], 500))
        log.info("online-payments: refund answered %s", response.status_code)
        read(f"/payments/{sale['transactionId']}")
    authorization = pay(2000, "MANUAL")
    if authorization and authorization.get("transactionState") == "AUTHORIZED":
        response = write("POST", f"/payments/{authorization['transactionId']}/captures", {"captureMethod": "NOW"})
        log.info("online-payments: capture answered %s", response.status_code)
        if response.status_code == 200:  # a capture is a transaction of its own, read by its own id
            read(f"/captures/{response.json()['transactionId']}")
    held_key = str(uuid.uuid4())
    held = pay(1500, "MANUAL", held_key)
    if held and held.get("transactionState") == "AUTHORIZED":
        response = write("PATCH", f"/payments/{held['transactionId']}", {"isVoid": True})
        log.info("online-payments: void answered %s", response.status_code)
        read("/payments", requestIdentifier=held_key)  # the payment, found by the request-id that created it


GLOBAL_OUTCOMES = {"COMPLETED", "COMPLETED_CREDITED", "REJECTED", "BLOCKED", "RETURNED"}
"""Statuses at which polling stops: completed (a credit or return may follow, by callback), or final."""


def global_payments(client: PaymentsClient) -> None:
    """Two initiations (answered 202; the status moves on later), each polled to its outcome, then read in full."""
    for amount in (100.00, 250.00):
        end_to_end_id = uuid.uuid4().hex[:30]
        body = global_payment(end_to_end_id, amount, order_number())
        response = client.call("POST", "/payments", json=body, retry_safe=True)  # endToEndId is the key
        log.info("global-payments: initiation answered %s", response.status_code)
        if response.status_code != 202:
            continue
        firm_root_id = response.json()["paymentInitiationResponse"]["firmRootId"]
        read = poll(lambda e=end_to_end_id: client.call("GET", "/payments/status", params={"endToEndId": e}),
                    lambda b: (b.get("paymentStatus") or {}).get("status"), GLOBAL_OUTCOMES)
        log.info("global-payments: %s ended %s", end_to_end_id, ((read or {}).get("paymentStatus") or {}).get("status"))
        details = client.call("GET", "/payments", params={"firmRootId": firm_root_id})
        log.info("global-payments: details answered %s", details.status_code)


def pay_by_bank(client: PaymentsClient) -> None:
    """Two payments polled to a final status, and a payout (a refund) of the first when it settled."""
    payment_final, payout_final = {"SETTLED", "FAILED", "CANCELLED"}, {"COMPLETED", "FAILED"}
    for number in range(2):
        order = order_number()
        response = client.call("POST", "/payments", json=bank_payment(order),
                               headers={"Idempotency-Key": str(uuid.uuid4())}, retry_safe=True)
        log.info("pay-by-bank: payment answered %s", response.status_code)
        if response.status_code != 201:
            continue
        payment_id = response.json()["id"]
        payment = poll(lambda p=payment_id: client.call("GET", f"/payments/{p}"), lambda b: b.get("status"),
                       payment_final)
        if number or not payment or payment.get("status") != "SETTLED":
            continue
        payout = {"payoutReference": f"REFUND-{order[6:]}", "sourcePaymentId": payment_id,
                  "amount": {"value": "5.25", "currency": "GBP"}, "payoutType": "REFUND"}
        response = client.call("POST", "/payouts", json=payout, headers={"Idempotency-Key": str(uuid.uuid4())},
                               retry_safe=True)
        log.info("pay-by-bank: payout answered %s", response.status_code)
        if response.status_code == 201:
            payout_id = response.json()["id"]
            poll(lambda p=payout_id: client.call("GET", f"/payouts/{p}"), lambda b: b.get("status"), payout_final)


FLOWS = {"online-payments": (online_payments, {"merchant-id": "998482157630"}),
         "global-payments": (global_payments, {}),
         "pay-by-bank": (pay_by_bank, {})}


def base_url_variable(api: str) -> str:
    return "CONFORMANCE_BASE_URL_" + api.replace("-", "_").upper()


def main(argv: list[str] | None = None, client_class: type[PaymentsClient] = PaymentsClient,
         tokens_class: type[TokenCache] = TokenCache, flows: dict[str, Any] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one checkout per API against CONFORMANCE_* URLs.")
    parser.add_argument("--api", action="append", choices=sorted(flows or FLOWS), help="only this API (repeatable)")
    parser.add_argument("--rounds", type=int, default=1, help="run the checkouts this many times (default 1)")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("PAYMENTS_HTTP_TIMEOUT", "1.0")),
                        help="seconds to wait for an answer (default 1.0; PAYMENTS_HTTP_TIMEOUT)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    flows = flows or FLOWS
    apis = [api for api in args.api or sorted(flows) if os.environ.get(base_url_variable(api))]
    if not apis:
        print("no CONFORMANCE_BASE_URL_<API> set: run me under `conformance client -- ...`", file=sys.stderr)
        return 2
    with httpx.Client(timeout=args.timeout) as http:
        tokens = tokens_class(http, os.environ["CONFORMANCE_TOKEN_URL"], os.environ["CONFORMANCE_CLIENT_ID"],
                              os.environ["CONFORMANCE_CLIENT_SECRET"])
        for _ in range(args.rounds):
            for api in apis:
                flow, headers = flows[api]
                flow(client_class(http, tokens, os.environ[base_url_variable(api)], headers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
