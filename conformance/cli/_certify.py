"""`conformance certify`: tell whether a target conforms to its contract, and exactly where it does not.

With no --origin it starts the embedded mock (with the callback sink registered), runs every suite against
it and stops it. The suites run in-process under pytest (`-n N` through pytest-xdist for --workers N);
the report goes to --report-dir, and a one-screen summary ends the run. Exit codes: 0 conforms,
1 nonconformance found, 2 usage/configuration/spec error (or a report directory that cannot be
written), 3 target unreachable or TLS failure, 130 Ctrl-C, 143 SIGTERM (both leave an incomplete report).
Credentials come from CONFORMANCE_CLIENT_ID / CONFORMANCE_CLIENT_SECRET, never from the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys

HELP = "Certify a provider (or the embedded mock) against the specs; exit 0 conforms, 1 nonconformance."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .._options import add_arguments as add_options

    add_options(parser, "certify")


def run(args: argparse.Namespace) -> int:
    from .. import _signals
    from .._config import settled

    args = settled(args, "certify")
    try:  # loading pytest, Schemathesis and Hypothesis takes a second: a Ctrl-C then still leaves a report
        import pytest

        from .. import plugin
        from ..progress import Progress
        from ..suites._environment import Environment, Options
    except KeyboardInterrupt:
        from ..reporting import write_stopped_report

        write_stopped_report(args.report_dir, command="certify", reason=_signals.reason(),
                             target={"origin": args.origin}, profile=args.profile, seed=args.seed)
        raise

    options = Options.from_values(vars(args))
    if args.dry_run:
        return dry_run(Environment(options).open(dry=True))
    environment = Environment(options).open()
    try:
        progress = Progress(quiet=args.quiet, redactor=environment.recorder.redactor)
        plugin.keep_exchanges(environment, options.exchange_log, options.har,
                              echo=progress.echo if args.verbose else None)
        controller = plugin.Controller(environment, progress=progress)
        pytest_args = ["--pyargs", "conformance.suites", "-p", "conformance.plugin", "-p", "no:cacheprovider",
                       "-p", "no:unraisableexception", "-o", "addopts=", "-o", "testpaths=", "-o", "filterwarnings=",
                       "--capture=sys", "--assert=plain", "-q", "--no-header",
                       "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        if args.workers > 1:
            pytest_args += ["-n", str(args.workers)]
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            code = pytest.main(pytest_args, plugins=[plugin, controller])
        redactor = environment.redactor
        stopped = _signals.received() is not None or controller.interrupted or code == pytest.ExitCode.INTERRUPTED
        if stopped and controller.document is None:  # stopped before pytest's session began: no verdict to show
            environment.abandon(_signals.reason())
            sys.stderr.write(f"conformance: {_signals.reason().split(' ')[0]}\n")
            return _signals.exit_code()
        if controller.unreachable:
            _report_error(controller, redactor)
            sys.stderr.write(f"conformance: error: {redactor.text(controller.unreachable)}\n")
            return 3
        if controller.document is None or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            last = [line for line in output.getvalue().splitlines() if line.strip()][-1:] or [f"pytest exit {code}"]
            sys.stderr.write(f"conformance: error: the suites did not run: {redactor.text(last[0])}\n")
            return 2
        progress.summary(controller.document, report_dir=str(options.report_dir))
        if stopped:
            _report_error(controller, redactor)
            return _signals.exit_code()
        print(f"requests sent: {controller.requests}")
        failures = controller.document["failures"]
        for label, level in (("rules failed", "must"), ("warnings (should rules)", "should")):
            rules = sorted({failure["rule_id"] for failure in failures if failure["severity"] == level})
            if rules:
                print(redactor.text(f"{label}: " + " ".join(rules)))
        if controller.report_error is not None:
            _report_error(controller, redactor)
            return controller.report_error.exit_code
        return controller.verdict.exit_code
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM where pytest does not catch it (its start, its end)
        environment.abandon(_signals.reason())
        raise
    finally:
        environment.close()


def dry_run(environment) -> int:
    """What the run would do, from the specs and the options alone: nothing is started, nothing is sent."""
    try:
        options, profile = environment.options, environment.profile
        if options.origin or options.base_urls:
            target = options.origin or ", ".join(f"{api}={url}" for api, url in options.base_urls.items())
        else:
            target = "the embedded mock (started for the run)"
        lines = ["conformance certify --dry-run: nothing was sent", f"target: {target}",
                 f"profile {profile.name}: request budget {profile.request_budget}, timeout {profile.timeout:g} s, "
                 f"callback timeout {profile.callback_timeout:g} s, rate limit {_rate(options, profile)}"]
        if environment.selection.active:
            include, exclude = " ".join(options.include) or "-", " ".join(options.exclude) or "-"
            lines.append(f"filters: include {include}; exclude {exclude}")
        for api in environment.apis:
            tests = [test for test in environment.tests if test.api == api]
            rules = environment.rules.get(api, [])
            lines.append(f"{api}: {len(tests)} tests, {len(rules)} rules")
            for suite in dict.fromkeys(test.suite for test in tests):
                values = [test.value for test in tests if test.suite == suite]
                lines.append(f"  {suite:<12} {len(values):>3}  {', '.join(values)}")
            for rule_id, _description, severity in rules:
                why = f" ({severity.reason})" if severity.reason else ""
                lines.append(f"  rule {rule_id} [{severity.level}]{why}")
        total = len(environment.tests)
        lines.append(f"total: {total} tests, {sum(len(rules) for rules in environment.rules.values())} rules, "
                     f"at most {profile.request_budget} requests")
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    finally:
        environment.close()


def _rate(options, profile) -> str:
    if not (options.origin or options.base_urls):
        return "none (the embedded mock)"
    rate = options.rate_limit if options.rate_limit is not None else profile.rate_limit
    return f"{rate:g} requests/s" if rate else "none"


def _report_error(controller, redactor) -> None:
    """The report could not be written (its summary is on the console): one line saying so."""
    if controller.report_error is not None:
        sys.stderr.write(f"conformance: error: {redactor.text(str(controller.report_error))}\n")
