"""The fault catalogue: named ways to make the mock break exactly one documented rule.

Certification must prove that each check catches what it is meant to catch. Each fault here
breaks one rule, whose ID (`rule`) is the one a checker reports for that misbehaviour, and does it
deterministically: from the first request (or callback) the fault concerns, never at random.
Faults marked `once` misbehave on that first occasion only, so that the rest of a run (status
coverage, scenarios) is left as a conforming provider would leave it.

`kind` is the hook the server code asks about (`faults.fire(kind, api)`); `name` is what users type.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import UsageError


@dataclass(frozen=True)
class Fault:
    """One deliberate misbehaviour of the mock."""

    name: str
    description: str
    """One line: what the server does wrong."""
    rule: str
    """The rule ID a checker reports for it (specs/README.md catalogue, a rules table, or an x-rule-id)."""
    api: str
    """The rules table's `api` the fault concerns (oauth, online-payments, global-payments, pay-by-bank)."""
    kind: str = ""
    """The hook in the server code that switches the misbehaviour on."""
    once: bool = False
    """Misbehave on the first occasion only."""


_OP, _GP, _PBB = "online-payments", "global-payments", "pay-by-bank"

_CATALOGUE = (
    Fault("oauth-no-www-authenticate", "Token requests with bad client credentials get 401 without the "
          "WWW-Authenticate header RFC 6749 requires.", "OAUTH-ERROR-SHAPE", "oauth", "no-www-authenticate"),
    # Online Payments
    Fault("op-status-outside-enum", "The first payment created answers paymentRequest.paymentRequestStatus "
          "COMPLETED, a value outside its enum.", "OP-STATUS-ENUM", _OP, "status-outside-enum", once=True),
    Fault("op-missing-required-field", "Payment and refund answers lack the required responseMessage.",
          "OP-REQUIRED-FIELDS", _OP, "missing-required-field"),
    Fault("op-card-number-in-response", "Answers to payment creation carry the full card number sent "
          "(paymentMethodType.card.accountNumber).", "OP-NO-CARD-DATA", _OP, "card-number-in-response"),
    Fault("op-over-refund-accepted", "Refunds above what is left to refund on a payment are accepted (200, SUCCESS).",
          "OP-REFUNDS-NOT-ABOVE-CAPTURED", _OP, "over-limit-accepted"),
    Fault("op-request-id-ignored", "A reused request-id is not honoured: a repeat makes a new transaction and "
          "another payload is accepted.", "OP-IDEMPOTENT-REQUEST-ID", _OP, "idempotency-ignored"),
    Fault("op-auth-not-enforced", "Online Payments serves requests whose bearer token is missing, malformed, "
          "expired or lacks the scope.", "OP-AUTH-ENFORCED", _OP, "auth-not-enforced"),
    Fault("op-server-error", "The first valid payment request is answered 500.", "OP-NO-SERVER-ERROR", _OP,
          "server-error", once=True),
    Fault("op-wrong-content-type", "Online Payments answers every GET with a JSON body labelled text/plain.",
          "OP-CONTENT-TYPE", _OP, "wrong-content-type"),
    Fault("op-non-iso-date", "transactionDate in payment answers is not ISO 8601 (\"09/18/2023 18:04:26\").",
          "OP-FIELD-FORMAT", _OP, "non-iso-date"),
    Fault("op-malformed-error-body", "Online Payments answers validation errors (400) with {\"error\": ...} "
          "instead of its messages body.", "OP-ERROR-SHAPE", _OP, "malformed-error-body"),
    Fault("op-invalid-request-accepted", "A payment request that breaks the spec is answered 200 as if it were "
          "valid.", "OP-REJECTS-INVALID-REQUEST", _OP, "invalid-request-accepted"),
    # Global Payments
    Fault("gp-rejected-without-exceptions", "REJECTED payments carry no exceptions, in callbacks and status reads.",
          "GP-CALLBACK-EXCEPTIONS-CONDITIONAL", _GP, "conditional-field-wrong"),
    Fault("gp-illegal-transition", "The first payment on the normal path goes PENDING -> COMPLETED, skipping "
          "PENDING_POSTING.", "GP-PAYMENT-STATUS-TRANSITIONS", _GP, "illegal-transition", once=True),
    Fault("gp-callback-unknown-status", "The first payment gets an extra callback, after PENDING, with "
          "paymentStatus PROCESSING (not in the enum).", "GP-STATUS-ENUM", _GP, "callback-unknown-status",
          once=True),
    Fault("gp-callback-not-retried", "Global Payments callbacks are attempted once: a failed delivery is given "
          "up at once.", "GP-CALLBACK-RETRY", _GP, "callback-not-retried"),
    Fault("gp-duplicate-accepted", "A reused endToEndId is not checked: a repeat, or another payload, gets a new "
          "payment.", "GP-DUPLICATE-END-TO-END-ID", _GP, "idempotency-ignored"),
    Fault("gp-malformed-error-body", "Global Payments answers validation errors (400) with {\"message\": ...} "
          "instead of exceptions.", "GP-ERROR-SHAPE", _GP, "malformed-error-body"),
    Fault("gp-auth-not-enforced", "Global Payments serves requests whose bearer token is missing, malformed, "
          "expired or lacks the scope.", "GP-AUTH-ENFORCED", _GP, "auth-not-enforced"),
    Fault("gp-non-iso-date", "createDateTime in callbacks and status reads is not ISO 8601 "
          "(\"27/07/2023 07:41:54\").", "GP-FIELD-FORMAT", _GP, "non-iso-date"),
    # Pay By Bank
    Fault("pbb-callback-unknown-status", "The first payment gets an extra payments callback, after NONE, with "
          "status PROCESSING (not in the enum).", "PBB-STATUS-ENUM", _PBB, "callback-unknown-status", once=True),
    Fault("pbb-status-message-when-settled", "SETTLED payments carry a statusMessage (in callbacks and reads), "
          "which only FAILED may carry.", "PBB-PAYMENT-STATUS-MESSAGE-CONDITIONAL", _PBB, "conditional-field-wrong"),
    Fault("pbb-missing-required-field", "Created payments are answered without the required paymentQRCode.",
          "PBB-REQUIRED-FIELDS", _PBB, "missing-required-field"),
    Fault("pbb-invalid-request-accepted", "A payment request that breaks the spec is answered 201 as if it were "
          "valid.", "PBB-REJECTS-INVALID-REQUEST", _PBB, "invalid-request-accepted"),
    Fault("pbb-idempotency-ignored", "A reused Idempotency-Key is not honoured: a repeat makes a new resource and "
          "another payload is accepted.", "PBB-IDEMPOTENCY-KEY", _PBB, "idempotency-ignored"),
    Fault("pbb-over-payout-accepted", "Payouts adding up to more than their source payment are accepted (201).",
          "PBB-PAYOUT-NOT-ABOVE-PAYMENT", _PBB, "over-limit-accepted"),
    Fault("pbb-callback-not-retried", "Pay By Bank callbacks are attempted once: a failed delivery is given up at "
          "once.", "PBB-CALLBACK-RETRY", _PBB, "callback-not-retried"),
    Fault("pbb-wrong-error-code", "Validation errors carry code 10199 (other) whatever rule the request broke.",
          "PBB-ERROR-SHAPE", _PBB, "wrong-error-code"),
    Fault("pbb-wrong-content-type", "Pay By Bank answers every GET with a JSON body labelled text/plain.",
          "PBB-CONTENT-TYPE", _PBB, "wrong-content-type"),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _CATALOGUE}
"""Every fault by name, in catalogue order."""


class FaultSwitch:
    """The faults switched on for one server, and which `once` faults have already fired.

    Used from the server's event loop only, so no locking is needed.
    """

    def __init__(self, names: tuple[str, ...] | list[str] = ()) -> None:
        unknown = [name for name in names if name not in FAULTS]
        if unknown:
            raise UsageError(
                f"unknown fault {unknown[0]!r} (`conformance faults` lists the {len(FAULTS)} faults)"
            )
        self.names = tuple(dict.fromkeys(names))
        self._armed = {(FAULTS[name].kind, FAULTS[name].api): FAULTS[name] for name in self.names}
        self._spent: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._armed)

    def active(self, kind: str, api: str) -> bool:
        """Whether the fault is on (a `once` fault that has fired counts as off)."""
        fault = self._armed.get((kind, api))
        return fault is not None and fault.name not in self._spent

    def fire(self, kind: str, api: str) -> bool:
        """True when the misbehaviour should happen now; a `once` fault is used up by saying so."""
        if not self._armed:
            return False
        fault = self._armed.get((kind, api))
        if fault is None or fault.name in self._spent:
            return False
        if fault.once:
            self._spent.add(fault.name)
        return True
