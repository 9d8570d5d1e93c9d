"""What the mock keeps of each resource it created, in a bounded store.

A record holds the creating request (as runtime expressions read it), the resource's keys (its
identity and the other values requests name it by), its status in its state machine, and what its
last status carries. Past `limit` records the oldest finished ones are evicted; a read of an evicted
one gets the documented not-found answer, as for one never created.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .._specs._rules import StateMachine
from ._packing import Packer

_NO_FIELDS: Mapping[str, Any] = MappingProxyType({})


class Record:
    """One resource the mock created.

    Its request and answers are kept packed (`_packing`): reading one unpacks a fresh copy, and a new one
    is set by assignment. That is most of what lets a held card sale cost under 2 KB rather than 16.
    """

    __slots__ = ("kind", "keys", "operation", "created", "updated", "last_status", "_status", "_packer", "_request",
                 "_answered", "_view", "_last", "_fields")

    def __init__(self, kind: str, keys: dict[str, Any], request: dict[str, Any], operation: str = "",
                 packer: Packer | None = None) -> None:
        self.kind = kind
        self.keys = keys
        self.operation = operation
        """The operation that created it."""
        self.created = self.updated = time.time()
        self.last_status: str | None = None
        self._status: str | None = None
        self._packer = packer or Packer()
        self._request = self._packer.pack("request", request)
        self._answered = self._view = self._last = None
        self._fields: dict[str, Any] | None = None

    @property
    def request(self) -> dict[str, Any]:
        """The creating request as runtime expressions read it: headers, path, query, body."""
        return self._packer.unpack("request", self._request)

    @property
    def answered(self) -> dict[str, Any]:
        """The scenario subset its create was answered with (its status field left out), for reads of the same shape."""
        return self._packer.unpack("answered", self._answered) if self._answered is not None else {}

    @answered.setter
    def answered(self, value: dict[str, Any]) -> None:
        self._answered = self._packer.pack("answered", value) if value else None

    @property
    def view(self) -> Any:
        """The resource's last full answer, for kinds whose module keeps one (Online Payments' payment)."""
        return self._packer.unpack("view", self._view)

    @view.setter
    def view(self, value: Any) -> None:
        self._view = self._packer.pack("view", value)

    @property
    def last(self) -> dict[str, Any]:
        """Fields its last status carries (a scenario's `expect.callbacks.last`), in the record's own shape."""
        return self._packer.unpack("last", self._last) if self._last is not None else {}

    @last.setter
    def last(self, value: dict[str, Any]) -> None:
        self._last = self._packer.pack("last", value) if value else None

    @property
    def status(self) -> str | None:
        return self._status

    @status.setter
    def status(self, value: str | None) -> None:
        self._status = sys.intern(value) if type(value) is str else value  # one string per status, not per record

    @property
    def fields(self) -> Mapping[str, Any]:
        """Pointer (in the resource's own answer) -> value, applied to every view; read-only, see `set_field`."""
        return self._fields if self._fields is not None else _NO_FIELDS

    def set_field(self, key: str, value: Any) -> None:
        if self._fields is None:
            self._fields = {}
        self._fields[key] = value

    def finished(self, machine: StateMachine | None) -> bool:
        return machine is None or self.status is None or self.status in machine.final


class RecordStore:
    """Records by kind and key, bounded: past `limit` records the oldest finished ones go first.

    A read of an evicted record gets the documented not-found answer, as for one never created.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._records: OrderedDict[int, Record] = OrderedDict()
        self._index: dict[tuple[str, str], dict[str, int]] = {}
        """(kind, key) -> value -> record number: a tuple per key and kind, not per record."""
        self._next = 0
        self._packers: dict[str, Packer] = {}
        self.evicted = 0

    def packer(self, kind: str) -> Packer:
        """What packs the records of a kind (their requests and answers are alike, so they share dictionaries)."""
        found = self._packers.get(kind)
        if found is None:
            found = self._packers[kind] = Packer()
        return found

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
                index = self._index.get((record.kind, key))
                if index is None:
                    index = self._index[(record.kind, key)] = {}
                index[str(value)] = number

    def find(self, kind: str, key: str, value: Any) -> Record | None:
        index = self._index.get((kind, key))
        number = index.get(str(value)) if index is not None else None
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
            index = self._index.get((record.kind, key))
            if index is not None and index.get(str(value)) == number:
                del index[str(value)]
        self.evicted += 1
