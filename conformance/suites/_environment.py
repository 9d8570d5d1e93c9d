"""The environment of a run, set up once by the controlling process: specs, target, mock, sink, recorder.

`certify` and the pytest plugin share this: given the options, load the specs (SpecError: exit 2),
take credentials from the environment (or make random ones for the embedded mock), start the embedded
mock when no origin is given, start the callback sink, open the Recorder (which replaces the previous
run's report with this run's, marked not finished), and check the target answers at all (exit 3 when
it does not, one line). Once the run has started, however it stops (unreachable, Ctrl-C, SIGTERM) it
leaves an incomplete report saying why. Workers receive only `settings` (plain data).
"""

from __future__ import annotations

import re
import secrets
import socket
import ssl
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import _signals
from .._deadline import deadline_client
from .._errors import ConformanceError, TargetUnreachable, UsageError
from .._specs import SPEC_NAMES, Spec, load_spec, token_spec_name
from ..auth import DEFAULT_SCOPE, OAuthClient, credentials_from_environment
from ..checks import Severity, catalogue, severity_of, view
from ..redaction import Redactor
from ._mock_admin import MockAdmin
from ._parameters import planned_tests
from ._profiles import profile as profile_named
from ._runtime import RunSettings, run_redactor
from ._selection import Selection, SuiteTest

TOKEN_SPEC = token_spec_name()
"""The spec whose rules table has role token-endpoint (specs/oauth.yaml as bundled)."""
"""The spec whose first operation is the token endpoint (its path gives the token URL under --origin)."""
WRONG_SCOPE = "conformance:no-payments"
"""The scope a wrong-scope token is asked for (the embedded mock issues it; if a sandbox refuses, it is skipped)."""
EMBEDDED_TOKEN_TTL = 2.0
"""Token lifetime on the embedded mock: short, so that caching, refresh and the expired-token test are real."""


@dataclass
class Options:
    origin: str | None = None
    base_urls: dict[str, str] = field(default_factory=dict)
    token_url: str | None = None
    apis: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)
    profile: str = "quick"
    seed: int | None = None
    callback_listen: str | None = None
    report_dir: str = "reports"
    wrong_scope: str | None = WRONG_SCOPE
    rate_limit: float | None = None
    faults: list[str] = field(default_factory=list)
    ca_bundle: str | None = None
    timeout: float | None = None
    callback_timeout: float | None = None
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    exchange_log: str | None = None
    har: str | None = None

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> Options:
        """Options from the settled values of certify's options (`_options.settle`), by dest."""
        return cls(origin=values["origin"], base_urls=parse_base_urls(values["base_url"]),
                   token_url=values["token_url"], apis=list(values["api"]), specs=list(values["spec"]),
                   profile=values["profile"], seed=values["seed"], callback_listen=values["callback_listen"],
                   report_dir=values["report_dir"], rate_limit=values["rate_limit"],
                   wrong_scope=values["wrong_scope"] or WRONG_SCOPE, faults=list(values["fault"]),
                   timeout=values["request_timeout"], callback_timeout=values["callback_timeout"],
                   include=list(values["include"]),
                   exclude=list(values["exclude"]), exchange_log=values["exchange_log"], har=values["har"])


def parse_base_urls(values: list[str]) -> dict[str, str]:
    found = {}
    for value in values or []:
        api, sep, url = value.partition("=")
        if not sep or not api or not url.startswith(("http://", "https://")):
            raise UsageError(f"--base-url takes API=URL (http or https), not {value!r}")
        found[api] = url.rstrip("/")
    return found


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--callback-listen takes HOST:PORT, not {value!r}")
    return host.strip("[]"), int(port)


_NAMED = re.compile(r"^([a-z0-9][a-z0-9-]*)=(.+)$")


def split_spec_argument(text: str) -> tuple[str | None, str]:
    """`--spec NAME=PATH` -> (NAME, PATH); `--spec PATH` or a bundled name -> (None, text)."""
    match = _NAMED.match(text)
    return (match.group(1), match.group(2)) if match else (None, text)


def spec_argument(spec: Spec) -> str:
    """How a loaded spec is named to another process (pytest-xdist workers): NAME=PATH."""
    return f"{spec.name}={spec.path}"


def load_specs(arguments: list[str], apis: list[str] | None = None) -> list[Spec]:
    """The bundled specs, each replaced by a given document of the same API; the token endpoint always included.

    A `--spec PATH` without a name takes the API of the only `--api` when there is exactly one of each;
    otherwise the loader tells the API from the file's name or title, or says how to name it.
    """
    loaded: dict[str, Spec] = {}
    given = []
    for text in arguments:
        api, path = split_spec_argument(text)
        if api is None and len(arguments) == 1 and apis and len(apis) == 1 and path not in SPEC_NAMES:
            api = apis[0]
        given.append(load_spec(path, api=api))
    for name in SPEC_NAMES:
        loaded[name] = load_spec(name)
    for spec in given:
        loaded[spec.name] = spec
    return list(loaded.values())


class Environment:
    """Everything the controlling process owns during a run; close() stops what it started."""

    def __init__(self, options: Options, command: str = "certify") -> None:
        self.options = options
        self.command = command
        self.mock: Any = None
        self.sink: Any = None
        self.recorder: Any = None
        self.specs: list[Spec] = []
        self.apis: list[str] = []
        self.settings: RunSettings | None = None
        self.redactor = Redactor()
        self.dry = False
        self.selection = Selection()
        self.tests: list[SuiteTest] = []
        """The suite tests the run has after --include/--exclude."""
        self.rules: dict[str, list[tuple[str, str, Severity]]] = {}
        """Each API's rules the run judges: (rule ID, description, severity)."""
        self.mock_admin: MockAdmin | None = None
        """A `conformance mock` found at --origin, whose callback URL this run registered."""
        self.profile = profile_named(options.profile)
        if options.timeout is not None:
            self.profile = replace(self.profile, timeout=options.timeout)
        if options.callback_timeout is not None:
            self.profile = replace(self.profile, callback_timeout=options.callback_timeout)

    # -- setting up ---------------------------------------------------------------------------------

    def open(self, dry: bool = False) -> Environment:
        """Set the run up; `dry` (pytest --collect-only) only loads the specs and settles the options."""
        self.dry = dry
        try:
            self._open()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                self.abandon(_signals.reason())
            elif self.recorder is not None:
                self.abandon(str(exc) if isinstance(exc, ConformanceError) else f"{type(exc).__name__}: {exc}")
            self.close()
            raise
        return self

    def abandon(self, reason: str) -> None:
        """Leave an incomplete report saying why the run stopped before its end (nothing when dry)."""
        if self.dry or (self.recorder is not None and self.recorder.finished):
            return
        from ..reporting import Recorder

        try:
            if self.recorder is None:
                self.recorder = Recorder(self.options.report_dir, command=self.command, specs=self.specs,
                                         target={"origin": self.options.origin}, profile=self.profile.name,
                                         seed=self.options.seed, redactor=self.redactor)
            self.recorder.finish(complete=False, reason=reason)
        except ConformanceError:
            pass  # the report directory cannot be written: the error being raised is the one to show

    def _open(self) -> None:
        options = self.options
        self.specs = load_specs(options.specs, options.apis)
        names = [spec.name for spec in self.specs]
        for api in options.apis:
            if api not in names:
                raise UsageError(f"unknown API {api!r} (choose from {', '.join(names)})")
        for api in options.base_urls:
            if api not in names:
                raise UsageError(f"--base-url names an unknown API {api!r} (choose from {', '.join(names)})")
        self.apis = list(dict.fromkeys(options.apis)) or names
        self._select()
        for flag, url in (("--origin", options.origin), ("--token-url", options.token_url)):
            if url is not None and not url.startswith(("http://", "https://")):
                raise UsageError(f"{flag} takes an http or https URL, not {url!r}")
        embedded = options.origin is None and not options.base_urls
        if options.faults and not embedded:
            raise UsageError("--fault switches on a fault of the embedded mock; it cannot be used with --origin")
        client_id, client_secret = credentials_from_environment(required=not embedded and not self.dry)
        if self.dry:
            self.settings = RunSettings(specs=[spec_argument(spec) for spec in self.specs], apis=self.apis,
                                        base_urls={}, token_url="", client_id="", client_secret="",
                                        profile=self.profile.name, selection=self.selection.to_dict())
            return
        if embedded:
            client_id = client_id or "conformance-" + secrets.token_hex(6)
            client_secret = client_secret or secrets.token_urlsafe(24)
            self._start_mock(client_id, client_secret)
            origin = self.mock.origin
        else:
            origin = options.origin.rstrip("/") if options.origin else None
        base_urls = {}
        for spec in self.specs:
            if spec.name in options.base_urls:
                base_urls[spec.name] = options.base_urls[spec.name]
            elif origin:
                base_urls[spec.name] = origin + spec.base_path
            elif spec.name in self.apis:
                raise UsageError(f"no URL for {spec.name}: give --origin, or --base-url {spec.name}=URL")
        token_url = options.token_url or self._token_url(origin, base_urls)
        if not embedded and not options.callback_listen and origin:
            self.mock_admin = MockAdmin.find(origin, client_id, client_secret, self.profile.timeout)
        if options.callback_listen or embedded or self.mock_admin:
            self._start_sink(*(parse_listen(options.callback_listen) if options.callback_listen else ("127.0.0.1", 0)))
        if embedded:
            self.mock.set_callback_url(self.sink.url)
        elif self.mock_admin:
            self.mock_admin.register(self.sink.url)
        seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
        rate = options.rate_limit if options.rate_limit is not None else (None if embedded else self.profile.rate_limit)
        verify: bool | str = options.ca_bundle or True
        self.settings = RunSettings(
            specs=[spec_argument(spec) for spec in self.specs], apis=self.apis, base_urls=base_urls,
            token_url=token_url,
            client_id=client_id, client_secret=client_secret, scope=DEFAULT_SCOPE, wrong_scope=options.wrong_scope,
            profile=self.profile.name, seed=seed, sink=self.sink.base if self.sink else None,
            rate_limit=rate or None, verify=verify, embedded=embedded, timeout=self.profile.timeout,
            selection=self.selection.to_dict())
        self.redactor = run_redactor(self.settings)
        if self.sink is not None:
            self.redactor.add_secret(self.sink.token)  # the sink's path is a secret: forgers must not learn it
        self._open_recorder()
        self.preflight()
        self._declare_rules()

    def _select(self) -> None:
        """Settle --include/--exclude against this run's tests and rules (a glob matching nothing is exit 2)."""
        specs = {spec.name: spec for spec in self.specs}
        self.rules = {api: [(rule_id, description, severity_of(specs[api], rule_id))
                            for rule_id, description in catalogue(specs[api])] for api in self.apis}
        planned = planned_tests(specs, self.apis)
        self.selection = Selection(tuple(self.options.include), tuple(self.options.exclude)).settle(
            planned, {api: [rule[0] for rule in rules] for api, rules in self.rules.items()})
        self.tests = [test for test in planned if self.selection.runs(test)]
        # An API none of whose tests is left sends nothing, so it is not part of the run.
        self.apis = [api for api in self.apis if any(test.api == api for test in self.tests)]
        self.rules = {api: [rule for rule in self.rules[api] if self.selection.judges(rule[0])] for api in self.apis}

    def _token_url(self, origin: str | None, base_urls: dict[str, str]) -> str:
        token_spec = next((spec for spec in self.specs if spec.name == TOKEN_SPEC), None)
        if token_spec is None:
            raise UsageError("no token endpoint: give --token-url")
        path = next(op.path for op in token_spec.operations.values() if not op.webhook)
        base = base_urls.get(TOKEN_SPEC) or (origin + token_spec.base_path if origin else None)
        if base is None:
            raise UsageError("no token endpoint: give --token-url, --origin, or --base-url oauth=URL")
        return base.rstrip("/") + path

    def _start_mock(self, client_id: str, client_secret: str) -> None:
        from ..mock import MockServer

        retry = embedded_retry()
        self.mock = MockServer(host="127.0.0.1", port=0, faults=tuple(self.options.faults), client_id=client_id,
                               client_secret=client_secret, scopes=(DEFAULT_SCOPE, WRONG_SCOPE),
                               token_ttl=EMBEDDED_TOKEN_TTL, retry=retry, specs=self.specs)
        self.mock.start()

    def _start_sink(self, host: str, port: int) -> None:
        from ..sink import CallbackSink

        self.sink = CallbackSink(host=host, port=port, recorder=None, specs=self.specs)
        self.sink.start()

    def _open_recorder(self) -> None:
        from ..reporting import Recorder

        settings = self.settings
        target = {"origin": self.options.origin or (self.mock.origin if self.mock else None),
                  "base_urls": settings.base_urls, "token_url": settings.token_url,
                  "embedded_mock": settings.embedded, "faults": list(self.options.faults),
                  "apis": self.apis, "callback_sink": self.sink.url if self.sink else None}
        if self.selection.active:
            target["filters"] = {"include": list(self.selection.include), "exclude": list(self.selection.exclude)}
        self.recorder = Recorder(self.options.report_dir, command=self.command, target=target, specs=self.specs,
                                 profile=self.profile.name, seed=settings.seed, redactor=self.redactor,
                                 judged=self.selection.judges)
        if self.sink is not None:
            self.sink.recorder = self.recorder

    def _declare_rules(self) -> None:
        for spec in self.specs:
            if spec.name not in self.apis:
                continue
            for rule_id, description, severity in self.rules[spec.name]:
                if rule_id.endswith("-CALLBACK-RETRY") and self.sink is None:
                    continue
                self.recorder.rule(spec.name, rule_id, description, severity=severity.level,
                                   severity_reason=severity.reason)
            known = view(spec)
            for entry in spec.rules.coverage:
                if entry.webhook and self.sink is None:
                    continue
                self.recorder.expect_statuses(spec.name, known.coverage_label(entry), known.coverage_values(entry))

    # -- is the target there at all? ------------------------------------------------------------------

    def preflight(self) -> None:
        """One request to each distinct origin, then a token: unreachable, TLS failure or a hang is exit 3."""
        settings = self.settings
        timeout = self.profile.timeout
        origins = {}
        for url in [settings.token_url, *(settings.base_urls[api] for api in self.apis if api in settings.base_urls)]:
            parts = urlsplit(url)
            origins.setdefault(f"{parts.scheme}://{parts.netloc}", url)
        for origin, url in origins.items():
            try:
                with deadline_client(timeout, verify=settings.verify) as http:
                    http.get(url)
            except httpx.TimeoutException:
                raise TargetUnreachable(f"{origin} did not answer within {timeout:g} s") from None
            except httpx.ConnectError as exc:
                raise TargetUnreachable(f"cannot reach {origin}: {_connect_reason(exc)}") from None
            except httpx.HTTPError as exc:
                raise TargetUnreachable(f"cannot talk to {origin}: {_connect_reason(exc)}") from None
        client = OAuthClient(settings.token_url, settings.client_id, settings.client_secret, settings.scope,
                             timeout=timeout, verify=settings.verify, on_token=self.redactor.add_secret)
        try:
            client.token()
        finally:
            client.close()

    # -- tearing down -------------------------------------------------------------------------------

    def close(self) -> None:
        if self.mock_admin is not None:
            self.mock_admin.restore()
        if self.sink is not None:
            self.sink.stop()
        if self.mock is not None:
            self.mock.stop()


def _connect_reason(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed ({cause.reason or cause})"
        if isinstance(cause, socket.gaierror):
            return "unknown host"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(exc).split())
    if "SSL" in text or "certificate" in text.lower():
        return f"TLS handshake failed ({text[:160]})"
    return text[:200] or type(exc).__name__


def embedded_retry():
    """The embedded mock's callback back-off: gaps of 0.25, 0.63, 1.56 s.

    The suites, the mock and the sink share one process, and all its threads wait out a pause of it (a
    call holding the interpreter while a strategy is built, a full garbage collection): 0.3 to 0.7 s
    measured, two seconds in a test process holding a million objects. CALLBACK-RETRY compares each gap
    with the shortest earlier one, so it takes two long pauses, in the right two gaps, to make these
    look constant (from 0.05 s doubling, one did). They are not longer because the sink waits for the
    refused callbacks to be accepted before the run ends: a short run would wait for them.
    """
    from ..mock import RetryPolicy

    return RetryPolicy(base=0.25, factor=2.5, cap=2.5, attempts=6, timeout=2.0)
