"""Helpers for the callback-sender tests: real receivers on loopback, and what a run left behind."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run_support import Run  # noqa: F401 - the callbacks tests import it from here

from examples.receiver import server

APIS_WITH_CALLBACKS = ("global-payments", "pay-by-bank")
"""The bundled APIs that send callbacks (a test checks this list against the specs)."""


@contextmanager
def serve(app: Any, **tls: Any) -> Iterator[str]:
    """Run an ASGI app on a free loopback port in a thread; yields its origin; stops it on exit."""
    sock = socket.create_server(("127.0.0.1", 0))
    uvicorn_server = server(app, sock, **tls)
    uvicorn_server.config.log_level = "critical"
    thread = threading.Thread(target=uvicorn_server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            if uvicorn_server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        if not uvicorn_server.started:
            raise RuntimeError("the test receiver did not start")
        scheme = "https" if tls.get("cert") else "http"
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@dataclass
class Certificates:
    """A test CA, a server certificate for 127.0.0.1 it signed, and a client certificate it signed."""

    ca: Path
    server: Path
    client: Path
    other_ca: Path


def one_line_error(run: Any, code: int, *fragments: str) -> None:
    """The run ended with exit `code` and one `conformance: error:` line naming every fragment, no traceback."""
    assert run.code == code, run.out + run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("conformance: error: "), run.err
    assert "Traceback" not in run.err + run.out
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
