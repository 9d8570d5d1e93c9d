"""Scenario triggers, read from each rules table's `scenarios`: which outcome a request gets.

The tables say "the operation's canonical example, with `when` applied, gives `expect`". The mock
reads that backwards, to decide what to answer:

1. A scenario *applies* to a request when every `when` pair holds in the request body and, if it
   has a `given`, the resource the request refers to (through a `$response.body#/...` binding in
   `when` or `path`) was created by a request in which every `given.when` pair holds. Of the
   scenarios that apply, the one with the most pairs wins; a tie goes to the later one in the table.
2. When none applies, the operation's *fallback* is taken: a scenario expecting a 2xx whose every
   `when` value equals the canonical example's (so it names no trigger) and whose pointers are all
   present in the request: a refund of 700 behaves like the table's refund of 500. Ties go to the
   scenario whose `given` holds, then to the earlier one.
3. When there is no fallback either, the family's natural behaviour applies (None is returned).

`$present` holds for any value at its pointer (an object the request carries, whatever is in it).
Dates: `$today` holds for today (UTC), `$today+Nd` (N > 0) for any later date, `$today-Nd` for any
earlier one (a payment executed now, one warehoused until later, one dated in the past); a card
expiry {month, year} counts as the last day of its month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .. import pointers
from .._specs import Spec
from .._specs._rules import ExpectedCallbacks
from .._specs._rules import Scenario as RulesScenario
from ..pointers import MISSING
from ._common import Call, day_offset, same_json, utc_now

_BINDING = "$response.body#"
PRESENT = "$present"
"""A `when` value that holds for any value at its pointer (the scenario's example supplies one)."""


@dataclass(frozen=True)
class _Pair:
    parts: tuple[str, ...]
    value: Any
    day: int | None = None
    """For `$today` values: 1 for "+Nd" (N > 0, a later day), 0 for today, -1 for "-Nd" (an earlier day);
    None for plain values."""
    present: bool = False
    """`$present`: any value at the pointer will do."""

    def holds(self, document: Any) -> bool:
        found = pointers.resolve_split(document, self.parts)
        if self.present:
            return found is not MISSING
        if self.day is None:
            value = self.value
            if type(found) is type(value) and not isinstance(value, dict | list):
                return found == value
            return found is not MISSING and same_json(found, value)
        when = _as_date(found)
        if when is None:
            return False
        today = utc_now().date()
        return (when > today) - (when < today) == self.day


def _pairs(when: dict[str, Any]) -> tuple[list[_Pair], list[tuple[str, ...]]]:
    """Concrete pairs, and the body pointers bound to an earlier answer."""
    pairs: list[_Pair] = []
    bindings: list[tuple[str, ...]] = []
    for pointer, value in (when or {}).items():
        parts = tuple(pointers.split(pointer))
        if isinstance(value, str) and value.startswith(_BINDING):
            bindings.append(parts)
            continue
        days = day_offset(value) if isinstance(value, str) else None
        if value == PRESENT:
            pairs.append(_Pair(parts, value, present=True))
        elif days is not None:
            pairs.append(_Pair(parts, value, day=(days > 0) - (days < 0)))
        else:
            pairs.append(_Pair(parts, value))
    return pairs, bindings


@dataclass(frozen=True)
class Scenario:
    """One row of a rules table's `scenarios`, ready to match requests."""

    id: str
    description: str
    operation: str
    expect: dict[str, Any]
    pairs: tuple[_Pair, ...]
    given_pairs: tuple[_Pair, ...] | None
    """None when the scenario has no `given`."""
    parent_in_body: tuple[tuple[str, ...], ...] = ()
    parent_in_path: tuple[str, ...] = ()
    names_no_trigger: bool = False
    """Every `when` value equals the canonical example's: the scenario describes the ordinary request."""
    index: int = 0
    rule: RulesScenario | None = None
    """The rules table's row."""

    @property
    def callbacks(self) -> ExpectedCallbacks | None:
        return self.rule.callbacks if self.rule is not None else None

    @property
    def status(self) -> int:
        return int(self.expect["status"])

    @property
    def body(self) -> dict[str, Any]:
        return self.expect.get("body") or {}

    @property
    def callback_statuses(self) -> list[str]:
        return list((self.expect.get("callbacks") or {}).get("statuses") or [])

    @property
    def last_callback(self) -> dict[str, Any]:
        return (self.expect.get("callbacks") or {}).get("last") or {}

    @property
    def weight(self) -> int:
        return len(self.pairs) + len(self.given_pairs or ())

    def parent_id(self, call: Call) -> Any:
        for parts in self.parent_in_body:
            found = pointers.resolve_split(call.body, parts)
            if found is not MISSING:
                return found
        for name in self.parent_in_path:
            if name in call.path:
                return call.path[name]
        return MISSING

    def given_holds(self, call: Call, origin_of: Callable[[Any], Any]) -> bool:
        if self.given_pairs is None:
            return True
        parent = self.parent_id(call)
        if parent is MISSING or not isinstance(parent, str):
            return False
        origin = origin_of(parent)
        return origin is not None and all(pair.holds(origin) for pair in self.given_pairs)

    def shape_matches(self, call: Call) -> bool:
        return all(pointers.resolve_split(call.body, pair.parts) is not MISSING for pair in self.pairs) and all(
            pointers.resolve_split(call.body, parts) is not MISSING for parts in self.parent_in_body
        )


class ScenarioBook:
    """The scenarios of one rules table, grouped by operation."""

    def __init__(self, spec: Spec) -> None:
        self.by_operation: dict[str, list[Scenario]] = {}
        for index, row in enumerate(spec.rules.scenarios):
            pairs, bindings = _pairs(dict(row.when))
            canonical = _canonical(spec, row.operation, row.example)
            given_pairs = None
            if row.given is not None:
                given_pairs, _ = _pairs(dict(row.given.when))
            path_bindings = tuple(
                name for name, value in row.path.items() if isinstance(value, str) and value.startswith(_BINDING)
            )
            scenario = Scenario(
                id=row.id,
                description=row.description,
                operation=row.operation,
                expect=row.expect,
                pairs=tuple(pairs),
                given_pairs=tuple(given_pairs) if given_pairs is not None else None,
                parent_in_body=tuple(bindings),
                parent_in_path=path_bindings,
                names_no_trigger=all(pair.holds(canonical) for pair in pairs),
                index=index,
                rule=row,
            )
            self.by_operation.setdefault(row.operation, []).append(scenario)

        # Operations whose scenarios depend on the request body alone (no `given`, no dates) get their
        # choice cached by the values at the pointers the scenarios look at: the hot path of a load test.
        self._pointers: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._cache: dict[str, dict[tuple[Any, ...], Scenario | None]] = {}
        for operation, group in self.by_operation.items():
            simple = all(s.given_pairs is None and not s.parent_in_body and not s.parent_in_path
                         and all(p.day is None and not p.present for p in s.pairs) for s in group)
            if simple:
                self._pointers[operation] = tuple(dict.fromkeys(p.parts for s in group for p in s.pairs))
                self._cache[operation] = {}

    def all(self) -> list[Scenario]:
        return sorted((s for group in self.by_operation.values() for s in group), key=lambda s: s.index)

    def choose(self, call: Call, origin_of: Callable[[Any], Any]) -> Scenario | None:
        """The scenario whose outcome this request gets, or None for the family's natural behaviour."""
        candidates = self.by_operation.get(call.operation_id)
        if not candidates:
            return None
        cache = self._cache.get(call.operation_id)
        if cache is None:
            return self._choose(candidates, call, origin_of)
        key = tuple(_hashable(pointers.resolve_split(call.body, parts)) for parts in self._pointers[call.operation_id])
        if key in cache:
            return cache[key]
        chosen = self._choose(candidates, call, origin_of)
        if len(cache) > 4096 or any(part is _UNHASHABLE for part in key):
            return chosen
        cache[key] = chosen
        return chosen

    def _choose(self, candidates: list[Scenario], call: Call, origin_of: Callable[[Any], Any]) -> Scenario | None:
        best: Scenario | None = None
        for scenario in candidates:
            if all(pair.holds(call.body) for pair in scenario.pairs) and scenario.given_holds(call, origin_of):
                if best is None or scenario.weight >= best.weight:
                    best = scenario
        if best is not None:
            return best
        fallback: tuple[bool, int, Scenario] | None = None
        for scenario in candidates:
            if not (scenario.names_no_trigger and 200 <= scenario.status < 300 and scenario.shape_matches(call)):
                continue
            rank = (scenario.given_holds(call, origin_of), -scenario.index, scenario)
            if fallback is None or rank[:2] > fallback[:2]:
                fallback = rank
        return fallback[2] if fallback else None


def _canonical(spec: Spec, operation_id: str, example: tuple[str, ...] = ()) -> Any:
    """The request a scenario starts from: the named example, else the operation's first."""
    if operation_id not in spec.operations:
        return {}
    found = spec.example_request(operation_id, example)
    return {} if found is None else found


def _as_date(value: Any) -> date | None:
    """A YYYY-MM-DD string, or a card expiry {month, year} (its last day), as a date; None for other values."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    if isinstance(value, dict) and isinstance(value.get("year"), int) and isinstance(value.get("month"), int):
        if not 1 <= value["month"] <= 12:
            return None
        following = date(value["year"] + value["month"] // 12, value["month"] % 12 + 1, 1)
        return following - timedelta(days=1)
    return None


_UNHASHABLE: Any = object()


def _hashable(value: Any) -> Any:
    """A cache key part that keeps JSON types apart (true and 1, 1 and 1.0, "1" and 1)."""
    if isinstance(value, dict | list):
        return _UNHASHABLE
    return (type(value).__name__, value) if value is not MISSING else MISSING
