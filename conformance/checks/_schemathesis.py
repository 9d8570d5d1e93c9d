"""Our checks inside Schemathesis, through its official custom-check mechanism, and its failures in our IDs.

`register()` registers one Schemathesis check per answer check of ours (same name, same docstring),
so `case.validate_response(...)` runs Schemathesis' own checks and ours side by side. While a response
is validated, `binding(case, call, judge)` tells our adapters which Call and Judge the case belongs
to; passes and violations are collected on the binding, and a violation is also raised to Schemathesis
as a `RuleFailure`. Schemathesis' own failures are mapped to our rule IDs by `rule_results`
(status code -> DOCUMENTED-STATUS, content type -> CONTENT-TYPE, schema -> by failing keyword, ...).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ._judge import Judge
from ._model import CHECKS, Call, Result, violation

try:  # Schemathesis is a dependency; keep the import local to this module.
    import schemathesis
    from schemathesis.core.failures import Failure, FailureGroup
except ImportError:  # pragma: no cover
    schemathesis = None  # type: ignore[assignment]


@dataclass
class Binding:
    """The Call a Schemathesis case stands for, the Judge judging it, and what our checks found."""

    call: Call
    judge: Judge
    results: list[Result] = field(default_factory=list)


_BINDINGS: dict[str, Binding] = {}
_LOCK = threading.Lock()
_REGISTERED = False


class RuleFailure(Failure):
    """A payment-domain rule broken, as Schemathesis reports failures."""

    code = "ST901"
    kind_title = "Payment-domain rule broken"

    __slots__ = ("rule_id", "expected", "observed")

    def __init__(self, result: Result, operation: str) -> None:
        super().__init__(operation=operation, title=f"{result.rule_id}: {result.title}",
                         message=f"Expected: {result.expected}\nObserved: {result.observed}")
        self.rule_id = result.rule_id
        self.expected = result.expected
        self.observed = result.observed

    @property
    def _unique_key(self) -> str:
        return self.rule_id + "\n" + self.observed


@contextlib.contextmanager
def binding(case: Any, call: Call, judge: Judge) -> Iterator[Binding]:
    """While validating `case`'s response, our adapters judge `call` with `judge`."""
    bound = Binding(call, judge)
    with _LOCK:
        _BINDINGS[case.id] = bound
    try:
        yield bound
    finally:
        with _LOCK:
            _BINDINGS.pop(case.id, None)


def _adapter(name: str):
    registered = CHECKS[name]

    def adapter(ctx: Any, response: Any, case: Any) -> bool | None:
        bound = _BINDINGS.get(case.id)
        if bound is None:  # not a case our suites sent
            return None
        results = list(registered.function(bound.call, bound.judge.state(bound.call.api)))
        bound.results.extend(results)
        failures = [RuleFailure(result, case.operation.label) for result in results if not result.passed]
        if len(failures) == 1:
            raise failures[0]
        if failures:
            raise FailureGroup(failures, f"{len(failures)} payment-domain rules broken")
        return None

    adapter.__name__ = name
    adapter.__qualname__ = name
    adapter.__doc__ = registered.function.__doc__
    return adapter


def register() -> list[str]:
    """Register every answer check of ours with Schemathesis (once); returns their names."""
    global _REGISTERED
    names = [name for name, registered in CHECKS.items() if "answer" in registered.on]
    if not _REGISTERED:
        for name in names:
            schemathesis.check(_adapter(name))
        _REGISTERED = True
    return names


_RULE_BY_FAILURE = {
    "UndefinedStatusCode": "{P}-DOCUMENTED-STATUS",
    "UndefinedContentType": "{P}-CONTENT-TYPE",
    "MissingContentType": "{P}-CONTENT-TYPE",
    "MalformedMediaType": "{P}-CONTENT-TYPE",
    "ServerError": "{P}-NO-SERVER-ERROR",
    "ContentTypeServerError": "{P}-NO-SERVER-ERROR",
    "AcceptedNegativeData": "{P}-REJECTS-INVALID-REQUEST",
    "IgnoredAuth": "{P}-AUTH-ENFORCED",
}


def rule_results(failure: Any, call: Call, judge: Judge) -> list[Result]:
    """One Schemathesis failure as our Results (empty for our own RuleFailures: already collected)."""
    if isinstance(failure, RuleFailure):
        return []
    known = judge.state(call.api).view
    kind = type(failure).__name__
    title = f"Schemathesis: {failure.title}"
    message = str(getattr(failure, "message", "") or "")[:1500]
    error = call.status is not None and call.status >= 400
    if kind == "UndefinedStatusCode":
        from ._answers import _refused_credentials

        if _refused_credentials(call, judge.state(call.api)):
            return []  # the document's defect, reported as a finding about it
    if kind in _RULE_BY_FAILURE:
        return [violation(known.rule(_RULE_BY_FAILURE[kind]), title, "see the rule", message)]
    if kind in ("JsonSchemaError", "MissingHeaders", "MalformedJson"):
        if error:
            return [violation(known.rule("{P}-ERROR-SHAPE"), title, "the documented error body", message)]
        if kind == "JsonSchemaError":
            from ._answers import schema_findings

            ours = schema_findings(call, judge.state(call.api)) or []
            rules = sorted({finding.rule_id for finding in ours}) or [known.rule("{P}-RESPONSE-SCHEMA")]
            return [violation(rule, title, "a body matching the documented schema", message) for rule in rules]
        rule = "{P}-REQUIRED-FIELDS" if kind == "MissingHeaders" else "{P}-RESPONSE-SCHEMA"
        return [violation(known.rule(rule), title, "the documented answer", message)]
    return [violation(known.rule("{P}-RESPONSE-SCHEMA"), title, "no Schemathesis failure", message)]


def failures_of(exc: BaseException) -> list[Any]:
    """The individual failures of what validate_response raised."""
    if isinstance(exc, FailureGroup):
        found = []
        for inner in exc.exceptions:
            found.extend(failures_of(inner))
        return found
    return [exc]
