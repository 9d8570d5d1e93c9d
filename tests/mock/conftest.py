"""Fixtures of the mock's tests: one conforming mock per module, a client, a callback receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mock_support import Api, Receiver

from conformance.mock import MockServer, RetryPolicy

FAST_RETRY = RetryPolicy(base=0.02, factor=2.0, cap=0.2, attempts=4, timeout=1.0)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    """A conforming mock, shared by the tests of one module."""
    with MockServer(callback_interval=0.01, retry=FAST_RETRY) as server:
        yield server


@pytest.fixture(scope="module")
def api(mock: MockServer) -> Iterator[Api]:
    client = Api(mock)
    yield client
    client.close()


@pytest.fixture
def receiver(mock: MockServer) -> Iterator[Receiver]:
    """A callback receiver registered with the module's mock for one test."""
    with Receiver() as server:
        mock.set_callback_url(server.url)
        yield server
        mock.set_callback_url(None)
