"""`conformance specs`: list the bundled specs, or check spec files before a run uses them."""

from __future__ import annotations

import argparse
import json

HELP = "List the bundled specs, or validate spec files (OpenAPI 3.1 and their rules tables)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "specs", nargs="*", metavar="NAME_OR_PATH",
        help="spec names (online-payments) or paths to check; default: every bundled spec",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per spec")


def run(args: argparse.Namespace) -> int:
    from .._specs import SPEC_NAMES, load_spec

    for name in args.specs or SPEC_NAMES:
        spec = load_spec(name)
        row = {
            "name": spec.name,
            "path": str(spec.path),
            "sha256": spec.sha256,
            "base_path": spec.base_path or "/",
            "operations": [op for op, o in spec.operations.items() if not o.webhook],
            "webhooks": [op for op, o in spec.operations.items() if o.webhook],
            "scenarios": len(spec.rules.get("scenarios", [])),
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(
                f"ok  {row['name']:<16} {row['base_path']:<24} {len(row['operations'])} operations, "
                f"{len(row['webhooks'])} callbacks, {row['scenarios']} scenarios  ({row['path']})"
            )
    return 0
