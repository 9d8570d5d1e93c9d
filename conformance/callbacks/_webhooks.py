"""What a spec and its rules table say about the callbacks an API sends.

For each webhook: where its body schema is, which media type it travels as, where its records are,
which field holds the status and which values it takes, which fields name the resource, and the
state machine its statuses follow. Everything comes from specs/ (webhooks, state_machines,
correlations); nothing here knows an API by name.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .._errors import SpecError
from .._specs import Spec


@dataclass(frozen=True)
class StateMachine:
    """A status field's allowed moves, from a rules table's `state_machines` entry."""

    id: str
    initial: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]] = field(hash=False)
    final: tuple[str, ...]

    @property
    def states(self) -> tuple[str, ...]:
        seen: dict[str, None] = dict.fromkeys(self.initial)
        for source, targets in self.transitions.items():
            seen.setdefault(source)
            seen.update(dict.fromkeys(targets))
        seen.update(dict.fromkeys(self.final))
        return tuple(seen)

    def edges(self) -> list[tuple[str, str]]:
        """Every allowed move (earlier, later), in table order."""
        return [(source, target) for source, targets in self.transitions.items() for target in targets]

    def path_to(self, status: str) -> tuple[str, ...]:
        """The shortest run of statuses from an initial state to `status`, both included."""
        queue = deque((start,) for start in self.initial)
        seen = set(self.initial)
        while queue:
            path = queue.popleft()
            if path[-1] == status:
                return path
            for target in self.transitions.get(path[-1], ()):
                if target not in seen:
                    seen.add(target)
                    queue.append((*path, target))
        return (status,)

    def lifecycles(self) -> list[tuple[str, ...]]:
        """Every status sequence a resource can live through: simple paths from an initial state to an end."""
        found: list[tuple[str, ...]] = []

        def walk(path: tuple[str, ...]) -> None:
            following = [t for t in self.transitions.get(path[-1], ()) if t not in path]
            if not following or path[-1] in self.final:
                found.append(path)
                return
            for target in following:
                walk((*path, target))

        for start in self.initial:
            walk((start,))
        return found


@dataclass(frozen=True)
class Webhook:
    """One callback the provider sends, as the spec and rules table describe it."""

    api: str
    prefix: str
    name: str
    operation_id: str
    schema_pointer: str
    """JSON pointer of the body schema in the spec."""
    media_type: str
    records: str
    """Pointer to the records in a body: "" for the body itself, "/callbacks/*" for a list."""
    status_field: str | None
    """Pointer to the status inside a record, or None when the callback carries none."""
    statuses: tuple[str, ...]
    keys: tuple[str, ...]
    """Pointers, inside a record, of the fields that name the resource (identity and correlation keys)."""
    identity: str | None = None
    """Pointer, inside a record, of the resource's identity in its state machine (one of `keys`)."""
    coverage_label: str | None = None
    """The name status coverage goes under in reports: the status enum's schema name ("PayoutStatus"),
    as `certify` names it, or webhook and field when the rules table lists no coverage entry."""
    machine: StateMachine | None = field(default=None, hash=False)


def _body_schema(spec: Spec, pointer: str) -> tuple[str, str]:
    operation = spec.resolve(pointer)
    content = spec.resolve(f"{pointer}/requestBody").get("content") or {} if "requestBody" in operation else {}
    if not content:
        raise SpecError(f"{spec.path}: the webhook at {pointer} documents no request body")
    media_type = next(iter(content))
    escaped = media_type.replace("~", "~0").replace("/", "~1")
    return f"{pointer}/requestBody/content/{escaped}/schema", media_type


def _schema_at(spec: Spec, schema_pointer: str, pointer: str) -> dict[str, Any]:
    """The subschema a JSON pointer of the instance lands in ("*" steps into array items)."""
    schema = spec.resolve(schema_pointer)
    for part in [p for p in pointer.split("/") if p]:
        schema = schema.get("items", {}) if part == "*" else (schema.get("properties") or {}).get(part, {})
        if isinstance(schema.get("$ref"), str):
            schema = spec.resolve(schema["$ref"])
    return schema


def _state_machine_of(spec: Spec, webhook: str) -> tuple[dict[str, Any] | None, str]:
    for machine in spec.rules.get("state_machines") or []:
        for seen in machine["observed_in"]:
            if seen.get("webhook") == webhook:
                return machine, seen["records"]
    for correlation in spec.rules.get("correlations") or []:
        target = correlation.get("target") or {}
        if target.get("webhook") == webhook:
            return None, target.get("records", "")
    return None, ""


def _coverage_label(spec: Spec, webhook: str, status_field: str | None, records: str) -> str | None:
    if status_field is None:
        return None
    for entry in spec.rules.get("coverage") or []:
        if entry.get("webhook") == webhook:
            parts = [p for p in entry["schema"].lstrip("#").split("/") if p]
            if parts[:2] == ["components", "schemas"]:
                parts = parts[2:]
            return ".".join(part for part in parts if part != "properties")
    return f"{webhook}{records}{status_field}"


def webhooks(spec: Spec) -> list[Webhook]:
    """Every webhook of a spec, in document order (an empty list when the API sends no callbacks)."""
    found = []
    for operation in spec.operations.values():
        if not operation.webhook:
            continue
        schema_pointer, media_type = _body_schema(spec, operation.pointer)
        raw, records = _state_machine_of(spec, operation.webhook)
        machine = status_field = None
        statuses: tuple[str, ...] = ()
        keys: dict[str, None] = {}
        if raw is not None:
            machine = StateMachine(
                id=raw["id"],
                initial=tuple(raw["initial"]),
                transitions={k: tuple(v) for k, v in raw["transitions"].items()},
                final=tuple(raw.get("final") or ()),
            )
            status_field = raw["field"]
            enum = _schema_at(spec, schema_pointer, f"{records}{status_field}").get("enum")
            statuses = tuple(enum) if enum else machine.states
            keys[raw["identity"]] = None
        for correlation in spec.rules.get("correlations") or []:
            target = correlation.get("target") or {}
            if target.get("webhook") == operation.webhook:
                keys.update(dict.fromkeys(target.get("keys", {}).values()))
        found.append(
            Webhook(
                api=spec.name,
                prefix=spec.prefix,
                name=operation.webhook,
                operation_id=operation.operation_id,
                schema_pointer=schema_pointer,
                media_type=media_type,
                records=records,
                status_field=status_field,
                statuses=statuses,
                keys=tuple(keys),
                identity=raw["identity"] if raw is not None else None,
                coverage_label=_coverage_label(spec, operation.webhook, status_field, records),
                machine=machine,
            )
        )
    return found
