"""Checks that remember: status transitions, first callbacks, limits across calls, callback correlation.

Answers and callbacks are tracked on separate channels: a status read samples the state (it may skip
steps, so any path along the table's transitions is allowed), while callbacks report every change (so
each must be one allowed step, or a repeat of the last one: retries make duplicates normal).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from .._specs._rules import LimitParent, Observation, StateMachine
from ..formats import decimal_of
from ..pointers import MISSING, evaluate, evaluate_one, resolve
from ._answers import _success, records_of
from ._model import Call, Delivery, Result, check, ok, violation
from ._state import ApiState

Item = Call | Delivery


def _machines(item: Item, state: ApiState) -> list[tuple[StateMachine, list[tuple[Any, Any]]]]:
    """(machine, [(identity, status) of each record]) for every machine this answer or callback shows."""
    if isinstance(item, Delivery):
        pairs = state.view.machines_for(webhook=item.webhook)
        seen = [m.observation(webhook=item.webhook) for m, _ in pairs]
    else:
        pairs = state.view.machines_for(operation=item.operation_id) if _success(item) else []
        seen = [m.observation(operation=item.operation_id) for m, _ in pairs]
    found = []
    for (machine, _records), observation in zip(pairs, seen, strict=True):
        records = records_of(item, (observation,))
        identity = machine.identity_in(observation)
        found.append((machine, [(_identity(item, record, identity), resolve(record, machine.field_in(observation)))
                                for record in records]))
    return found


def _identity(item: Item, record: Any, where: str) -> Any:
    """The record's identity: inside it, or in the request when the answer does not carry it."""
    if where.startswith("$request.") and isinstance(item, Call):
        return evaluate_one(where, request=item.request)
    return resolve(record, where)


@check("table:state_machines", on=("answer", "callback"))
def state_transitions(item: Item, state: ApiState) -> Iterator[Result]:
    """Statuses move only along the table's transitions, start in an initial state; final states never change."""
    channel = "callbacks" if isinstance(item, Delivery) else "answers"
    for machine, records in _machines(item, state):
        for identity, status in records:
            if identity is MISSING or not isinstance(status, str) or status not in machine.states:
                continue
            history = state.statuses.setdefault((machine.id, channel, str(identity)), [])
            previous = history[-1] if history else None
            history.append(status)
            rule = machine.id
            where = f"{machine.field} of {identity}"
            if previous is None:
                created = channel == "answers" and state.view.is_create(item.operation_id)
                if created and status not in machine.initial:
                    yield violation(rule, "Resource created in a state that is not initial",
                                    f"{where} in {list(machine.initial)}", status)
                else:
                    yield ok(rule)
            elif status == previous:
                yield ok(rule)
            elif previous in machine.final:
                yield violation(rule, "Final state left", f"{where} stays {previous} (final)",
                                f"{previous} -> {status}")
            elif channel == "callbacks" and status not in machine.transitions.get(previous, ()):
                yield violation(rule, "Illegal status transition",
                                f"{previous} -> one of {list(machine.transitions.get(previous, ()))}",
                                f"{previous} -> {status}")
            elif channel == "answers" and not machine.reachable(previous, status):
                yield violation(rule, "Illegal status transition", f"{where}: a path {previous} -> ... -> {status}",
                                f"{previous} -> {status}")
            else:
                yield ok(rule)


@check("table:state_machines.first_callback", on="callback")
def first_callback(delivery: Delivery, state: ApiState) -> Iterator[Result]:
    """The first callback about a resource carries one of the statuses the table allows first (PENDING, NONE)."""
    for machine, records in _machines(delivery, state):
        first = machine.first_callback
        if not first or first.webhook != delivery.webhook:
            continue
        for identity, status in records:
            if identity is MISSING or not isinstance(status, str):
                continue
            key = (first.id, "first", str(identity))
            if key in state.statuses:
                continue
            state.statuses[key] = [status]
            if status in first.statuses:
                yield ok(first.id)
            else:
                yield violation(first.id, "First callback with the wrong status", list(first.statuses), status)


def _accepted(call: Call, accepted_when: Mapping[str, Any]) -> bool:
    if "status" in accepted_when and call.status != accepted_when["status"]:
        return False
    if "pointer" in accepted_when:
        return _success(call) and resolve(call.response_body, accepted_when["pointer"]) == accepted_when.get("equals")
    return call.status is not None and 200 <= call.status < 300


def _limit(parent: LimitParent, call: Call) -> Decimal | None:
    found = evaluate(parent.limit, request=call.request, response=call.response_body)
    values = [decimal_of(v) for v in found]
    values = [v for v in values if v is not None]
    if not values:
        return None
    return sum(values, Decimal(0)) if parent.aggregate == "sum" else values[0]


@check("table:limits.across-calls")
def across_call_limits(call: Call, state: ApiState) -> Iterator[Result]:
    """Accepted children (refunds, payouts) never add up to more than their parent allows."""
    for entry in state.view.rules.limits:
        if entry.kind != "across-calls" or entry.parent is None or entry.child is None:
            continue
        parent, child = entry.parent, entry.child
        touched = None
        if call.operation_id == parent.operation and _success(call):
            parent_id = evaluate_one(parent.id, request=call.request, response=call.response_body)
            limit = _limit(parent, call)
            if parent_id is not MISSING and limit is not None:
                state.limits[(entry.id, str(parent_id))] = limit
                touched = str(parent_id)
        if call.operation_id == child.operation and _accepted(call, child.accepted_when):
            parent_id = evaluate_one(child.parent_id, request=call.request)
            amount = decimal_of(evaluate_one(child.amount, request=call.request))
            if parent_id is not MISSING and amount is not None:
                key = (entry.id, str(parent_id))
                state.totals[key] = state.totals.get(key, Decimal(0)) + amount
                touched = str(parent_id)
        if touched is None:
            continue
        key = (entry.id, touched)
        if key in state.limits and key in state.totals:
            if state.totals[key] > state.limits[key]:
                yield violation(entry.id, "Accepted amounts above their limit",
                                f"at most {state.limits[key]} for {touched}", f"{state.totals[key]} accepted")
            else:
                yield ok(entry.id)


def source_keys(call: Call, state: ApiState) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """(correlation id, keys) for each correlation this call is the source of (a resource the suite created)."""
    found = []
    if not _success(call):
        return found
    for entry in state.view.rules.correlations_from(call.operation_id):
        keys = []
        for name, expression in sorted(entry.source_keys.items()):
            value = evaluate_one(expression, request=call.request, response=call.response_body)
            if value is MISSING:
                break
            keys.append((name, str(value)))
        else:
            found.append((entry.id, tuple(keys)))
    return found


@check("table:correlations", on=("answer", "callback"))
def callback_correlation(item: Item, state: ApiState) -> Iterator[Result]:
    """Every callback names a resource the suite created, with the identifiers its creation returned."""
    if isinstance(item, Call):
        for correlation_id, keys in source_keys(item, state):
            state.sources.setdefault(correlation_id, set()).add(keys)
        return
    for entry in state.view.rules.correlations:
        if entry.target_webhook != item.webhook:
            continue
        for record in records_of(item, (Observation(None, entry.target_webhook, entry.target_records),)):
            keys = tuple((name, str(resolve(record, pointer))) for name, pointer in sorted(entry.target_keys.items()))
            if keys in state.sources.get(entry.id, set()):
                yield ok(entry.id)
            else:
                state.pending.append((entry, keys, item))


def settle_correlations(state: ApiState) -> Iterator[Result]:
    """Judge callbacks whose source was unknown when they arrived, now that the run is over."""
    pending, state.pending = state.pending, []
    for entry, keys, _delivery in pending:
        if keys in state.sources.get(entry.id, set()):
            yield ok(entry.id)
        else:
            matches = [dict(k) for k in state.sources.get(entry.id, set()) if set(keys) & set(k)]
            yield violation(entry.id, "Callback names no resource the suite created",
                            matches[0] if matches else "identifiers of a resource the suite created", dict(keys))
