"""Ports for servers a test starts later by number (importable from any test package)."""

from __future__ import annotations

import socket


def reserve_port(host: str = "127.0.0.1") -> int:
    """A port for a server a test starts later by number, safe from being taken in between.

    A port merely found free can be handed to any outgoing connection before the server binds it (CI saw
    exactly that). This one is left in TIME_WAIT after a real connection, so the kernel hands it to no
    ephemeral bind or connect, while a server binding it with SO_REUSEADDR (the sink does) still can.
    """
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, 0))
        listener.listen(1)
        address = listener.getsockname()
        with socket.create_connection(address) as client:
            accepted, _ = listener.accept()
            accepted.close()  # the accepting side closes first, so TIME_WAIT lands on the reserved port
            client.recv(1)
        return address[1]
