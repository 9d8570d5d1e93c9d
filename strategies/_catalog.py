"""What can be generated from a spec: its targets (operations and callbacks) and the rules of each.

A target is an operation the client calls (its request: parameters and body) or a callback the
provider sends (its body). Its rules are read off the spec: every `required` field, every value
keyword (enum, pattern, bounds, format), every closed object (`additionalProperties: false`), every
required parameter and every conditional carrying an `x-rule-id`. Each rule has a stable name:

    required:/paymentAmount/value    enum:/paymentType    maximum:/amount    format:/createdAt
    additionalProperties:/           conditional:PBB-PAYMENT-STATUS-MESSAGE-CONDITIONAL
    required:header.merchant-id      pattern:path.id      maxLength:query.endToEndId

Body rules name a JSON pointer ("/" is the root, "*" every array item); parameter rules name the
parameter as `location.name`. Nothing here knows an API: everything comes from the document and
its rules table.
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from conformance import pointers
from conformance._errors import UsageError
from conformance._specs import SPEC_NAMES, Spec, load_spec

from ._schema import Direction, Node, hidden_properties, merged, raw, walk

Kind = Literal["operation", "callback"]

VALUE_KEYWORDS = (
    "const", "enum", "pattern", "format", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "minProperties", "maxProperties",
)
"""Keywords that judge a value where it stands; each one on a field is one rule."""

CLOSED_KEYWORDS = ("additionalProperties", "unevaluatedProperties")
"""Keywords that, when false, refuse unknown fields (one rule per closed object)."""

BRANCH_SHAPES = ("required", "not-required")
"""Conditional branches the invalid strategies know how to break: `required: [...]`, `not: {required: [...]}`.
A conditional whose branches all have other shapes is still listed, and asking for it is a clear error."""


@dataclass(frozen=True)
class Target:
    """Something a strategy generates: an operation's request or a callback's body."""

    api: str
    kind: Kind
    name: str
    """operationId for operations; the webhook name for callbacks."""
    operation_id: str
    spec: str
    """Path of the spec file."""
    pointer: str
    """JSON pointer of the target's schema: the request body schema, else the operation."""
    rules: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "api": self.api, "kind": self.kind, "name": self.name, "operation_id": self.operation_id,
            "spec": self.spec, "pointer": self.pointer, "rules": list(self.rules),
        }


@dataclass(frozen=True)
class Rule:
    """A documented rule of a target, as an invalid example breaks it. `str(rule)` is its stable name."""

    name: str
    keyword: str
    """The JSON Schema keyword the example fails (for a conditional, the failing branch's: required, not)."""
    location: str
    """Where the rule lives: body, header, query or path."""
    pointer: str
    """The place in the body (JSON pointer, "*" for array items), or the parameter's name."""
    schema_pointer: str
    """Where the spec states the rule."""
    rule_id: str | None = None
    """The spec's x-rule-id, for conditionals."""
    keywords: tuple[str, ...] = ()
    """Every keyword the example fails at that place, `keyword` first (a pattern that restates a format fails both)."""

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Parameter:
    location: str
    name: str
    required: bool
    schema_pointer: str


@dataclass(frozen=True)
class RuleDef:
    """A rule as the catalog knows it, before any example breaks it."""

    name: str
    keyword: str
    location: str
    place: str
    """The place the rule judges: the field (value keywords), the missing field (required), the object."""
    schema_pointer: str
    value: Any = None
    parameter: Parameter | None = None
    rule_id: str | None = None
    branches: tuple[tuple[str, dict[str, Any]], ...] = ()
    """For conditionals: (then|else, branch schema) for each branch that can be broken."""
    condition: dict[str, Any] | None = None

    def rule(self, keyword: str | None = None, keywords: tuple[str, ...] = ()) -> Rule:
        keyword = keyword or self.keyword
        return Rule(
            name=self.name, keyword=keyword, location=self.location,
            pointer=self.parameter.name if self.parameter else self.place,
            schema_pointer=self.schema_pointer, rule_id=self.rule_id, keywords=keywords or (keyword,),
        )


def rule_name(keyword: str, place: str, parameter: Parameter | None = None) -> str:
    if parameter is not None:
        return f"{keyword}:{parameter.location}.{parameter.name}"
    return f"{keyword}:{pointers.display(place)}"


def _branch_shape(branch: Any) -> str | None:
    if not isinstance(branch, dict) or not branch:
        return None
    if set(branch) == {"required"}:
        return "required"
    if set(branch) == {"not"} and isinstance(branch["not"], dict) and set(branch["not"]) == {"required"}:
        return "not-required"
    return "other"


@dataclass(eq=False)
class TargetModel:
    """Everything the strategies need to know about one target, read once from the spec."""

    spec: Spec
    kind: Kind
    operation_id: str
    name: str
    method: str
    path: str
    operation_pointer: str
    direction: Direction
    body_pointer: str | None
    media_type: str | None
    parameters: tuple[Parameter, ...]

    def __repr__(self) -> str:
        return f"<target {self.spec.name}:{self.name}>"

    @property
    def api(self) -> str:
        return self.spec.name

    @cached_property
    def nodes(self) -> list[Node]:
        if self.body_pointer is None:
            return []
        return list(walk(self.spec.document, self.body_pointer, self.direction))

    def nodes_at(self, place: str) -> list[Node]:
        return [node for node in self.nodes if node.place == place]

    def field_schema(self, place: str) -> dict[str, Any]:
        return merged(self.nodes, place)

    @cached_property
    def places(self) -> list[str]:
        return list(dict.fromkeys(node.place for node in self.nodes))

    @cached_property
    def rules(self) -> dict[str, RuleDef]:
        """Every rule of the target by name, in document order."""
        found: dict[str, RuleDef] = {}

        def add(definition: RuleDef) -> None:
            found.setdefault(definition.name, definition)

        for parameter in self.parameters:
            if parameter.required and parameter.location != "path":
                add(RuleDef(rule_name("required", "", parameter), "required", parameter.location, "",
                            parameter.schema_pointer, True, parameter))
            for node in walk(self.spec.document, parameter.schema_pointer, "request"):
                if node.place:
                    continue
                for keyword in VALUE_KEYWORDS:
                    if keyword not in node.schema:
                        continue
                    if parameter.location == "path" and keyword == "minLength" and node.schema[keyword] <= 1:
                        continue  # an empty path segment is another URL, not a short value
                    add(RuleDef(rule_name(keyword, "", parameter), keyword, parameter.location, "",
                                f"{node.pointer}/{keyword}", node.schema[keyword], parameter))
        for node in self.nodes:
            schema = node.schema
            hidden = hidden_properties(schema, self.direction)
            for name in schema.get("required") or []:
                if name in hidden:
                    continue
                place = pointers.child(node.place, name)
                add(RuleDef(rule_name("required", place), "required", "body", place, f"{node.pointer}/required", name))
            for keyword in VALUE_KEYWORDS:
                if keyword in schema:
                    add(RuleDef(rule_name(keyword, node.place), keyword, "body", node.place,
                                f"{node.pointer}/{keyword}", schema[keyword]))
            for keyword in CLOSED_KEYWORDS:
                if schema.get(keyword) is False:
                    add(RuleDef(rule_name(keyword, node.place), keyword, "body", node.place,
                                f"{node.pointer}/{keyword}", False))
            if "if" in schema and isinstance(schema.get("x-rule-id"), str):
                branches = tuple(
                    (branch, schema[branch]) for branch in ("then", "else")
                    if _branch_shape(schema.get(branch)) in BRANCH_SHAPES
                )
                add(RuleDef(f"conditional:{schema['x-rule-id']}", "if", "body", node.place, f"{node.pointer}/if",
                            None, rule_id=schema["x-rule-id"], branches=branches, condition=schema["if"]))
        return found

    @cached_property
    def target(self) -> Target:
        return Target(
            api=self.api, kind=self.kind, name=self.name, operation_id=self.operation_id,
            spec=os.fspath(self.spec.path), pointer=self.body_pointer or "#" + self.operation_pointer,
            rules=tuple(self.rules),
        )

    # -- what the rules table adds ----------------------------------------------------------------

    @cached_property
    def idempotency_keys(self) -> list[str]:
        """Runtime expressions of the values that must be unique per request ($request.header.X, body#/p)."""
        return [entry.key for entry in self.spec.rules.idempotency if self.operation_id in entry.operations]

    @cached_property
    def scenario_values(self) -> dict[str, list[Any]]:
        """Body pointer -> literal values the scenarios of this operation use as triggers (`when`)."""
        found: dict[str, list[Any]] = {}
        for scenario in self.spec.rules.scenarios:
            if scenario.operation != self.operation_id:
                continue
            for pointer, value in scenario.when.items():
                if isinstance(value, str) and value.startswith("$"):
                    continue  # $today and $response.body# stand for values of the run, not fixed triggers
                values = found.setdefault(pointer, [])
                if value not in values:
                    values.append(value)
        return found

    @cached_property
    def time_orders(self) -> list[tuple[str, str, str]]:
        """(records pointer, earlier, later) of the time_order rules observed in this target."""
        found = []
        key = "webhook" if self.kind == "callback" else "operation"
        own = self.name if self.kind == "callback" else self.operation_id
        for entry in self.spec.rules.time_order:
            for observation in entry.observed_in:
                if getattr(observation, key) == own:
                    found.append((observation.records, entry.earlier, entry.later))
        return found

    @cached_property
    def status(self) -> tuple[str, tuple[Any, ...]] | None:
        """(pointer, values) of the status field the rules table's coverage names for this callback."""
        if self.kind != "callback":
            return None
        for entry in self.spec.rules.coverage:
            if entry.webhook == self.name:
                enum = self.spec.resolve(entry.schema).get("enum") or []
                return entry.field, tuple(value for value in enum if value is not None)
        for machine, records in self.spec.rules.machines_for(webhook=self.name):
            pointer = records + machine.field
            values = self.field_schema(pointer).get("enum") or ()
            if not values:
                values = self.spec.resolve(self.field_schema(pointer).get("$ref", "#")).get("enum", ())
            return pointer, tuple(value for value in values if value is not None)
        return None

    @cached_property
    def amount_pairs(self) -> list[tuple[str, str, str]]:
        """(object place, amount property, currency property): decimal amounts next to their currency."""
        found = []
        by_place: dict[str, dict[str, str]] = {}
        for place in self.places:
            fmt = self.field_schema(place).get("format")
            if fmt in ("decimal-amount", "iso-4217") and place:
                parent, _, name = place.rpartition("/")
                by_place.setdefault(parent, {})[fmt] = pointers.split("/" + name)[0]
        for parent, formats in by_place.items():
            if "decimal-amount" in formats and "iso-4217" in formats:
                found.append((parent, formats["decimal-amount"], formats["iso-4217"]))
        return found


@dataclass(eq=False)
class SpecModel:
    """Every target of one spec, by name and by operationId."""

    spec: Spec
    targets: dict[str, TargetModel]
    aliases: dict[str, str]

    def target(self, name: str) -> TargetModel:
        key = self.aliases.get(name, name)
        if key not in self.targets:
            known = ", ".join(self.targets)
            raise UsageError(f"{self.spec.name}: no operation or callback named {name!r} (known: {known})")
        return self.targets[key]


def _parameters(spec: Spec, operation_pointer: str, path_item_pointer: str | None) -> tuple[Parameter, ...]:
    found: dict[tuple[str, str], Parameter] = {}
    for owner in (path_item_pointer, operation_pointer):
        if owner is None:
            continue
        listed = raw(spec.document, owner).get("parameters") or []
        for index, entry in enumerate(listed):
            pointer = f"{owner}/parameters/{index}"
            while isinstance(entry, dict) and "$ref" in entry:
                pointer = entry["$ref"]
                entry = raw(spec.document, pointer)
            if entry.get("in") not in ("header", "query", "path") or "schema" not in entry:
                continue
            found[(entry["in"], entry["name"])] = Parameter(
                entry["in"], entry["name"], bool(entry.get("required")), f"{pointer}/schema"
            )
    return tuple(found.values())


def _body(spec: Spec, operation_pointer: str) -> tuple[str | None, str | None]:
    operation = raw(spec.document, operation_pointer)
    pointer = f"{operation_pointer}/requestBody"
    body = operation.get("requestBody")
    while isinstance(body, dict) and "$ref" in body:
        pointer = body["$ref"]
        body = raw(spec.document, pointer)
    for media, content in ((body or {}).get("content") or {}).items():
        if isinstance(content, dict) and "schema" in content:
            schema_pointer = f"{pointer}/content/{media.replace('~', '~0').replace('/', '~1')}/schema"
            node = raw(spec.document, schema_pointer)
            while isinstance(node, dict) and set(node) == {"$ref"}:
                schema_pointer = node["$ref"]
                node = raw(spec.document, schema_pointer)
            if not schema_pointer.startswith("#"):
                schema_pointer = "#" + schema_pointer
            return schema_pointer, media
    return None, None


def build_model(spec: Spec) -> SpecModel:
    targets: dict[str, TargetModel] = {}
    aliases: dict[str, str] = {}
    for operation_id, operation in spec.operations.items():
        body_pointer, media_type = _body(spec, operation.pointer)
        if operation.webhook:
            name, kind, direction = operation.webhook, "callback", "response"
            path_item = None
        else:
            name, kind, direction = operation_id, "operation", "request"
            path_item = operation.pointer.rsplit("/", 1)[0]
        targets[name] = TargetModel(
            spec=spec, kind=kind, operation_id=operation_id, name=name, method=operation.method,
            path=operation.path, operation_pointer=operation.pointer, direction=direction,
            body_pointer=body_pointer, media_type=media_type,
            parameters=_parameters(spec, operation.pointer, path_item) if kind == "operation" else (),
        )
        aliases[operation_id] = name
    return SpecModel(spec, targets, aliases)


_by_spec: weakref.WeakKeyDictionary[Spec, SpecModel] = weakref.WeakKeyDictionary()
_by_name: dict[str, Spec] = {}


def spec_of(api: str | os.PathLike[str] | Spec) -> Spec:
    """A loaded spec: a Spec as given, or a bundled name / path loaded once per process."""
    if isinstance(api, Spec):
        return api
    key = os.fspath(api)
    if key not in _by_name:
        _by_name[key] = load_spec(key)
    return _by_name[key]


def model_of(api: str | os.PathLike[str] | Spec) -> SpecModel:
    spec = spec_of(api)
    model = _by_spec.get(spec)
    if model is None:
        model = _by_spec[spec] = build_model(spec)
    return model


def all_targets(api: str | os.PathLike[str] | Spec | None = None) -> list[Target]:
    """Every target of one spec, or of every bundled spec when `api` is None."""
    apis = [api] if api is not None else list(SPEC_NAMES)
    return [target.target for name in apis for target in model_of(name).targets.values()]
