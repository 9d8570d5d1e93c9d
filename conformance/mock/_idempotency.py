"""Idempotency keys, as each rules table's `idempotency` section describes them.

A write repeated with the same key and the same payload gets the original answer, byte for byte;
with another payload it is refused with the table's conflict status (and code). The payload is the
operation, its path parameters and its body, compared by a digest of their canonical JSON form.
Memory is bounded like the resources': the keys of the last `limit` writes of an API are remembered,
the oldest forgotten first (repeating a forgotten key makes a new resource). An answer is kept packed
(`_packing`, its operation's answers sharing a dictionary): a card sale's in about 200 bytes, not 1.2 KB.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson

from .._specs import Rules
from ..pointers import MISSING
from ._common import Call
from ._packing import Packer


@dataclass(frozen=True)
class IdempotencyRule:
    id: str
    operations: frozenset[str]
    key: str
    """A runtime expression on the request."""
    conflict_status: int
    conflict_code: str | None


StoredAnswer = tuple[bytes, int, bytes, tuple[tuple[str, str], ...]]
"""(fingerprint, status, body, headers) of an answer kept for replay. A plain tuple of bytes and strings,
which the garbage collector stops tracking: a load test leaves tens of thousands of these behind."""


class IdempotencyStore:
    """Remembered answers of one API, by the rule that keys them and the key."""

    def __init__(self, rules: Rules, limit: int = 100_000) -> None:
        self.limit = limit
        self.rules: dict[str, IdempotencyRule] = {}
        for row in rules.idempotency:
            rule = IdempotencyRule(
                id=row.id,
                operations=frozenset(row.operations),
                key=row.key,
                conflict_status=row.conflict_status,
                conflict_code=row.conflict_code,
            )
            for operation in rule.operations:
                self.rules[operation] = rule
        self._answers: dict[tuple[str, str], tuple[bytes, int, bytes, tuple[tuple[str, str], ...], str]] = {}
        """(rule, key) -> the StoredAnswer with its body packed, and the operation whose dictionary packed it."""
        self._packer = Packer()

    def key(self, call: Call) -> tuple[IdempotencyRule, str, bytes] | None:
        """(rule, key, fingerprint) when the operation is keyed and the request carries a key."""
        rule = self.rules.get(call.operation_id)
        if rule is None:
            return None
        key = call.value(rule.key)
        if key is MISSING or key is None or isinstance(key, dict | list):
            return None
        canonical = orjson.dumps([call.operation_id, call.path, call.body], option=orjson.OPT_SORT_KEYS)
        return rule, str(key), hashlib.blake2b(canonical, digest_size=16).digest()

    def lookup(self, rule: IdempotencyRule, key: str) -> StoredAnswer | None:
        kept = self._answers.get((rule.id, key))
        if kept is None:
            return None
        fingerprint, status, packed, headers, operation_id = kept
        return fingerprint, status, self._packer.unpack_bytes(operation_id, packed), headers

    def remember(self, rule: IdempotencyRule, key: str, operation_id: str, answer: StoredAnswer) -> None:
        answers = self._answers
        if (rule.id, key) in answers:
            return
        if len(answers) >= self.limit:
            del answers[next(iter(answers))]
        fingerprint, status, body, headers = answer
        answers[(rule.id, key)] = (fingerprint, status, self._packer.pack_bytes(operation_id, body), headers,
                                   operation_id)
