"""Callback bodies to send, drawn from the callback strategies with a seed, and shaped for each check.

Bodies come from `strategies.callbacks` (valid, for a status) and `strategies.invalid` (breaking one
rule). This module only arranges them: it gives every resource of a run its own identity (so two
checks never talk about the same payment by accident), walks a resource through its statuses, and
makes the variants a check needs (unknown extra fields, invalid JSON, a wrong content type).
"""

from __future__ import annotations

import copy
import functools
import json
import warnings
import zlib
from collections.abc import Iterator
from typing import Any

from hypothesis.errors import HypothesisWarning
from hypothesis.strategies import SearchStrategy

import strategies

from .. import pointers
from .._errors import SpecError
from .._specs import Spec
from ..formats import CODE_LIST_FORMATS
from ._webhooks import Webhook

Identity = dict[str, Any]
"""Values of a webhook's resource keys (pointer inside a record -> value)."""

UNKNOWN_FIELDS: tuple[tuple[str, Any], ...] = (
    ("futureField", "added by a later version of the API"),
    ("futureObject", {"nested": True, "level": 2}),
    ("futureList", [1, "two", {"three": 3.0}]),
    ("futureNumber", 12.5),
    ("futureFlag", False),
    ("futureNull", None),
)
"""Fields no version of the spec defines, in several JSON types, added to bodies for forward compatibility."""

INVALID_JSON: tuple[tuple[str, Any], ...] = (
    ("truncated JSON", lambda text: text[: max(1, len(text) // 2)]),
    ("JSON missing its closing bracket", lambda text: text[:-1]),
    ("plain text, not JSON", lambda text: "callback received: " + text[:40]),
    ("an empty body", lambda text: ""),
    ("JSON with trailing garbage", lambda text: text + "}}"),
)
"""Ways a body can be invalid JSON, each made from a valid body's text."""

WRONG_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data")
"""Content types a JSON callback body must not be accepted under."""


@functools.lru_cache(maxsize=512)
def _sample(strategy: SearchStrategy[Any], spec: str, webhook: str, purpose: str, count: int, seed: int) -> list[Any]:
    """strategies.sample, remembered: the same draw (same spec, purpose and seed) is the same examples anyway,
    so repeated runs in one process (the tests, a user's loop) pay Hypothesis' generation once.
    Hypothesis' warning about the size of a strategy's repr is about its own reporting, not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HypothesisWarning)
        return strategies.sample(strategy, n=count, seed=seed)


def encode(body: Any) -> bytes:
    """A body as the provider would put it on the wire: compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Payloads:
    """The bodies for one webhook during one run: valid per status, fresh identities, invalid by rule."""

    def __init__(self, spec: Spec, webhook: Webhook, seed: int, variety: int = 2):
        self.spec = spec
        self.webhook = webhook
        self.seed = seed
        self.variety = variety
        """Distinct bodies drawn per status; resources take turns with them, each under its own identity."""
        self._used: set[str] = set()
        self._templates: dict[str | None, list[dict[str, Any]]] = {}
        self._turns: dict[str | None, int] = {}
        self._rounds: dict[str, int] = {}
        self._identities: list[Identity] = []

    # -- deterministic draws -------------------------------------------------------------------

    def _seed_for(self, purpose: str) -> int:
        round_ = self._rounds[purpose] = self._rounds.get(purpose, -1) + 1
        return zlib.crc32(f"{self.seed}:{self.webhook.api}:{self.webhook.name}:{purpose}:{round_}".encode())

    def _valid_strategy(self, status: str | None) -> SearchStrategy[dict[str, Any]]:
        return strategies.callbacks(self.spec, self.webhook.name, status=status)

    def _draw(self, strategy: SearchStrategy[Any], count: int, purpose: str) -> list[Any]:
        seed = self._seed_for(purpose)
        return copy.deepcopy(_sample(strategy, self.spec.sha256, self.webhook.name, purpose, count, seed))

    def valid(self, status: str | None = None) -> dict[str, Any]:
        """A valid body carrying `status` (any status when None): the drawn ones in turn."""
        pool = self._templates.get(status)
        if pool is None:
            pool = self._templates[status] = self._draw(self._valid_strategy(status), self.variety, f"valid:{status}")
            if not pool:
                raise SpecError(
                    f"{self.spec.path}: no valid {self.webhook.name} callback can be generated for {status}"
                )
        turn = self._turns[status] = self._turns.get(status, -1) + 1
        return copy.deepcopy(pool[turn % len(pool)])

    def invalid(self, per_rule: int) -> list[tuple[dict[str, Any], Any]]:
        """Bodies breaking one documented rule each, with the rule (`strategies.Rule`; its str is its name):
        `per_rule` per rule the strategies know for this webhook."""
        target = next(
            (t for t in strategies.targets(self.spec) if t.kind == "callback" and t.name == self.webhook.name), None
        )
        found: list[tuple[dict[str, Any], Any]] = []
        for rule in target.rules if target else ():
            strategy = strategies.invalid(self.spec, self.webhook.name, rule)
            found.extend(self._draw(strategy, per_rule, f"invalid:{rule}"))
        return found

    def unassigned_code(self, broken: Any) -> bool:
        """Whether an invalid example breaks only a code-list format (a well-formed code outside its list)."""
        if tuple(broken.keywords) != ("format",):
            return False  # a pattern broken too: the value does not even have the code's shape
        return self.spec.resolve(broken.schema_pointer) in CODE_LIST_FORMATS

    # -- identities ----------------------------------------------------------------------------

    def records(self, body: Any) -> list[dict[str, Any]]:
        """The records of a body (the body itself for single-resource callbacks)."""
        return [r for r in pointers.resolve_all(body, self.webhook.records) if isinstance(r, dict)]

    def identity_of(self, record: dict[str, Any]) -> Identity:
        return {key: _none_if_missing(pointers.resolve(record, key)) for key in self.webhook.keys}

    def fresh_identities(self, count: int) -> list[Identity]:
        """`count` resource identities not used before in this run, each key distinct from every other."""
        found: list[Identity] = []
        refills = 0
        while len(found) < count:
            if not self._identities:
                if refills == 8:
                    raise SpecError(
                        f"{self.spec.path}: cannot draw {count} distinct resource identities "
                        f"for the {self.webhook.name} callback"
                    )
                refills += 1
                for body in self._draw(self._valid_strategy(None), 16, "identity"):
                    self._identities.extend(self.identity_of(record) for record in self.records(body))
            identity = self._identities.pop(0)
            if any(value is None for value in identity.values()):
                continue
            marks = self._marks(identity)
            if any(mark in self._used for mark in marks):
                continue
            self._used.update(marks)
            found.append(identity)
        return found

    def _marks(self, identity: Identity) -> list[str]:
        """What must not repeat in a run: the state machine's identity, and the keys taken together."""
        marks = [json.dumps(sorted(identity.items()), default=str)]
        if self.webhook.identity in identity:
            marks.append(json.dumps(["identity", identity[self.webhook.identity]], default=str))
        return marks

    def stamp(self, body: dict[str, Any], identities: list[Identity]) -> dict[str, Any]:
        """A copy of `body` about the given resources: one record per identity, each carrying its keys."""
        body = copy.deepcopy(body)
        records = self.records(body)
        if self.webhook.records.endswith("/*") and records and len(records) != len(identities):
            holder = pointers.resolve(body, self.webhook.records[:-2])
            holder[:] = [copy.deepcopy(records[i % len(records)]) for i in range(len(identities))]
            records = self.records(body)
        for record, identity in zip(records, identities, strict=False):
            for key, value in identity.items():
                pointers.set_value(record, key, value)
        return body

    def resources(self, status: str | None) -> tuple[dict[str, Any], list[Identity]]:
        """A valid body for `status` about resources never seen before in this run, and their identities."""
        body = self.valid(status)
        identities = self.fresh_identities(max(1, len(self.records(body))))
        return self.stamp(body, identities), identities

    # -- variants ------------------------------------------------------------------------------

    def with_unknown_fields(self, body: dict[str, Any], index: int) -> dict[str, Any] | None:
        """`body` with fields no spec defines, at the top and in every record, where the schema allows them.

        Returns None when the schema forbids extra fields everywhere (additionalProperties: false).
        """
        validator = self.spec.validator(self.webhook.schema_pointer, "response")
        name, value = UNKNOWN_FIELDS[index % len(UNKNOWN_FIELDS)]
        nested_name, nested_value = UNKNOWN_FIELDS[(index + 1) % len(UNKNOWN_FIELDS)]
        for at_root, in_records in ((True, True), (False, True), (True, False)):
            candidate = copy.deepcopy(body)
            if in_records:
                for record in self.records(candidate):
                    record[nested_name] = copy.deepcopy(nested_value)
            if at_root:
                candidate[name] = copy.deepcopy(value)
            if candidate != body and validator.is_valid(candidate):
                return candidate
        return None


def invalid_json(body: dict[str, Any], count: int) -> Iterator[tuple[str, bytes]]:
    """`count` kinds of invalid JSON made from a valid body: (what it is, the bytes)."""
    text = encode(body).decode("utf-8")
    for what, make in INVALID_JSON[:count]:
        yield what, make(text).encode("utf-8")


def _none_if_missing(value: Any) -> Any:
    """Identities hold None for a key a record lacks (JSON null and absence are alike here)."""
    return None if value is pointers.MISSING else value
