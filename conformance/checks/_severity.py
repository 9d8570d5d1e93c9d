"""How much a rule weighs: `must` (a failure fails the run) or `should` (a warning: shown, counted, exit 0).

Certification suites tell failures from warnings (the OpenID Foundation's does): a receiver that accepts
a well-formed but unassigned currency code is not wrong the way one that loses a payment is. A rule's
level comes from its rules-table entry (`severity`, `severity_reason`), else from the table's
`severities` section (for generic and receiver rules), else from the rule's own definition (a check or
a receiver rule), else `must`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["must", "should"]


@dataclass(frozen=True)
class Severity:
    level: Level = "must"
    reason: str = ""

    @property
    def blocking(self) -> bool:
        """Whether a failure of the rule fails the run."""
        return self.level == "must"


MUST = Severity()


def table_severity(rules: dict[str, Any], rule_id: str) -> Severity | None:
    """The level a rules table gives a rule (on its entry, or in `severities`), None when it says nothing."""
    for entries in rules.values():
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict):
                continue
            for described in (entry, entry.get("first_callback") or {}):
                if described.get("id") == rule_id and "severity" in described:
                    return Severity(described["severity"], described.get("severity_reason", ""))
    given = (rules.get("severities") or {}).get(rule_id)
    return Severity(given["severity"], given["severity_reason"]) if given else None


def severity_of(spec: Any, rule_id: str, default: Severity = MUST) -> Severity:
    """A rule's level for a spec: the rules table's word, else `default` (the rule's own)."""
    return table_severity(spec.rules, rule_id) or default
