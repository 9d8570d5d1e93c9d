"""What a check sees (a Call or a Delivery), what it says (a Result), and how checks are registered.

Every check is a small named function registered with `@check(rule, on=...)`; its docstring says what it
verifies, as in Schemathesis' own checks. `rule` is either a generic rule-ID template ("{P}-ERROR-SHAPE",
where {P} is the rules table's prefix) or "table:SECTION" for rules whose IDs live in the rules table.
A check yields Results: a pass or a violation of one rule ID, with expected and observed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..pointers import MISSING

Kind = Literal["answer", "callback"]


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"

    def __bool__(self) -> bool:
        return False


NOT_JSON: Any = _NotJson()
"""The parsed body of a response whose text is not JSON."""


def parse_body(text: str | bytes | None) -> Any:
    """JSON text -> value; empty -> MISSING; anything else -> NOT_JSON."""
    if text is None:
        return MISSING
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return NOT_JSON
    if not text.strip():
        return MISSING
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply for any reader to take
        return NOT_JSON


@dataclass
class Call:
    """One request the suite sent and the answer it got, as the checks see it."""

    api: str
    operation_id: str
    method: str
    url: str
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = MISSING
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_text: str = ""
    response_body: Any = MISSING
    elapsed_ms: float = 0.0
    intent: str = "valid"
    """valid (a request that follows the spec), invalid (breaks one rule on purpose), auth (a bad credential)."""
    invalid_keyword: str | None = None
    """For an invalid request: the JSON Schema keyword of the rule it breaks (maps to numbered error codes)."""
    expected_statuses: tuple[int, ...] = ()
    """Statuses the request asked for on purpose (a scenario trigger): a 5xx asked for is no server error."""
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def request(self) -> dict[str, Any]:
        """The request as runtime expressions read it."""
        return {"headers": self.request_headers, "query": self.query, "path": self.path_parameters,
                "body": self.request_body}

    @property
    def content_type(self) -> str | None:
        for key, value in self.response_headers.items():
            if key.lower() == "content-type":
                return value
        return None


@dataclass
class Delivery:
    """One callback delivery the sink received (the provider's request and the sink's answer)."""

    api: str
    webhook: str
    operation_id: str
    body: Any
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/"
    received_at: float = 0.0
    answered: int = 200
    sequence: int = 0
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Result:
    """The outcome of one rule on one exchange: passed, or a violation with the evidence."""

    rule_id: str
    passed: bool
    title: str = ""
    expected: str = ""
    observed: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "passed": self.passed, "title": self.title,
                "expected": self.expected, "observed": self.observed}


def ok(rule_id: str) -> Result:
    return Result(rule_id, True)


def violation(rule_id: str, title: str, expected: Any, observed: Any) -> Result:
    return Result(rule_id, False, title, _text(expected), _text(observed))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 2000 else text[:2000] + "..."


CheckFunction = Callable[..., Iterable[Result]]


@dataclass(frozen=True)
class Check:
    """A registered check: its function, the rule it reports, and when it runs."""

    name: str
    rule: str
    on: tuple[Kind, ...]
    function: CheckFunction
    description: str


CHECKS: dict[str, Check] = {}
"""Every check by name, in registration order."""


def check(rule: str, *, on: Kind | tuple[Kind, ...] = "answer") -> Callable[[CheckFunction], CheckFunction]:
    """Register a check reporting `rule` (a "{P}-..." template or "table:SECTION") for answers and/or callbacks."""
    kinds = (on,) if isinstance(on, str) else tuple(on)

    def register(function: CheckFunction) -> CheckFunction:
        doc = (function.__doc__ or "").strip().splitlines()
        CHECKS[function.__name__] = Check(function.__name__, rule, kinds, function, doc[0] if doc else "")
        return function

    return register
