"""MockServer: the mock app served by uvicorn (uvloop, httptools) in a background thread.

The listening socket is bound here, before uvicorn starts, so that the port is known at once
(port=0 picks a free one) and a port in use is one clear UsageError rather than a log line from
another thread.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import uvicorn

from .._errors import UsageError
from .._listen import bind_listener
from .._specs import SPEC_NAMES, Spec
from ._app import MockApp, MockContext, check_callback_url
from ._auth import TokenAuthority
from ._callbacks import CallbackDispatcher, CertSpec, RetryPolicy, client_ssl_context
from ._faults import FaultSwitch

DEFAULT_CLIENT_ID = "conformance-mock"
DEFAULT_CLIENT_SECRET = "conformance-mock-secret"
TOKEN_PATH = "/am/oauth2/alpha/access_token"


class MockServer:
    """The embedded mock provider. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Sequence[str] = (),
        callback_url: str | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        scopes: Sequence[str] = ("jpm:payments:sandbox",),
        token_ttl: float = 3599,
        retry: RetryPolicy | None = None,
        callback_interval: float = 0.02,
        callback_client_cert: CertSpec | None = None,
        callback_ca: str | os.PathLike[str] | None = None,
        specs: Sequence[str | Spec] = SPEC_NAMES,
    ) -> None:
        if not 0 <= int(port) <= 65535:
            raise UsageError(f"port must be between 0 and 65535, not {port}")
        if token_ttl <= 0 or callback_interval < 0:
            raise UsageError("token_ttl must be > 0 and callback_interval >= 0")
        try:
            callback_url = check_callback_url(callback_url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        self.host = host
        self.port = int(port)
        retry = retry or RetryPolicy()
        dispatcher = CallbackDispatcher(retry, client_ssl_context(callback_client_cert, callback_ca), callback_url)
        self.context = MockContext(
            faults=FaultSwitch(tuple(faults)),
            authority=TokenAuthority(client_id, client_secret, scopes, token_ttl),
            dispatcher=dispatcher,
            callback_interval=float(callback_interval),
        )
        self.app = MockApp(self.context, specs)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # -- the contract ---------------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, api: str) -> str:
        """The origin plus the base path of an API's spec ("pay-by-bank" -> http://127.0.0.1:PORT/tsapi/pay-by-bank/v2)."""
        paths = self.app.base_paths()
        if api not in paths:
            raise UsageError(f"unknown API {api!r}; the mock serves {', '.join(paths)}")
        return self.origin + paths[api]

    @property
    def token_url(self) -> str:
        return self.origin + TOKEN_PATH

    @property
    def client_id(self) -> str:
        return self.context.authority.client_id

    def revoke_tokens(self) -> int:
        """Revoke every token issued so far: each is answered 401 from now on (how many were revoked)."""
        return self.context.authority.revoke_all()

    @property
    def faults(self) -> tuple[str, ...]:
        return self.context.faults.names

    def set_callback_url(self, url: str | None) -> None:
        """Register (or with None, forget) the URL callbacks go to; the same as POST /_mock/callback-url."""
        try:
            self.app.set_callback_url(url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None

    @property
    def callback_url(self) -> str | None:
        return self.context.dispatcher.url

    @property
    def given_up(self) -> list[dict[str, Any]]:
        """Callbacks abandoned after the last attempt."""
        return list(self.context.dispatcher.given_up)

    @property
    def callback_log(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far (time, url, webhook, resource, attempt, status, error, body)."""
        return list(self.context.dispatcher.log)

    @property
    def idle(self) -> bool:
        """No status change is pending and no callback is waiting or being delivered."""
        return not self.context.tasks and not self.context.dispatcher.busy

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until idle (every created resource has reached its last status and its callbacks were
        delivered or given up); False if that takes longer than `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self.idle:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def start(self) -> MockServer:
        if self._thread is not None:
            return self
        sock = self._bind()
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, loop="uvloop", http="httptools", ws="none", lifespan="on", log_config=None,
            log_level="warning", access_log=False, server_header=False, timeout_graceful_shutdown=2,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"mock-{self.port}", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                sock.close()
                raise UsageError(f"the mock could not start on {self.origin}: {self._failure or 'see its log'}")
            self._thread.join(0.01)
        return self

    def _bind(self) -> socket.socket:
        sock = bind_listener(self.host, self.port)
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

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"<MockServer {self.origin} {state} faults={list(self.faults)}>"
