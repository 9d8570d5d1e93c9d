"""The Judge runs every registered check over answers and callbacks, and lists the rules of a spec.

One Judge per process and run: it holds each API's state (statuses seen, limits, created resources),
so checks that remember see every exchange of that process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._specs import Spec
from ..pointers import MISSING, resolve_all
from . import _answers, _run  # noqa: F401  (importing them registers their checks)
from ._knowledge import SpecView, view
from ._model import CHECKS, Call, Delivery, Result
from ._run import status_coverage
from ._state import ApiState
from ._stateful import settle_correlations, source_keys


class Judge:
    """Runs the checks for a set of specs and remembers what stateful checks need."""

    def __init__(self, specs: Iterable[Spec]) -> None:
        self.apis: dict[str, ApiState] = {spec.name: ApiState(view(spec)) for spec in specs}

    def state(self, api: str) -> ApiState:
        return self.apis[api]

    def answer(self, call: Call) -> list[Result]:
        """Every answer check's results for one call."""
        state = self.apis[call.api]
        results: list[Result] = []
        for registered in CHECKS.values():
            if "answer" in registered.on:
                results.extend(registered.function(call, state))
        return results

    def callback(self, delivery: Delivery) -> list[Result]:
        """Every callback check's results for one delivery."""
        state = self.apis[delivery.api]
        results: list[Result] = []
        for registered in CHECKS.values():
            if "callback" in registered.on:
                results.extend(registered.function(delivery, state))
        return results

    def sources(self, call: Call) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """Resources this call created that callbacks may name later (correlation id, keys)."""
        return source_keys(call, self.apis[call.api])

    def add_source(self, api: str, correlation_id: str, keys: Iterable[Iterable[str]]) -> None:
        self.apis[api].sources.setdefault(correlation_id, set()).add(tuple(tuple(pair) for pair in keys))

    def settle(self, api: str) -> list[Result]:
        """Judge what could only be judged at the end (callbacks whose source came late)."""
        return list(settle_correlations(self.apis[api]))

    def statuses(self, item: Call | Delivery) -> list[tuple[str, str]]:
        """(coverage label, value) of every coverage field this answer or callback carries."""
        state = self.apis[item.api]
        if isinstance(item, Delivery):
            pointer, body = state.view.request_schema(item.operation_id), item.body
        else:
            if item.status is None or not 200 <= item.status < 300:
                return []
            media = state.view.response_media(item.operation_id, item.status)
            pointer = next((p for m, p in media.items() if p and "json" in m), None)
            body = item.response_body
        if pointer is None or body is MISSING:
            return []
        found = []
        for entry in state.view.coverage_in(pointer):
            label = state.view.coverage_label(entry)
            for value in resolve_all(body, entry.field):
                if isinstance(value, str):
                    found.append((label, value))
        return found

    def coverage(self, api: str, seen: dict[str, set[str]]) -> list[Result]:
        return list(status_coverage(self.apis[api].view, seen))


def catalogue(spec: Spec) -> list[tuple[str, str]]:
    """Every rule a certification of this spec judges: (rule ID, what it verifies), in a stable order."""
    known = view(spec)
    rules: dict[str, str] = {}
    has_webhooks = bool(known.webhooks)
    for registered in CHECKS.values():
        rule = registered.rule
        if rule.startswith("{P}-"):
            if rule == "{P}-CALLBACK-RETRY" and not has_webhooks:
                continue
            if rule == "{P}-STATUS-COVERAGE" and not spec.rules.coverage:
                continue
            if rule == "{P}-NO-CARD-DATA" and not _carries_card_data(known):
                continue
            if rule == "{P}-READ-YOUR-WRITES" and not readable_creates(spec):
                continue
            if rule == "{P}-AUTH-ENFORCED" and not any(any(spec.security(op.operation_id))
                                                        for op in spec.client_operations()):
                continue
            rules.setdefault(known.rule(rule), registered.description)
    for pointer in _all_schema_pointers(known):
        for rule_id in known.conditional_rules(pointer):
            rules.setdefault(rule_id, _x_rule_description(spec, rule_id))
    for rule_id, description in spec.rules.described():
        rules.setdefault(rule_id, description)
    return list(rules.items())


def readable_creates(spec: Spec) -> list[str]:
    """Creates whose resource a read operation of the document names (the read-your-writes suite's parameters)."""
    return [kind.create[0] for kind in spec.resources if any(not lookup.many for lookup in kind.lookups.values())]


def _carries_card_data(known: SpecView) -> bool:
    return any(
        known.request_schema(op) and known.sensitive_fields(known.request_schema(op))  # type: ignore[arg-type]
        for op, operation in known.spec.operations.items() if not operation.webhook
    )


def _all_schema_pointers(known: SpecView) -> list[str]:
    pointers = []
    for operation_id, operation in known.spec.operations.items():
        if operation.webhook:
            pointer = known.request_schema(operation_id)
            if pointer:
                pointers.append(pointer)
            continue
        for code in known.documented_statuses(operation_id):
            if code.isdigit() and int(code) < 400:
                pointers.extend(p for p in known.response_media(operation_id, int(code)).values() if p)
    return pointers


def _x_rule_description(spec: Spec, rule_id: str) -> str:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("x-rule-id") == rule_id and not found:
                found.append(node.get("description") or "")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec.document)
    return found[0] if found and found[0] else f"The conditional rule {rule_id} of the spec holds."
