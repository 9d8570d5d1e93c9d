"""Fixtures for the client-certification tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from client_support import Run, client_runner


@pytest.fixture
def run_client(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `conformance client OPTIONS -- COMMAND` in-process (the command is a real process)."""
    return client_runner(tmp_path, capfd)
