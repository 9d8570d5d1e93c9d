"""One certification of an integration's client: the provider, the recording proxy in front of it, the trouble.

`conformance client` (around a command, or listening) and the `payments_mock` fixture both open a
ClientSession: the embedded mock (or a sandbox behind `upstream`), a RecordingProxy the client is
pointed at (the CONFORMANCE_* variables), an Injector holding the schedule of trouble; then `judge()`
runs the client rules over what the proxy recorded.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from .._errors import UsageError
from .._specs import ClientRules, Spec
from ..checks._client import ClientContext, Judgement, issued_tokens, judge_client
from ..checks._traffic import ClientExchange
from ._injector import Injector
from ._proxy import Limits, RecordingProxy
from ._schedule import Schedule, Trouble
from ._upstream import Upstream

ORIGIN_VARIABLE = "CONFORMANCE_ORIGIN"
TOKEN_URL_VARIABLE = "CONFORMANCE_TOKEN_URL"
CLIENT_ID_VARIABLE = "CONFORMANCE_CLIENT_ID"
CLIENT_SECRET_VARIABLE = "CONFORMANCE_CLIENT_SECRET"
BASE_URL_PREFIX = "CONFORMANCE_BASE_URL_"


def base_url_variable(api: str) -> str:
    """"pay-by-bank" -> CONFORMANCE_BASE_URL_PAY_BY_BANK."""
    return BASE_URL_PREFIX + "".join(c if c.isalnum() else "_" for c in api).upper()


class ClientSession:
    """The provider, the proxy and the trouble of one client certification. start() ... judge() ... stop()."""

    def __init__(self, specs: Sequence[Spec], table: ClientRules, schedule: Schedule, *,
                 apis: Sequence[str] = (), upstream: str | None = None, token_url: str | None = None,
                 listen: tuple[str, int] = ("127.0.0.1", 0), client_id: str | None = None,
                 client_secret: str | None = None, token_ttl: float = 60.0, callback_url: str | None = None,
                 mock: Any = None, on_trouble: Callable[[Trouble, ClientExchange], None] | None = None,
                 limits: Limits | None = None, deadline: float = 30.0) -> None:
        self.specs = {spec.name: spec for spec in specs}
        for api in apis:
            if api not in self.specs:
                raise UsageError(f"unknown API {api!r} (choose from {', '.join(self.specs)})")
        if token_url and not upstream:
            raise UsageError("--token-url goes with --upstream (the embedded mock has its own token endpoint)")
        self.table = table
        self.schedule = schedule
        self.apis = list(dict.fromkeys(apis))
        self.upstream_url = upstream.rstrip("/") if upstream else None
        self.token_url_upstream = token_url
        self.listen = listen
        self.client_id = client_id or ("conformance-" + secrets.token_hex(6))
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.token_ttl = token_ttl
        self.callback_url = callback_url
        self.mock = mock
        self._owns_mock = mock is None and upstream is None
        self.on_trouble = on_trouble
        self.limits = limits
        self.deadline = deadline
        self.injector: Injector | None = None
        self.proxy: RecordingProxy | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> ClientSession:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        token_path = self._token_path()
        if self.upstream_url is None:
            if self.mock is None:
                from ..mock import MockServer

                self.mock = MockServer(port=0, client_id=self.client_id, client_secret=self.client_secret,
                                       token_ttl=self.token_ttl, callback_url=self.callback_url,
                                       specs=list(self.specs.values())).start()
            upstream = Upstream(self.mock.origin, deadline=self.deadline, revoke=self.mock.revoke_tokens,
                                name="the embedded mock")
        else:
            upstream = Upstream(self.upstream_url, token_path=token_path, token_url=self.token_url_upstream,
                                deadline=self.deadline)
            upstream.probe()
        self.injector = Injector(self.schedule, self.specs, self.apis or None)
        self.proxy = RecordingProxy(self.specs, upstream, self.injector, host=self.listen[0], port=self.listen[1],
                                    limits=self.limits, on_trouble=self.on_trouble).start()

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self._owns_mock and self.mock is not None:
            self.mock.stop()
            self.mock = None

    def __enter__(self) -> ClientSession:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- what the client is told ---------------------------------------------------------------------------------

    def _token_path(self) -> str | None:
        for spec in self.specs.values():
            if spec.rules.is_token_endpoint:
                return next((spec.base_path + op.path for op in spec.client_operations()), None)
        return None

    @property
    def origin(self) -> str:
        assert self.proxy is not None, "the session is not started"
        return self.proxy.origin

    @property
    def token_url(self) -> str:
        return self.origin + (self._token_path() or "")

    def base_url(self, api: str) -> str:
        if api not in self.specs:
            raise UsageError(f"unknown API {api!r} (choose from {', '.join(self.specs)})")
        return self.origin + self.specs[api].base_path

    @property
    def base_urls(self) -> dict[str, str]:
        return {name: self.base_url(name) for name, spec in self.specs.items() if not spec.rules.is_token_endpoint}

    @property
    def environ(self) -> dict[str, str]:
        """The CONFORMANCE_* variables a client under test reads (README: "conformance client")."""
        found = {ORIGIN_VARIABLE: self.origin, TOKEN_URL_VARIABLE: self.token_url,
                 CLIENT_ID_VARIABLE: self.client_id, CLIENT_SECRET_VARIABLE: self.client_secret}
        found.update({base_url_variable(api): url for api, url in self.base_urls.items()})
        return found

    # -- troubles a test asks for --------------------------------------------------------------------------------

    def ask(self, kind: str, description: str, action: Any, operation: str | None, api: str | None = None) -> Trouble:
        """A trouble on the next request of `operation` (None: the next request needing a token)."""
        if operation is not None:
            self._known_operation(operation, api)
        return self.schedule.add(kind, description, action, operation, api)

    def _known_operation(self, operation: str, api: str | None) -> None:
        owners = [name for name, spec in self.specs.items() if operation in spec.operations
                  and not spec.operations[operation].webhook]
        if api is not None and api not in owners or not owners:
            where = f" of {api}" if api else ""
            raise UsageError(f"no operation {operation!r}{where} in the specs served")

    # -- the verdict --------------------------------------------------------------------------------------------

    @property
    def traffic(self) -> list[ClientExchange]:
        return self.proxy.exchanges() if self.proxy is not None else []

    def judged_apis(self, traffic: list[ClientExchange]) -> list[str]:
        """The APIs named (with the token endpoint when the client asked it for tokens), else those the client
        called; when it called none, every API (each then fails CLIENT-EXERCISED)."""
        called = [name for name in self.specs if any(e.api == name for e in traffic)]
        token = [name for name, spec in self.specs.items() if spec.rules.is_token_endpoint]
        if self.apis:
            return list(dict.fromkeys([*[t for t in token if t in called], *self.apis]))
        return called or list(self.specs)

    def context(self, traffic: list[ClientExchange], asked_only: bool = False) -> ClientContext:
        troubles = list(self.schedule)
        met = list(self.injector.met) if self.injector is not None else []
        return ClientContext(
            specs=self.specs, apis=self.judged_apis(traffic), table=self.table, secrets=(self.client_secret,),
            troubles_planned=0 if asked_only else sum(1 for t in troubles if t.ordinal is not None),
            troubles_met=met,
            troubles_required=[t.id for t in troubles if t.ordinal is None] if asked_only else [])

    def judge(self, asked_only: bool = False) -> tuple[list[Judgement], ClientContext, list[ClientExchange]]:
        """Every client rule over what the proxy recorded; `asked_only`: the fixture's reading of CLIENT-EXERCISED
        (every trouble the test asked for met, no scheduled minimum)."""
        traffic = self.traffic
        context = self.context(traffic, asked_only)
        return judge_client(traffic, context), context, traffic

    def secrets(self, traffic: list[ClientExchange]) -> list[str]:
        """The run's secrets for redaction: the client secret and every token issued."""
        return [self.client_secret, *(token.value for token in issued_tokens(traffic))]
