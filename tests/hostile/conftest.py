"""Fixtures of the hostile-input tests: one mock with short limits per module, and a bearer token for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile_support import LIMITS, token

from conformance.mock import MockServer


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(limits=LIMITS, callback_interval=0.01) as server:
        yield server


@pytest.fixture(scope="module")
def bearer(mock: MockServer) -> str:
    return f"Bearer {token(mock)}"
