"""Building concrete requests from the specs: the canonical example, a scenario's `when`, fresh keys.

A scenario's request is its operation's first spec example with `when` (pointer: value) applied;
`$today` / `$today+Nd` are dates, `$response.body#/...` reads the answer to the scenario's `given`.
Every request gets fresh idempotency keys (the rules table's `idempotency[].key`), so that repeating
a scenario never collides with an earlier one. Parameters come from their schema's examples.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .._specs import Spec
from .._specs._rules import StateMachine
from ..checks import MISSING, evaluate_one, resolve, set_pointer, view
from ..formats import day_offset


@dataclass
class Request:
    """One request to send: an operation and the values of each part."""

    api: str
    operation_id: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    media_type: str | None = None

    def copy(self) -> Request:
        return copy.deepcopy(self)


def fresh_key(max_length: int = 32) -> str:
    """A unique key that satisfies any alphanumeric pattern (hex digits)."""
    return uuid.uuid4().hex[: max(1, min(32, max_length))]


class NotDrivable(Exception):
    """A scenario this document cannot drive: its `$present` pointer is in none of the examples named."""


def resolve_value(value: Any, given: Any = MISSING, shape: Any = MISSING) -> Any:
    """A scenario value with `$present`, `$today`, `$today+Nd`, `$today-Nd` and `$response.body#/...` resolved.

    A date takes the shape of the value it replaces: a card expiry {month, year} (the month of that day),
    else a YYYY-MM-DD string. `$present` keeps the example's value.
    """
    if value == "$present":
        if shape is MISSING or shape is None:
            raise NotDrivable("the scenario asks for a value the operation's example does not carry")
        return shape
    if isinstance(value, str):
        days = day_offset(value)
        if days is not None:
            day = datetime.now(UTC).date() + timedelta(days=days)
            if isinstance(shape, dict) and {"month", "year"} <= set(shape):
                if days < 0:  # an earlier month, whatever the day: an expiry is good to the end of its month
                    day = day.replace(day=1) - timedelta(days=1)
                return {**shape, "month": day.month, "year": day.year}
            return day.isoformat()
        if value.startswith("$response.body"):
            return evaluate_one(value, request={}, response=given)
    return value


def parameters(spec: Spec, operation_id: str) -> list[dict[str, Any]]:
    """An operation's parameters (path-level and its own), $refs followed, the operation's winning."""
    return [parameter for _, parameter in spec.parameters(operation_id)]


def example_value(spec: Spec, schema: dict[str, Any]) -> Any:
    """A value for a parameter: its schema's example, default or first enum value, else a fitting string."""
    schema = spec.deref(schema)
    for key in ("examples",):
        if schema.get(key):
            return schema[key][0]
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("type") == "integer":
        return int(schema.get("minimum", 1))
    return fresh_key(int(schema.get("maxLength", 32)))


def idempotency_keys(spec: Spec, operation_id: str) -> list[str]:
    """The runtime expressions of the idempotency keys an operation carries."""
    return [entry.key for entry in spec.rules.idempotency if operation_id in entry.operations]


def media_type(spec: Spec, operation_id: str) -> str | None:
    return next(iter(spec.request_media(operation_id)), None)


def build(spec: Spec, operation_id: str, when: dict[str, Any] | None = None,
          path: dict[str, str] | None = None, given: Any = MISSING, example: tuple[str, ...] = ()) -> Request:
    """The canonical request of an operation (or the example named), with a scenario's `when` and `path` applied."""
    body = spec.example_request(operation_id, example)
    keys = idempotency_keys(spec, operation_id)
    when = when or {}
    for expression in keys:
        if expression.startswith("$request.body#"):
            pointer = expression.partition("#")[2]
            if pointer not in when and isinstance(body, dict):
                set_pointer(body, pointer, fresh_key(_max_length(spec, operation_id, pointer)))
    for pointer, value in when.items():
        try:
            value = resolve_value(value, given, resolve(body, pointer) if isinstance(body, dict) else MISSING)
        except NotDrivable as problem:
            raise NotDrivable(f"{operation_id}: no example has {pointer} ({problem})") from None
        if pointer in ("", "/"):
            body = value
        else:
            if body is None:
                body = {}
            set_pointer(body, pointer, value)
    request = Request(spec.name, operation_id, body=body, media_type=media_type(spec, operation_id))
    header_keys = {e.split(".", 2)[2].lower() for e in keys if e.startswith("$request.header.")}
    for parameter in parameters(spec, operation_id):
        name, where = parameter["name"], parameter["in"]
        schema = parameter.get("schema") or {}
        if where == "header" and name.lower() in header_keys:
            request.headers[name] = fresh_key(int(spec.deref(schema).get("maxLength", 32)))
        elif where == "path":
            source = (path or {}).get(name)
            value = resolve_value(source, given) if source else MISSING
            request.path_parameters[name] = value if value is not MISSING else example_value(spec, schema)
        elif parameter.get("required"):
            target = request.headers if where == "header" else request.query if where == "query" else None
            if target is not None:
                target[name] = example_value(spec, schema)
    return request


def _max_length(spec: Spec, operation_id: str, pointer: str) -> int:
    schema_pointer = view(spec).request_schema(operation_id)
    node: Any = spec.resolve(schema_pointer) if schema_pointer else {}
    for part in pointer.strip("/").split("/"):
        node = spec.deref(node)
        node = (node.get("properties") or {}).get(part, {}) if isinstance(node, dict) else {}
    node = spec.deref(node)
    return int(node.get("maxLength", 32)) if isinstance(node, dict) else 32


def read_request(spec: Spec, machine: StateMachine, identity: str) -> Request | None:
    """A request reading a state machine's resource by its identity (a path parameter, else a same-named query)."""
    known = view(spec)
    operation_id = known.read_operation(machine)
    if operation_id is None:
        return None
    request = build(spec, operation_id)
    path_names = [p["name"] for p in parameters(spec, operation_id) if p["in"] == "path"]
    if path_names:
        request.path_parameters[path_names[0]] = identity
        return request
    name = machine.identity.rstrip("/").rsplit("/", 1)[-1]
    query_names = [p["name"] for p in parameters(spec, operation_id) if p["in"] == "query"]
    if name in query_names:
        request.query = {name: identity}
        return request
    return None


def mutated(spec: Spec, request: Request, keep: set[str]) -> Request | None:
    """The same request with one body value changed (an enum, a flag, a number): "another payload"."""
    schema_pointer = view(spec).request_schema(request.operation_id)
    if schema_pointer is None or not isinstance(request.body, dict):
        return None
    changed = request.copy()
    for pointer, value, schema in _leaves_with_schema(spec, spec.resolve(schema_pointer), request.body, ""):
        if pointer in keep:
            continue
        replacement: Any = MISSING
        if schema.get("enum") and len(schema["enum"]) > 1:
            replacement = next(v for v in schema["enum"] if v != value)
        elif isinstance(value, bool):
            replacement = not value
        elif isinstance(value, int) and schema.get("type") == "integer":
            replacement = value + 1 if value + 1 <= schema.get("maximum", value + 1) else value - 1
        if replacement is not MISSING:
            set_pointer(changed.body, pointer, replacement)
            return changed
    return None


def _leaves_with_schema(spec: Spec, schema: Any, value: Any, pointer: str):
    schema = spec.deref(schema)
    if not isinstance(schema, dict):
        return
    merged = dict(schema)
    for sub in schema.get("allOf") or []:
        sub = spec.deref(sub)
        merged = {**sub, **merged, "properties": {**(sub.get("properties") or {}), **(merged.get("properties") or {})}}
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves_with_schema(spec, (merged.get("properties") or {}).get(name, {}), item,
                                           f"{pointer}/{name}")
    elif not isinstance(value, list):
        yield pointer, value, merged
