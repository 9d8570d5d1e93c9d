"""Payment-domain checks: one small named function per rule, each with a stable rule ID.

Checks are registered with `@check(rule, on=...)` (see `_model.py`) and run by a `Judge` over the
answers the suites receive and the callbacks the sink receives. Everything API-specific comes from the
specs and their rules tables. `conformance.checks._schemathesis` adds only the Schemathesis
checks we lack (ignored auth, negative data, coverage-phase probes) and maps their failures to rule IDs.
"""

from ..pointers import MISSING, evaluate, evaluate_one, resolve, resolve_all
from ..pointers import set_value as set_pointer
from ._judge import Judge, catalogue
from ._knowledge import SchemaFinding, SpecView, view
from ._model import CHECKS, NOT_JSON, Call, Check, Delivery, Result, check, ok, parse_body, violation
from ._run import callback_retry, matches, read_your_writes, scenario_outcome, status_coverage
from ._severity import MUST, Severity, severity_of

__all__ = [
    "CHECKS",
    "MISSING",
    "MUST",
    "NOT_JSON",
    "Call",
    "Check",
    "Delivery",
    "Judge",
    "Result",
    "SchemaFinding",
    "Severity",
    "SpecView",
    "callback_retry",
    "catalogue",
    "check",
    "evaluate",
    "evaluate_one",
    "matches",
    "ok",
    "parse_body",
    "read_your_writes",
    "resolve",
    "resolve_all",
    "scenario_outcome",
    "set_pointer",
    "severity_of",
    "status_coverage",
    "view",
    "violation",
]
