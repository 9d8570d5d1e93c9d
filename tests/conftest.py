"""Fixtures shared by every test package: the bundled specs, loaded once."""

from __future__ import annotations

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
