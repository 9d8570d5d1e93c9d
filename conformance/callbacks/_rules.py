"""The receiver rules: stable IDs, one per behaviour a callback receiver must show.

Each API's rules carry its rules-table prefix: `GP-RECEIVER-DUPLICATE`, `PBB-RECEIVER-DUPLICATE`.
The catalogue is specs/README.md ("Receiver rules"); the checks that judge them are in _checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceiverRule:
    suffix: str
    description: str
    severity: str = "must"
    """must (a failure fails the run) or should (a warning); a rules table's `severities` may say otherwise."""
    severity_reason: str = ""

    def id(self, prefix: str) -> str:
        return f"{prefix}-{self.suffix}"


ACK_VALID = ReceiverRule(
    "RECEIVER-ACK-VALID",
    "Every valid callback, for every status of every callback type, is acknowledged with 2xx.",
)
DEADLINE = ReceiverRule(
    "RECEIVER-DEADLINE",
    "Every delivery is answered within the deadline (default 5 s); a receiver that stops answering ends the run.",
)
DUPLICATE = ReceiverRule(
    "RECEIVER-DUPLICATE",
    "A callback delivered again (a provider retry) is acknowledged again with 2xx, not an error.",
)
OUT_OF_ORDER = ReceiverRule(
    "RECEIVER-OUT-OF-ORDER",
    "A later status arriving before an earlier one of the same resource is acknowledged with 2xx, and so is the "
    "earlier one when it arrives.",
)
UNKNOWN_FIELDS = ReceiverRule(
    "RECEIVER-UNKNOWN-FIELDS",
    "A valid callback with fields the spec does not define is acknowledged with 2xx (forward compatibility).",
)
REJECTS_MALFORMED = ReceiverRule(
    "RECEIVER-REJECTS-MALFORMED",
    "Invalid JSON, a wrong content type and a body breaking one documented rule are answered 4xx: never 2xx, "
    "never 5xx, never a dropped connection.",
)
REJECTS_UNASSIGNED_CODE = ReceiverRule(
    "RECEIVER-REJECTS-UNASSIGNED-CODE",
    "A callback whose only fault is a well-formed code outside its list (a currency not in ISO 4217, a country not "
    "in ISO 3166) is answered 4xx.",
    severity="should",
    severity_reason="the value has the code's shape, so accepting it loses no callback; refusing it is what a careful "
    "receiver does, but the provider never sends one",
)
MTLS = ReceiverRule(
    "RECEIVER-MTLS",
    "With mutual TLS required, a sender without a client certificate is refused (TLS or 4xx) and one with the "
    "certificate is accepted.",
)

RULES: tuple[ReceiverRule, ...] = (
    ACK_VALID,
    DEADLINE,
    DUPLICATE,
    OUT_OF_ORDER,
    UNKNOWN_FIELDS,
    REJECTS_MALFORMED,
    REJECTS_UNASSIGNED_CODE,
    MTLS,
)
"""In catalogue order."""
