"""Probe class 5, memory that grew without bound: issued tokens are forgotten after they expire (and at
most `max_tokens` live), and the mock's resources are bounded per API (`--store-limit`), the ones that
finished longest ago forgotten first."""

from __future__ import annotations

import gc
import time
import tracemalloc

import httpx
from hostile_support import LIMITS, MERCHANT_ID, PATIENCE, error_body_problems, example, token

from conformance.mock import MockServer
from conformance.mock._auth import EXPIRED_TOKEN, INVALID_TOKEN, TokenAuthority

SCOPES = frozenset({"s"})


def test_tokens_are_forgotten_after_they_expire():
    authority = TokenAuthority("id", "secret", ["s"], ttl=0.05, grace=0.05)
    first = authority.issue(SCOPES)["access_token"]
    for _ in range(99):
        authority.issue(SCOPES)
    assert len(authority) == 100
    time.sleep(0.06)
    assert authority.problem(f"Bearer {first}", SCOPES) == EXPIRED_TOKEN  # within the grace: told apart
    time.sleep(0.05)
    authority.issue(SCOPES)
    assert len(authority) == 1
    assert authority.problem(f"Bearer {first}", SCOPES) == INVALID_TOKEN


def test_live_tokens_are_capped():
    authority = TokenAuthority("id", "secret", ["s"], ttl=3600, max_tokens=10)
    tokens = [authority.issue(SCOPES)["access_token"] for _ in range(25)]
    assert len(authority) == 10
    assert authority.problem(f"Bearer {tokens[0]}", SCOPES) == INVALID_TOKEN
    assert authority.problem(f"Bearer {tokens[-1]}", SCOPES) is None


def test_the_mocks_store_forgets_the_resources_that_finished_longest_ago():
    """Past --store-limit resources of an API, the oldest finished one is forgotten: a read of it gets
    the documented not-found, as for one never created; its idempotency key is forgotten too."""
    with MockServer(limits=LIMITS, store_limit=2, callback_interval=0.01) as mock:
        headers = {"authorization": f"Bearer {token(mock)}"}
        created = []
        for number in range(3):
            answer = httpx.post(mock.base_url("pay-by-bank") + "/payments", timeout=PATIENCE,
                                json=example("pay-by-bank", "createPayment"),
                                headers={**headers, "Idempotency-Key": f"bound-{number}"})
            assert answer.status_code == 201, answer.text
            created.append(answer.json()["id"])
            assert mock.wait_idle(PATIENCE)  # it reached its final status: it may be forgotten
        reads = [httpx.get(mock.base_url("pay-by-bank") + f"/payments/{payment}", headers=headers, timeout=PATIENCE)
                 for payment in created]
        replays = [httpx.post(mock.base_url("pay-by-bank") + "/payments", timeout=PATIENCE,
                              json=example("pay-by-bank", "createPayment"),
                              headers={**headers, "Idempotency-Key": f"bound-{number}"}).json()["id"]
                   for number in (2, 0)]
    assert [read.status_code for read in reads] == [404, 200, 200]
    assert error_body_problems("pay-by-bank", reads[0].json(), 404) == []
    assert replays[0] == created[2]  # a recent key still replays the original answer
    assert replays[1] != created[0]  # the oldest key was forgotten with its payment


HELD = 200
"""Card sales created while memory is traced (after as many to warm the caches)."""
HELD_BYTES_GOAL = 2048
"""Issue 13's goal for one held payment. Measured: about 1.5 KB traced (1.5 to 1.7 KB resident, see
docs/benchmarks.md); about 16 KB when records and replays were kept as dicts."""


def test_a_held_payment_costs_at_most_2_kb():
    """What the mock allocates and keeps per Online Payments card sale (its record, its index entries, the
    answer kept for an idempotent replay), counted by tracemalloc: at most the goal. Kept compact, the
    answers still replay byte for byte and read back whole."""
    sale = example("online-payments", "V2PaymentPost")
    with MockServer(limits=LIMITS, journal_size=0) as mock, httpx.Client(timeout=PATIENCE) as client:
        url = mock.base_url("online-payments") + "/payments"
        headers = {"authorization": f"Bearer {token(mock)}", "merchant-id": MERCHANT_ID}

        def create(request_id: str) -> httpx.Response:
            answer = client.post(url, json=sale, headers={**headers, "request-id": request_id})
            assert answer.status_code == 200, answer.text
            return answer

        for number in range(HELD):
            create(f"warm-{number}")
        gc.collect()
        tracemalloc.start()
        try:
            before = _mock_allocations(tracemalloc.take_snapshot())
            answers = [create(f"held-{number}") for number in range(HELD)]
            gc.collect()
            after = _mock_allocations(tracemalloc.take_snapshot())
        finally:
            tracemalloc.stop()
        replay = create("held-0")
        read = client.get(f"{url}/{answers[-1].json()['transactionId']}", headers=headers)
    assert (after - before) / HELD <= HELD_BYTES_GOAL, f"{(after - before) / HELD:.0f} bytes per payment"
    assert replay.content == answers[0].content
    assert read.status_code == 200
    assert read.json()["paymentRequest"] == answers[-1].json()["paymentRequest"]


def _mock_allocations(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes held by blocks the mock's code allocated (not the test's HTTP client)."""
    mine = snapshot.filter_traces([tracemalloc.Filter(True, "*/conformance/*")])
    return sum(stat.size for stat in mine.statistics("filename"))
