"""How much a rule weighs for a spec: its rules table's word, else the rule's own level (`must` by default).

Certification suites tell failures from warnings (the OpenID Foundation's does): a receiver that accepts
a well-formed but unassigned currency code is not wrong the way one that loses a payment is. The table
gives a level on a rule's entry (`severity`, `severity_reason`) or in its `severities` section (for
generic and receiver rules); a receiver rule carries its own default (`callbacks/_rules.py`); every
generic `{P}-` check is `must`.
"""

from __future__ import annotations

from typing import Any

from .._specs._rules import MUST, Severity

__all__ = ["MUST", "Severity", "severity_of"]


def severity_of(spec: Any, rule_id: str, default: Severity = MUST) -> Severity:
    """A rule's level for a spec: the rules table's word, else `default` (the rule's own)."""
    return spec.rules.severity(rule_id) or default
