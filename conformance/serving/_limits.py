"""The limits every server of the project runs with, in one value.

A hostile peer is normal: a client that sends a 100 MB header, trickles a request one byte at a time,
opens thousands of idle connections or posts a body it never finishes must cost the server little and
the other clients nothing. Each limit has a default fit for a local mock or callback sink, and each is
configurable (docs/mock.md, docs/certify.md).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

from .._errors import UsageError

FD_RESERVE = 64
"""File descriptors kept free for what is not a client connection (listening sockets, the callback
client, log and report files), when the connection cap is derived from the process's descriptor limit."""


@dataclass(frozen=True)
class ServerLimits:
    """How much a server gives one client, and for how long."""

    max_body_bytes: int = 1_048_576
    """A request body above this is refused with 413 (read up to this much, never more)."""
    max_header_bytes: int = 16_384
    """The request line and headers together; above this, 431."""
    max_json_depth: int = 64
    """JSON bodies nesting deeper than this are refused as invalid (400) before any schema sees them."""
    header_timeout: float = 10.0
    """Seconds from a request's first byte to the end of its headers; then 408 and the connection closes."""
    body_timeout: float = 30.0
    """Seconds from the end of the headers to the end of the body (and for a stalled response write)."""
    idle_timeout: float = 5.0
    """Seconds a connection may wait with no request in progress (a fresh one included) before it closes."""
    max_connections: int = 1_000
    """Open connections at most (and fewer when the descriptor limit is lower): a new connection beyond
    it closes the one that has waited longest without a request being served."""

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_header_bytes", "max_json_depth", "max_connections"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name.replace('_', '-')} must be at least 1")
        if self.max_header_bytes < 1024:
            raise UsageError("max-header-bytes must be at least 1024: an ordinary request would not fit")
        for name in ("header_timeout", "body_timeout", "idle_timeout"):
            if not float(getattr(self, name)) > 0:
                raise UsageError(f"{name.replace('_', '-')} must be more than 0 seconds")

    def connection_cap(self) -> int:
        """max_connections, lowered so that accepting one more client never runs the process out of
        file descriptors (which would lock every new client out)."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        try:
            in_use = len(os.listdir("/proc/self/fd"))
        except OSError:
            in_use = 0
        return max(1, min(self.max_connections, soft - in_use - FD_RESERVE))
