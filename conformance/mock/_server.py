"""MockServer: the mock app served in a background thread on the hardened server of conformance.serving."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from .._errors import UsageError
from .._specs import SPEC_NAMES, Spec
from ..serving import BackgroundServer, ServerLimits
from ._app import STORE_LIMIT, MockApp, MockContext
from ._auth import DEFAULT_GRACE, TokenAuthority
from ._callbacks import CallbackDispatcher, CertSpec, DeliveryLimits, RetryPolicy, client_ssl_context
from ._faults import FaultSwitch
from ._journal import RequestJournal
from ._targets import check_callback_url

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
        limits: ServerLimits | None = None,
        delivery: DeliveryLimits | None = None,
        admin: bool = True,
        journal_size: int = 1000,
        token_grace: float = DEFAULT_GRACE,
        store_limit: int = STORE_LIMIT,
    ) -> None:
        if token_ttl <= 0 or callback_interval < 0 or token_grace < 0:
            raise UsageError("token_ttl must be > 0, token_grace and callback_interval >= 0")
        if journal_size < 0:
            raise UsageError("journal_size must be 0 (no journal) or more")
        if store_limit < 1:
            raise UsageError("store_limit must be at least 1")
        try:
            callback_url = check_callback_url(callback_url)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        limits = limits or ServerLimits()
        retry = retry or RetryPolicy()
        dispatcher = CallbackDispatcher(retry, client_ssl_context(callback_client_cert, callback_ca), callback_url,
                                        delivery)
        self.context = MockContext(
            faults=FaultSwitch(tuple(faults)),
            authority=TokenAuthority(client_id, client_secret, scopes, token_ttl, grace=token_grace),
            dispatcher=dispatcher,
            callback_interval=float(callback_interval),
            store_limit=int(store_limit),
            limits=limits,
        )
        self.app = MockApp(self.context, specs, admin=admin, journal=RequestJournal(journal_size))
        self.server = BackgroundServer(self.app, host, port, limits, name="mock")

    # -- the contract ---------------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def limits(self) -> ServerLimits:
        return self.server.limits

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
        """Callbacks abandoned after the last attempt, or dropped because too many were waiting."""
        return self.context.dispatcher.snapshot()["given_up"]

    @property
    def callback_log(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far (time, url, webhook, resource, attempt, status, error, body)."""
        return self.context.dispatcher.snapshot()["attempts"]

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
        self.server.app = self.app  # what is served is the app as it is now (a test may wrap it)
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.server.running else "stopped"
        return f"<MockServer {self.origin} {state} faults={list(self.faults)}>"
