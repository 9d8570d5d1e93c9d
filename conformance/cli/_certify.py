"""`conformance certify`: tell whether a target conforms to its contract, and exactly where it does not.

With no --origin it starts the embedded mock (with the callback sink registered), runs every suite against
it and stops it. The suites run in-process under pytest (`-n N` through pytest-xdist for --workers N);
the report goes to --report-dir, and a one-screen summary ends the run. Exit codes: 0 conforms,
1 nonconformance found, 2 usage/configuration/spec error, 3 target unreachable or TLS failure.
Credentials come from CONFORMANCE_CLIENT_ID / CONFORMANCE_CLIENT_SECRET, never from the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys

HELP = "Certify a provider (or the embedded mock) against the specs; exit 0 conforms, 1 nonconformance."

EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..suites._profiles import PROFILES

    parser.add_argument("--api", action="append", default=[], metavar="NAME",
                        help="certify only this API (repeatable; default: every spec)")
    parser.add_argument("--origin", metavar="URL",
                        help="the provider's origin; each spec's base path is applied to it "
                        "(default: the embedded mock)")
    parser.add_argument("--base-url", action="append", default=[], metavar="API=URL",
                        help="the base URL of one API, overriding --origin for it (repeatable)")
    parser.add_argument("--token-url", metavar="URL", help="the OAuth token endpoint (default: the oauth spec's path)")
    parser.add_argument("--spec", action="append", default=[], metavar="NAME_OR_PATH",
                        help="use your copy of a spec (its rules table beside it) instead of the bundled one")
    parser.add_argument("--profile", choices=tuple(PROFILES), default="quick",
                        help="quick, standard or thorough: examples, request budget, rate limit, timeouts "
                        "(default quick)")
    parser.add_argument("--seed", type=int, metavar="N", help="seed for generated data (default: random, reported)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="run the suites in N processes (pytest-xdist)")
    parser.add_argument("--callback-listen", metavar="HOST:PORT",
                        help="receive the provider's callbacks here (automatic with the embedded mock)")
    parser.add_argument("--report-dir", default="reports", metavar="DIR",
                        help="where the report goes (default reports)")
    parser.add_argument("--rate-limit", type=float, metavar="RPS",
                        help="requests per second against --origin (default: the profile's; 0: no limit)")
    parser.add_argument("--wrong-scope", metavar="SCOPE",
                        help="a scope the token endpoint issues that the APIs must refuse (wrong-scope test)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="switch on a fault of the embedded mock, to see the run catch it (`conformance faults`)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="seconds to wait for any answer (default: the profile's)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--verbose", action="store_true",
                        help="print every exchange on one line as it happens (redacted)")
    parser.add_argument("--log", metavar="FILE",
                        help="write every exchange, redacted, to FILE (one JSON object per line)")
    parser.add_argument("--har", metavar="FILE",
                        help="write every exchange, redacted, to FILE as a HAR 1.2 archive")


def run(args: argparse.Namespace) -> int:
    import pytest

    from .. import plugin
    from .._errors import UsageError
    from ..progress import Progress
    from ..suites._environment import Environment, Options, parse_base_urls

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    options = Options(origin=args.origin, base_urls=parse_base_urls(args.base_url), token_url=args.token_url,
                      apis=list(args.api), specs=list(args.spec), profile=args.profile, seed=args.seed,
                      callback_listen=args.callback_listen, report_dir=args.report_dir,
                      rate_limit=args.rate_limit, faults=list(args.fault), timeout=args.timeout)
    if args.wrong_scope:
        options.wrong_scope = args.wrong_scope
    environment = Environment(options).open()
    try:
        progress = Progress(quiet=args.quiet, redactor=environment.recorder.redactor)
        plugin.keep_exchanges(environment, args.log, args.har, echo=progress.echo if args.verbose else None)
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
        if controller.unreachable:
            sys.stderr.write(f"conformance: error: {environment.recorder.redactor.text(controller.unreachable)}\n")
            return 3
        if controller.document is None or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            last = [line for line in output.getvalue().splitlines() if line.strip()][-1:] or [f"pytest exit {code}"]
            reason = environment.recorder.redactor.text(last[0])
            sys.stderr.write(f"conformance: error: the suites did not run: {reason}\n")
            return 2
        if code == pytest.ExitCode.INTERRUPTED or controller.interrupted:
            progress.summary(controller.document, report_dir=str(options.report_dir))
            return EXIT_INTERRUPTED
        progress.summary(controller.document, report_dir=str(options.report_dir))
        print(f"requests sent: {controller.requests}")
        failed = sorted({failure["rule_id"] for failure in controller.document["failures"]})
        if failed:
            print(environment.recorder.redactor.text("rules failed: " + " ".join(failed)))
        return controller.verdict.exit_code
    finally:
        environment.close()
