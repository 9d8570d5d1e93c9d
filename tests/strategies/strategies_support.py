"""Helpers for the strategies tests: independent judges written against the spec, not the package.

The package under test names rules and judges examples with its own code; these helpers reach the
same questions from the spec directly (jsonschema validators from Spec.validator, parameters read
from the document) so that a bug in the package cannot agree with itself.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, settings

from conformance import Spec

SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
"""Property tests here are derandomized: the same examples every run, so the time budget holds."""


def escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def body_schema_pointer(spec: Spec, operation_id: str) -> str | None:
    """The pointer of an operation's (or webhook's) request body schema, read from the document."""
    operation = spec.resolve(spec.operations[operation_id].pointer)
    body = spec.resolve(spec.operations[operation_id].pointer + "/requestBody") if "requestBody" in operation else None
    if not body:
        return None
    for media in body.get("content") or {}:
        return f"{spec.operations[operation_id].pointer}/requestBody/content/{escape(media)}/schema"
    return None


def parameters(spec: Spec, operation_id: str) -> list[tuple[dict[str, Any], str]]:
    """(parameter object, pointer of its schema) for an operation, path-level ones included."""
    pointer = spec.operations[operation_id].pointer
    found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for owner in (pointer.rsplit("/", 1)[0], pointer):
        listed = spec.resolve(owner).get("parameters") or []
        for index, entry in enumerate(listed):
            where = f"{owner}/parameters/{index}"
            while "$ref" in entry:
                where, entry = entry["$ref"], spec.resolve(entry["$ref"])
            found[(entry["in"], entry["name"])] = (entry, f"{where}/schema")
    return list(found.values())


def header(headers: dict[str, Any], name: str) -> Any:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def request_errors(spec: Spec, request: Any) -> list[str]:
    """Every way a request breaks its spec: body errors and parameter errors, as readable strings."""
    errors: list[str] = []
    for parameter, schema_pointer in parameters(spec, request.operation_id):
        where = parameter["in"]
        value = (header(request.headers, parameter["name"]) if where == "header"
                 else (request.query if where == "query" else request.path_parameters).get(parameter["name"]))
        if value is None:
            if parameter.get("required"):
                errors.append(f"missing {where} {parameter['name']}")
            continue
        for error in spec.validator(schema_pointer, "request").iter_errors(value):
            errors.append(f"{where} {parameter['name']}: {error.message}")
    pointer = body_schema_pointer(spec, request.operation_id)
    if pointer is not None:
        for error in spec.validator(pointer, "request").iter_errors(request.body):
            errors.append(f"body {list(error.absolute_path)}: {error.message}")
    return errors


def at(body: Any, pointer: str) -> list[Any]:
    """Every value at a rules-table pointer ("*" fans out over arrays)."""
    nodes = [body]
    for part in [p for p in pointer.split("/") if p]:
        following = []
        for node in nodes:
            if part == "*" and isinstance(node, list):
                following.extend(node)
            elif isinstance(node, dict) and part in node:
                following.append(node[part])
        nodes = following
    return nodes


def decimals(amount: str) -> int:
    return len(amount.partition(".")[2])


def minor_units(currency: str) -> int:
    import iso4217

    return iso4217.Currency(currency).exponent


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def luhn(number: str) -> bool:
    digits = [int(char) for char in number][::-1]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * digit, 10)) for digit in digits[1::2])
    return total % 10 == 0


_INDEX = re.compile(r"/\d+(?=/|$)")


def place_of(path: list[Any]) -> str:
    """A jsonschema instance path as a rules-table pointer (indexes as "*")."""
    return "".join("/" + ("*" if isinstance(part, int) else str(part)) for part in path)
