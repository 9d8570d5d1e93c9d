"""Binding a server's listening socket: the port known at once, a port in use one clear usage error.

Every server we run in a thread (the embedded mock, the recording proxy of `conformance client`) binds
its socket itself, before its loop starts, so that `port=0` gives a free port at once and a failure is
a UsageError in the caller's thread rather than a log line from another.
"""

from __future__ import annotations

import errno
import socket

from ._errors import UsageError


def bind_listener(host: str, port: int) -> socket.socket:
    """A bound TCP socket (IPv6 when the host has a colon), SO_REUSEADDR set; UsageError when it cannot bind."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"cannot listen on {host}:{port}: the port is in use") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock
