"""The fault catalogue: named ways to make the mock break exactly one documented rule, as data.

Certification must prove that each check catches what it is meant to catch. Each fault breaks one
rule (`rule`: the ID a checker reports) and is a declarative mutation applied in one place of the
mock: a switch the pipeline consults (`Switch`), a change to answers (`Mutate`: remove, replace or
echo a value, replace the body, relabel the content type, drop a header), a change to a lifecycle
(`SkipStatus`, `ExtraCallback`) or an error where a valid answer was due (`ServerError`).
Deterministic: from the first occasion the fault concerns, never at random; `once` faults misbehave
on that first occasion only, so the rest of a run (coverage, scenarios) stays as a conforming
provider would leave it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import pointers
from .._errors import UsageError

# -- what a fault does -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Remove:
    pointer: str


@dataclass(frozen=True)
class Replace:
    """Set `pointer` (every place a `*` reaches) to `value`; `only_present` leaves absent places alone."""

    pointer: str
    value: Any
    only_present: bool = True


@dataclass(frozen=True)
class EchoRequest:
    """Put a value of the request into the answer (a card number where only a masked one may be)."""

    pointer: str
    expression: str


@dataclass(frozen=True)
class ReplaceBody:
    body: Any


Change = Remove | Replace | EchoRequest | ReplaceBody


@dataclass(frozen=True)
class Switch:
    """Turn off one duty of the pipeline: auth, idempotency, validation (accept invalid), limits, retries."""

    duty: str


@dataclass(frozen=True)
class ServerError:
    """Answer 500 to a valid request of this operation."""

    operation: str


@dataclass(frozen=True)
class Mutate:
    """Change answers (or callbacks) of the given operations/webhooks and statuses, at each record."""

    change: Change
    operations: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()
    """HTTP statuses concerned (empty: every 2xx)."""
    methods: tuple[str, ...] = ()
    """HTTP methods concerned (empty: any), for faults about every GET."""
    when: tuple[tuple[str, Any], ...] = ()
    """(pointer inside a record, value): only records showing these."""
    validation_only: bool = False
    """Only answers to requests that broke the spec."""
    content_type: str | None = None
    drop_header: str | None = None


@dataclass(frozen=True)
class SkipStatus:
    """A lifecycle that leaves out a status (an illegal jump)."""

    status: str


@dataclass(frozen=True)
class ExtraCallback:
    """After the first callback of a lifecycle, one more with a changed record."""

    webhook: str
    change: Replace


Effect = Switch | ServerError | Mutate | SkipStatus | ExtraCallback


@dataclass(frozen=True)
class Fault:
    """One deliberate misbehaviour of the mock."""

    name: str
    description: str
    """One line: what the server does wrong."""
    rule: str
    """The rule ID a checker reports for it (specs/README.md catalogue, a rules table, or an x-rule-id)."""
    api: str
    """The API (spec name) the fault concerns."""
    effect: Effect
    once: bool = False
    """Misbehave on the first occasion only."""

    @property
    def kind(self) -> str:
        return type(self.effect).__name__


_OP, _GP, _PBB = "online-payments", "global-payments", "pay-by-bank"
_OP_PAYMENT_ANSWERS = ("V2PaymentPost", "V2PaymentByIdGet", "V2PaymentGet", "V2PaymentPatch", "V2CapturePost",
                       "V2CaptureByIdGet", "V2CaptureGet")
_OP_REFUND_ANSWERS = ("V2RefundPost", "V2RefundByIdGet", "V2RefundGet")
_OP_READS_BY_REQUEST = ("V2PaymentGet", "V2CaptureGet", "V2RefundGet", "V2VerificationGet", "V2FraudCheckget")
_GP_CALLBACK = "paymentInitiationStatus"

_CATALOGUE = (
    Fault("oauth-no-www-authenticate", "Token requests with bad client credentials get 401 without the "
          "WWW-Authenticate header RFC 6749 requires.", "OAUTH-ERROR-SHAPE", "oauth",
          Mutate(ReplaceBody(None), operations=("requestAccessToken",), statuses=(401,),
                 drop_header="www-authenticate")),
    # Online Payments
    Fault("op-status-outside-enum", "The first payment created answers paymentRequest.paymentRequestStatus "
          "COMPLETED, a value outside its enum.", "OP-STATUS-ENUM", _OP,
          Mutate(Replace("/paymentRequest/paymentRequestStatus", "COMPLETED"), operations=("V2PaymentPost",)),
          once=True),
    Fault("op-missing-required-field", "Payment and refund answers lack the required responseMessage.",
          "OP-REQUIRED-FIELDS", _OP,
          Mutate(Remove("/responseMessage"), operations=(*_OP_PAYMENT_ANSWERS, *_OP_REFUND_ANSWERS))),
    Fault("op-card-number-in-response", "Answers to payment creation carry the full card number sent "
          "(paymentMethodType.card.accountNumber).", "OP-NO-CARD-DATA", _OP,
          Mutate(EchoRequest("/paymentMethodType/card/accountNumber",
                             "$request.body#/paymentMethodType/card/accountNumber"), operations=("V2PaymentPost",))),
    Fault("op-over-refund-accepted", "Refunds above what is left to refund on a payment are accepted (200, SUCCESS).",
          "OP-REFUNDS-NOT-ABOVE-CAPTURED", _OP, Switch("limits")),
    Fault("op-request-id-ignored", "A reused request-id is not honoured: a repeat makes a new transaction and "
          "another payload is accepted.", "OP-IDEMPOTENT-REQUEST-ID", _OP, Switch("idempotency")),
    Fault("op-auth-not-enforced", "Online Payments serves requests whose bearer token is missing, malformed, "
          "expired or lacks the scope.", "OP-AUTH-ENFORCED", _OP, Switch("auth")),
    Fault("op-server-error", "The first valid payment request is answered 500.", "OP-NO-SERVER-ERROR", _OP,
          ServerError("V2PaymentPost"), once=True),
    Fault("op-wrong-content-type", "Online Payments answers every GET with a JSON body labelled text/plain.",
          "OP-CONTENT-TYPE", _OP, Mutate(ReplaceBody(None), methods=("GET", "HEAD"), content_type="text/plain")),
    Fault("op-non-iso-date", "transactionDate in payment answers is not ISO 8601 (\"09/18/2023 18:04:26\").",
          "OP-FIELD-FORMAT", _OP,
          Mutate(Replace("/transactionDate", "09/18/2023 18:04:26"), operations=_OP_PAYMENT_ANSWERS)),
    Fault("op-malformed-error-body", "Online Payments answers validation errors (400) with {\"error\": ...} "
          "instead of its messages body.", "OP-ERROR-SHAPE", _OP,
          Mutate(ReplaceBody({"error": "the request breaks the spec"}), statuses=(400,), validation_only=True)),
    Fault("op-invalid-request-accepted", "A payment request that breaks the spec is answered 200 as if it were "
          "valid.", "OP-REJECTS-INVALID-REQUEST", _OP, Switch("validation")),
    Fault("op-read-by-request-id-answers-another", "Reads by requestIdentifier answer about another write (their "
          "requestId is not the one asked for).", "OP-READ-BY-REQUEST-ID", _OP,
          Mutate(Replace("/requestId", "5d0c1a2e-0000-4a7b-9c1d-000000000000"), operations=_OP_READS_BY_REQUEST)),
    Fault("op-read-by-id-answers-another", "Reads of /payments/{id} answer about another transaction (their "
          "transactionId is not the path's).", "OP-TRANSACTION-ID-IS-PATH-ID", _OP,
          Mutate(Replace("/transactionId", "00000000-dead-4bad-8bad-000000000000"), operations=("V2PaymentByIdGet",))),
    Fault("op-verification-never-declined", "Card verifications the issuer declines are answered SUCCESS.",
          "OP-SCENARIO-VERIFICATION-DECLINED", _OP,
          Mutate(Replace("/responseStatus", "SUCCESS"), operations=("V2VerificationPost",),
                 when=(("/responseStatus", "DENIED"),))),
    Fault("op-fraud-decline-ignored", "Fraud checks the engine declines are answered ACCEPT.",
          "OP-SCENARIO-FRAUD-DECLINE", _OP,
          Mutate(Replace("/riskDecision/fraudRuleAction", "ACCEPT"), operations=("V2FraudCheckPost",),
                 when=(("/riskDecision/fraudRuleAction", "DECLINE"),))),
    # Global Payments
    Fault("gp-rejected-without-exceptions", "REJECTED payments are called back without their exceptions.",
          "GP-CALLBACK-EXCEPTIONS-CONDITIONAL", _GP,
          Mutate(Remove("/exceptions"), webhooks=(_GP_CALLBACK,), when=(("/paymentStatus", "REJECTED"),))),
    Fault("gp-illegal-transition", "The first payment gets an extra callback, after PENDING, with paymentStatus "
          "COMPLETED_CREDITED: a jump over COMPLETED, and a final status left after it.",
          "GP-PAYMENT-STATUS-TRANSITIONS", _GP,
          ExtraCallback(_GP_CALLBACK, Replace("/paymentStatus", "COMPLETED_CREDITED")), once=True),
    Fault("gp-callback-unknown-status", "The first payment gets an extra callback, after PENDING, with "
          "paymentStatus PROCESSING (not in the enum).", "GP-STATUS-ENUM", _GP,
          ExtraCallback(_GP_CALLBACK, Replace("/paymentStatus", "PROCESSING")), once=True),
    Fault("gp-callback-not-retried", "Global Payments callbacks are attempted once: a failed delivery is given "
          "up at once.", "GP-CALLBACK-RETRY", _GP, Switch("retries")),
    Fault("gp-duplicate-accepted", "A reused endToEndId is not checked: a repeat, or another payload, gets a new "
          "payment.", "GP-DUPLICATE-END-TO-END-ID", _GP, Switch("idempotency")),
    Fault("gp-malformed-error-body", "Global Payments answers validation errors (400) with {\"message\": ...} "
          "instead of its errors body.", "GP-ERROR-SHAPE", _GP,
          Mutate(ReplaceBody({"message": "the request breaks the spec"}), statuses=(400,), validation_only=True)),
    Fault("gp-auth-not-enforced", "Global Payments serves requests whose bearer token is missing, malformed, "
          "expired or lacks the scope.", "GP-AUTH-ENFORCED", _GP, Switch("auth")),
    Fault("gp-ack-names-another-payment", "The initiation acknowledgement carries an endToEndId other than the "
          "one sent.", "GP-ACK-ECHOES-END-TO-END-ID", _GP,
          Mutate(Replace("/paymentInitiationResponse/endToEndId", "NOT-THE-ID-SENT"),
                 operations=("initiatePayments",))),
    Fault("gp-details-answer-another-payment", "Details reads by firmRootId answer about another payment.",
          "GP-DETAILS-READ-ANSWERS-ASKED-ID", _GP,
          Mutate(Replace("/firmRootId", "00000000-dead-4bad-8bad-000000000000"), operations=("getPaymentDetails",))),
    Fault("gp-first-callback-not-pending", "The first payment's first callback already says COMPLETED (PENDING "
          "skipped).", "GP-FIRST-CALLBACK-PENDING", _GP, SkipStatus("PENDING"), once=True),
    Fault("gp-callback-names-unknown-payment", "The first callback names a firmRootId no initiation was given.",
          "GP-CALLBACK-CORRELATES-WITH-INITIATION", _GP,
          Mutate(Replace("/firmRootId", "00000000-dead-4bad-8bad-000000000000"), webhooks=(_GP_CALLBACK,)),
          once=True),
    Fault("gp-non-iso-date", "createDateTime in callbacks is not ISO 8601 (\"27/07/2023 07:41:54\").",
          "GP-FIELD-FORMAT", _GP, Mutate(Replace("/createDateTime", "27/07/2023 07:41:54"), webhooks=(_GP_CALLBACK,))),
    # Pay By Bank
    Fault("pbb-callback-unknown-status", "The first payment gets an extra payments callback, after NONE, with "
          "status PROCESSING (not in the enum).", "PBB-STATUS-ENUM", _PBB,
          ExtraCallback("payments", Replace("/status", "PROCESSING")), once=True),
    Fault("pbb-status-message-when-settled", "SETTLED payments carry a statusMessage (in callbacks and reads), "
          "which only FAILED may carry.", "PBB-PAYMENT-STATUS-MESSAGE-CONDITIONAL", _PBB,
          Mutate(Replace("/statusMessage", "Payment settled", only_present=False), operations=("getPayment",),
                 webhooks=("payments",), when=(("/status", "SETTLED"),))),
    Fault("pbb-missing-required-field", "Created payments are answered without the required paymentQRCode.",
          "PBB-REQUIRED-FIELDS", _PBB, Mutate(Remove("/paymentQRCode"), operations=("createPayment",))),
    Fault("pbb-invalid-request-accepted", "A payment request that breaks the spec is answered 201 as if it were "
          "valid.", "PBB-REJECTS-INVALID-REQUEST", _PBB, Switch("validation")),
    Fault("pbb-idempotency-ignored", "A reused Idempotency-Key is not honoured: a repeat makes a new resource and "
          "another payload is accepted.", "PBB-IDEMPOTENCY-KEY", _PBB, Switch("idempotency")),
    Fault("pbb-over-payout-accepted", "Payouts adding up to more than their source payment are accepted (201).",
          "PBB-PAYOUT-NOT-ABOVE-PAYMENT", _PBB, Switch("limits")),
    Fault("pbb-callback-not-retried", "Pay By Bank callbacks are attempted once: a failed delivery is given up at "
          "once.", "PBB-CALLBACK-RETRY", _PBB, Switch("retries")),
    Fault("pbb-wrong-error-code", "Validation errors carry code 10199 (other) whatever rule the request broke.",
          "PBB-ERROR-SHAPE", _PBB,
          Mutate(Replace("/errors/*/code", "10199"), statuses=(400,), validation_only=True)),
    Fault("pbb-wrong-content-type", "Pay By Bank answers every GET with a JSON body labelled text/plain.",
          "PBB-CONTENT-TYPE", _PBB, Mutate(ReplaceBody(None), methods=("GET", "HEAD"), content_type="text/plain")),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _CATALOGUE}
"""Every fault by name, in catalogue order."""


# -- applying them, in one place ---------------------------------------------------------------------------


@dataclass
class Outgoing:
    """An answer about to leave the mock, as the faults may change it."""

    api: str
    operation_id: str
    method: str
    status: int
    body: Any
    headers: list[tuple[str, str]]
    request: dict[str, Any] = field(default_factory=dict)
    records: str = ""
    """Where the records are in the body (faults with `when` and record pointers apply there)."""
    invalid_request: bool = False
    media_type: str = "application/json"


class FaultSwitch:
    """The faults switched on for one server, and which `once` faults have already fired.

    Used from the server's event loop only, so no locking is needed.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        names = tuple(names)
        unknown = [name for name in names if name not in FAULTS]
        if unknown:
            raise UsageError(f"unknown fault {unknown[0]!r} (`conformance faults` lists the {len(FAULTS)} faults)")
        self.names = tuple(dict.fromkeys(names))
        self._armed = [FAULTS[name] for name in self.names]
        self._spent: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self._armed)

    def _live(self, api: str, kind: type) -> list[Fault]:
        return [f for f in self._armed if f.api == api and isinstance(f.effect, kind) and f.name not in self._spent]

    def _use(self, fault: Fault) -> None:
        if fault.once:
            self._spent.add(fault.name)

    def off(self, api: str, duty: str) -> bool:
        """Whether a fault switches off one of the pipeline's duties for this API."""
        return any(f.effect.duty == duty for f in self._live(api, Switch))  # type: ignore[union-attr]

    def server_error(self, api: str, operation_id: str) -> bool:
        for fault in self._live(api, ServerError):
            if fault.effect.operation == operation_id:  # type: ignore[union-attr]
                self._use(fault)
                return True
        return False

    def lifecycle(self, api: str, statuses: list[str]) -> list[str]:
        """The statuses a resource goes through, with a SkipStatus fault applied (once)."""
        for fault in self._live(api, SkipStatus):
            skipped = fault.effect.status  # type: ignore[union-attr]
            if skipped in statuses:
                self._use(fault)
                return [status for status in statuses if status != skipped]
        return statuses

    def extra_callback(self, api: str, webhook: str) -> Replace | None:
        """A changed record to send after the first callback of a lifecycle, when a fault says so (once)."""
        for fault in self._live(api, ExtraCallback):
            if fault.effect.webhook == webhook:  # type: ignore[union-attr]
                self._use(fault)
                return fault.effect.change  # type: ignore[union-attr]
        return None

    def answer(self, outgoing: Outgoing) -> Outgoing:
        """The answer with every concerned Mutate fault applied."""
        for fault in self._live(outgoing.api, Mutate):
            effect: Mutate = fault.effect  # type: ignore[assignment]
            if not _concerns(effect, outgoing):
                continue
            if effect.content_type:
                outgoing.media_type = effect.content_type
            if effect.drop_header:
                outgoing.headers = [(k, v) for k, v in outgoing.headers if k.lower() != effect.drop_header]
            changed = _apply(effect, outgoing.body, outgoing.records, outgoing.request)
            if changed is not None:
                outgoing.body = changed
            self._use(fault)
        return outgoing

    def callback(self, api: str, webhook: str, body: Any, records: str) -> Any:
        """A callback body with every concerned Mutate fault applied."""
        for fault in self._live(api, Mutate):
            effect: Mutate = fault.effect  # type: ignore[assignment]
            if webhook in effect.webhooks:
                changed = _apply(effect, body, records, {})
                if changed is not None:
                    body = changed
                self._use(fault)
        return body


def _concerns(effect: Mutate, outgoing: Outgoing) -> bool:
    if effect.methods:
        return outgoing.method in effect.methods
    if effect.validation_only and not outgoing.invalid_request:
        return False
    if effect.statuses:
        if outgoing.status not in effect.statuses:
            return False
    elif not 200 <= outgoing.status < 300:
        return False
    if effect.operations and outgoing.operation_id not in effect.operations:
        return False
    return bool(effect.operations) or bool(effect.statuses) or not effect.webhooks


def _apply(effect: Mutate, body: Any, records: str, request: dict[str, Any]) -> Any:
    """The changed body (a new object), or None when the change leaves it as it is."""
    change = effect.change
    if isinstance(change, ReplaceBody):
        return copy.deepcopy(change.body) if change.body is not None else None
    body = copy.deepcopy(body)
    for record in pointers.resolve_all(body, records) if records else [body]:
        if not isinstance(record, dict):
            continue
        if any(pointers.resolve(record, place) != value for place, value in effect.when):
            continue
        apply_change(change, record, request)
    return body


def apply_change(change: Change, record: dict[str, Any], request: dict[str, Any]) -> None:
    if isinstance(change, Remove):
        for container, key in list(pointers.locations(record, change.pointer)):
            if isinstance(container, dict):
                container.pop(key, None)
    elif isinstance(change, Replace):
        places = list(pointers.locations(record, change.pointer))
        for container, key in places:
            present = key in container if isinstance(container, dict) else True
            if present or not change.only_present:
                container[key] = copy.deepcopy(change.value)
    elif isinstance(change, EchoRequest):
        value = pointers.evaluate_one(change.expression, request=request)
        if value is not pointers.MISSING:
            pointers.set_value(record, change.pointer, value)
