"""Answers and callback bodies built from the document: a valid template, filled with what the mock knows.

An answer starts from a template of its documented schema (`_instances`), then takes, in order:
the values of the creating request at the same place (what the client sent comes back: amount,
currency, merchant, the `payments` object), the resource's keys wherever a property of that name
is (`transactionId`, `firmRootId`, `endToEndId`), its status where the state machine says, its
timestamps, the rules table's echoes and masked PANs, and the fields scenarios set. The result is
validated against the schema; a value that breaks it is put back to the template's, so the mock
never answers against its own document.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from typing import Any

from .. import pointers
from .._specs import Spec
from .._specs._rules import Observation, StateMachine
from ._common import mask_pan, overlay
from ._instances import InstanceBuilder
from ._records import Record
from ._validation import SpecSchemas

logger = logging.getLogger("conformance.mock")

MAX_REPAIRS = 8


def timestamp(seconds: float) -> str:
    """ISO 8601 with milliseconds and a Z, like the providers' examples: 2023-07-27T07:41:54.773Z."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


PROPERTY_MAPS_KEPT = 10_000
"""Schemas whose property maps are kept (a document has a few hundred)."""


class AnswerBuilder:
    """Valid answers and callback bodies of one spec (response direction: writeOnly fields never sent)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.instances = InstanceBuilder(spec, "response")
        self.schemas = SpecSchemas(spec, "response")
        self._templates: dict[str, Any] = {}
        self._validators: dict[str, Any] = {}
        self._date_times: dict[str, list[list[str]]] = {}
        self._property_maps: dict[int, tuple[Any, dict[str, Any]]] = {}
        """id(schema) -> (schema, its properties): the document's schemas do not change once loaded."""

    # -- templates ----------------------------------------------------------------------------------------

    def validator(self, pointer: str):
        if pointer not in self._validators:
            self._validators[pointer] = self.schemas.compile(self.schemas.ref(pointer.lstrip("#")))
        return self._validators[pointer]

    def template(self, pointer: str, examples: list[Any] = ()) -> Any:
        """A valid instance of the schema at `pointer`: the first valid example given, else `minimal`."""
        key = f"example:{pointer}"
        if key not in self._templates:
            validator = self.validator(pointer)
            chosen = next((copy.deepcopy(e) for e in examples if validator.is_valid(e)), None)
            self._templates[key] = chosen if chosen is not None else self.minimal(pointer)
        return copy.deepcopy(self._templates[key])

    def minimal(self, pointer: str) -> Any:
        """An instance with the required fields only, built from the schema (its own `examples` where valid)."""
        key = f"minimal:{pointer}"
        if key not in self._templates:
            validator = self.validator(pointer)
            built = self._completed(pointer, self.instances.build(self.instances.node(pointer)))
            if not validator.is_valid(built):
                problems = "; ".join(str(e)[:120] for e in list(validator.iter_errors(built))[:2])
                logger.warning("the mock's template for %s is not valid: %s", pointer, problems)
            self._templates[key] = built
        return copy.deepcopy(self._templates[key])

    def _completed(self, pointer: str, built: Any) -> Any:
        """`built` with the properties a conditional requires added (an `if`/`then` the builder cannot see:
        Global Payments' Chile ACH payment type requires tax information)."""
        validator = self.validator(pointer)
        for _ in range(MAX_REPAIRS):
            missing = [(list(error.instance_path), error.kind.property) for error in validator.iter_errors(built)
                       if error.kind.name == "required" and isinstance(error.kind.property, str)]
            if not missing:
                break
            for path, name in missing:
                where = self.spec.schema_at(pointer, pointers.instance_pointer(path) + "/" + pointers.escape(name))
                if where is None:
                    return built
                pointers.set_path(built, [*path, name], self.instances.build(self.instances.node(where)))
        return built

    def response_examples(self, operation_id: str, status: int) -> list[Any]:
        media = next(iter((self.spec.response(operation_id, status).get("content") or {}).values()), None)
        if not isinstance(media, dict):
            return []
        found = [self.spec.deref(e).get("value") for e in (media.get("examples") or {}).values()
                 if isinstance(self.spec.deref(e), dict)]
        if "example" in media:
            found.append(media["example"])
        return [value for value in found if value is not None]

    def answer_template(self, operation_id: str, status: int) -> tuple[str | None, Any]:
        pointer = self.spec.response_schema(operation_id, status)
        if pointer is None:
            return None, None
        return pointer, self.template(pointer, self.response_examples(operation_id, status))

    # -- filling ------------------------------------------------------------------------------------------

    def build(self, pointer: str, template: Any, record: Record | None, *, request: dict[str, Any] | None = None,
              machine: StateMachine | None = None, observation: Observation | None = None,
              overlays: list[dict[str, Any]] = (), set_at: dict[str, Any] | None = None,
              record_overlays: list[dict[str, Any]] = ()) -> Any:
        """`template` filled with the record's request, keys, status and times; repaired against the schema.

        `overlays` go onto the body, `record_overlays` onto each record the observation points at
        (`/callbacks/*`: every item), after the status.

        A document example as template can clash with the record (an example of a REJECTED payment carries
        `exceptions` a PENDING one may not): then the minimal template is filled instead.
        """
        fill = (record, request, machine, observation, overlays, set_at, record_overlays)
        body = self._fill(pointer, template, *fill)
        if self.validator(pointer).is_valid(body):
            return body
        minimal = self.minimal(pointer)
        if minimal != template:
            retried = self._fill(pointer, minimal, *fill)
            if self.validator(pointer).is_valid(retried):
                return retried
            template, body = minimal, retried
        return self.repair(pointer, body, template)

    def _fill(self, pointer: str, template: Any, record: Record | None, request: dict[str, Any] | None,
              machine: StateMachine | None, observation: Observation | None, overlays: list[dict[str, Any]],
              set_at: dict[str, Any] | None, record_overlays: list[dict[str, Any]]) -> Any:
        body = copy.deepcopy(template)
        source = (request or (record.request if record else {}) or {}).get("body")
        if isinstance(source, dict) and isinstance(body, dict):
            self._graft(body, self.instances.node(pointer), source)
        if record is not None:
            self._place_keys(body, pointer, record.keys)
            if observation is not None and observation.records:  # each record carries the resource's keys
                where = self.spec.schema_at(pointer, observation.records)
                for holder in pointers.resolve_all(body, observation.records) if where else ():
                    self._place(holder, self.instances.node(where), record.keys, 0)
            self._stamp_times(body, pointer, template, record)
            if machine is not None and observation is not None and record.status is not None:
                for holder in pointers.resolve_all(body, observation.records):
                    if isinstance(holder, dict):
                        pointers.set_value(holder, machine.field_in(observation), record.status)
        for pointer_value in (set_at or {}).items():
            place, value = pointer_value
            if pointers.split(place):
                pointers.set_value(body, place, value)
        for subset in overlays:
            if subset:
                overlay(body, copy.deepcopy(subset))
        for subset in record_overlays:
            for holder in pointers.resolve_all(body, observation.records if observation else ""):
                if isinstance(holder, dict) and subset:
                    overlay(holder, copy.deepcopy(subset))
        return body

    def _graft(self, target: dict[str, Any], schema: Any, source: dict[str, Any], depth: int = 0) -> None:
        """Copy what the request sent into the places of the answer schema that have the same name."""
        properties = self._properties(schema)
        for name, value in source.items():
            if name not in properties or depth > 12:
                continue
            sub = properties[name]
            if isinstance(value, dict) and isinstance(target.get(name), dict):
                self._graft(target[name], sub, value, depth + 1)
            elif isinstance(value, dict) and self._properties(sub):
                target[name] = {}
                self._graft(target[name], sub, value, depth + 1)
            else:
                target[name] = copy.deepcopy(value)

    def _properties(self, schema: Any) -> dict[str, Any]:
        """Every property a schema (with its allOf/anyOf/oneOf branches) names, each schema dereferenced.

        Kept per schema: every answer walks the same schemas, and walking them again cost most of a create."""
        if not (isinstance(schema, dict) and schema):  # nothing to walk, or a fresh {} that would pile up here
            return self._walk_properties(schema)
        known = self._property_maps.get(id(schema))
        if known is not None and known[0] is schema:
            return known[1]
        found = self._walk_properties(schema)
        if len(self._property_maps) >= PROPERTY_MAPS_KEPT:  # a bound, should a caller ever pass built schemas
            self._property_maps.clear()
        self._property_maps[id(schema)] = (schema, found)
        return found

    def _walk_properties(self, schema: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        stack = [schema]
        while stack:
            node = self.instances.deref(stack.pop())
            if not isinstance(node, dict):
                continue
            for name, sub in (node.get("properties") or {}).items():
                if sub is not False:  # a property the direction forbids (writeOnly in answers)
                    found.setdefault(name, self.instances.deref(sub))
            for combinator in ("allOf", "anyOf", "oneOf"):
                stack.extend(node.get(combinator) or [])
        return found

    def _place_keys(self, body: Any, pointer: str, keys: dict[str, Any], depth: int = 0) -> None:
        """Each key wherever the answer has a property of its name (ids travel by name between operations):
        at the top level always, deeper where the template has the property or the schema requires it."""
        self._place(body, self.instances.node(pointer), keys, 0)

    def _place(self, body: Any, schema: Any, keys: dict[str, Any], depth: int) -> None:
        if depth > 4:
            return
        properties = self._properties(schema)
        if isinstance(body, dict):
            for name, sub in properties.items():
                if name in keys and (name in body or sub.get("type") in ("string", "integer", None)):
                    if name in body or depth == 0 or self._required(schema, name):
                        body[name] = keys[name]
                elif isinstance(body.get(name), dict | list):
                    self._place(body[name], sub, keys, depth + 1)
        elif isinstance(body, list):
            items = self.instances.deref(self.instances.deref(schema).get("items", {})) if isinstance(
                self.instances.deref(schema), dict) else {}
            for item in body:
                self._place(item, items, keys, depth + 1)

    def _required(self, schema: Any, name: str) -> bool:
        node = self.instances.deref(schema)
        return isinstance(node, dict) and name in (node.get("required") or [])

    def _stamp_times(self, body: Any, pointer: str, template: Any, record: Record) -> None:
        """Template date-times become the record's: creation for "created..." fields, the last change otherwise."""
        for path in self._date_time_paths(pointer, template):
            try:
                current = pointers.get_path(body, path)
                original = pointers.get_path(template, path)
            except (KeyError, IndexError, TypeError):
                continue
            if current == original:
                created = str(path[-1]).lower().startswith("creat")
                pointers.set_path(body, path, timestamp(record.created if created else record.updated))

    def _date_time_paths(self, pointer: str, template: Any) -> list[list[Any]]:
        if pointer not in self._date_times:
            found: list[list[Any]] = []

            def walk(node: Any, schema: Any, path: list[Any], depth: int) -> None:
                schema = self.instances.deref(schema)
                if depth > 12 or not isinstance(schema, dict):
                    return
                if isinstance(node, str) and schema.get("format") == "date-time":
                    found.append(path)
                elif isinstance(node, dict):
                    properties = self._properties(schema)
                    for name, value in node.items():
                        if name in properties:
                            walk(value, properties[name], [*path, name], depth + 1)
                elif isinstance(node, list):
                    for index, value in enumerate(node):
                        walk(value, schema.get("items", {}), [*path, index], depth + 1)

            walk(template, self.instances.node(pointer), [], 0)
            self._date_times[pointer] = found
        return self._date_times[pointer]

    # -- validity -----------------------------------------------------------------------------------------

    def repair(self, pointer: str, body: Any, template: Any) -> Any:
        """The body, with each value that breaks the schema put back to the template's (or dropped)."""
        validator = self.validator(pointer)
        for _ in range(MAX_REPAIRS):
            errors = list(validator.iter_errors(body))
            if not errors:
                return body
            for error in errors:
                path = list(error.instance_path)
                if not path:
                    return copy.deepcopy(template)
                try:
                    pointers.set_path(body, path, copy.deepcopy(pointers.get_path(template, path)))
                except (KeyError, IndexError, TypeError):
                    try:
                        pointers.delete_path(body, path)
                    except (KeyError, IndexError, TypeError):
                        return copy.deepcopy(template)
        logger.warning("the mock could not make an answer valid against %s", pointer)
        return copy.deepcopy(template)


def masked(value: Any) -> Any:
    return mask_pan(value) if isinstance(value, str) and len(value) >= 12 else value
