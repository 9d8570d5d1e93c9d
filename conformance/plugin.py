"""The pytest plugin behind `conformance certify` and `pytest --pyargs conformance.suites`.

Options are namespaced in a "conformance" group (see `pytest --help`). The plugin wakes up only for
a run of the suites (`conformance.suites` among the arguments, or --origin/--base-url given). Then the
controlling process sets up the environment (embedded mock or your origin, the callback sink, the
Recorder), hands plain settings to every process (pytest-xdist workers included, through
`pytest_configure_node`), and gathers what each test found from the test reports' `user_properties`:
rule results, statuses seen, resources created. At the end it judges what needs the whole run (status
coverage, callback retries, correlations), writes the report, and fails the session if a rule failed.

Markers select suites: one per API (`online_payments`, `pay_by_bank`, ...) and one per kind
(`generated`, `scenarios`, `negative`, `auth`, `idempotency`, `flows`); `--api NAME` does the same by API.

For any pytest suite, the plugin also gives the `payments_mock` fixture (conformance.client._fixture):
the embedded mock behind a recording proxy, trouble on demand, and each test's exchanges judged by the
client rules after its body (docs/client.md).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from . import _signals
from ._config import find_config
from ._errors import ConformanceError, TargetUnreachable
from ._options import add_pytest_options, given_plugin_options, settle
from .redaction import redact_text
from .suites._environment import Environment, Options
from .suites._runtime import BudgetExhausted, RunSettings, Target

SETTINGS = pytest.StashKey[RunSettings]()
CONTROLLER = pytest.StashKey["Controller"]()
PROPERTY = "conformance"
KINDS = {
    "generated": "valid requests generated from the spec (Schemathesis) and checked",
    "scenarios": "the rules tables' scenario triggers, their answers and callbacks",
    "negative": "invalid-by-rule requests, each refused with the family's error body",
    "auth": "missing, malformed, expired and wrong-scope credentials refused",
    "idempotency": "repeated writes: the original answer again, another payload refused",
    "flows": "follow-ups on a resource in a final state leave it there",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options: the same table as `conformance certify` (conformance/_options.py), and the scope
    of the payments_mock fixture (an option of the fixture, not of a run)."""
    group = parser.getgroup("conformance", "payments conformance (conformance.suites)")
    add_pytest_options(group)
    group.addoption("--payments-mock-scope", choices=("function", "session"), default=None,
                    help="scope of the payments_mock fixture (default: the ini's payments_mock_scope, else function)")
    parser.addini("payments_mock_scope", "scope of the payments_mock fixture: function (default) or session",
                  default="function")


def _wanted(config: pytest.Config) -> bool:
    if config.getoption("conformance_origin", None) or config.getoption("conformance_base_url", None):
        return True
    return any("conformance.suites" in str(arg) or "conformance/suites" in str(arg) for arg in config.args)


def options_from(config: pytest.Config) -> Options:
    """The run's options: flags first, then the config file (conformance.toml, [tool.conformance]), then defaults."""
    given = given_plugin_options(config.getoption)
    return Options.from_values(settle(given, "pytest", find_config(given["config"])))


def pytest_configure(config: pytest.Config) -> None:
    for kind, description in KINDS.items():
        config.addinivalue_line("markers", f"{kind}: conformance suite: {description}")
    config.addinivalue_line("markers", "conformance_api(name): the API a conformance test belongs to")
    config.addinivalue_line("markers", "late: a conformance test that runs after the others (expired tokens)")
    config.addinivalue_line("markers", "payments_mock(profile=None, seed=0): inject a profile's seeded trouble "
                            "into this test's payments_mock (function scope)")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        if PROPERTY in workerinput:
            config.stash[SETTINGS] = RunSettings.from_dict(workerinput[PROPERTY])
            _register_api_markers(config, config.stash[SETTINGS].apis)
        return
    controller = next((p for p in config.pluginmanager.get_plugins() if isinstance(p, Controller)), None)
    if controller is None and _wanted(config):
        stop_signals = contextlib.ExitStack()  # SIGTERM (a cancelled CI job) stops the run as Ctrl-C does
        stop_signals.enter_context(_signals.stop_signals())
        config.add_cleanup(stop_signals.close)
        try:
            environment = Environment(options_from(config)).open(dry=bool(config.option.collectonly))
        except ConformanceError as exc:
            raise pytest.UsageError(f"conformance: {redact_text(str(exc))}") from None
        controller = Controller(environment, owns_environment=True)
        keep_exchanges(environment, environment.options.exchange_log, environment.options.har)
        config.pluginmanager.register(controller, "conformance-controller")
    if controller is not None:
        config.stash[CONTROLLER] = controller
        config.stash[SETTINGS] = controller.environment.settings
        _register_api_markers(config, controller.environment.apis)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before the first test of a run: what is loaded so far (specs, schemas, validators) is kept out of
    the garbage collector's full passes. Those pass over every object of the process while every thread
    waits, the embedded mock's and the sink's included: measured at 0.8 to 2 s with a million objects,
    long enough to make a provider's callback back-off look constant."""
    if SETTINGS in session.config.stash:
        gc.freeze()


def keep_exchanges(environment: Environment, log: str | None, har: str | None, echo: Any = None) -> None:
    """Have every exchange of the run shipped to the controller and kept (log, HAR, echo), when asked."""
    if environment.dry or not (log or har or echo):
        return
    environment.settings.exchanges = True
    environment.recorder.record_exchanges(log=log, har=har, echo=echo)


def _marker(api: str) -> str:
    return api.replace("-", "_")


def _register_api_markers(config: pytest.Config, apis: list[str]) -> None:
    for api in apis:
        config.addinivalue_line("markers", f"{_marker(api)}: conformance suites of the {api} API")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each conformance test with its API; leave out what --include/--exclude leave out; late ones last."""
    if SETTINGS not in config.stash:
        return
    from .suites._parameters import SUITE_PARAMETERS, names_of_test, specs_of
    from .suites._selection import Selection, SuiteTest

    settings = config.stash[SETTINGS]
    selection = Selection.from_dict(settings.selection)
    specs = specs_of(settings)
    kept, left_out = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        api = callspec.params.get("api") if callspec else None
        if isinstance(api, str):
            item.add_marker(getattr(pytest.mark, _marker(api)))
            item.add_marker(pytest.mark.conformance_api(api))
            suite = _suite_of(item.nodeid)[1]
            parameter = next((name for name in SUITE_PARAMETERS.get(suite, ()) if name in callspec.params), None)
            if selection.active and parameter is not None and api in specs:
                value = str(callspec.params[parameter])
                if not selection.runs(SuiteTest(api, suite, value, names_of_test(specs[api], parameter, value))):
                    left_out.append(item)
                    continue
        kept.append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
    items.sort(key=lambda item: 1 if item.get_closest_marker("late") else 0)


# -- what the suites use ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def conformance_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """This process's Target: specs, URLs, token client, Schemathesis schemas and checks."""
    settings = request.config.stash.get(SETTINGS, None)
    if settings is None:
        pytest.skip("the conformance suites run under `conformance certify` or with --origin/--base-url")
    target = Target(settings)
    yield target
    target.close()


@pytest.fixture
def conformance(conformance_target: Target) -> Target:
    """The Target, with a fresh collector for this test's results."""
    conformance_target.collector = conformance_target.new_collector()
    return conformance_target


def _payments_mock_scope(fixture_name: str, config: pytest.Config) -> str:
    return config.getoption("--payments-mock-scope", None) or config.getini("payments_mock_scope") or "function"


@pytest.fixture(scope=_payments_mock_scope)
def payments_mock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The embedded mock behind a recording proxy: URLs and credentials (`base_url(api)`, `token_url`,
    `client_id`, `client_secret`, `environ`), trouble on demand (`fail_next`, `drop_next`, `delay_next`,
    `revoke_tokens`) and the `exchanges` seen. Each test's exchanges are judged by the client rules after
    the test body: a broken rule fails the test with its rule ID and the exchange (docs/client.md)."""
    from .client._fixture import PaymentsMock

    marker = request.node.get_closest_marker("payments_mock") if request.scope == "function" else None
    mock = PaymentsMock(**(marker.kwargs if marker else {}))
    yield mock
    mock.close()


def _judge_payments_mock(item: pytest.Item) -> Any:
    """Around a test using payments_mock: after its body, fail it when its exchanges broke a client rule."""
    mock = item.funcargs.get("payments_mock") if hasattr(item, "funcargs") else None
    if mock is None:
        return None
    since, asked_from = mock.checkpoint()
    return lambda: mock.failures(since=since, asked_from=asked_from)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the suites from the specs and rules tables of the run (nothing is hard-coded)."""
    settings = metafunc.config.stash.get(SETTINGS, None)
    if settings is None or "conformance" not in metafunc.fixturenames:
        return
    from .suites import _parameters

    _parameters.parametrize(metafunc, settings)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Turn what the test's collector found into the test's outcome, and ship it in user_properties."""
    target = item.funcargs.get("conformance") if hasattr(item, "funcargs") else None
    if target is None:
        judge = _judge_payments_mock(item)
        result = yield
        failures = judge() if judge is not None else []
        if failures:
            from .client._fixture import failure_message

            pytest.fail(failure_message(failures), pytrace=False)
        return result
    callspec = getattr(item, "callspec", None)
    api = callspec.params.get("api") if callspec else None
    item.user_properties.append((PROPERTY + "-api", api if isinstance(api, str) else None))
    try:
        result = yield
    except BudgetExhausted as exc:
        item.user_properties.append((PROPERTY, target.records()))
        pytest.skip(str(exc))
    except TargetUnreachable as exc:
        message = target.redactor.text(str(exc))
        item.user_properties.append((PROPERTY, target.records({"kind": "unreachable", "message": message})))
        pytest.fail(f"target unreachable: {message}", pytrace=False)
    except Exception as exc:
        message = target.redactor.text(f"{item.nodeid}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
        item.user_properties.append((PROPERTY, target.records({"kind": "error", "message": message})))
        raise
    collector = target.collector
    if not collector.requests and not collector.passes and not collector.records:
        # A suite that tested nothing must not pass: that is how a run ends green having judged nothing.
        collector.records.append({"kind": "error", "message": f"{item.nodeid}: nothing was sent or judged"})
        item.user_properties.append((PROPERTY, target.records()))
        pytest.fail("nothing was sent or judged: this test of the suite had nothing to test", pytrace=False)
    item.user_properties.append((PROPERTY, target.records()))
    if target.collector.failed_rules:
        lines = "\n".join(target.redactor.text(line)[:600] for line in target.collector.failed_rules[:20])
        pytest.fail(f"{len(target.collector.failed_rules)} rule(s) broken:\n{lines}", pytrace=False)
    return result


# -- the controlling process ------------------------------------------------------------------------------


class Controller:
    """The controlling process: sets workers up, gathers results, judges the run, writes the report."""

    def __init__(self, environment: Environment, owns_environment: bool = False, progress: Any = None) -> None:
        self.environment = environment
        self.owns_environment = owns_environment
        self.progress = progress
        self._remaining: collections.Counter[tuple[str | None, str]] = collections.Counter()
        self._totals: dict[tuple[str | None, str], int] = {}
        self._started: set[tuple[str | None, str]] = set()
        self.seen: dict[str, dict[str, set[str]]] = {}
        self.unreachable: str | None = None
        self.errors: list[str] = []
        self.tests = 0
        self.requests = 0
        self.verdict: Any = None
        self.document: dict[str, Any] | None = None
        self.interrupted = False
        self.report_error: ConformanceError | None = None

    @property
    def recorder(self) -> Any:
        return self.environment.recorder

    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: every worker gets the run's settings."""
        node.workerinput[PROPERTY] = self.environment.settings.to_dict()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.environment.dry:
            return
        if report.when != "call" and not (report.when == "setup" and report.skipped):
            return
        self.tests += 1
        api = None
        for name, value in report.user_properties:
            if name == PROPERTY + "-api":
                api = value
            elif name == PROPERTY:
                for record in value:
                    self._take(record)
        if self.progress is not None and api:
            suite = _suite_of(report.nodeid)[1]
            self.progress.advance(api, suite=suite, passed=int(report.passed), failed=int(report.failed),
                                  skipped=int(report.skipped))
            key = (api, suite)
            if key in self._remaining:
                self._remaining[key] -= 1
                if self._remaining[key] == 0:
                    self.progress.done(api, suite=suite)

    def _expect(self, nodeids: list[str]) -> None:
        """How many tests each (api, suite) has, so progress can say a suite is done when it is."""
        if not self._remaining:
            self._remaining.update(key for key in map(_suite_of, nodeids) if key[0] in self.environment.apis)
            self._totals = dict(self._remaining)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        """A suite starts with its first test (on any worker), with its number of tests."""
        _signals.check()  # a Ctrl-C lost in a finalizer stops the run before the next test
        api, suite = _suite_of(nodeid)
        # A suite with nothing to test for the run's APIs is one test with an empty parameter set
        # ("test_x[NOTSET]"): it names no API and gets no progress row.
        if self.progress is None or api not in self.environment.apis or (api, suite) in self._started:
            return
        self._started.add((api, suite))
        self.progress.start(api, total=self._totals.get((api, suite)), suite=suite)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._expect([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._expect(list(ids))

    def _take(self, record: dict[str, Any]) -> None:
        from .reporting import Exchange, Failure

        kind, recorder = record["kind"], self.recorder
        if kind == "passed":
            recorder.passed(record["api"], record["rule_id"], record["operation"], count=record["count"],
                            seconds=record.get("seconds", 0.0))
        elif kind == "failed":
            exchange = Exchange(**record["exchange"]) if record.get("exchange") else None
            chain = [Exchange(**step) for step in record.get("chain") or []]
            recorder.failed(Failure(api=record["api"], rule_id=record["rule_id"], operation=record["operation"],
                                    title=record["title"], expected=record["expected"], observed=record["observed"],
                                    exchange=exchange, chain=chain))
        elif kind == "exchange":
            recorder.exchange(Exchange(**record["exchange"]))
        elif kind == "spent":
            recorder.spent(record["api"], record["seconds"])
        elif kind == "skipped":
            recorder.skipped(record["api"], record["rule_id"], record["operation"], reason=record["reason"])
        elif kind == "status":
            self.seen.setdefault(record["api"], {}).setdefault(record["label"], set()).add(record["value"])
            recorder.saw_status(record["api"], record["label"], record["value"])
        elif kind == "source":
            if self.environment.sink is not None:
                self.environment.sink.add_source(record["api"], record["correlation"], record["keys"])
        elif kind == "unreachable":
            self.unreachable = self.unreachable or record["message"]
        elif kind == "error":
            self.errors.append(record["message"])
        elif kind == "requests":
            self.requests += record["count"]

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True
        _signals.drop_lineless_frames(excinfo.value)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        environment = self.environment
        if environment.dry:
            return
        try:
            try:
                self.interrupted = self.interrupted or _signals.received() is not None
                if environment.sink is not None and not self.interrupted:
                    # The embedded mock's first retry is due in a quarter second (2 s allows for a pause of
                    # this process); a provider's may take the whole wait.
                    patience = 2.0 if environment.settings.embedded else environment.profile.callback_timeout
                    environment.sink.finish(timeout=environment.profile.callback_timeout, patience=patience)
                    for api, labels in environment.sink.seen.items():
                        for label, values in labels.items():
                            self.seen.setdefault(api, {}).setdefault(label, set()).update(values)
                if not self.interrupted and self.tests:
                    self._judge_coverage()
            except KeyboardInterrupt:  # while waiting for the last callbacks: the report says so
                self.interrupted = True
                session.exitstatus = pytest.ExitCode.INTERRUPTED
            complete = not self.interrupted and self.unreachable is None and self.tests > 0 and not self.errors
            reason = _signals.reason() if self.interrupted else self.unreachable or \
                ("no test ran" if not self.tests else None) or \
                (f"{len(self.errors)} suite test(s) broke: {self.errors[0]}" if self.errors else None)
            self.recorder.requests = self.requests
            try:
                with _signals.deferred():  # the set is written whole, then a late signal is handled
                    self.verdict = self.recorder.finish(complete=complete, reason=reason)
            except ConformanceError as exc:  # the report directory cannot be written: kept for one line
                self.report_error = exc
                self.verdict = self.recorder.verdict
            self.document = self.recorder.document()
            if self.verdict.value != "conforms" and session.exitstatus == 0:
                session.exitstatus = 1
        finally:
            if self.owns_environment:
                environment.close()

    def _judge_coverage(self) -> None:
        from .checks import Judge

        environment = self.environment
        judge = Judge(environment.specs)
        for spec in environment.specs:
            if spec.name not in environment.apis or not spec.rules.coverage:
                continue
            if environment.sink is None:
                self.recorder.skipped(spec.name, f"{spec.prefix}-STATUS-COVERAGE", None,
                                      reason="callbacks not received (no --callback-listen): coverage not judged")
                continue
            for result in judge.coverage(spec.name, self.seen.get(spec.name, {})):
                if result.passed:
                    self.recorder.passed(spec.name, result.rule_id, None)
                else:
                    from .reporting import Failure

                    self.recorder.failed(Failure(api=spec.name, rule_id=result.rule_id, title=result.title,
                                                 expected=result.expected, observed=result.observed))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.document is None or not self.owns_environment:
            return
        from .progress import Progress

        stream = _TerminalStream(terminalreporter)
        Progress(quiet=True, summary_stream=stream, redactor=self.recorder.redactor).summary(
            self.document, report_dir=str(self.environment.options.report_dir))
        terminalreporter.write_line(f"requests sent: {self.requests}")
        if self.report_error is not None:
            terminalreporter.write_line(f"conformance: error: {self.recorder.redactor.text(str(self.report_error))}")


class _TerminalStream:
    """pytest's terminal writer as a text stream, for the one-screen summary."""

    def __init__(self, reporter: Any) -> None:
        self.reporter = reporter

    def write(self, text: str) -> int:
        self.reporter.write(text)
        return len(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return False


def _suite_of(nodeid: str) -> tuple[str | None, str]:
    """(api, suite) of a suite test: suites parametrize by "api:...", the module names the suite."""
    module, _, rest = nodeid.partition("::")
    suite = module.rsplit("/", 1)[-1].removeprefix("test_").removesuffix(".py")
    parameters = rest.partition("[")[2]
    return (parameters.split(":", 1)[0] or None if parameters else None), suite
