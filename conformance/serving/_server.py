"""A hardened uvicorn server for an ASGI app, in a background thread: what the mock and the sink run on.

The listening socket is bound here, before uvicorn starts, so that the port is known at once (port 0
picks a free one) and a port in use is one clear UsageError rather than a log line from another thread.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn

from .._errors import UsageError
from .._listen import bind_listener
from ._limits import ServerLimits
from ._protocol import ConnectionPool, protocol_class


class BackgroundServer:
    """Serve `app` on host:port with `limits` until stop(). `name` says whose server it is, in errors."""

    def __init__(self, app: Any, host: str, port: int, limits: ServerLimits, name: str, lifespan: str = "on",
                 listening_as: str = "listen") -> None:
        if not 0 <= int(port) <= 65535:
            raise UsageError(f"port must be between 0 and 65535, not {port}")
        self.app, self.host, self.port = app, host, int(port)
        self.limits = limits
        self.name = name
        self.listening_as = listening_as
        """How errors say what could not be done on the port: "listen", "listen for callbacks"."""
        self.lifespan = lifespan
        self.pool: ConnectionPool | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def origin(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> BackgroundServer:
        if self._thread is not None:
            return self
        sock = self._bind()
        self.port = sock.getsockname()[1]
        protocol = protocol_class(self.limits)
        self.pool = protocol.pool
        config = uvicorn.Config(
            self.app, loop="uvloop", http=protocol, ws="none", interface="asgi3", lifespan=self.lifespan,
            log_config=None, log_level="warning", access_log=False, server_header=False, proxy_headers=False,
            timeout_graceful_shutdown=2, timeout_keep_alive=max(1, round(self.limits.idle_timeout)), backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"{self.name}-{self.port}", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                sock.close()
                self._thread = None
                raise UsageError(f"the {self.name} could not start on {self.origin}: {self._failure or 'see its log'}")
            self._thread.join(0.01)
        return self

    def _bind(self) -> socket.socket:
        try:
            sock = bind_listener(self.host, self.port)
        except UsageError as exc:
            if self.listening_as == "listen":
                raise
            raise UsageError(str(exc).replace("cannot listen", f"cannot {self.listening_as}", 1)) from None
        sock.set_inheritable(True)
        return sock

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._failure = exc
        finally:
            sock.close()

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(10)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(5)
        self._server = None
        self._thread = None
