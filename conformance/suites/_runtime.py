"""The runtime every suite test uses: the target's URLs, its token, and `send`.

`send` puts every request through Schemathesis (a Case on the spec's operation, called with a shared
session), has our Judge judge the answer once, adds the few Schemathesis checks the Judge lacks
(`checks/_schemathesis.py`), and hands the Results to the current test's Collector, which the plugin
carries to the controller (also across pytest-xdist workers) as plain data in the test report.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import requests

from .. import _signals
from .._deadline import deadline_client, deadline_session
from .._errors import TargetUnreachable
from .._specs import Spec
from ..auth import OAuthClient, basic_credentials, schemathesis_auth, schemathesis_basic_auth
from ..checks import MISSING, NOT_JSON, Call, Judge, Result, parse_body, severity_of, violation
from ..checks import _schemathesis as st_checks
from ..redaction import Redactor, url_secrets
from ..reporting import Exchange
from ..reporting._chain import chain_of
from ._profiles import Profile, profile
from ._requests import Request
from ._selection import Selection


class BudgetExhausted(Exception):
    """The profile's request budget is spent; what remains of the run is skipped."""


@dataclass
class RunSettings:
    """What the controller hands every process of a run (plain data, so xdist can carry it)."""

    specs: list[str]
    """Paths of every spec the run loads (the token endpoint's included)."""
    apis: list[str]
    """The APIs whose suites run."""
    base_urls: dict[str, str]
    token_url: str
    client_id: str
    client_secret: str
    scope: str = "jpm:payments:sandbox"
    wrong_scope: str | None = None
    profile: str = "quick"
    seed: int = 0
    sink: str | None = None
    rate_limit: float | None = None
    verify: bool | str = True
    embedded: bool = False
    timeout: float | None = None
    """Overrides the profile's timeout."""
    exchanges: bool = False
    """Ship every exchange to the controller (an exchange log, a HAR or --verbose was asked for)."""
    selection: dict[str, Any] | None = None
    """--include/--exclude, settled (`Selection.to_dict`)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        return cls(**data)


class Budget:
    def __init__(self, limit: int) -> None:
        self.limit, self.spent = limit, 0
        self._lock = threading.Lock()

    def spend(self) -> None:
        with self._lock:
            if self.spent >= self.limit:
                raise BudgetExhausted(f"request budget of {self.limit} spent")
            self.spent += 1


class RateLimiter:
    """At most `rate` requests per second from this process (none when rate is None)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


HISTORY = 50
"""Exchanges of one test a failure's chain is looked for in (the chain itself keeps at most 10)."""


def _every_rule(rule_id: str) -> bool:
    return True


def _every_rule_blocks(api: str, rule_id: str) -> bool:
    return True


@dataclass
class Collector:
    """What one test found, as plain records the plugin ships to the controller.

    Results of rules the run does not judge (--include/--exclude) are dropped; only failures of `must`
    rules fail the test (`failed_rules`), those of `should` rules are recorded as warnings."""

    records: list[dict[str, Any]] = field(default_factory=list)
    passes: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    spent: Counter = field(default_factory=Counter)
    failed_rules: list[str] = field(default_factory=list)
    requests: int = 0
    ship_exchanges: bool = False
    history: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    judged: Callable[[str], bool] = _every_rule
    blocking: Callable[[str, str], bool] = _every_rule_blocks

    def exchange(self, call: Call, exchange: Exchange) -> None:
        """An exchange the test made: kept for the chains of later failures, shipped when a log is kept."""
        call.cache["exchange"] = exchange
        self.history.append(exchange)
        self.spent[call.api] += call.elapsed_ms / 1000
        if self.ship_exchanges:
            self.records.append({"kind": "exchange", "exchange": asdict(exchange)})

    def result(self, api: str, operation: str | None, result: Result, call: Call | None = None) -> None:
        if not self.judged(result.rule_id):
            return
        if result.passed:
            self.passes[(api, operation or "", result.rule_id)] += 1
            self.seconds[(api, operation or "", result.rule_id)] += call.elapsed_ms / 1000 if call else 0.0
            return
        if self.blocking(api, result.rule_id):
            self.failed_rules.append(f"{result.rule_id}: {result.title} (expected {result.expected}; "
                                     f"observed {result.observed})")
        exchange = chain = None
        if call is not None:
            exchange = call.cache.get("exchange") or Exchange(**exchange_of(call))
            chain = [asdict(step) for step in chain_of(list(self.history), exchange)]
        self.records.append({"kind": "failed", "api": api, "operation": operation, **result.to_dict(),
                             "exchange": asdict(exchange) if exchange else None, "chain": chain or []})

    def status(self, api: str, label: str, value: str) -> None:
        record = {"kind": "status", "api": api, "label": label, "value": value}
        if record not in self.records:
            self.records.append(record)

    def source(self, api: str, correlation: str, keys: Any) -> None:
        self.records.append({"kind": "source", "api": api, "correlation": correlation, "keys": [list(k) for k in keys]})

    def skipped(self, api: str, rule_id: str, operation: str | None, reason: str) -> None:
        if not self.judged(rule_id):
            return
        self.records.append({"kind": "skipped", "api": api, "rule_id": rule_id, "operation": operation,
                             "reason": reason})

    def to_records(self) -> list[dict[str, Any]]:
        passed = [{"kind": "passed", "api": api, "operation": op or None, "rule_id": rule, "count": count,
                   "seconds": round(self.seconds[(api, op, rule)], 6)}
                  for (api, op, rule), count in self.passes.items()]
        spent = [{"kind": "spent", "api": api, "seconds": round(seconds, 6)} for api, seconds in self.spent.items()]
        return passed + self.records + spent + [{"kind": "requests", "count": self.requests}]


def exchange_of(call: Call, sent: Any = None, credential: str | None = None, started_at: str | None = None,
                statuses: tuple[str, ...] = ()) -> dict[str, Any]:
    """A call as report evidence (the Recorder redacts it): the request as it went on the wire when `sent`
    (the prepared request: every header, Content-Type included, and the body's bytes), else as the call has it."""
    request_body = call.request_body if call.request_body is not MISSING else None
    headers = dict(call.request_headers)
    if sent is not None:
        headers = {name: str(value) for name, value in sent.headers.items()}
        request_body = sent.body.decode("utf-8", "replace") if isinstance(sent.body, bytes) else sent.body
    body = call.response_body if call.response_body not in (MISSING, NOT_JSON) else call.response_text or None
    return {"method": call.method, "url": call.url, "request_headers": headers,
            "request_body": request_body, "status": call.status, "response_headers": dict(call.response_headers),
            "response_body": body, "elapsed_ms": round(call.elapsed_ms, 1), "api": call.api,
            "operation": call.operation_id, "intent": call.intent, "expected_statuses": tuple(call.expected_statuses),
            "credential": credential, "statuses": tuple(statuses), "started_at": started_at}


class Target:
    """One process's view of the target: specs, URLs, token client, Schemathesis schemas, checks."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings
        from ._parameters import specs_of

        self.specs: dict[str, Spec] = dict(specs_of(settings))
        self.apis = [name for name in settings.apis if name in self.specs]
        self.profile: Profile = profile(settings.profile)
        if settings.timeout:
            self.profile = replace(self.profile, timeout=settings.timeout)
        self.judge = Judge(self.specs.values())
        self.selection = Selection.from_dict(settings.selection)
        self.redactor = run_redactor(settings)
        """This process's secrets, tokens it is issued included: only this process knows them."""
        self.client = OAuthClient(settings.token_url, settings.client_id, settings.client_secret, settings.scope,
                                  timeout=self.profile.timeout, verify=settings.verify,
                                  on_token=self.redactor.add_secret)
        self.session = deadline_session(self.profile.timeout)
        self.session.verify = settings.verify
        self.budget = Budget(self.profile.request_budget)
        self.limiter = RateLimiter(settings.rate_limit)
        self.collector = self.new_collector()
        self.first_token = None
        self._schemas: dict[str, Any] = {}
        self._auth_probed: set[tuple[str, str]] = set()
        self._sink_client: httpx.Client | None = None
        self.sink_problem: str | None = None
        """Why the last read of the sink's deliveries failed (None when it worked)."""
        self._lock = threading.Lock()

    def new_collector(self) -> Collector:
        """A collector for one test, honouring the run's selection and the rules' severities."""
        return Collector(ship_exchanges=self.settings.exchanges, judged=self.selection.judges,
                         blocking=self.blocking)

    def blocking(self, api: str, rule_id: str) -> bool:
        """Whether a failure of the rule fails the run (a `must` rule) rather than warns (`should`)."""
        return severity_of(self.specs[api], rule_id).blocking

    # -- Schemathesis ---------------------------------------------------------------------------------

    def security(self, api: str, operation_id: str) -> list[str]:
        """How an operation is authorized ("oauth2", "bearer", "basic"), empty when open."""
        from ._parameters import security_types

        return security_types(self.specs[api], operation_id)

    def schema(self, api: str) -> Any:
        """The Schemathesis schema of an API, at its base URL, with our auth provider registered."""
        with self._lock:
            if api not in self._schemas:
                spec = self.specs[api]
                schema = spec.schemathesis(self.settings.base_urls[api])
                types = {t for op in spec.operations if not spec.operations[op].webhook for t in self.security(api, op)}
                if types & {"oauth2", "bearer"}:
                    schema.auth(refresh_interval=None)(schemathesis_auth(self.client))
                elif "basic" in types:
                    schema.auth(refresh_interval=None)(
                        schemathesis_basic_auth(self.settings.client_id, self.settings.client_secret))
                self._schemas[api] = schema
            return self._schemas[api]

    def operation(self, api: str, operation_id: str) -> Any:
        return self.schema(api).find_operation_by_id(operation_id)

    def case(self, request: Request) -> Any:
        operation = self.operation(request.api, request.operation_id)
        kwargs: dict[str, Any] = {"headers": dict(request.headers), "path_parameters": dict(request.path_parameters),
                                  "query": dict(request.query)}
        if request.body is not None:
            kwargs["body"] = request.body
            kwargs["media_type"] = request.media_type
        return operation.Case(**kwargs)

    def authorization(self, api: str, operation_id: str) -> str | None:
        """The Authorization value a valid request to this operation carries."""
        types = self.security(api, operation_id)
        if {"oauth2", "bearer"} & set(types):
            return f"Bearer {self.token()}"
        if "basic" in types:
            return basic_credentials(self.settings.client_id, self.settings.client_secret)
        return None

    def records(self, *extra: dict[str, Any]) -> list[dict[str, Any]]:
        """What the current test found, as plain data for the controller, scrubbed of this process's
        secrets (a token issued to a pytest-xdist worker is known to that worker alone); the evidence
        of failures is redacted in full, as user_properties may also reach a --junitxml file."""
        scrubbed = []
        for record in [*self.collector.to_records(), *extra]:
            if record["kind"] == "failed":
                evidence = {key: record[key] for key in ("title", "expected", "observed")}
                record = {**record, **self.redactor.data(evidence), "exchange": self._scrubbed(record["exchange"]),
                          "chain": [self._scrubbed(step) for step in record.get("chain") or []]}
            elif record["kind"] == "exchange":
                record = {**record, "exchange": self._scrubbed(record["exchange"])}
            scrubbed.append(self.redactor.secrets_only_in(record))
        return scrubbed

    def _scrubbed(self, exchange: dict[str, Any] | None) -> dict[str, Any] | None:
        """An exchange's content (URL, headers, bodies) redacted; its facts (status, timing, kind) as they are."""
        if not exchange:
            return exchange
        content = ("url", "request_headers", "request_body", "response_headers", "response_body")
        return {**exchange, **self.redactor.data({key: exchange[key] for key in content if key in exchange})}

    def close(self) -> None:
        """Release connections (the end of a run)."""
        self.session.close()
        self.client.close()
        if self._sink_client is not None:
            self._sink_client.close()

    def authorize(self, case: Any) -> None:
        """Apply this run's credentials to a case through the auth provider registered on its schema."""
        from schemathesis import AuthContext

        storage = case.operation.schema.auth
        if storage.is_defined:
            storage.set(case, AuthContext(operation=case.operation, app=None))
            if self.first_token is None and self.client.current is not None:
                self.first_token = self.client.current

    def token(self) -> str:
        token = self.client.token()
        if self.first_token is None:
            self.first_token = self.client.current
        return token

    # -- sending ------------------------------------------------------------------------------------

    def send(self, request: Request | Any, *, intent: str = "valid", expected: tuple[int, ...] = (),
             keyword: str | None = None, authorization: str | None | object = MISSING) -> Call:
        """Send a request (ours, or a Schemathesis case), judge the answer, record every Result."""
        _signals.check()  # a Ctrl-C lost in a finalizer stops the run here
        case = self.case(request) if isinstance(request, Request) else request
        if isinstance(request, Request):
            api, operation_id = request.api, request.operation_id
        else:
            api, operation_id = self._api_of(case), case.operation.schema.get_operation_id(case.operation)
        credential = "run" if authorization is MISSING else "none" if authorization is None else "other"
        if authorization is MISSING:
            if not any(k.lower() == "authorization" for k in (case.headers or {})):
                self.authorize(case)
            if not any(k.lower() == "authorization" for k in (case.headers or {})):
                credential = "none"
        else:
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            if authorization is not None:
                headers["Authorization"] = authorization
            case.headers = headers
        self.budget.spend()
        self.limiter.wait()
        self.collector.requests += 1
        started = time.perf_counter()
        started_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            response = case.call(session=self.session, timeout=self.profile.timeout)
        except requests.Timeout:
            call = self._call(api, operation_id, case, None, started, intent, expected, keyword)
            self._keep(call, None, credential, started_at)
            self.record(call, [violation(self.judge.state(api).view.rule("{P}-NO-SERVER-ERROR"),
                                         "No answer in time", f"an answer within {self.profile.timeout:g} s",
                                         "no answer")])
            return call
        except requests.ConnectionError as exc:
            raise TargetUnreachable(f"lost the target at {case.operation.base_url}: {str(exc)[:160]}") from None
        call = self._call(api, operation_id, case, response, started, intent, expected, keyword)
        self._keep(call, response.request, credential, started_at)
        self.record(call, self.judge_answer(case, response, call))
        return call

    def _keep(self, call: Call, sent: Any, credential: str, started_at: str) -> None:
        """Hand the exchange to the collector, as it went on the wire (every header, the body's bytes)."""
        statuses = tuple(value for _, value in self.judge.statuses(call))
        self.collector.exchange(call, Exchange(**exchange_of(call, sent, credential, started_at, statuses)))

    def _api_of(self, case: Any) -> str:
        for name, schema in self._schemas.items():
            if case.operation.schema is schema:
                return name
        raise ValueError("a case from a schema this run did not build")

    def _call(self, api: str, operation_id: str, case: Any, response: Any, started: float, intent: str,
              expected: tuple[int, ...], keyword: str | None) -> Call:
        body = case.body if not _is_not_set(case.body) else MISSING
        call = Call(api=api, operation_id=operation_id, method=case.method.upper(),
                    url=response.request.url if response is not None else case.formatted_path,
                    path_parameters=dict(case.path_parameters or {}), query=dict(case.query or {}),
                    request_headers={k: str(v) for k, v in (case.headers or {}).items()},
                    request_body=body, intent=intent, invalid_keyword=keyword, expected_statuses=tuple(expected),
                    elapsed_ms=(time.perf_counter() - started) * 1000)
        if response is not None:
            call.status = response.status_code
            call.response_headers = {k: ", ".join(v) for k, v in response.headers.items()}
            call.response_text = response.content.decode("utf-8", "replace")
            call.response_body = parse_body(response.content)
        return call

    def judge_answer(self, case: Any, response: Any, call: Call) -> list[Result]:
        """Our Judge on the answer (once), then only the Schemathesis checks we lack (often none)."""
        results = self.judge.answer(call)
        # Schemathesis' ignored_auth re-sends a request without and with bad credentials: once per operation will do.
        key = (call.api, call.operation_id)
        first_success = key not in self._auth_probed and call.intent != "auth" and \
            call.status is not None and 200 <= call.status < 300
        if first_success:
            self._auth_probed.add(key)
        checks = st_checks.lacking_checks(case, call, first_success)
        if checks:  # they judge intents ours leave alone (negative mode, credentials dropped): no overlap
            results += st_checks.judge_with_schemathesis(case, response, call, self.judge, checks)
        return results

    def record(self, call: Call, results: list[Result]) -> None:
        collector = self.collector
        for result in results:
            collector.result(call.api, call.operation_id, result, call)
        for label, value in self.judge.statuses(call):
            collector.status(call.api, label, value)
        for correlation, keys in self.judge.sources(call):
            collector.source(call.api, correlation, keys)

    # -- callbacks at the sink ----------------------------------------------------------------------

    def deliveries(self, api: str, webhook: str) -> list[dict[str, Any]]:
        """Callbacks the sink received so far for one webhook (read over HTTP: the sink may be in another process)."""
        if not self.settings.sink:
            return []
        if self._sink_client is None:
            self._sink_client = deadline_client(5.0)
        try:
            answer = self._sink_client.get(f"{self.settings.sink}/_sink/deliveries",
                                           params={"api": api, "webhook": webhook})
            answer.raise_for_status()
            found = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            reason = str(exc).replace(self.settings.sink, "the sink")
            self.sink_problem = self.redactor.text(reason) or type(exc).__name__
            return []
        self.sink_problem = None
        return found if isinstance(found, list) else []


def run_redactor(settings: RunSettings) -> Redactor:
    """A Redactor knowing every secret a run is given: the client secret (and the Basic credential
    made of it), and the userinfo of every URL it was given (and the Basic credential a client
    builds from that on its own). Tokens are added as they are issued."""
    redactor = Redactor()
    redactor.add_secret(settings.client_secret)
    redactor.add_secret(basic_credentials(settings.client_id, settings.client_secret).partition(" ")[2])
    for url in (settings.token_url, *settings.base_urls.values()):
        for secret in url_secrets(url):
            redactor.add_secret(secret)
    return redactor


def _is_not_set(value: Any) -> bool:
    return type(value).__name__ == "NotSet"
