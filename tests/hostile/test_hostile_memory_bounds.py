"""Probe class 5, memory that grew without bound: issued tokens are forgotten after they expire (and at
most `max_tokens` live), and the mock's resource store can be bounded, forgetting the resources that
finished longest ago, never one still moving on."""

from __future__ import annotations

import time

import pytest

from conformance.mock._auth import EXPIRED_TOKEN, INVALID_TOKEN, TokenAuthority
from conformance.mock._common import JsonStore, StoreFull

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


def test_a_bounded_store_forgets_the_resources_that_finished_longest_ago():
    store = JsonStore(limit=3, finished=lambda payment: payment["status"] == "SETTLED")
    store.put("a", {"status": "NONE"})
    store.put("b", {"status": "SETTLED"})
    store.put("c", {"status": "NONE"})
    store.put("a", {"status": "SETTLED"})  # finishes after b
    store.put("d", {"status": "NONE"})  # full: b finished longest ago
    assert store.get("b") is None and store.evicted == 1
    store.put("e", {"status": "NONE"})  # then a
    assert store.get("a") is None and store.get("c") == {"status": "NONE"}
    assert sorted(key for key in "abcde" if key in store) == ["c", "d", "e"]
    with pytest.raises(StoreFull):  # c, d, e are still moving on: none may go
        store.put("f", {"status": "NONE"})
    store.put("c", {"status": "NONE", "note": "an update of a held resource needs no room"})
    assert len(store) == 3


def test_without_a_predicate_the_oldest_resource_goes_first():
    store = JsonStore(limit=2)
    for key in "abc":
        store.put(key, {"key": key})
    assert [key for key in "abc" if key in store] == ["b", "c"]
