"""Online Payments: what no table says about payments, captures, voids and refunds.

A payment's answer carries nested records (`paymentRequest.authorizations[]`, `captures[]`,
`refunds[]`) and amounts left to capture and to refund that every follow-up changes: a capture
takes from the authorization (closing it, or leaving the payment request OPEN for the next of a
multi-capture), a void cancels what is still open, a refund adds a record and lowers what is left.
That bookkeeping is this module's; everything else (routing, auth, validation, idempotency,
scenario triggers, reads by id and by request-id, verifications, fraud checks, health checks,
errors, faults) is the generic core's. Each answer starts as the generic core builds it from the
document (the request grafted onto a valid template, whatever the payment method), the payment's
state goes on top, and the result is repaired against the document's schema, so the module serves
the provider's published document as well as ours. The outcome of a create, a capture or a refund
(approved, declined, pending, an HTTP error) is the matching scenario's, from
online-payments.rules.yaml; what a capture or a void may act on is the state machine's.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from .._specs import Kind
from ._api import Answer, Api
from ._common import Call, iso_timestamp, mask_pan, new_id, overlay, utc_now
from ._records import Record

PAYMENT_CREATE = "V2PaymentPost"
PAYMENT_UPDATE = "V2PaymentPatch"
CAPTURE = "V2CapturePost"
REFUND = "V2RefundPost"

# What a transactionState implies for the nested records, when the scenario does not say:
# (authorization status, first capture status, paymentRequestStatus).
_SHAPE = {
    "CLOSED": ("CAPTURED", "CLOSED", "CLOSED"),
    "AUTHORIZED": ("AUTHORIZED", None, "PENDING"),
    "PENDING": (None, None, "PENDING"),
    "DECLINED": ("FAILED", None, "CLOSED"),
    "ERROR": ("FAILED", None, "CLOSED"),
    "VOIDED": ("VOIDED", None, "CANCELLED"),
}
_STATUS_OF_STATE = {"DECLINED": "DENIED", "ERROR": "ERROR"}
_CODE_OF_STATUS = {"SUCCESS": "APPROVED", "DENIED": "DECLINED", "ERROR": "PROCESSING_ERROR"}
_MESSAGE = {
    ("SUCCESS", "PENDING"): "Transaction received and pending further action",
    ("SUCCESS", None): "Transaction approved by Issuer",
    ("DENIED", None): "Transaction declined by Issuer",
    ("ERROR", None): "Transaction could not be processed",
}
_HOST_MESSAGE = {"SUCCESS": "Approved", "DENIED": "Declined"}
_REFUND_RECORD = {"CLOSED": "CLOSED", "PENDING": "RECEIVED", "DECLINED": "CANCELLED", "ERROR": "CANCELLED"}

_BRANDS = (
    (("4",), "VI", "VISA"),
    (("34", "37"), "AX", "AMERICAN_EXPRESS"),
    (("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27"), "MC", "MASTERCARD"),
    (("6011", "65", "644", "645", "646", "647", "648", "649"), "DI", "DISCOVER"),
    (("35",), "JC", "JCB"),
    (("36", "38", "300", "301", "302", "303", "304", "305"), "DC", "DINERS_CLUB"),
)


def _card_brand(request: dict[str, Any]) -> dict[str, Any]:
    """cardType, cardTypeName and the masked PAN of a card payment, from the PAN sent (none for other methods)."""
    card = (request.get("paymentMethodType") or {}).get("card")
    pan = str(card.get("accountNumber", "")) if isinstance(card, dict) else ""
    if not pan.isdigit():
        return {}
    found: dict[str, Any] = {}
    for prefixes, code, name in _BRANDS:
        if pan.startswith(prefixes):
            found.update(cardType=code, cardTypeName=name)
            break
    if len(pan) >= 12:
        found["maskedAccountNumber"] = mask_pan(pan)
    return {"paymentMethodType": {"card": found}} if found else {}


def _outcome_fields(state: str, outcome: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """transactionState and the response fields that go with it (a scenario's own values win later)."""
    status = outcome.get("responseStatus") or status or _STATUS_OF_STATE.get(state, "SUCCESS")
    message = _MESSAGE.get((status, state)) or _MESSAGE.get((status, None)) or "Transaction processed"
    return {
        "transactionState": state, "responseStatus": status, "responseCode": _CODE_OF_STATUS.get(status, "PROCESSED"),
        "responseMessage": message, "hostMessage": _HOST_MESSAGE.get(status, "Error"),
    }


def _live(records: list[dict[str, Any]] | None, *statuses: str) -> list[dict[str, Any]]:
    return [r for r in records or [] if r.get("transactionStatusCode") in statuses]


def _left_to_refund(view: dict[str, Any]) -> int:
    """Closed captures less the refunds not cancelled (a capture received but not yet made is not refundable)."""
    request = view.get("paymentRequest") or {}
    captured = sum(c.get("amount", 0) for c in _live(request.get("captures"), "CLOSED"))
    refunded = sum(r.get("amount", 0) for r in _live(request.get("refunds"), "CLOSED", "RECEIVED"))
    return max(0, captured - refunded)


def _left_to_capture(view: dict[str, Any]) -> int:
    """What an open authorization still holds: its amount less what was captured or is scheduled to be."""
    request = view.get("paymentRequest") or {}
    if view.get("transactionState") != "AUTHORIZED" or request.get("paymentRequestStatus") not in ("PENDING", "OPEN"):
        return 0
    taken = sum(c.get("amount", 0) for c in _live(request.get("captures"), "CLOSED", "RECEIVED"))
    return max(0, view.get("amount", 0) - taken)


def _settle_amounts(view: dict[str, Any]) -> None:
    """Recompute what is left to capture and to refund, overall and per capture, from the nested records."""
    view["remainingRefundableAmount"] = _left_to_refund(view)
    view["remainingAuthAmount"] = _left_to_capture(view)
    request = view.get("paymentRequest") or {}
    left = sum(r.get("amount", 0) for r in _live(request.get("refunds"), "CLOSED", "RECEIVED"))
    for capture in request.get("captures") or []:
        if capture.get("transactionStatusCode") != "CLOSED":
            capture["captureRemainingRefundableAmount"] = 0
            continue
        taken = min(capture.get("amount", 0), left)
        capture["captureRemainingRefundableAmount"] = capture.get("amount", 0) - taken
        left -= taken


class OnlinePayments(Api):
    """The generic core, with the payment bookkeeping of Online Payments."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        for operation_id, handler in ((PAYMENT_CREATE, self.create_payment), (PAYMENT_UPDATE, self.update_payment),
                                      (CAPTURE, self.capture_payment), (REFUND, self.create_refund)):
            if operation_id in self.handlers:
                self.handlers[operation_id] = handler

    # -- answers ---------------------------------------------------------------------------------------

    def _kind(self, operation_id: str) -> Kind:
        return next(kind for kind in self.kinds.values() if operation_id in kind.create)

    def _built(self, operation_id: str, record: Record, state: dict[str, Any]) -> dict[str, Any]:
        """The generic answer to `record`'s request (from a minimal template), `state` on top, repaired."""
        pointer = self.spec.response_schema(operation_id, 200)
        if pointer is None:
            return copy.deepcopy(state)
        template = self.answers.minimal(pointer)
        request = record.request  # unpacked once
        body = self.answers.build(pointer, template, record, request=request)
        identity = self.kinds[record.kind].identity
        if identity in record.keys:
            state = {**state, identity: record.keys[identity]}
        body = self._table_values(operation_id, body, record, request) if isinstance(body, dict) else {}
        overlay(body, copy.deepcopy(state))
        return self.answers.repair(pointer, body, template)

    def _respond(self, operation_id: str, view: dict[str, Any], request_id: str) -> Answer:
        """The view as the answer to this write: its requestId is the write's own request-id."""
        answer = copy.deepcopy(view)
        if "requestId" in answer or request_id:
            answer["requestId"] = request_id
        return Answer(self.success_status(operation_id), answer)

    def _payment(self, identity: str) -> Record | None:
        kind = self._kind(PAYMENT_CREATE)
        return self.store.find(kind.name, kind.identity, identity)

    def _keep(self, record: Record, view: dict[str, Any]) -> dict[str, Any]:
        """Settle the amounts, make the view valid against the document (a published document may refuse a
        zero), keep it as the record's answer; return it."""
        _settle_amounts(view)
        pointer = self.spec.response_schema(record.operation, 200)
        if pointer is not None:
            view = self.answers.repair(pointer, view, self.answers.minimal(pointer))
        record.view = view
        record.status = view.get("transactionState")
        return view

    def _allows(self, record: Record, target: str) -> bool:
        """Whether the payment's state machine has the move a follow-up asks for."""
        machine = self.machines.get(record.kind)
        return machine is None or target in machine.transitions.get(record.status or "", ())

    def _refusal(self, call: Call, scenario) -> Answer | None:
        """The HTTP error the chosen scenario asks for, or a server error the faults ask for."""
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(call.operation_id, scenario)
        if self.faults.server_error(self.name, call.operation_id):
            return self.error_answer(call.operation_id, 500, "Internal error")
        return None

    # -- payments ----------------------------------------------------------------------------------------

    async def create_payment(self, call: Call) -> Answer:
        scenario = self.choose(call)
        refused = self._refusal(call, scenario)
        if refused is not None:
            return refused
        outcome = dict(scenario.body) if scenario is not None else {}
        kind = self._kind(PAYMENT_CREATE)
        record = self.new_record(kind, call, scenario, 200)
        view = self._built(PAYMENT_CREATE, record, self._new_payment_state(call, record, outcome))
        overlay(view, copy.deepcopy(outcome))
        view = self._keep(record, view)
        self.store.add(record, self.machines)
        return Answer(self.success_status(PAYMENT_CREATE), view)  # the record keeps its own (packed) copy

    def _new_payment_state(self, call: Call, record: Record, outcome: dict[str, Any]) -> dict[str, Any]:
        body = call.body or {}
        amount = body.get("amount", 0)
        capture_method = body.get("captureMethod") or ("MANUAL" if body.get("isCapture") is False else "NOW")
        state = outcome.get("transactionState") or ("CLOSED" if capture_method == "NOW" else "AUTHORIZED")
        auth_status, capture_status, request_status = _SHAPE.get(state, (None, None, "CLOSED"))
        payment_request: dict[str, Any] = {"paymentRequestId": new_id(), "paymentRequestStatus": request_status}
        if auth_status:
            payment_request["authorizations"] = [{
                "authorizationId": new_id(), "amount": amount, "transactionStatusCode": auth_status,
                "authorizationType": "INITIAL",
            }]
        now = iso_timestamp()
        state_fields: dict[str, Any] = {
            **_outcome_fields(state, outcome), "captureMethod": capture_method, "isVoid": False,
            "transactionDate": now, "amount": amount, "paymentRequest": payment_request,
        }
        if capture_method == "DELAYED" and state == "AUTHORIZED":
            payment_request["captures"] = [{"captureId": new_id(), "amount": amount,
                                            "transactionStatusCode": "RECEIVED"}]
            state_fields["captureTime"] = iso_timestamp(_tomorrow())
        elif capture_status:
            payment_request["captures"] = [{"captureId": new_id(), "amount": amount,
                                            "transactionStatusCode": capture_status}]
            state_fields["captureTime"] = now
        if state_fields["responseStatus"] == "SUCCESS" and state in ("CLOSED", "AUTHORIZED"):
            state_fields["approvalCode"] = record.keys.get("transactionId", new_id()).replace("-", "")[:6].upper()
        overlay(state_fields, _card_brand(body))
        return state_fields

    async def update_payment(self, call: Call) -> Answer:
        record = self._payment(call.path.get("id", ""))
        if record is None:
            return self.not_found(call.operation_id, "payment")
        request = call.body or {}
        if request.get("isVoid") is True:
            return self._void(call, record)
        if request.get("isCapture") is True or request.get("captureMethod") == "NOW":
            return self._capture(call, record, {k: v for k, v in request.items() if k == "amount"}, patch=True)
        if "amount" in request:
            if record.status != "AUTHORIZED":
                return self.business_answer(call.operation_id,
                                            f"The amount of a payment in state {record.status} is final")
            refused = self._refusal(call, self.choose(call))
            if refused is not None:
                return refused
            view = record.view  # a fresh copy
            view["amount"] = request["amount"]
            for authorization in (view.get("paymentRequest") or {}).get("authorizations") or []:
                authorization["amount"] = request["amount"]
            view = self._keep(record, view)
            return self._respond(call.operation_id, view, call.headers.get("request-id", ""))
        return self.business_answer(call.operation_id, "The request asks for no change this payment allows")

    def _void(self, call: Call, record: Record) -> Answer:
        if not self._allows(record, "VOIDED"):
            return self.business_answer(call.operation_id, f"A payment in state {record.status} cannot be voided")
        refused = self._refusal(call, self.choose(call))
        if refused is not None:
            return refused
        view = record.view  # a fresh copy
        payment_request = view.setdefault("paymentRequest", {"paymentRequestId": new_id()})
        for capture in _live(payment_request.get("captures"), "RECEIVED"):
            capture["transactionStatusCode"] = "CANCELLED"
            capture["transactionStatusReason"] = "VOIDED"
        for authorization in _live(payment_request.get("authorizations"), "AUTHORIZED"):
            authorization["transactionStatusCode"] = "VOIDED"
        payment_request["paymentRequestStatus"] = "CANCELLED"
        view.update(_outcome_fields("VOIDED", {}, "SUCCESS"), isVoid=True)
        view.pop("captureTime", None)
        view = self._keep(record, view)
        return self._respond(call.operation_id, view, call.headers.get("request-id", ""))

    # -- captures ----------------------------------------------------------------------------------------

    async def capture_payment(self, call: Call) -> Answer:
        record = self._payment(call.path.get("id", ""))
        if record is None:
            return self.not_found(call.operation_id, "payment")
        return self._capture(call, record, call.body or {}, patch=False)

    def _capture(self, call: Call, record: Record, request: dict[str, Any], patch: bool) -> Answer:
        """Capture from an authorization: by PATCH the payment's answer, by POST .../captures a capture of its own."""
        view = record.view  # a fresh copy
        if not self._allows(record, "CLOSED"):
            return self.business_answer(call.operation_id, f"A payment in state {record.status} cannot be captured")
        if "currency" in request and request["currency"] != view.get("currency"):
            return self.business_answer(call.operation_id, "The capture currency differs from the payment's")
        available = _left_to_capture(view)
        amount = request.get("amount", available)
        if not isinstance(amount, int) or amount > available or amount <= 0:
            return self.business_answer(call.operation_id, "The capture amount is above what is left to capture")
        scenario = self.choose(call)
        refused = self._refusal(call, scenario)
        if refused is not None:
            return refused
        final = (request.get("multiCapture") or {}).get("isFinalCapture", True) is not False or amount == available
        payment_request = view.setdefault("paymentRequest", {"paymentRequestId": new_id()})
        capture = {"captureId": new_id(), "amount": amount, "transactionStatusCode": "CLOSED"}
        payment_request.setdefault("captures", []).append(capture)
        if final:
            for authorization in _live(payment_request.get("authorizations"), "AUTHORIZED"):
                authorization["transactionStatusCode"] = "CAPTURED"
            payment_request["paymentRequestStatus"] = "CLOSED"
            view.update(_outcome_fields("CLOSED", {}, "SUCCESS"))
        else:
            payment_request["paymentRequestStatus"] = "OPEN"
        view["captureTime"] = iso_timestamp()
        if "multiCapture" in request:
            view["multiCapture"] = copy.deepcopy(request["multiCapture"])
        view = self._keep(record, view)
        if patch:
            answer = copy.deepcopy(view)
        else:
            capture_record, answer = self._capture_record(call, view, capture, final)
        if scenario is not None and 200 <= scenario.status < 300 and scenario.operation == call.operation_id:
            overlay(answer, copy.deepcopy(dict(scenario.body)))
            if not patch:  # the capture's own record shows what its create answered
                capture_record.view = answer
        return self._respond(call.operation_id, answer, call.headers.get("request-id", ""))

    def _capture_record(self, call: Call, payment: dict[str, Any], capture: dict[str, Any],
                        final: bool) -> tuple[Record, dict[str, Any]]:
        """The capture as a transaction of its own (its record, its answer): its id, its amount, the payment's records
        and what is left."""
        kind = self._kind(CAPTURE)
        record = self.new_record(kind, call, None, 200)
        state = {
            **_outcome_fields("CLOSED", {}, "SUCCESS"), "amount": capture["amount"],
            "currency": payment.get("currency"), "captureMethod": "NOW", "isVoid": False,
            "transactionDate": iso_timestamp(), "captureTime": payment["captureTime"],
            "remainingAuthAmount": _left_to_capture(payment),
            "remainingRefundableAmount": capture["amount"], "paymentRequest": copy.deepcopy(payment["paymentRequest"]),
        }
        for name in ("paymentMethodType", "merchant", "multiCapture"):
            if name in payment:
                state[name] = copy.deepcopy(payment[name])
        if not final:
            state["paymentRequest"]["paymentRequestStatus"] = "OPEN"
        view = self._built(CAPTURE, record, state)
        record.view, record.status = view, view.get("transactionState")
        self.store.add(record, self.machines)
        return record, view

    # -- refunds ------------------------------------------------------------------------------------------

    async def create_refund(self, call: Call) -> Answer:
        request = call.body or {}
        reference = ((request.get("paymentMethodType") or {}).get("transactionReference") or {}).get(
            "transactionReferenceId")
        record = self._payment(reference) if reference else None
        payment = record.view if record is not None else None  # a fresh copy
        if reference and payment is None:
            return self.not_found(call.operation_id, "payment")
        if payment is None and ("amount" not in request or "currency" not in request):
            return self.business_answer(call.operation_id, "A refund without a transactionReference needs an "
                                                           "amount and a currency")
        if payment is not None and "currency" in request and request["currency"] != payment.get("currency"):
            return self.business_answer(call.operation_id, "The refund currency differs from the payment's")
        over_accepted = self.faults.off(self.name, "limits")
        available = _left_to_refund(payment) if payment is not None else request["amount"]
        amount = request.get("amount", available)
        if amount > available and not over_accepted:
            return self.business_answer(call.operation_id,
                                        "The refund amount is above what is left to refund on the payment")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300 and not over_accepted:
            return self.scenario_error(call.operation_id, scenario)
        refused = self._refusal(call, None)
        if refused is not None:
            return refused
        outcome = dict(scenario.body) if scenario is not None and scenario.status < 300 else {}
        state = outcome.get("transactionState") or "CLOSED"
        entry = {"refundId": new_id(), "amount": amount, "transactionStatusCode": _REFUND_RECORD.get(state, "CLOSED")}
        overlay(entry, copy.deepcopy(((outcome.get("paymentRequest") or {}).get("refunds") or [{}])[-1]))
        if payment is not None:
            payment.setdefault("paymentRequest", {}).setdefault("refunds", []).append(entry)
            payment = self._keep(record, payment)
            payment_request = copy.deepcopy(payment["paymentRequest"])
        else:
            payment_request = {"paymentRequestId": new_id(), "paymentRequestStatus": "CLOSED", "refunds": [entry]}
        refund_record = self.new_record(self._kind(REFUND), call, scenario, 200)
        refund_state = {
            **_outcome_fields(state, outcome), "amount": amount,
            "currency": request.get("currency") or (payment or {}).get("currency"), "transactionDate": iso_timestamp(),
            "remainingRefundableAmount": _left_to_refund(payment) if payment is not None else 0,
        }
        if reference:
            refund_state["transactionReferenceId"] = reference
        overlay(refund_state, copy.deepcopy(outcome))
        refund_state["paymentRequest"] = payment_request
        view = self._built(REFUND, refund_record, refund_state)
        refund_record.view, refund_record.status = view, view.get("transactionState")
        self.store.add(refund_record, self.machines)
        return Answer(self.success_status(REFUND), view)  # the record keeps its own (packed) copy


def _tomorrow() -> datetime:
    return utc_now() + timedelta(days=1)
