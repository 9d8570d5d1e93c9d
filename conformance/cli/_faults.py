"""`conformance faults`: list the mock's fault catalogue, one fault a line."""

from __future__ import annotations

import argparse
import json

HELP = "List the faults the mock can be started with (--fault NAME), each with the rule it breaks."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", metavar="NAME", help="only the faults of one API (oauth, online-payments, ...)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per fault")


def run(args: argparse.Namespace) -> int:
    from .._errors import UsageError
    from ..mock import FAULTS

    faults = [fault for fault in FAULTS.values() if args.api in (None, fault.api)]
    if not faults:
        apis = sorted({fault.api for fault in FAULTS.values()})
        raise UsageError(f"no faults for API {args.api!r}; APIs with faults: {', '.join(apis)}")
    name_width = max(len(fault.name) for fault in faults)
    rule_width = max(len(fault.rule) for fault in faults)
    for fault in faults:
        if args.json:
            print(json.dumps({"name": fault.name, "api": fault.api, "rule": fault.rule,
                              "description": fault.description, "once": fault.once}))
        else:
            print(f"{fault.name:<{name_width}}  {fault.rule:<{rule_width}}  {fault.description}")
    return 0
