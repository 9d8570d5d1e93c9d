"""Fixtures shared by every test package: the bundled specs, loaded once."""

from __future__ import annotations

import gc

import pytest
from port_support import reserve_port

from conformance import SPEC_NAMES, Spec, load_spec


@pytest.fixture(scope="session")
def specs() -> dict[str, Spec]:
    """Every bundled spec by name, loaded and validated once per session."""
    return {name: load_spec(name) for name in SPEC_NAMES}


@pytest.fixture
def reserved_port() -> int:
    """A port on 127.0.0.1 for a server the test starts later by number (see reserve_port)."""
    return reserve_port()


@pytest.fixture(autouse=True, scope="module")
def _long_lived_objects_out_of_full_collections():
    """A test worker gathers a million objects (strategies, schemas, caches) over its modules; a full
    garbage collection walks them all while every thread waits (0.8 to 2 s measured), which stretches
    the callback timings the suites judge. What each module inherits is frozen, left out of those passes
    (the few cycles among it that die later stay uncollected: a test process lives minutes)."""
    gc.freeze()
    yield
