"""Probe class 5, memory that grew without bound: issued tokens are forgotten after they expire (and at
most `max_tokens` live), and the mock's resources are bounded per API (`--store-limit`), the ones that
finished longest ago forgotten first."""

from __future__ import annotations

import time

import httpx
from hostile_support import LIMITS, PATIENCE, error_body_problems, example, token

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
