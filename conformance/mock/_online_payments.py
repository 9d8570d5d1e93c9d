"""Online Payments: what no table says about payments, captures, voids and refunds.

A payment's answer carries nested records (`paymentRequest.authorizations[]`, `captures[]`,
`refunds[]`) and amounts left to capture and to refund that every follow-up changes: a capture
closes the authorization, a void cancels what is still open, a refund adds a record and lowers what
is left. That bookkeeping is this module's; everything else (routing, auth, validation,
idempotency, scenario triggers, reads, lists, verifications, fraud checks, health checks, errors,
faults) is the generic core's. The outcome of a create or a refund (approved, declined, pending, an
HTTP error) is the matching scenario's, from online-payments.rules.yaml; the capture and void
preconditions are the state machine's transitions.
"""

from __future__ import annotations

import copy
from typing import Any

from ._api import Answer, Api
from ._common import Call, iso_timestamp, mask_pan, new_id, new_ids, overlay
from ._records import Record

# What a transactionState implies for the nested records, when the scenario does not say:
# (authorization status, first capture status, paymentRequestStatus).
_SHAPE = {
    "CLOSED": ("CAPTURED", "CLOSED", "CLOSED"),
    "AUTHORIZED": ("AUTHORIZED", None, "OPEN"),
    "PENDING": (None, None, "PENDING"),
    "DECLINED": ("FAILED", None, "CLOSED"),
    "ERROR": ("FAILED", None, "CLOSED"),
    "VOIDED": ("VOIDED", None, "CANCELLED"),
}
_STATUS_OF_STATE = {"DECLINED": "DENIED", "ERROR": "ERROR"}
_CODE_OF_STATUS = {"SUCCESS": "APPROVED", "DENIED": "DECLINED", "ERROR": "PROCESSING_ERROR"}
_MESSAGE = {
    ("SUCCESS", "PENDING"): "Transaction received and pending review",
    ("SUCCESS", None): "Transaction approved by Issuer",
    ("DENIED", None): "Transaction declined by Issuer",
    ("ERROR", None): "Transaction could not be processed",
}
_REFUND_RECORD = {"CLOSED": "CLOSED", "PENDING": "RECEIVED", "DECLINED": "CANCELLED", "ERROR": "CANCELLED"}

_BRANDS = (
    (("4",), "VI", "VISA"),
    (("34", "37"), "AX", "AMERICAN_EXPRESS"),
    (("51", "52", "53", "54", "55", "22", "23", "24", "25", "26", "27"), "MC", "MASTERCARD"),
    (("6011", "65", "644", "645", "646", "647", "648", "649"), "DI", "DISCOVER"),
    (("35",), "JC", "JCB"),
    (("36", "38", "300", "301", "302", "303", "304", "305"), "DC", "DINERS_CLUB"),
)


def _card_view(card: dict[str, Any]) -> dict[str, Any]:
    pan = str(card.get("accountNumber", ""))
    view: dict[str, Any] = {}
    for prefixes, code, name in _BRANDS:
        if pan.startswith(prefixes):
            view.update(cardType=code, cardTypeName=name)
            break
    if len(pan) >= 12:
        view["maskedAccountNumber"] = mask_pan(pan)
    for key in ("isBillPayment", "accountNumberType"):
        if key in card:
            view[key] = card[key]
    return view


def _response_fields(state: str, status: str | None, outcome: dict[str, Any]) -> dict[str, Any]:
    status = outcome.get("responseStatus") or status or _STATUS_OF_STATE.get(state, "SUCCESS")
    message = _MESSAGE.get((status, state)) or _MESSAGE.get((status, None)) or "Transaction processed"
    return {
        "transactionState": state,
        "responseStatus": status,
        "responseCode": _CODE_OF_STATUS.get(status, "PROCESSED"),
        "responseMessage": message,
    }


def _settle_amounts(view: dict[str, Any]) -> None:
    """Recompute what is left to refund and to capture from the nested records."""
    request = view.get("paymentRequest") or {}
    captures = [c for c in request.get("captures") or [] if c.get("transactionStatusCode") != "CANCELLED"]
    refunded = sum(r["amount"] for r in request.get("refunds") or [] if r.get("transactionStatusCode") != "CANCELLED")
    captured = sum(c["amount"] for c in captures)
    view["remainingRefundableAmount"] = max(0, captured - refunded)
    left = refunded
    for capture in request.get("captures") or []:
        if capture.get("transactionStatusCode") == "CANCELLED":
            capture["captureRemainingRefundableAmount"] = 0
            continue
        taken = min(capture["amount"], left)
        capture["captureRemainingRefundableAmount"] = capture["amount"] - taken
        left -= taken
    authorized = view["transactionState"] == "AUTHORIZED"
    view["remainingAuthAmount"] = max(0, view.get("amount", 0) - captured) if authorized else 0


class OnlinePayments(Api):
    """The generic core, with the payment bookkeeping of Online Payments."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        self.capture_owner: dict[str, str] = {}
        self.handlers.update(
            createPayment=self.create_payment, updatePayment=self.update_payment,
            capturePayment=self.capture_payment, getCapture=self.get_capture, createRefund=self.create_refund,
        )

    # -- the records --------------------------------------------------------------------------------------

    def _payment(self, identity: str) -> Record | None:
        return self.store.find("payments", "transactionId", identity)

    def _keep(self, record: Record, view: dict[str, Any]) -> None:
        record.view = view
        record.status = view["transactionState"]
        for capture in (view.get("paymentRequest") or {}).get("captures") or []:
            self.capture_owner[capture["captureId"]] = view["transactionId"]

    def _answer(self, view: dict[str, Any]) -> Answer:
        return Answer(200, copy.deepcopy(view))

    # -- payments -------------------------------------------------------------------------------------------

    async def create_payment(self, call: Call) -> Answer:
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(call.operation_id, scenario)
        if self.faults.server_error(self.name, call.operation_id):
            return self.error_answer(call.operation_id, 500, "Internal error")
        view = self._new_payment(call, dict(scenario.body) if scenario is not None else {})
        record = Record(kind="payments", keys={"transactionId": view["transactionId"],
                                               "requestIdentifier": call.headers.get("request-id", "")},
                        request=call.snapshot())
        self._keep(record, view)
        self.store.add(record, self.machines)
        return self._answer(view)

    def _new_payment(self, call: Call, outcome: dict[str, Any]) -> dict[str, Any]:
        body = call.body
        amount = body["amount"]
        capture_method = body.get("captureMethod", "NOW")
        state = outcome.get("transactionState") or ("AUTHORIZED" if capture_method == "MANUAL" else "CLOSED")
        now = iso_timestamp()
        auth_status, capture_status, request_status = _SHAPE.get(state, (None, None, "CLOSED"))
        transaction_id, payment_request_id, authorization_id, capture_id, host_reference = new_ids(5)
        payment_request: dict[str, Any] = {
            "paymentRequestId": payment_request_id, "paymentRequestStatus": request_status,
        }
        if auth_status:
            payment_request["authorizations"] = [{
                "authorizationId": authorization_id, "amount": amount, "transactionStatusCode": auth_status,
                "authorizationType": "INITIAL",
            }]
        if capture_status:
            payment_request["captures"] = [{
                "captureId": capture_id, "amount": amount, "transactionStatusCode": capture_status,
                "captureRemainingRefundableAmount": amount,
            }]
        fields = _response_fields(state, None, outcome)
        merchant = {"merchantId": call.headers.get("merchant-id", ""), **(body.get("merchant") or {})}
        view: dict[str, Any] = {
            "transactionId": transaction_id,
            "requestId": call.headers.get("request-id", ""),
            **fields,
            "paymentMethodType": {"card": _card_view(body["paymentMethodType"]["card"])},
            "captureMethod": capture_method,
        }
        if capture_status:
            view["captureTime"] = now
        for key in ("initiatorType", "accountOnFile", "isAmountFinal", "merchantOrderNumber"):
            if key in body:
                view[key] = body[key]
        view.update(isVoid=False, transactionDate=now)
        if fields["responseStatus"] == "SUCCESS" and state in ("CLOSED", "AUTHORIZED"):
            view["approvalCode"] = "tst" + view["transactionId"][:3]
        view.update(
            hostMessage={"SUCCESS": "Approved", "DENIED": "Declined"}.get(fields["responseStatus"], "Error"),
            amount=amount, currency=body["currency"], remainingRefundableAmount=0, remainingAuthAmount=0,
            hostReferenceId=host_reference.replace("-", "")[:22], merchant=merchant, paymentRequest=payment_request,
        )
        overlay(view, outcome)
        _settle_amounts(view)
        return view

    async def get_capture(self, call: Call) -> Answer:
        owner = self.capture_owner.get(call.path.get("id", ""))
        record = self._payment(owner) if owner else None
        if record is None:
            return self.not_found(call.operation_id, "capture")
        return self._answer(record.view)

    def _allows(self, record: Record, target: str) -> bool:
        """Whether the payment's state machine has the move a follow-up asks for."""
        machine = self.machines.get("payments")
        return machine is None or target in machine.transitions.get(record.status or "", ())

    async def capture_payment(self, call: Call) -> Answer:
        record = self._payment(call.path.get("id", ""))
        if record is None:
            return self.not_found(call.operation_id, "payment")
        return self._capture(call, record, call.body or {})

    def _capture(self, call: Call, record: Record, request: dict[str, Any]) -> Answer:
        view = copy.deepcopy(record.view)
        if not self._allows(record, "CLOSED"):
            return self.business_answer(call.operation_id,
                                        f"A payment in state {view['transactionState']} cannot be captured")
        if "currency" in request and request["currency"] != view.get("currency"):
            return self.business_answer(call.operation_id, "The capture currency differs from the payment's")
        available = view["remainingAuthAmount"]
        amount = request.get("amount", available)
        if amount > available or amount <= 0:
            return self.business_answer(call.operation_id, "The capture amount is above what is left to capture")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(call.operation_id, scenario)
        payment_request = view.setdefault("paymentRequest", {"paymentRequestId": new_id()})
        for authorization in payment_request.get("authorizations") or []:
            if authorization["transactionStatusCode"] == "AUTHORIZED":
                authorization["transactionStatusCode"] = "CAPTURED"
        payment_request.setdefault("captures", []).append({
            "captureId": new_id(), "amount": amount, "transactionStatusCode": "CLOSED",
            "captureRemainingRefundableAmount": amount,
        })
        payment_request["paymentRequestStatus"] = "CLOSED"
        view.update(_response_fields("CLOSED", "SUCCESS", {}))
        view.update(requestId=call.headers.get("request-id", ""), captureTime=iso_timestamp())
        self._finish(record, view, scenario)
        return self._answer(view)

    def _finish(self, record: Record, view: dict[str, Any], scenario) -> None:
        if scenario is not None:
            overlay(view, dict(scenario.body))
        _settle_amounts(view)
        self._keep(record, view)

    async def update_payment(self, call: Call) -> Answer:
        record = self._payment(call.path.get("id", ""))
        if record is None:
            return self.not_found(call.operation_id, "payment")
        request = call.body or {}
        if request.get("isVoid") is True:
            return self._void(call, record)
        if request.get("isCapture") is True or request.get("captureMethod") == "NOW":
            return self._capture(call, record, {k: v for k, v in request.items() if k == "amount"})
        if "amount" in request:
            view = copy.deepcopy(record.view)
            if view["transactionState"] != "AUTHORIZED":
                return self.business_answer(call.operation_id,
                                            f"The amount of a payment in state {view['transactionState']} is final")
            view["amount"] = request["amount"]
            for authorization in (view.get("paymentRequest") or {}).get("authorizations") or []:
                authorization["amount"] = request["amount"]
            view["requestId"] = call.headers.get("request-id", "")
            self._finish(record, view, None)
            return self._answer(view)
        return self.business_answer(call.operation_id, "The request asks for no change this payment allows")

    def _void(self, call: Call, record: Record) -> Answer:
        view = copy.deepcopy(record.view)
        payment_request = view.get("paymentRequest") or {}
        pending_captures = [
            c for c in payment_request.get("captures") or [] if c.get("transactionStatusCode") == "RECEIVED"
        ]
        # The machine allows CLOSED -> VOIDED; what it cannot say is that only an unsettled capture can be voided.
        if not self._allows(record, "VOIDED") or (view["transactionState"] == "CLOSED" and not pending_captures):
            return self.business_answer(call.operation_id,
                                        f"A payment in state {view['transactionState']} cannot be voided")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(call.operation_id, scenario)
        payment_request = view.setdefault("paymentRequest", {"paymentRequestId": new_id()})
        for capture in payment_request.get("captures") or []:
            if capture.get("transactionStatusCode") == "RECEIVED":
                capture["transactionStatusCode"] = "CANCELLED"
        for authorization in payment_request.get("authorizations") or []:
            if authorization["transactionStatusCode"] in ("AUTHORIZED", "CAPTURED"):
                authorization["transactionStatusCode"] = "VOIDED"
        payment_request["paymentRequestStatus"] = "CANCELLED"
        view.update(_response_fields("VOIDED", "SUCCESS", {}))
        view.update(isVoid=True, requestId=call.headers.get("request-id", ""))
        self._finish(record, view, scenario)
        return self._answer(view)

    # -- refunds --------------------------------------------------------------------------------------------

    async def create_refund(self, call: Call) -> Answer:
        request = call.body
        reference = ((request.get("paymentMethodType") or {}).get("transactionReference") or {}).get(
            "transactionReferenceId")
        record = self._payment(reference) if reference else None
        payment = copy.deepcopy(record.view) if record is not None else None
        if reference and payment is None:
            return self.not_found(call.operation_id, "payment")
        if payment is None and not (request.get("paymentMethodType") or {}).get("card"):
            return self.business_answer(call.operation_id, "A refund names a transactionReference or a card")
        if payment is None and ("amount" not in request or "currency" not in request):
            return self.business_answer(call.operation_id, "A refund to a card needs an amount and a currency")
        if payment is not None and "currency" in request and request["currency"] != payment.get("currency"):
            return self.business_answer(call.operation_id, "The refund currency differs from the payment's")
        over_accepted = self.faults.off(self.name, "limits")
        available = payment["remainingRefundableAmount"] if payment is not None else request["amount"]
        amount = request.get("amount", available)
        if amount > available and not over_accepted:
            return self.business_answer(call.operation_id,
                                        "The refund amount is above what is left to refund on the payment")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300 and not over_accepted:
            return self.scenario_error(call.operation_id, scenario)
        if scenario is not None and scenario.status >= 300:
            scenario = None
        outcome = dict(scenario.body) if scenario is not None else {}
        state = outcome.get("transactionState") or "CLOSED"
        fields = _response_fields(state, None, outcome)
        entry = {"refundId": new_id(), "amount": amount, "transactionStatusCode": _REFUND_RECORD.get(state, "CLOSED")}
        if payment is not None:
            payment_request = payment.setdefault("paymentRequest", {"paymentRequestId": new_id()})
        else:
            payment_request = {"paymentRequestId": new_id(), "paymentRequestStatus": "CLOSED"}
        payment_request.setdefault("refunds", []).append(entry)
        refund = {
            "transactionId": entry["refundId"], "requestId": call.headers.get("request-id", ""), **fields,
            "amount": amount, "currency": request.get("currency") or payment["currency"],
            "transactionDate": iso_timestamp(), "remainingRefundableAmount": 0,
            "paymentRequest": copy.deepcopy(payment_request),
        }
        overlay(refund, outcome)
        payment_request["refunds"][-1] = copy.deepcopy(refund["paymentRequest"]["refunds"][-1])
        if payment is not None:
            _settle_amounts(payment)
            self._keep(record, payment)
            refund["remainingRefundableAmount"] = payment["remainingRefundableAmount"]
            refund["paymentRequest"] = copy.deepcopy(payment["paymentRequest"])
        refund_record = Record(kind="refunds", keys={"transactionId": entry["refundId"],
                                                     "requestIdentifier": call.headers.get("request-id", "")},
                               request=call.snapshot(), status=refund["transactionState"], view=refund)
        self.store.add(refund_record, self.machines)
        return self._answer(refund)
