"""Online Payments: card payments that can be read, captured, voided and refunded.

A payment is kept as the JSON answer the API gives for it, and every follow-up changes that
answer: capture closes the authorization, a void cancels what is still open, a refund adds a
refund record and lowers what is left to refund. The outcome of a create or a refund (approved,
declined, pending, an HTTP error) is the matching scenario's, from online-payments.rules.yaml;
this module builds the rest of the answer around it so that it stays self-consistent.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ._common import Call, JsonStore, iso_timestamp, mask_pan, new_id, new_ids, overlay
from ._family import Answer, Family
from ._validation import Problem

_ERROR_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
    412: "PRECONDITION_FAILED", 500: "INTERNAL_SERVER_ERROR", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT",
}

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


class OnlinePayments(Family):
    """Handlers for every operation of online-payments.yaml."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        self.payments = JsonStore()
        self.capture_owner: dict[str, str] = {}
        self.refunds = JsonStore()
        self.handlers.update(
            createPayment=self.create_payment, getPayment=self.get_payment, updatePayment=self.update_payment,
            capturePayment=self.capture_payment, getCapture=self.get_capture, createRefund=self.create_refund,
            getRefund=self.get_refund, getHealth=self.get_health,
        )

    # -- errors -----------------------------------------------------------------------------------------------------

    def error(self, status: int, message: str, problems: Iterable[Problem] = (), code: str | None = None) -> Any:
        body: dict[str, Any] = {
            "responseStatus": "ERROR",
            "responseCode": code or _ERROR_CODES.get(status, "ERROR"),
            "responseMessage": message,
        }
        problems = list(problems)
        if problems:
            body["validationErrors"] = [
                {"code": p.keyword.upper(), "message": p.message, "entity": p.field or p.location} for p in problems
            ]
        return body

    def validation_answer(self, problems: list[Problem]) -> Answer:
        if self.faults.fire("malformed-error-body", self.api):
            return Answer(self.validation_status, {"error": problems[0].message})
        return super().validation_answer(problems)

    # -- answers --------------------------------------------------------------------------------------------------

    def _answer(self, view: dict[str, Any], call: Call | None = None, encoded: bytes | None = None) -> Answer:
        """A payment answer, through the faults that change answers (none: the stored view as it is)."""
        if not self.faults:
            return Answer(200, encoded if encoded is not None else view)
        body = view
        if self.faults.active("missing-required-field", self.api):
            body = {k: v for k, v in body.items() if k != "responseMessage"}
        if self.faults.active("non-iso-date", self.api) and "transactionDate" in body:
            body = {**body, "transactionDate": "09/18/2023 18:04:26"}
        if call is not None and call.operation_id == "createPayment":
            if self.faults.active("card-number-in-response", self.api):
                body = copy.deepcopy(body)
                body["paymentMethodType"]["card"]["accountNumber"] = call.body["paymentMethodType"]["card"][
                    "accountNumber"]
            if "paymentRequest" in body and self.faults.fire("status-outside-enum", self.api):
                body = copy.deepcopy(body)
                body["paymentRequest"]["paymentRequestStatus"] = "COMPLETED"
        return Answer(200, body)

    def _store(self, view: dict[str, Any]) -> bytes:
        for capture in (view.get("paymentRequest") or {}).get("captures") or []:
            self.capture_owner[capture["captureId"]] = view["transactionId"]
        return self.payments.put(view["transactionId"], view)

    def _find(self, call: Call) -> dict[str, Any] | None:
        return self.payments.get(call.path.get("id", ""))

    def _not_found(self, what: str = "payment") -> Answer:
        return self.error_answer(404, f"No {what} with that id")

    # -- payments -------------------------------------------------------------------------------------------------

    async def create_payment(self, call: Call) -> Answer:
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(scenario)
        if self.faults.fire("server-error", self.api):
            return self.error_answer(500, "Internal error")
        view = self._new_payment(call, scenario.body if scenario is not None else {})
        encoded = self._store(view)
        self.context.origins.put(view["transactionId"], call.body)
        return self._answer(view, call, encoded)

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

    async def get_payment(self, call: Call) -> Answer:
        if not self.faults:
            encoded = self.payments.raw(call.path.get("id", ""))
            if encoded is not None:
                return Answer(200, encoded)
        view = self._find(call)
        if view is None:
            return self._not_found()
        return self._answer(view)

    async def get_capture(self, call: Call) -> Answer:
        owner = self.capture_owner.get(call.path.get("id", ""))
        if owner is None:
            return self._not_found("capture")
        return self._answer(self.payments.get(owner))

    async def capture_payment(self, call: Call) -> Answer:
        view = self._find(call)
        if view is None:
            return self._not_found()
        return self._capture(call, view, call.body or {})

    def _capture(self, call: Call, view: dict[str, Any], request: dict[str, Any]) -> Answer:
        if view["transactionState"] != "AUTHORIZED":
            return self.business_answer(f"A payment in state {view['transactionState']} cannot be captured")
        if "currency" in request and request["currency"] != view.get("currency"):
            return self.business_answer("The capture currency differs from the payment's")
        available = view["remainingAuthAmount"]
        amount = request.get("amount", available)
        if amount > available or amount <= 0:
            return self.business_answer("The capture amount is above what is left to capture")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(scenario)
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
        self._finish(view, scenario)
        return self._answer(view)

    def _finish(self, view: dict[str, Any], scenario) -> None:
        if scenario is not None:
            overlay(view, scenario.body)
        _settle_amounts(view)
        self._store(view)

    async def update_payment(self, call: Call) -> Answer:
        view = self._find(call)
        if view is None:
            return self._not_found()
        request = call.body or {}
        if request.get("isVoid") is True:
            return self._void(call, view)
        if request.get("isCapture") is True or request.get("captureMethod") == "NOW":
            return self._capture(call, view, {k: v for k, v in request.items() if k == "amount"})
        if "amount" in request:
            if view["transactionState"] != "AUTHORIZED":
                return self.business_answer(f"The amount of a payment in state {view['transactionState']} is final")
            view["amount"] = request["amount"]
            for authorization in (view.get("paymentRequest") or {}).get("authorizations") or []:
                authorization["amount"] = request["amount"]
            view["requestId"] = call.headers.get("request-id", "")
            self._finish(view, None)
            return self._answer(view)
        return self.business_answer("The request asks for no change this payment allows")

    def _void(self, call: Call, view: dict[str, Any]) -> Answer:
        payment_request = view.get("paymentRequest") or {}
        pending_captures = [
            c for c in payment_request.get("captures") or [] if c.get("transactionStatusCode") == "RECEIVED"
        ]
        if view["transactionState"] != "AUTHORIZED" and not (view["transactionState"] == "CLOSED" and pending_captures):
            return self.business_answer(f"A payment in state {view['transactionState']} cannot be voided")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(scenario)
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
        self._finish(view, scenario)
        return self._answer(view)

    # -- refunds --------------------------------------------------------------------------------------------------

    async def create_refund(self, call: Call) -> Answer:
        request = call.body
        reference = ((request.get("paymentMethodType") or {}).get("transactionReference") or {}).get(
            "transactionReferenceId")
        payment = self.payments.get(reference) if reference else None
        if reference and payment is None:
            return self._not_found()
        if payment is None and not (request.get("paymentMethodType") or {}).get("card"):
            return self.business_answer("A refund names a transactionReference or a card")
        if payment is None and ("amount" not in request or "currency" not in request):
            return self.business_answer("A refund to a card needs an amount and a currency")
        if payment is not None and "currency" in request and request["currency"] != payment.get("currency"):
            return self.business_answer("The refund currency differs from the payment's")
        over_accepted = self.faults.active("over-limit-accepted", self.api)
        available = payment["remainingRefundableAmount"] if payment is not None else request["amount"]
        amount = request.get("amount", available)
        if amount > available and not over_accepted:
            return self.business_answer("The refund amount is above what is left to refund on the payment")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300 and not over_accepted:
            return self.scenario_error(scenario)
        if scenario is not None and scenario.status >= 300:
            scenario = None
        outcome = scenario.body if scenario is not None else {}
        state = outcome.get("transactionState") or "CLOSED"
        fields = _response_fields(state, None, outcome)
        record = {"refundId": new_id(), "amount": amount, "transactionStatusCode": _REFUND_RECORD.get(state, "CLOSED")}
        if payment is not None:
            payment_request = payment.setdefault("paymentRequest", {"paymentRequestId": new_id()})
        else:
            payment_request = {"paymentRequestId": new_id(), "paymentRequestStatus": "CLOSED"}
        payment_request.setdefault("refunds", []).append(record)
        refund = {
            "transactionId": record["refundId"], "requestId": call.headers.get("request-id", ""), **fields,
            "amount": amount, "currency": request.get("currency") or payment["currency"],
            "transactionDate": iso_timestamp(), "remainingRefundableAmount": 0,
            "paymentRequest": copy.deepcopy(payment_request),
        }
        overlay(refund, outcome)
        payment_request["refunds"][-1] = copy.deepcopy(refund["paymentRequest"]["refunds"][-1])
        if payment is not None:
            _settle_amounts(payment)
            self._store(payment)
            refund["remainingRefundableAmount"] = payment["remainingRefundableAmount"]
            refund["paymentRequest"] = copy.deepcopy(payment["paymentRequest"])
        self.refunds.put(record["refundId"], refund)
        return self._refund_answer(refund)

    def _refund_answer(self, refund: dict[str, Any]) -> Answer:
        if self.faults.active("missing-required-field", self.api):
            return Answer(200, {k: v for k, v in refund.items() if k != "responseMessage"})
        return Answer(200, refund)

    async def get_refund(self, call: Call) -> Answer:
        refund = self.refunds.get(call.path.get("id", ""))
        if refund is None:
            return self._not_found("refund")
        return self._refund_answer(refund)

    async def get_health(self, call: Call) -> Answer:
        return Answer(200, {"status": "PASS"})

    # -- the invalid-request-accepted fault ----------------------------------------------------------------------

    async def accept_invalid(self, call: Call) -> Answer | None:
        """An invalid payment request answered as if valid: a payment built from the canonical example, with
        nothing in the answer that echoes the (invalid) request, so that only the acceptance is wrong."""
        if call.operation_id != "createPayment":
            return None
        example = next(iter(self.spec.examples("createPayment").values()))
        headers = dict(call.headers)
        if not (1 <= len(headers.get("request-id", "")) <= 40):
            headers["request-id"] = new_id()
        if not (8 <= len(headers.get("merchant-id", "")) <= 12):
            headers["merchant-id"] = "000000000000"
        stand_in = Call(call.operation_id, headers, call.path, call.query, example)
        view = self._new_payment(stand_in, {})
        for key in ("amount", "currency", "merchant"):
            view.pop(key, None)
        view["paymentMethodType"]["card"].pop("maskedAccountNumber", None)
        self._store(view)
        return Answer(200, view)
