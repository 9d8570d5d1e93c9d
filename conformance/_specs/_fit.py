"""Does a rules table fit its document? Every operationId, callback name and pointer it names must exist.

A table written for one document and used with another (the bundled table with a downloaded
document, an older copy after the provider renamed an operation) would otherwise make checks
silently judge nothing. `mismatches` lists what does not fit, first problem first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import pointers
from .._errors import SpecError

if TYPE_CHECKING:
    from ._rules import Rules
    from ._spec import Spec


def completed(spec: Spec, rules: Rules, fallback_error_schema: str | None) -> Rules:
    """The table with what a portable table may leave out filled in from the document: the error schema (the
    one most 4xx answers document) and each coverage field's enum schema (found along the field)."""
    from dataclasses import replace

    coverage = []
    for entry in rules.coverage:
        if entry.schema is None:
            body = _body_schema(spec, entry.operation, entry.webhook)
            found = spec.schema_at(body, entry.field) if body else None
            entry = replace(entry, schema=found)
        coverage.append(entry)
    errors = rules.errors if rules.errors.schema else replace(rules.errors, schema=fallback_error_schema)
    return replace(rules, coverage=tuple(coverage), errors=errors)


def mismatches(spec: Spec, rules: Rules) -> list[str]:
    """Every place the table names something the document does not have (empty: it fits)."""
    operations = {op_id for op_id, op in spec.operations.items() if not op.webhook}
    webhooks = set(spec.webhooks)
    problems: list[str] = []

    def operation(where: str, op_id: str | None) -> None:
        if op_id is not None and op_id not in operations:
            problems.append(f"{where}: operation {op_id!r} is not in the document")

    def webhook(where: str, name: str | None) -> None:
        if name is not None and name not in webhooks:
            problems.append(f"{where}: callback {name!r} is not in the document")

    def schema(where: str, pointer: str | None) -> None:
        if pointer is None:
            return
        try:
            spec.resolve(pointer)
        except SpecError:
            problems.append(f"{where}: {pointer} is not in the document")

    def field(where: str, records_in: tuple[str | None, str | None], records: str, pointer: str) -> None:
        """A pointer inside a record must be reachable in the schema of the body holding the records."""
        op_id, hook = records_in
        body_schema = _body_schema(spec, op_id, hook)
        if body_schema is None:
            return
        if not _reachable(spec, body_schema, pointers.split(records) + pointers.split(pointer)):
            problems.append(f"{where}: {records}{pointer or '/'} is not in the schema of "
                            f"{op_id or hook!r} ({body_schema})")

    schema("errors.schema", rules.errors.schema)
    for machine in rules.state_machines:
        for seen in machine.observed_in:
            operation(f"{machine.id}.observed_in", seen.operation)
            webhook(f"{machine.id}.observed_in", seen.webhook)
            if not problems:
                field(f"{machine.id}.field", (seen.operation, seen.webhook), seen.records, machine.field_in(seen))
                if not machine.identity_in(seen).startswith("$request."):
                    field(f"{machine.id}.identity", (seen.operation, seen.webhook), seen.records,
                          machine.identity_in(seen))
        if machine.first_callback:
            webhook(machine.first_callback.id, machine.first_callback.webhook)
    for section in (rules.echoes, rules.masked_pans, rules.idempotency):
        for entry in section:
            for op_id in entry.operations:
                operation(entry.id, op_id)
    for limit in rules.limits:
        for op_id in limit.operations:
            operation(limit.id, op_id)
        if limit.child:
            operation(f"{limit.id}.child", limit.child.operation)
        if limit.parent:
            operation(f"{limit.id}.parent", limit.parent.operation)
    for order in rules.time_order:
        for seen in order.observed_in:
            operation(order.id, seen.operation)
            webhook(order.id, seen.webhook)
    for correlation in rules.correlations:
        operation(f"{correlation.id}.source", correlation.source_operation)
        webhook(f"{correlation.id}.target", correlation.target_webhook)
    for entry in rules.coverage:
        webhook("coverage", entry.webhook)
        operation("coverage", entry.operation)
        if entry.schema is None:
            problems.append(f"coverage: {entry.field} is not in the schema of {entry.webhook or entry.operation!r}")
        else:
            schema("coverage", entry.schema)
    for entry in rules.not_drivable:
        schema("not_drivable", entry.schema)
    for resource in rules.resources:
        for op_id in resource.create:
            operation(f"resources[{resource.identity}].create", op_id)
        for lookup in resource.lookups:
            operation(f"resources[{resource.identity}].lookups", lookup.operation)
    for precondition in rules.preconditions:
        operation(precondition.id, precondition.operation)
    for scenario in rules.scenarios:
        operation(scenario.id, scenario.operation)
        if scenario.given:
            operation(f"{scenario.id}.given", scenario.given.operation)
        if scenario.callbacks:
            webhook(f"{scenario.id}.callbacks", scenario.callbacks.webhook)
    return list(dict.fromkeys(problems))


def _body_schema(spec: Spec, operation_id: str | None, webhook: str | None) -> str | None:
    if webhook is not None:
        op_id = spec.webhooks.get(webhook)
        return spec.request_schema(op_id) if op_id else None
    if operation_id is None or operation_id not in spec.operations:
        return None
    for code in spec.documented_statuses(operation_id):
        if code.isdigit() and 200 <= int(code) < 300:
            return spec.response_schema(operation_id, int(code))
    return None


def _reachable(spec: Spec, schema: str, parts: list[str]) -> bool:
    """Whether a path of property names ("*" for items) exists in a schema; a schema naming no properties
    at all (an open object) counts as reaching anything below it."""
    current = [schema]
    for part in parts:
        following = []
        for where in current:
            branches = list(spec.branches(where, conditional=True))
            if part == "*":
                following += [f"{branch}/items" for branch, node in branches if isinstance(node.get("items"), dict)]
                if not following and not any("items" in node or "properties" in node for _, node in branches):
                    return True
                continue
            following += [f"{branch}/properties/{pointers.escape(part)}" for branch, node in branches
                          if part in (node.get("properties") or {})]
            if not following and not any(node.get("properties") for _, node in branches):
                return True
        if not following:
            return False
        current = following
    return True
