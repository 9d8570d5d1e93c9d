"""Which trouble, if any, a request meets: the schedule held against the client's traffic as it arrives.

The proxy asks for every request it receives, in order of arrival. A trouble a test asked for lands
on the next request of its operation. A scheduled one lands on the first *new* request of its class
at or after its slot that it can apply to (a `decline` needs a scenario trigger of that operation);
one request meets at most one trouble. What met what is kept for the report.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .._specs import Spec
from .._specs._rules import Scenario
from ..checks._client import idempotency_key
from ..checks._traffic import ClientExchange
from ..pointers import resolve, resolve_all, set_value
from ..suites._requests import resolve_value
from ._schedule import Schedule, Trouble


class Injector:
    """Matches requests to the troubles of a schedule (thread-safe: tests add troubles while the proxy runs)."""

    def __init__(self, schedule: Schedule, specs: Mapping[str, Spec], apis: Iterable[str] | None = None) -> None:
        self.schedule = schedule
        self.specs = specs
        self.apis = set(apis) if apis is not None else None
        """Troubles land only on requests to these APIs (None: any)."""
        self.met: dict[str, ClientExchange] = {}
        self._seen: set[tuple[Any, ...]] = set()
        self._counts = {"create": 0, "request": 0, "secured": 0}
        self._lock = threading.Lock()

    def add(self, trouble: Trouble) -> None:
        with self._lock:
            if trouble not in self.schedule.troubles:
                self.schedule.troubles.append(trouble)

    def choose(self, exchange: ClientExchange) -> Trouble | None:
        """The trouble this request meets (marked met), or None."""
        if exchange.api is None or exchange.token_endpoint or exchange.operation is None:
            return None
        spec = self.specs[exchange.api]
        with self._lock:
            pending = [t for t in self.schedule.troubles if t.id not in self.met]
            classes = self._classes(exchange, spec)
            asked = next((t for t in pending if t.ordinal is None and t.api in (None, exchange.api) and (
                t.operation == exchange.operation or (t.operation is None and t.lands_on in classes))), None)
            fresh = self._count(exchange, spec)
            chosen = asked
            if chosen is None and fresh and (self.apis is None or exchange.api in self.apis):
                chosen = next((t for t in pending if t.ordinal is not None and t.lands_on in classes
                               and self._counts[t.lands_on] >= t.ordinal and applies(t, exchange, spec)), None)
            if chosen is not None:
                self.met[chosen.id] = exchange
            return chosen

    def _classes(self, exchange: ClientExchange, spec: Spec) -> set[str]:
        classes = {"request"}
        if any(exchange.operation in kind.create for kind in spec.resources):
            classes.add("create")
        if spec.required_scopes(exchange.operation or "") is not None:
            classes.add("secured")
        return classes

    def _count(self, exchange: ClientExchange, spec: Spec) -> bool:
        """Count a new request in its classes; False for a repeat of an earlier one (a retry or a poll)."""
        keyed = idempotency_key(exchange, spec)
        identity = (exchange.api, exchange.method, exchange.path, tuple(sorted(exchange.query)), exchange.content,
                    keyed[1] if keyed else None)
        if identity in self._seen:
            return False
        self._seen.add(identity)
        for name in self._classes(exchange, spec):
            self._counts[name] += 1
        return True

    def report(self) -> list[dict[str, Any]]:
        """The schedule with what each trouble met (the report's `client.troubles`)."""
        rows = []
        for trouble in self.schedule.troubles:
            row = trouble.to_dict()
            exchange = self.met.get(trouble.id)
            row["met"] = None if exchange is None else {
                "exchange": exchange.seq, "api": exchange.api, "operation": exchange.operation,
                "method": exchange.method, "url": exchange.url, "at": exchange.started_at}
            rows.append(row)
        return rows


# -- scenario triggers as trouble ------------------------------------------------------------------------------


def applies(trouble: Trouble, exchange: ClientExchange, spec: Spec) -> bool:
    """Whether a trouble can act on this request (a decline needs a JSON body and a trigger of the operation
    that fits it)."""
    if not trouble.action.scenario:
        return True
    return isinstance(exchange.data, dict) and bool(
        triggers(spec, exchange.operation or "", trouble.action.exclude_statuses, exchange.data))


def triggers(spec: Spec, operation: str, exclude_statuses: Iterable[int] = (), data: Any = None) -> list[Scenario]:
    """The operation's scenario triggers usable as trouble: a documented error status (not excluded), or an outcome
    ending in a final state other than the one the canonical request reaches (a decline). Triggers with a `given`,
    or with `when` values that name an earlier answer, are left out: a trouble rewrites one request alone. With
    `data` (the client's body), only those that leave it a valid request: a trigger written for another example
    (a Hong Kong payment needs a category purpose) would make the provider refuse it instead."""
    excluded = set(exclude_statuses)
    own = [s for s in spec.rules.scenarios if s.operation == operation and s.given is None
           and all(_usable(value) for value in s.when.values())]
    normal = {_ends_in(spec, s) for s in own if 200 <= s.status < 300 and _canonical(spec, s)}
    found = []
    for scenario in own:
        if scenario.status >= 400:
            if scenario.status not in excluded:
                found.append(scenario)
            continue
        end = _ends_in(spec, scenario)
        final = {status for machine in spec.rules.state_machines for status in machine.final}
        if end is not None and end in final and end not in normal and scenario.when:
            found.append(scenario)
    if data is not None:
        pointer = spec.request_schema(operation)
        if pointer is not None:
            validator = spec.validator(pointer, "request")
            found = [scenario for scenario in found if validator.is_valid(rewrite(data, scenario))]
    return found


def rewrite(data: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """A copy of a request body with a scenario's `when` applied: `$today`, `$today+Nd`, `$today-Nd` are dates in
    the shape of the value they replace (a card expiry keeps its {month, year})."""
    result = copy.deepcopy(data)
    for pointer, value in scenario.when.items():
        set_value(result, pointer, resolve_value(value, shape=resolve(result, pointer)))
    return result


def _usable(value: Any) -> bool:
    return not (isinstance(value, str) and value.startswith("$") and not value.startswith("$today"))


def _canonical(spec: Spec, scenario: Scenario) -> bool:
    """A 2xx trigger the canonical request already satisfies (the operation's normal outcome). A client sends
    today's date; `$today+Nd` and `$today-Nd` (a warehoused or past-dated request) are other outcomes."""
    example = next(iter(spec.examples(scenario.operation).values()), None)
    if not isinstance(example, dict):
        return not scenario.when
    return all(value == "$today" or resolve_all(example, pointer) == [value]
               for pointer, value in scenario.when.items())


def _ends_in(spec: Spec, scenario: Scenario) -> str | None:
    """The status a trigger leaves its resource in: its last callback's, else the one its answer shows."""
    if scenario.callbacks is not None and scenario.callbacks.statuses:
        return scenario.callbacks.statuses[-1]
    for machine, records in spec.rules.machines_for(operation=scenario.operation):
        seen = machine.observation(operation=scenario.operation)
        for record in resolve_all(dict(scenario.body), records) if records else [dict(scenario.body)]:
            found = resolve_all(record, machine.field_in(seen))
            if found and isinstance(found[0], str):
                return found[0]
    return None
