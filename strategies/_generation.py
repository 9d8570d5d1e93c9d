"""Generation documents: the spec, narrowed for generating, handed to Schemathesis' OpenAPI loader.

Schemathesis generates every value; this module only decides what it is asked for. From a spec it
derives, per target, a small OpenAPI document holding that one operation (for a callback: an
operation on the receiver's side whose request body is the callback body) and these narrowings,
each of which keeps every generated value valid against the original spec:

- objects are closed (`unevaluatedProperties: false` where the spec leaves them open), so valid
  examples carry no unknown fields (breaking closed objects is what `additionalProperties:` rules do);
- arrays without `maxItems` get one (minItems + 2), so payloads stay the size real ones have;
- spec examples are left out, so that what is drawn depends on the seed alone;
- a callback body is a resource as the provider sends it: writeOnly fields go, readOnly ones stay;
- fields marked `x-not-before: $today` get dates from that day on (card expiry: month and year);
- overlays add `allOf` constraints at places of the body: a fixed status, excluded scenario
  triggers, a field that must be present, a condition that must hold or fail.
"""

from __future__ import annotations

import copy
import json
import weakref
from dataclasses import dataclass
from typing import Any

from conformance import pointers
from conformance._errors import SpecError
from conformance._specs import Spec

from . import formats
from ._catalog import TargetModel
from ._schema import hidden_flag

ARRAY_SLACK = 2
"""Arrays without maxItems get minItems + ARRAY_SLACK as their generation bound."""


@dataclass(frozen=True)
class Overlay:
    """A constraint added at a place of the body for generation: `schema` must hold there."""

    place: str
    schema_json: str
    """The constraint as canonical JSON (overlays are cache keys)."""

    @staticmethod
    def of(place: str, schema: dict[str, Any]) -> Overlay:
        return Overlay(place, json.dumps(schema, sort_keys=True))

    def nested(self) -> dict[str, Any]:
        """The constraint wrapped so it applies at `place` when checked against the whole body."""
        node: dict[str, Any] = json.loads(self.schema_json)
        for part in reversed(pointers.split(self.place)):
            if part == "*":
                node = {"items": node}
            else:
                node = {"properties": {part: node}}
        return node


def presence(place: str) -> tuple[Overlay, ...]:
    """Overlays making every step down to `place` present (arrays non-empty)."""
    parts = pointers.split(place)
    found = []
    for depth, part in enumerate(parts):
        parent = pointers.join(parts[:depth])
        if part == "*":
            found.append(Overlay.of(parent, {"type": "array", "minItems": 1}))
        else:
            found.append(Overlay.of(parent, {"required": [part]}))
    return tuple(found)


def presence_parents(place: str) -> tuple[Overlay, ...]:
    """Overlays making the container of `place` present (not the place itself)."""
    parts = pointers.split(place)
    return presence(pointers.join(parts[:-1])) if parts else ()


# -- document transforms --------------------------------------------------------------------------

_NAME_MAPS = (
    "properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "schemas", "parameters",
    "responses", "requestBodies", "headers", "securitySchemes", "webhooks", "paths", "content", "scopes",
)
"""Keys whose value maps names to objects: its keys are names, never keywords to drop."""


def _transform(node: Any, direction: str, *, in_map: bool = False) -> Any:
    """Narrow every schema node of a document for generation (see the module docstring)."""
    if isinstance(node, list):
        return [_transform(item, direction) for item in node]
    if not isinstance(node, dict):
        return node
    if in_map:  # a name -> schema map: the keys are names, not keywords
        return {key: _transform(value, direction) for key, value in node.items()}
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("example", "examples"):
            continue
        result[key] = _transform(value, direction, in_map=key in _NAME_MAPS)
    _hide(result, direction)
    closed = "additionalProperties" in result or "unevaluatedProperties" in result
    if result.get("type") == "object" and not closed:
        result["unevaluatedProperties"] = False
    if result.get("type") == "array" and "maxItems" not in result:
        result["maxItems"] = int(result.get("minItems", 0)) + ARRAY_SLACK
    if "x-not-before" in result:
        _not_before(result, str(result["x-not-before"]))
    return result


def _hide(schema: dict[str, Any], direction: str) -> None:
    """Drop the properties absent in this direction; un-flag readOnly ones in a callback (the provider sends them)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    flag = hidden_flag(direction)  # request: readOnly; response: writeOnly
    hidden = {name for name, sub in properties.items() if isinstance(sub, dict) and sub.get(flag) is True}
    if hidden:
        schema["properties"] = {name: sub for name, sub in properties.items() if name not in hidden}
        if isinstance(schema.get("required"), list):
            schema["required"] = [name for name in schema["required"] if name not in hidden]
    if direction == "response":
        for sub in schema["properties"].values():
            if isinstance(sub, dict):
                sub.pop("readOnly", None)


def _not_before(schema: dict[str, Any], token: str) -> None:
    """Make a date (or a month/year object, as a card expiry) generate no earlier than the token's day."""
    day = formats.resolve_day(token)
    if schema.get("format") in ("date", "date-time"):
        schema["format"] = formats.not_before_format(schema["format"], token)
        return
    properties = schema.get("properties") or {}
    if "year" in properties and "month" in properties:
        schema.setdefault("allOf", []).append(
            {"anyOf": [
                {"properties": {"year": {"minimum": day.year + 1}}},
                {"properties": {"year": {"const": day.year}, "month": {"minimum": day.month}}},
            ]}
        )
        return
    raise ValueError(f"x-not-before applies to date, date-time or month/year objects, not {sorted(schema)}")


_narrowed_documents: weakref.WeakKeyDictionary[Spec, dict[str, str]] = weakref.WeakKeyDictionary()


def _narrowed(model: TargetModel) -> dict[str, Any]:
    """The whole spec narrowed for one direction (computed once per spec), as a fresh copy."""
    cached = _narrowed_documents.setdefault(model.spec, {})
    if model.direction not in cached:
        try:
            cached[model.direction] = json.dumps(_transform(model.spec.document, model.direction))
        except ValueError as exc:
            raise SpecError(f"{model.spec.path}: {exc}") from None
    return json.loads(cached[model.direction])


def document_for(model: TargetModel, overlays: tuple[Overlay, ...] = (), required_parameters: tuple[str, ...] = ()
                 ) -> tuple[dict[str, Any], str, str]:
    """A generation document holding only the target's operation: (document, path, method)."""
    narrowed = _narrowed(model)
    source = pointers.split(model.operation_pointer)
    # The path item holding the operation: /paths/{path}, /webhooks/{name}, or an operation callback's
    # /paths/{path}/{method}/callbacks/{name}/{expression}; the method is the last step.
    item = copy.deepcopy(pointers.get_path(narrowed, source[:-1]))
    method = source[-1]
    item = {key: value for key, value in item.items() if key == method or key in ("parameters", "servers")}
    path = model.path if model.kind == "operation" else "/" + model.name.replace("{", "").replace("}", "")
    operation = item[method]
    if overlays and model.body_pointer is not None:
        body = operation["requestBody"]
        while "$ref" in body:
            body = copy.deepcopy(_resolve(narrowed, body["$ref"]))
        operation["requestBody"] = body
        media = body["content"][model.media_type]
        media["schema"] = {"allOf": [media["schema"], *(overlay.nested() for overlay in overlays)]}
    if required_parameters:
        _require(narrowed, item, method, set(required_parameters))
    document = {
        "openapi": narrowed.get("openapi", "3.1.0"),
        "info": narrowed.get("info", {"title": model.api, "version": "0"}),
        "paths": {path: item},
        "components": narrowed.get("components", {}),
    }
    if model.kind == "operation" and "servers" in narrowed:
        document["servers"] = narrowed["servers"]
    if "security" in narrowed:
        document["security"] = narrowed["security"]
    return document, path, method.upper()


def _resolve(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for part in pointers.split(reference.lstrip("#")):
        node = node[part]
    return node


def _require(document: dict[str, Any], item: dict[str, Any], method: str, names: set[str]) -> None:
    """Mark the named parameters ("location.name") required, inlining $refs so components stay untouched."""
    for owner in (item, item[method]):
        listed = owner.get("parameters") or []
        for index, entry in enumerate(listed):
            if "$ref" in entry:
                entry = copy.deepcopy(_resolve(document, entry["$ref"]))
            if f"{entry.get('in')}.{entry.get('name')}" in names:
                entry = {**entry, "required": True}
            listed[index] = entry
