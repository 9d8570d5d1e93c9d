"""Test parameters from the specs and rules tables: which tests a run has is data, not code.

Each suite asks for `api` plus one parameter naming what it tests; this module lists the values for the
APIs selected in the run. A new spec with its rules table brings its own tests with it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from .._specs import Spec, load_spec
from ..checks import view
from ._runtime import RunSettings
from ._selection import SuiteTest


@cache
def _specs(arguments: tuple[str, ...]) -> dict[str, Spec]:
    from ._environment import split_spec_argument

    loaded = {}
    for text in arguments:
        api, path = split_spec_argument(text)
        spec = load_spec(path, api=api)
        loaded[spec.name] = spec
    return loaded


def specs_of(settings: RunSettings) -> dict[str, Spec]:
    return _specs(tuple(settings.specs))


def security_types(spec: Spec, operation_id: str) -> list[str]:
    """How an operation is authorized: "oauth2" (a token with scopes), "bearer" (a token, no scopes: HTTP bearer),
    "basic" (the client credentials: HTTP basic, the token endpoint); empty when it is open."""
    kinds = []
    for scheme in spec.security_schemes(operation_id).values():
        kind, name = scheme.get("type", ""), str(scheme.get("scheme", "")).lower()
        kinds.append("bearer" if kind == "http" and name == "bearer" else "basic" if kind == "http" else kind)
    return kinds


def operations(spec: Spec) -> list[str]:
    return [op for op, o in spec.operations.items() if not o.webhook]


def body_operations(spec: Spec) -> list[str]:
    """Operations with a request body (invalid-by-rule requests also break their headers and queries)."""
    return [op for op in operations(spec) if view(spec).request_schema(op)]


def scenarios(spec: Spec) -> list[str]:
    return [entry.id for entry in spec.rules.scenarios]


def follow_ups(spec: Spec) -> list[str]:
    """Scenarios acting on an existing resource whose state a machine tracks (capture, void, ...)."""
    return [entry.id for entry in spec.rules.scenarios
            if entry.given and entry.path and spec.rules.machines_for(operation=entry.operation)
            and 200 <= entry.status < 300]


def idempotent_writes(spec: Spec) -> list[str]:
    return [f"{entry.id}:{op}" for entry in spec.rules.idempotency for op in entry.operations]


def probe_operation(spec: Spec) -> str | None:
    """The operation credentials are tried on: the first protected read, else the first protected operation."""
    protected = [op for op in operations(spec) if security_types(spec, op)]
    reads = [op for op in protected if spec.operations[op].method == "GET"]
    return (reads or protected or [None])[0]


def credential_kinds(spec: Spec) -> list[str]:
    operation_id = probe_operation(spec)
    if operation_id is None:
        return []
    kinds = security_types(spec, operation_id)
    if "oauth2" in kinds:
        return ["missing", "malformed", "expired", "wrong_scope"]
    if "bearer" in kinds:
        return ["missing", "malformed", "expired"]
    return ["missing", "malformed"]


def readable_creates(spec: Spec) -> list[str]:
    from ..checks._judge import readable_creates as found

    return found(spec)


_LISTS: dict[str, Any] = {
    "operation_id": operations,
    "body_operation": body_operations,
    "scenario_id": scenarios,
    "follow_up": follow_ups,
    "readable_create": readable_creates,
    "idempotent_write": idempotent_writes,
    "credential": credential_kinds,
}


SUITE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "generated": ("operation_id",),
    "scenarios": ("scenario_id",),
    "negative": ("body_operation",),
    "auth": ("credential",),
    "idempotency": ("idempotent_write",),
    "flows": ("follow_up", "readable_create"),
}
"""Each suite (its module conformance/suites/test_SUITE.py) and the parameter each of its tests takes besides `api`."""


def names_of_test(spec: Spec, parameter: str, value: str) -> frozenset[str]:
    """Every name a test answers to in --include/--exclude: its parameter, and the operations and rules it concerns."""
    names = {value}
    if parameter in ("scenario_id", "follow_up"):
        entry = spec.rules.scenario(value)
        names.add(entry.operation)
        if entry.given:
            names.add(entry.given.operation)
    elif parameter == "idempotent_write":
        names.update(value.split(":", 1))
    elif parameter == "credential":
        names.add(probe_operation(spec) or "")
    return frozenset(names - {""})


def planned_tests(specs: dict[str, Spec], apis: list[str]) -> list[SuiteTest]:
    """Every suite test a run of these APIs has, before any filter (what pytest collects)."""
    return [SuiteTest(api, suite, value, names_of_test(specs[api], parameter, value))
            for suite, parameters in SUITE_PARAMETERS.items() for parameter in parameters
            for api in apis if api in specs for value in _LISTS[parameter](specs[api])]


def parametrize(metafunc: pytest.Metafunc, settings: RunSettings) -> None:
    names = [name for name in _LISTS if name in metafunc.fixturenames]
    if "api" not in metafunc.fixturenames or len(names) != 1:
        return
    name = names[0]
    specs = specs_of(settings)
    values = [(api, value) for api in settings.apis if api in specs for value in _LISTS[name](specs[api])]
    metafunc.parametrize(("api", name), values, ids=[f"{api}:{value}" for api, value in values])
