"""`conformance examples`: print what the suites send, as JSON lines, from the spec strategies.

    conformance examples --api pay-by-bank --operation createPayment -n 3 --seed 7
    conformance examples --api global-payments --callback paymentInitiationStatus --status REJECTED
    conformance examples --api pay-by-bank --callback payments --invalid enum:/status
    conformance examples --api online-payments --operation V2PaymentPost --invalid any -n 20
    conformance examples --list --json

Examples are printed whole: they are the suite's own synthetic test data (card numbers from the
documented test cards, `strategies.formats.TEST_CARDS`), valid as printed. Redaction applies to what
a target sends back and to every report and log, not to data the tool made up. The same seed prints
the same examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

from .._errors import ConformanceError, UsageError

HELP = ("Print generated requests and callbacks (valid or breaking one rule) as JSON lines, or list the targets. "
        "Printed whole: card numbers are documented test cards; redaction applies to what targets send and to reports.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ._specs_argument import add_spec_argument

    parser.add_argument("--api", metavar="API", help="spec name (pay-by-bank) or path to a spec")
    add_spec_argument(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--operation", metavar="ID", help="an operationId: print requests")
    which.add_argument("--callback", metavar="NAME", help="a webhook name or its operationId: print callback bodies")
    parser.add_argument("--status", metavar="S", help="callbacks only: every body (every record) carries this status")
    parser.add_argument(
        "--invalid", metavar="RULE",
        help="print examples breaking exactly this rule (a name from --list), or 'any' for any rule",
    )
    from .._options import SEED, Number, argument_type

    parser.add_argument("-n", type=argument_type(Number(minimum=1, maximum=100_000, integer=True)), default=10,
                        metavar="N", help="how many examples (default 10)")
    parser.add_argument("--seed", type=argument_type(SEED), default=0, metavar="S",
                        help="the same seed prints the same examples")
    parser.add_argument("--list", action="store_true", help="list every target with its spec, schema pointer and rules")
    parser.add_argument("--json", action="store_true", help="with --list: one JSON object per target")


def run(args: argparse.Namespace) -> int:
    import strategies

    from ._specs_argument import one_spec

    if args.spec:
        args.api = one_spec(args.api, list(args.spec))
    if args.list:
        return _list(strategies, args)
    if not args.api or not (args.operation or args.callback):
        raise UsageError("examples: give --api and --operation ID or --callback NAME (or --list)")
    if args.status and not args.callback:
        raise UsageError("examples: --status applies to --callback only")
    if args.status and args.invalid:
        raise UsageError("examples: --status and --invalid cannot be combined")
    name = args.operation or args.callback
    _check_kind(strategies, args.api, name, "operation" if args.operation else "callback")
    if args.invalid:
        strategy = strategies.invalid(args.api, name, args.invalid)
    elif args.operation:
        strategy = strategies.requests(args.api, name)
    else:
        strategy = strategies.callbacks(args.api, name, status=args.status)
    lines = (json.dumps(_shown(example), default=str)  # ASCII: no line breaks hide in a line
             for example in _draw(strategies, strategy, args.n, args.seed))
    return _print(lines)


def _check_kind(strategies: Any, api: str, name: str, kind: str) -> None:
    for target in strategies.targets(api):
        if name in (target.name, target.operation_id):
            if target.kind != kind:
                flag = "--callback" if target.kind == "callback" else "--operation"
                raise UsageError(f"examples: {name!r} is a {target.kind} of {getattr(api, 'name', api)}; use {flag}")
            return
    known = ", ".join(t.name for t in strategies.targets(api) if t.kind == kind) or "none"
    raise UsageError(f"examples: {getattr(api, 'name', api)} has no {kind} named {name!r} (known: {known})")


def _draw(strategies: Any, strategy: Any, n: int, seed: int) -> list[Any]:
    from hypothesis.errors import HypothesisException

    try:
        return strategies.sample(strategy, n, seed)
    except HypothesisException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConformanceError(f"examples: no example could be generated: {first}") from None


def _shown(example: Any) -> Any:
    """A JSON-ready view: requests as their parts, invalid pairs with the rule they break."""
    if isinstance(example, tuple) and len(example) == 2:
        value, rule = example
        return {
            "rule": rule.name, "keyword": rule.keyword, "keywords": list(rule.keywords),
            "location": rule.location, "example": _shown(value),
        }
    as_dict = getattr(example, "as_dict", None)
    return as_dict() if callable(as_dict) else example


def _list(strategies: Any, args: argparse.Namespace) -> int:
    return _print(
        json.dumps(target.as_dict()) if args.json
        else f"{target.api:<16} {target.kind:<9} {target.name:<20} {target.pointer}  ({len(target.rules)} rules)"
        for target in strategies.targets(args.api)
    )


def _print(lines: Iterable[str]) -> int:
    """Print lines as they come (a reader that stops early is handled by the CLI's entry point)."""
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0
