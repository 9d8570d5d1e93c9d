"""What a spec and its rules table say about the callbacks an API sends.

For each webhook: where its body schema is, which media type it travels as, where its records are,
which field holds the status and which values it takes, which fields name the resource, and the
state machine its statuses follow. Everything comes from specs/ (webhooks, state_machines,
correlations); nothing here knows an API by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._errors import SpecError
from .._specs import Spec
from .._specs._rules import StateMachine


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


def _body_schema(spec: Spec, operation_id: str) -> tuple[str, str]:
    media = spec.request_media(operation_id)
    if not media or not any(media.values()):
        raise SpecError(f"{spec.path}: the callback {operation_id} documents no request body")
    media_type, pointer = next((m, p) for m, p in media.items() if p)
    return pointer, media_type


def _schema_at(spec: Spec, schema_pointer: str, pointer: str) -> dict[str, Any]:
    """The subschema a JSON pointer of the instance lands in ("*" steps into array items)."""
    schema = spec.resolve(schema_pointer)
    for part in [p for p in pointer.split("/") if p]:
        schema = schema.get("items", {}) if part == "*" else (schema.get("properties") or {}).get(part, {})
        if isinstance(schema.get("$ref"), str):
            schema = spec.resolve(schema["$ref"])
    return schema


def _state_machine_of(spec: Spec, webhook: str) -> tuple[StateMachine | None, str]:
    pairs = spec.rules.machines_for(webhook=webhook)
    if pairs:
        return pairs[0]
    for correlation in spec.rules.correlations:
        if correlation.target_webhook == webhook:
            return None, correlation.target_records
    return None, ""


def _coverage_label(spec: Spec, webhook: str, status_field: str | None, records: str) -> str | None:
    if status_field is None:
        return None
    entry = next((entry for entry in spec.rules.coverage if entry.webhook == webhook), None)
    return entry.label if entry else f"{webhook}{records}{status_field}"


def webhooks(spec: Spec) -> list[Webhook]:
    """Every webhook of a spec, in document order (an empty list when the API sends no callbacks)."""
    found = []
    for operation in spec.operations.values():
        if not operation.webhook:
            continue
        schema_pointer, media_type = _body_schema(spec, operation.operation_id)
        machine, records = _state_machine_of(spec, operation.webhook)
        status_field = None
        statuses: tuple[str, ...] = ()
        keys: dict[str, None] = {}
        if machine is not None:
            status_field = machine.field
            enum = _schema_at(spec, schema_pointer, f"{records}{status_field}").get("enum")
            statuses = tuple(value for value in enum if value is not None) if enum else machine.states
            keys[machine.identity] = None
        for correlation in spec.rules.correlations:
            if correlation.target_webhook == operation.webhook:
                keys.update(dict.fromkeys(correlation.target_keys.values()))
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
                identity=machine.identity if machine is not None else None,
                coverage_label=_coverage_label(spec, operation.webhook, status_field, records),
                machine=machine,
            )
        )
    return found
