"""`--api NAME --spec PATH` for every command: which documents a command loads, named once, the same way.

`--spec PATH` (any file name) or `--spec NAME=PATH` replaces the bundled document of that API;
a path alone takes the API of the only `--api`, else what its file name or title says. Commands that
work on one API (examples, callbacks) take the one `--api` with its `--spec`; those that serve or
certify several (mock, certify) take the bundled set with the replacements.
"""

from __future__ import annotations

import argparse

from .._errors import UsageError
from .._specs import Spec, load_spec


def add_spec_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spec", action="append", default=[], metavar="PATH|NAME=PATH",
                        help="use this document (OpenAPI 3.0 or 3.1, any file name) for its API instead of the "
                        "bundled one; NAME= or --api names the API when its file name and title do not")


def one_spec(api: str | None, specs: list[str]) -> Spec:
    """The one document a single-API command works on."""
    from ..suites._environment import split_spec_argument

    if len(specs) > 1:
        raise UsageError("give one --spec for this command")
    if not specs:
        if not api:
            raise UsageError("give --api NAME (a bundled API) or --spec PATH")
        return load_spec(api)
    name, path = split_spec_argument(specs[0])
    if name and api and name != api:
        raise UsageError(f"--api {api} and --spec {name}=... name different APIs")
    return load_spec(path, api=name or api)


def served_specs(apis: list[str], specs: list[str]) -> list[Spec]:
    """The bundled documents with the given ones in their place (the token endpoint always included)."""
    from ..suites._environment import load_specs

    return load_specs(specs, apis)
