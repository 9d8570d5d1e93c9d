"""A small valid instance of any schema: the starting point of every answer the mock builds.

The mock answers operations no code of ours describes (a verification, a fraud check, an API added
as a spec and a rules table). It starts from a template that validates against the documented
schema: the document's own example where it is valid, else the schema's `examples`, `default`,
`const` or first `enum` value, else a value built from the type, the bounds and the format (a
pattern is met by the shortest string Hypothesis finds for it). Optional properties are left out:
the request and the resource fill in what they know (`_answers`).
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .._specs import Spec

logger = logging.getLogger("conformance.mock")

MAX_DEPTH = 24

_FORMAT_VALUES: dict[str, Any] = {
    "date": lambda: datetime.now(UTC).date().isoformat(),
    "date-time": lambda: datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    "uuid": lambda: str(uuid.uuid4()),
    "uri": lambda: "https://example.com/",
    "url": lambda: "https://example.com/",
    "uri-reference": lambda: "https://example.com/",
    "email": lambda: "payments@example.com",
    "hostname": lambda: "example.com",
    "ipv4": lambda: "192.0.2.1",
    "ipv6": lambda: "2001:db8::1",
    "iso-4217": lambda: "USD",
    "iso-3166-alpha-2": lambda: "US",
    "decimal-amount": lambda: "1.00",
    "minor-units": lambda: 100,
    "pan": lambda: "4012000033330026",
    "masked-pan": lambda: "401200XXXXXX0026",
    "end-to-end-id": lambda: uuid.uuid4().hex[:20],
}
"""Values for the formats a minimal string cannot meet; each call gives a fresh one (ids, times)."""


class InstanceBuilder:
    """Builds (and caches the shape of) minimal valid instances of one spec's schemas, for one direction."""

    def __init__(self, spec: Spec, direction: str = "response") -> None:
        self.spec = spec
        self.direction = direction
        self.document = spec.direction_document(direction)  # type: ignore[arg-type]

    def node(self, pointer: str) -> Any:
        """The schema at a canonical pointer of this direction's document (readOnly/writeOnly removed)."""
        from .. import pointers

        found = pointers.resolve(self.document, pointer.lstrip("#"))
        return {} if found is pointers.MISSING else found

    def deref(self, schema: Any) -> Any:
        for _ in range(32):
            if not (isinstance(schema, dict) and isinstance(schema.get("$ref"), str)):
                return schema
            schema = self.node(schema["$ref"])
        return schema

    def build(self, schema: Any, depth: int = 0) -> Any:
        """A small value that validates against `schema` (best effort: callers validate)."""
        schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return None if schema is False else {}
        for key in ("const",):
            if key in schema:
                return schema[key]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return next((value for value in schema["enum"] if value is not None), schema["enum"][0])
        for example in schema.get("examples") or [] if isinstance(schema.get("examples"), list) else []:
            return example
        if "default" in schema:
            return schema["default"]
        if schema.get("allOf"):
            return self._all_of(schema, depth)
        for combinator in ("oneOf", "anyOf"):
            if schema.get(combinator):
                own = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
                branch = self.deref(schema[combinator][0])
                merged = _merge_schemas(own, branch) if isinstance(branch, dict) else own
                return self.build(merged, depth + 1)
        kind = _kind(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            count = int(schema.get("minItems", 0))
            items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
            return [self.build(items, depth + 1) for _ in range(count)]
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema, kind)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return {}

    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        value = {}
        for name in schema.get("required") or []:
            value[name] = self.build(properties.get(name, {}), depth + 1)
        for _ in range(int(schema.get("minProperties", 0)) - len(value)):
            extra = next((n for n in properties if n not in value), None)
            if extra is None:
                break
            value[extra] = self.build(properties[extra], depth + 1)
        condition = schema.get("if")
        if isinstance(condition, dict) and isinstance(schema.get("else"), dict):
            branch = self.deref(schema["else"])
            for name in branch.get("required") or []:
                value.setdefault(name, self.build(properties.get(name, {}), depth + 1))
        return value

    def _all_of(self, schema: dict[str, Any], depth: int) -> Any:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for branch in schema["allOf"]:
            branch = self.deref(branch)
            if isinstance(branch, dict):
                merged = _merge_schemas(merged, branch)
        return self.build(merged, depth + 1)


def _merge_schemas(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Two schemas as one, for building (properties and required lists joined; the right wins elsewhere)."""
    merged = {**left, **{k: v for k, v in right.items() if k not in ("properties", "required", "allOf")}}
    merged["properties"] = {**(left.get("properties") or {}), **(right.get("properties") or {})}
    merged["required"] = list(dict.fromkeys([*(left.get("required") or []), *(right.get("required") or [])]))
    if right.get("allOf"):
        merged["allOf"] = [*(left.get("allOf") or []), *right["allOf"]]
    if not merged["properties"]:
        del merged["properties"]
    if not merged["required"]:
        del merged["required"]
    return merged


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema:
            return "array"
    return kind


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    minimum, maximum = int(schema.get("minLength", 0)), schema.get("maxLength")
    value = str(_FORMAT_VALUES[fmt]()) if fmt in _FORMAT_VALUES else "x" * max(minimum, 1)
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found = shortest_match(schema["pattern"], minimum, maximum)
        if found is not None:
            return found
    if isinstance(maximum, int) and len(value) > maximum:
        value = value[:maximum]
    return value.ljust(minimum, "x")


def _number(schema: dict[str, Any], kind: str) -> int | float:
    low = schema.get("minimum")
    exclusive_low = schema.get("exclusiveMinimum")
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    step = schema.get("multipleOf")
    value: float = 0
    if isinstance(low, int | float):
        value = low
    if isinstance(exclusive_low, int | float) and not isinstance(exclusive_low, bool):
        value = max(value, exclusive_low + (step or (1 if kind == "integer" else 0.01)))
    if step:
        value = -(-value // step) * step
    if isinstance(high, int | float) and value > high:
        value = high
    return int(value) if kind == "integer" else value


@lru_cache(maxsize=1024)
def shortest_match(pattern: str, minimum: int = 0, maximum: int | None = None) -> str | None:
    """The simplest string (Hypothesis' shrinking) that matches a pattern within the length bounds; None if none."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    try:
        compiled = re.compile(pattern)
        strategy = st.from_regex(compiled)
        return find(strategy, lambda text: len(text) >= minimum and (maximum is None or len(text) <= maximum)
                    and compiled.search(text) is not None,
                    settings=settings(database=None, max_examples=200, deadline=None,
                                      suppress_health_check=list(HealthCheck),
                                      # No explain phase: it costs ~1 s a pattern (the client proxy makes up
                                      # answers on its event loop) and would hand back one of its variants.
                                      phases=(Phase.generate, Phase.shrink)))
    except (NoSuchExample, re.error, Exception) as exc:  # noqa: BLE001 - a pattern we cannot meet is logged
        logger.debug("no string found for pattern %r: %s", pattern, exc)
        return None
