"""Request validation against the spec itself, compiled once per operation with jsonschema_rs.

The schemas are the spec's own (readOnly properties dropped, as for any request), with the
payment-domain formats of conformance/formats.py. Nothing here knows a field by name: a failure
is reported as the JSON Schema keyword that failed and where, and the family turns that into its
error body (Pay By Bank maps the keyword to a numbered code through its rules table).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import jsonschema_rs

from .. import pointers
from .._specs import Operation, Spec
from ..formats import DOMAIN_FORMATS
from ..serving import too_deep
from ._common import day_offset, loads, utc_now

LOCATIONS = ("path", "query", "header")

NO_BODY: Any = object()
"""What `parse_body` gives for a request without a body (JSON null is a body, and is judged)."""


@dataclass(frozen=True)
class Problem:
    """One way a request breaks its operation's spec. The message never repeats the value sent."""

    location: str
    """"body", "header", "path", "query"."""
    field: str
    """A JSON pointer into the body ("/paymentAmount/value"), or the parameter's name."""
    keyword: str
    """The JSON Schema keyword that failed ("required", "pattern", ...), or "type" for a body that is not JSON."""
    message: str


_TEXT = {
    "required": "is required",
    "additionalProperties": "is not an allowed field",
    "pattern": "does not match the required pattern",
    "format": "is not in the required format",
    "enum": "is not one of the allowed values",
    "const": "is not the allowed value",
    "type": "has the wrong type",
    "minLength": "is too short",
    "maxLength": "is too long",
    "minimum": "is below the minimum",
    "exclusiveMinimum": "is below the minimum",
    "maximum": "is above the maximum",
    "exclusiveMaximum": "is above the maximum",
    "minItems": "has too few items",
    "maxItems": "has too many items",
    "minProperties": "has too few fields",
    "maxProperties": "has too many fields",
    "x-not-before": "is earlier than allowed",
}


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _problem(location: str, error: jsonschema_rs.ValidationError, strip_first: bool) -> Problem:
    keyword = error.kind.name
    path = list(error.instance_path)
    if keyword == "required":
        path.append(error.kind.property)
    elif keyword == "additionalProperties" and error.kind.unexpected:
        path.append(error.kind.unexpected[0])
    if strip_first:  # parameters are validated as one object keyed by name
        field = str(path[0]) if path else ""
    else:
        field = _pointer(path)
    text = _TEXT.get(keyword, f"breaks the {keyword} rule")
    if location == "body":
        label = field.lstrip("/").replace("/", ".") or "the request body"
    else:
        label = f"{location} parameter {field}" if field else f"a {location} parameter"
    return Problem(location=location, field=field, keyword=keyword, message=f"{label} {text}")


class NotBefore:
    """The specs' `x-not-before: $today` keyword: a date, a date-time, or a card expiry (month and year)
    no earlier than the day the token names (today, or today plus N days)."""

    def __init__(self, parent_schema: dict[str, Any], value: Any, schema_path: list[Any]) -> None:
        self.offset = day_offset(value) or 0

    def validate(self, instance: Any) -> None:
        earliest = utc_now().date() + timedelta(days=self.offset)
        if isinstance(instance, str) and len(instance) >= 10:
            try:
                day = date.fromisoformat(instance[:10])
            except ValueError:
                return  # the format keyword reports it
            if day < earliest:
                raise ValueError(f"is before {earliest.isoformat()}")
        elif isinstance(instance, dict):
            year, month = instance.get("year"), instance.get("month")
            if isinstance(year, int) and isinstance(month, int) and (year, month) < (earliest.year, earliest.month):
                raise ValueError(f"is before {earliest.year}-{earliest.month:02d}")


class SpecSchemas:
    """One direction's view of a spec, registered once for jsonschema_rs (requests: readOnly fields removed)."""

    def __init__(self, spec: Spec, direction: str = "request") -> None:
        self.spec = spec
        self.document = spec.direction_document(direction)  # type: ignore[arg-type]
        self.registry = jsonschema_rs.Registry([(spec.uri, self.document)])

    def node(self, pointer: str) -> tuple[str, Any]:
        """(pointer, node): where the node at `pointer` really lives ($refs followed), so a `$ref` to it works."""
        where = self.spec.canonical(pointer).lstrip("#")
        found = pointers.resolve(self.document, where)
        return where, {} if found is pointers.MISSING else found

    def ref(self, pointer: str) -> dict[str, str]:
        return {"$ref": f"{self.spec.uri}#{urllib.parse.quote(pointer, safe='/~')}"}

    def compile(self, schema: dict[str, Any]) -> jsonschema_rs.Validator:
        return jsonschema_rs.validator_for(
            schema, registry=self.registry, formats=DOMAIN_FORMATS, validate_formats=True,
            keywords={"x-not-before": NotBefore},
        )


class OperationValidator:
    """Checks one operation's parameters and body; `problems(...)` is empty for a valid request."""

    def __init__(self, schemas: SpecSchemas, operation: Operation) -> None:
        spec = schemas.spec
        self.operation = operation
        self.parameters: dict[str, jsonschema_rs.Validator] = {}
        self.parameter_names: dict[str, tuple[str, ...]] = {}
        for location in LOCATIONS:
            chosen = {}
            for where, parameter in spec.parameters(operation.operation_id):
                if parameter["in"] != location:
                    continue
                name = parameter["name"].lower() if location == "header" else parameter["name"]
                chosen[name] = (where, parameter)
            if not chosen:
                continue
            schema = {
                "type": "object",
                "properties": {name: schemas.ref(f"{where.lstrip('#')}/schema") if "schema" in parameter else {}
                               for name, (where, parameter) in chosen.items()},
                "required": [name for name, (_, parameter) in chosen.items() if parameter.get("required")],
            }
            self.parameters[location] = schemas.compile(schema)
            self.parameter_names[location] = tuple(chosen)
        self.media_type: str | None = None
        self.body: jsonschema_rs.Validator | None = None
        body_node = spec.request_body(operation.operation_id)
        self.body_required = bool(body_node.get("required"))
        for media_type, pointer in spec.request_media(operation.operation_id).items():
            self.media_type = media_type
            if pointer:
                self.body = schemas.compile(schemas.ref(pointer.lstrip("#")))
            break
        self.documented_statuses = frozenset(spec.documented_statuses(operation.operation_id))

    def parse_body(self, content_type: str | None, raw: bytes, max_depth: int = 64) -> tuple[Any, list[Problem]]:
        """The body as the documented media type, or the problem that stops it being read (JSON nested
        more than `max_depth` levels is refused here, before recursive code meets it)."""
        if self.media_type is None:
            return NO_BODY, []
        if not raw:
            if self.body_required:
                return NO_BODY, [Problem("body", "", "required", f"a {self.media_type} body is required")]
            return NO_BODY, []
        given = (content_type or "").split(";", 1)[0].strip().lower()
        if given != self.media_type:
            text = f"the body must be sent as {self.media_type}"
            return NO_BODY, [Problem("body", "", "type", text)]
        if self.media_type == "application/x-www-form-urlencoded":
            try:
                return dict(urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)), []
            except UnicodeDecodeError:
                return NO_BODY, [Problem("body", "", "type", "the body is not UTF-8 form data")]
        try:
            body = loads(raw)
        except ValueError:
            return NO_BODY, [Problem("body", "", "type", "the body is not valid JSON")]
        if too_deep(raw, body, max_depth):
            return NO_BODY, [Problem("body", "", "type", f"the body nests more than {max_depth} levels deep")]
        return body, []

    def problems(
        self, headers: dict[str, str], path: dict[str, str], query: dict[str, str], body: Any
    ) -> list[Problem]:
        found: list[Problem] = []
        for location, values in (("path", path), ("query", query), ("header", headers)):
            validator = self.parameters.get(location)
            if validator is None:
                continue
            names = self.parameter_names[location]
            instance = {name: values[name] for name in names if name in values}
            if not validator.is_valid(instance):
                found.extend(_problem(location, error, True) for error in validator.iter_errors(instance))
        if self.body is not None and body is not NO_BODY and not self.body.is_valid(body):
            found.extend(_problem("body", error, False) for error in self.body.iter_errors(body))
        return found
