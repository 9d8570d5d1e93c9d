"""The Schemathesis checks our Judge lacks, and their failures as our rule IDs.

Our Judge judges every answer once (status, media type, schema, error body, server errors, domain
rules). Schemathesis contributes only what we do not judge ourselves, each a check that probes or
knows something we do not:

- `ignored_auth`: re-sends a successful request without and with bad credentials (once per operation);
- `negative_data_rejection`: a request Schemathesis' negative mode made invalid is refused (our own
  invalid-by-rule requests are judged by {P}-REJECTS-INVALID-REQUEST);
- `missing_required_header` and `unsupported_method`: for cases of Schemathesis' coverage phase, which
  carry what they left out (a required header, a documented method).

Left out: its status-code, content-type, response-header and response-schema conformance (our Judge's
{P}-DOCUMENTED-STATUS, {P}-CONTENT-TYPE, {P}-REQUIRED-FIELDS and schema rules: one schema validation per
answer), `not_a_server_error` ({P}-NO-SERVER-ERROR), and the stateful `use_after_free` and
`ensure_resource_availability`, which need Schemathesis' stateful recorder (our flows judge reads after a
final state with the rules tables' state machines instead).

`lacking_checks(case, call, first_success)` picks the checks that can say anything about one exchange
(often none: then Schemathesis is not called at all); `judge_with_schemathesis` runs them through
`Case.validate_response` and maps each failure to a rule ID.
"""

from __future__ import annotations

from typing import Any

from ._judge import Judge
from ._model import Call, Result, violation

_RULE_BY_FAILURE = {
    "IgnoredAuth": "{P}-AUTH-ENFORCED",
    "AcceptedNegativeData": "{P}-REJECTS-INVALID-REQUEST",
    "UnsupportedMethodResponse": "{P}-REJECTS-INVALID-REQUEST",
}
"""Schemathesis failure class -> our rule template (MissingHeaderNotRejected is decided by its header)."""


def _check(name: str) -> Any:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    return CHECKS.get_one(name)


def _from_coverage_phase(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and type(meta.phase.data).__name__ == "CoveragePhaseData"


def lacking_checks(case: Any, call: Call, first_success: bool) -> list[Any]:
    """The Schemathesis checks that can judge this exchange and that our Judge does not have."""
    if call.status is None:
        return []
    names = []
    if first_success and call.intent in ("valid", "negative"):
        names.append("ignored_auth")
    if call.intent == "negative":
        names.append("negative_data_rejection")
    if _from_coverage_phase(case):
        names += ["missing_required_header", "unsupported_method"]
    return [_check(name) for name in names]


def judge_with_schemathesis(case: Any, response: Any, call: Call, judge: Judge, checks: list[Any]) -> list[Result]:
    """Run `checks` on one answer through Schemathesis' public API; its failures as our Results."""
    from schemathesis.core.failures import FailureGroup

    try:
        case.validate_response(response, checks=checks)
    except (AssertionError, FailureGroup) as exc:
        return [result for failure in failures_of(exc) for result in rule_results(failure, call, judge)]
    return []


def rule_results(failure: Any, call: Call, judge: Judge) -> list[Result]:
    """One Schemathesis failure as our Results."""
    known = judge.state(call.api).view
    kind = type(failure).__name__
    title = f"Schemathesis: {failure.title}"
    message = str(getattr(failure, "message", "") or "")[:1500]
    template = _RULE_BY_FAILURE.get(kind)
    if kind == "MissingHeaderNotRejected":
        header = str(getattr(failure, "header_name", "")).lower()
        template = "{P}-AUTH-ENFORCED" if header == "authorization" else "{P}-REJECTS-INVALID-REQUEST"
    if template is None:  # a check added to lacking_checks without a rule: say so rather than drop it
        template = "{P}-REJECTS-INVALID-REQUEST" if call.intent == "negative" else "{P}-RESPONSE-SCHEMA"
    return [violation(known.rule(template), title, "see the rule", message)]


def failures_of(exc: BaseException) -> list[Any]:
    """The individual failures of what validate_response raised."""
    from schemathesis.core.failures import FailureGroup

    if isinstance(exc, FailureGroup):
        found = []
        for inner in exc.exceptions:
            found.extend(failures_of(inner))
        return found
    return [exc]
