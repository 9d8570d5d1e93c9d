"""`conformance replay`: send a failure's chain of exchanges again and say whether it still fails.

Exit codes: 0 no longer fails, 1 still fails, 2 usage error or the failure cannot be replayed or
judged (no exchange, a callback, a chain that broke on the way), 3 target unreachable.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

HELP = "Send a failure's chain of requests again to a target; exit 0 no longer fails, 1 still fails."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT", help="a certification.json (or the directory holding it)")
    parser.add_argument("failure", metavar="FAILURE_ID", help="the failure to replay (F1, F2, ...)")
    parser.add_argument("--origin", metavar="URL",
                        help="the provider's origin (default: the report's; an embedded mock if the report used one)")
    parser.add_argument("--base-url", action="append", default=[], metavar="API=URL",
                        help="the base URL of one API, overriding --origin for it (repeatable)")
    parser.add_argument("--token-url", metavar="URL", help="the OAuth token endpoint (default: the oauth spec's path)")
    parser.add_argument("--spec", action="append", default=[], metavar="NAME_OR_PATH",
                        help="use your copy of a spec (as certify --spec)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="switch on a fault of the embedded mock (when replaying against it)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="seconds to wait for any answer")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict line")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .._errors import UsageError
    from ..reporting import JSON_FILE, load_report
    from ..suites._environment import Environment, Options, parse_base_urls
    from ..suites._replay import Replay, steps_of
    from ..suites._runtime import Collector, Target

    source = Path(args.report)
    if source.is_dir():
        source = source / JSON_FILE
    document = load_report(source)
    wanted = args.failure.strip().upper()
    failure = next((f for f in document["failures"] if f["id"] == wanted), None)
    if failure is None:
        known = ", ".join(f["id"] for f in document["failures"][:5]) or "none"
        more = " ..." if len(document["failures"]) > 5 else ""
        raise UsageError(f"{source} has no failure {args.failure!r} (its failures: {known}{more})")
    steps = steps_of(failure)
    origin = args.origin
    if origin is None and not args.base_url and not document["target"].get("embedded_mock"):
        origin = document["target"].get("origin")
    apis = sorted({step["api"] for step in steps})
    with tempfile.TemporaryDirectory(prefix="conformance-replay-") as scratch:
        options = Options(origin=origin, base_urls=parse_base_urls(args.base_url), token_url=args.token_url,
                          apis=apis, specs=list(args.spec), profile=document.get("profile") or "quick",
                          report_dir=scratch, faults=list(args.fault), timeout=args.timeout)
        environment = Environment(options, command="replay").open()
        try:
            _warn_if_specs_changed(document, environment.specs)
            target = Target(environment.settings)
            target.collector = Collector()
            redactor = environment.recorder.redactor
            echo = (lambda line: None) if args.quiet else (lambda line: print(redactor.text(line), flush=True))
            try:
                outcome = Replay(target, failure, echo=echo).run()
            finally:
                target.close()
        finally:
            environment.close()
    where = environment.settings.base_urls.get(steps[-1]["api"], "")
    head = f"{failure['id']} {failure['rule_id']}"
    if outcome.verdict == "still fails":
        result = outcome.result
        line = (f"{head} still fails at step {outcome.step}/{len(steps)} against {where}: {result.title} "
                f"(expected {_short(result.expected)}; observed {_short(result.observed)})")
    elif outcome.verdict == "no longer fails":
        line = f"{head} no longer fails: {outcome.reason}; {len(steps)} request(s) replayed against {where}"
    else:
        line = f"{head}: cannot tell: {outcome.reason}"
    for note in outcome.notes:
        print(f"note: {redactor.text(note)}", file=sys.stderr)
    print(redactor.text(line))
    return outcome.exit_code


def _short(value: object, limit: int = 200) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _warn_if_specs_changed(document: dict, specs: list) -> None:
    recorded = {spec["name"]: spec["sha256"] for spec in document["specs"]}
    for spec in specs:
        if spec.name in recorded and recorded[spec.name] != spec.sha256:
            print(f"note: the {spec.name} spec differs from the one the report was made with", file=sys.stderr)
