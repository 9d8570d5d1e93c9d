"""What the checks need to know about one spec, derived from the document and its rules table once.

Nothing here names an API: documented statuses and media types, the schema of each answer and
callback, how a schema failure is attributed to a rule ID (specs/README.md: "Schema failures are
attributed by..."), which coverage fields a schema carries. Derived facts are cached per spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .._specs import Spec
from .._specs._rules import Coverage, StateMachine
from ..pointers import join as as_pointer
from ..pointers import split as split_pointer

_LEAF_ENUM_KEYWORDS = {"enum", "const"}
_FORMAT_KEYWORDS = {"format", "pattern"}
_CONDITIONAL = {"if", "then", "else"}

_views: dict[int, SpecView] = {}


def view(spec: Spec) -> SpecView:
    """The cached knowledge of a spec (one per loaded Spec object)."""
    known = _views.get(id(spec))
    if known is None or known.spec is not spec:
        known = _views[id(spec)] = SpecView(spec)
    return known


@dataclass(frozen=True)
class SchemaFinding:
    """One schema failure attributed to a rule."""

    rule_id: str
    keyword: str
    location: str
    message: str


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


class SpecView:
    """Spec-derived facts for the checks, each computed once."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.prefix = spec.prefix
        self.rules = spec.rules
        self._cache: dict[Any, Any] = {}

    def rule(self, template: str) -> str:
        return template.replace("{P}", self.prefix)

    # -- the document, through the Spec's public API ------------------------------------------------

    def canonical(self, pointer: str) -> str:
        return self.spec.canonical(pointer)

    def operation(self, operation_id: str) -> dict[str, Any]:
        return self.spec.operation(operation_id)

    def documented_statuses(self, operation_id: str) -> list[str]:
        return self.spec.documented_statuses(operation_id)

    def response_key(self, operation_id: str, status: int) -> str | None:
        return self.spec.response_key(operation_id, status)

    def response_media(self, operation_id: str, status: int) -> dict[str, str]:
        return self.spec.response_media(operation_id, status)

    def response_headers(self, operation_id: str, status: int) -> dict[str, dict[str, Any]]:
        key = ("headers", operation_id, status)  # asked on every answer: resolved once
        if key not in self._cache:
            self._cache[key] = self.spec.response_headers(operation_id, status)
        return self._cache[key]

    def request_schema(self, operation_id: str) -> str | None:
        return self.spec.request_schema(operation_id)

    @property
    def webhooks(self) -> dict[str, str]:
        """Webhook name -> its operationId."""
        return self.spec.webhooks

    # -- schema attribution -------------------------------------------------------------------------

    def findings(self, pointer: str, instance: Any, direction: str = "response") -> list[SchemaFinding]:
        """Validate an instance and attribute each failure to its rule ID, by failing keyword."""
        validator = self.spec.validator(pointer, direction)  # type: ignore[arg-type]
        found: list[SchemaFinding] = []
        for error in validator.iter_errors(instance):
            keyword = str(error.validator)
            conditional = self._conditional_rule(pointer, list(error.absolute_schema_path))
            if conditional:
                rule = conditional
            elif keyword == "required":
                rule = self.rule("{P}-REQUIRED-FIELDS")
            elif keyword in _LEAF_ENUM_KEYWORDS and not isinstance(error.instance, (dict, list)):
                rule = self.rule("{P}-STATUS-ENUM")
            elif keyword in _FORMAT_KEYWORDS:
                rule = self.rule("{P}-FIELD-FORMAT")
            else:
                rule = self.rule("{P}-RESPONSE-SCHEMA")
            found.append(SchemaFinding(rule, keyword, as_pointer(list(error.absolute_path)) or "/",
                                       _one_line(error.message)))
        return found

    def _conditional_rule(self, pointer: str, schema_path: list[Any]) -> str | None:
        """The x-rule-id of the if/then/else a failure sits under, walking the schema path through $refs."""
        node: Any = self.spec.resolve(pointer)
        rule = None
        for part in schema_path:
            node = self.spec.deref(node)
            if isinstance(node, dict) and part in _CONDITIONAL and node.get("x-rule-id"):
                rule = node["x-rule-id"]
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        return rule

    def conditional_rules(self, pointer: str) -> list[str]:
        """Every x-rule-id reachable from a schema (the conditional rules an instance of it is held to)."""
        key = ("conditional", pointer)
        if key not in self._cache:
            found: list[str] = []
            seen: set[int] = set()

            def walk(node: Any) -> None:
                node = self.spec.deref(node)
                if id(node) in seen:
                    return
                seen.add(id(node))
                if isinstance(node, dict):
                    if node.get("x-rule-id") and node["x-rule-id"] not in found:
                        found.append(node["x-rule-id"])
                    for value in node.values():
                        walk(value)
                elif isinstance(node, list):
                    for value in node:
                        walk(value)

            walk(self.spec.resolve(pointer))
            self._cache[key] = found
        return self._cache[key]

    def sensitive_fields(self, pointer: str) -> list[tuple[str, str]]:
        """(pointer with *, format) of writeOnly or card-number fields of a request: what must never come back."""
        key = ("sensitive", pointer)
        if key not in self._cache:
            found: list[tuple[str, str]] = []

            def walk(node: Any, path: list[str], depth: int) -> None:
                node = self.spec.deref(node)
                if not isinstance(node, dict) or depth > 12:
                    return
                if node.get("writeOnly") or node.get("format") == "pan":
                    if node.get("type") in ("string", "integer") or node.get("format") == "pan":
                        found.append((as_pointer(path), node.get("format", "")))
                for name, sub in (node.get("properties") or {}).items():
                    walk(sub, [*path, name], depth + 1)
                if "items" in node:
                    walk(node["items"], [*path, "*"], depth + 1)
                for combinator in ("allOf", "anyOf", "oneOf"):
                    for sub in node.get(combinator) or []:
                        walk(sub, path, depth + 1)

            walk(self.spec.resolve(pointer), [], 0)
            self._cache[key] = found
        return self._cache[key]

    # -- coverage -----------------------------------------------------------------------------------

    def coverage_label(self, entry: Coverage) -> str:
        return entry.label

    def coverage_values(self, entry: Coverage) -> list[str]:
        return [value for value in self.spec.resolve(entry.schema).get("enum") or [] if value is not None]

    def coverage_in(self, pointer: str) -> list[Coverage]:
        """The coverage entries whose field, read from an instance of this schema, is their enum schema."""
        key = ("coverage", pointer)
        if key not in self._cache:
            applies = []
            for entry in self.rules.coverage:
                if self._field_reaches(pointer, entry.field, self.canonical(entry.schema)):
                    applies.append(entry)
            self._cache[key] = applies
        return self._cache[key]

    def _field_reaches(self, pointer: str, field_pointer: str, target: str) -> bool:
        current = [pointer]
        for part in split_pointer(field_pointer):
            following = []
            for here in current:
                node = self.spec.resolve(here)
                for base, candidate in self._branches(here, node):
                    if part == "*" and "items" in candidate:
                        following.append(self.canonical(f"{base}/items"))
                    elif part in (candidate.get("properties") or {}):
                        following.append(self.canonical(f"{base}/properties/{_escape(part)}"))
            current = following
        return target in current

    def _branches(self, pointer: str, node: Any) -> list[tuple[str, dict[str, Any]]]:
        result = [(pointer, node)] if isinstance(node, dict) else []
        if isinstance(node, dict):
            for combinator in ("allOf", "anyOf", "oneOf"):
                for index, _ in enumerate(node.get(combinator) or []):
                    sub_pointer = self.canonical(f"{pointer}/{combinator}/{index}")
                    result.extend(self._branches(sub_pointer, self.spec.resolve(sub_pointer)))
        return result

    # -- rules-table helpers ------------------------------------------------------------------------

    def machines_for(self, *, operation: str | None = None, webhook: str | None = None
                     ) -> list[tuple[StateMachine, str]]:
        """(state machine, records pointer) for each machine observed in an operation or webhook."""
        return self.rules.machines_for(operation=operation, webhook=webhook)

    def is_create(self, operation_id: str) -> bool:
        """A POST on a path without parameters: the call that brings a resource into being."""
        operation = self.spec.operations[operation_id]
        return operation.method == "POST" and not operation.webhook and "{" not in operation.path

    def read_operation(self, machine: StateMachine) -> str | None:
        """The operation that reads a state machine's resource: a GET among those observing it."""
        for seen in machine.observed_in:
            operation_id = seen.operation
            if operation_id and self.spec.operations[operation_id].method == "GET":
                return operation_id
        return None

    def error_code_field(self) -> str | None:
        """The error body property whose enum the status_by_code table maps (OAuth's `error`)."""
        table = self.rules.errors.status_by_code
        if not table or not self.rules.errors.schema:
            return None
        schema = self.spec.resolve(self.rules.errors.schema)
        for name, prop in (schema.get("properties") or {}).items():
            prop = self.spec.deref(prop)
            if set(table) <= set(prop.get("enum") or []):
                return name
        return None


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= 300 else text[:300] + "..."
