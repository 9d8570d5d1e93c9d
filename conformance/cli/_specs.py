"""`conformance specs`: check spec files before a run uses them, and say what is wrong with each document.

A document that nothing can use (not OpenAPI 3.0/3.1, no operations, unreadable) is exit 2 with one
line. A usable document is exit 0; its own inconsistencies (examples breaking their schemas, dangling
`$ref`s, required fields that are writeOnly in answers, unusable patterns, meta-schema violations) are
printed as warnings with their locations. A rules table that does not fit its document is exit 2.
"""

from __future__ import annotations

import argparse
import json

HELP = "Check specs (OpenAPI 3.0 or 3.1) and their rules tables; list what is wrong with each document."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "specs", nargs="*", metavar="NAME_OR_PATH",
        help="spec names (online-payments), paths, or NAME=PATH; default: every bundled spec",
    )
    parser.add_argument("--api", metavar="NAME",
                        help="the API a single PATH describes, when its file name and title do not say")
    parser.add_argument("--json", action="store_true", help="print one JSON object per spec")
    parser.add_argument("--quiet", action="store_true", help="print the one-line summaries, not the warnings")


def run(args: argparse.Namespace) -> int:
    from .._errors import UsageError
    from .._specs import SPEC_NAMES, load_spec
    from ..suites._environment import split_spec_argument

    if args.api and len(args.specs) != 1:
        raise UsageError("--api names the API of exactly one spec path")
    for text in args.specs or SPEC_NAMES:
        api, path = split_spec_argument(text)
        spec = load_spec(path, api=api or args.api)
        row = {
            "name": spec.name,
            "path": str(spec.path),
            "sha256": spec.sha256,
            "openapi": spec.source_version,
            "base_path": spec.base_path or "/",
            "rules_table": str(spec.rules_path) if spec.rules_path else None,
            "operations": [op.operation_id for op in spec.client_operations()],
            "callbacks": list(spec.webhooks),
            "scenarios": len(spec.rules.scenarios),
            "findings": [finding.to_dict() for finding in spec.findings],
        }
        if args.json:
            print(json.dumps(row))
            continue
        rules = "rules table" if spec.rules_path else "generic rules only"
        warnings = f", {len(spec.findings)} warnings" if spec.findings else ""
        print(f"ok  {row['name']:<16} {row['base_path']:<24} {len(row['operations'])} operations, "
              f"{len(row['callbacks'])} callbacks, {row['scenarios']} scenarios, {rules}{warnings}  ({row['path']})")
        if not args.quiet:
            for finding in spec.findings:
                print(f"    warning: {finding}")
    return 0
