"""What the mock keeps of each resource it created, in a bounded store.

A record holds the creating request (as runtime expressions read it), the resource's keys (its
identity and the other values requests name it by), its status in its state machine, and what its
last status carries. Past `limit` records the oldest finished ones are evicted; a read of an evicted
one gets the documented not-found answer, as for one never created.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .._specs._rules import StateMachine


@dataclass
class Record:
    """One resource the mock created."""

    kind: str
    keys: dict[str, Any]
    request: dict[str, Any]
    """The creating request as runtime expressions read it: headers, path, query, body."""
    operation: str = ""
    """The operation that created it."""
    answered: dict[str, Any] = field(default_factory=dict)
    """The scenario subset its create was answered with (its status field left out), for reads of the same shape."""
    status: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """Pointer (in the resource's own answer) -> value, set by scenarios and follow-ups; applied to every view."""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    view: Any = None
    """The resource's last full answer, for kinds whose module keeps one (Online Payments' payment)."""
    last: dict[str, Any] = field(default_factory=dict)
    """Fields its last status carries (a scenario's `expect.callbacks.last`), in the record's own shape."""
    last_status: str | None = None

    def finished(self, machine: StateMachine | None) -> bool:
        return machine is None or self.status is None or self.status in machine.final


class RecordStore:
    """Records by kind and key, bounded: past `limit` records the oldest finished ones go first.

    A read of an evicted record gets the documented not-found answer, as for one never created.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._records: OrderedDict[int, Record] = OrderedDict()
        self._index: dict[tuple[str, str, str], int] = {}
        self._next = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: Record, machines: dict[str, StateMachine | None]) -> None:
        number = self._next
        self._next += 1
        self._records[number] = record
        self.reindex(number, record)
        if len(self._records) > self.limit:
            self._evict(machines)

    def reindex(self, number: int, record: Record) -> None:
        for key, value in record.keys.items():
            if isinstance(value, str | int) and not isinstance(value, bool):
                self._index[(record.kind, key, str(value))] = number

    def number_of(self, record: Record) -> int | None:
        for key, value in record.keys.items():
            found = self._index.get((record.kind, key, str(value)))
            if found is not None:
                return found
        return None

    def find(self, kind: str, key: str, value: Any) -> Record | None:
        number = self._index.get((kind, key, str(value)))
        return self._records.get(number) if number is not None else None

    def all(self, kind: str) -> list[Record]:
        return [record for record in self._records.values() if record.kind == kind]

    def _evict(self, machines: dict[str, StateMachine | None]) -> None:
        excess = len(self._records) - self.limit
        for number in list(self._records):
            if excess <= 0:
                break
            record = self._records[number]
            if record.finished(machines.get(record.kind)):
                self._drop(number, record)
                excess -= 1
        while len(self._records) > self.limit:  # nothing finished: the oldest go anyway, the bound holds
            number, record = next(iter(self._records.items()))
            self._drop(number, record)

    def _drop(self, number: int, record: Record) -> None:
        del self._records[number]
        for key, value in record.keys.items():
            if self._index.get((record.kind, key, str(value))) == number:
                del self._index[(record.kind, key, str(value))]
        self.evicted += 1
