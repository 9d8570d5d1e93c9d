"""Pay By Bank: payments that move NONE -> ... in the background, and payouts against settled payments.

The statuses, and the fields of the last status (a FAILED payment's statusMessage), come from the
matching scenario in pay-by-bank.rules.yaml. Each status is what a read returns from the moment
it is reached, and the resource itself is posted to the callback URL (payments and payouts
webhooks). A payout needs its source payment SETTLED, in the same currency, and a payment's
payouts may not add up to more than it: otherwise 400 with the table's business code (11400).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from ._common import Call, get_at, iso_timestamp, new_id, overlay
from ._family import Answer, Family
from ._validation import Problem

PAYMENTS_WEBHOOK = "payments"
PAYOUTS_WEBHOOK = "payouts"
_UNKNOWN_STATUS = "PROCESSING"
_LINK_HOST = "https://pay.example.com"


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _json_path(pointer: str) -> str:
    """"/paymentAmount/value" -> "$.paymentAmount.value", the data dictionary's notation."""
    return "$" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in pointer.split("/") if part)


class PayByBank(Family):
    """Handlers for every operation of pay-by-bank.yaml."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        self.payments: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.paid_out: dict[str, Decimal] = {}
        self.handlers.update(
            createPayment=self.create_payment, getPayment=self.get_payment,
            createPayout=self.create_payout, getPayout=self.get_payout,
        )

    # -- errors -----------------------------------------------------------------------------------------------------

    def error(self, status: int, message: str, problems: Iterable[Problem] = (), code: str | None = None) -> Any:
        problems = list(problems)
        if problems:
            wrong = self.faults.active("wrong-error-code", self.api)
            other = self.validation_codes.get("other", "10199")
            return {"errors": [
                {
                    "code": other if wrong else self.validation_codes.get(p.keyword, other),
                    "message": p.message,
                    "field": _json_path(p.field) if p.location == "body" else p.field,
                }
                for p in problems
            ]}
        return {"errors": [{"code": code or f"{status}00", "message": message}]}

    # -- payments -------------------------------------------------------------------------------------------------

    async def create_payment(self, call: Call) -> Answer:
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(scenario)
        statuses = (scenario.callback_statuses if scenario is not None else []) or self.natural_statuses(
            PAYMENTS_WEBHOOK)
        last = scenario.last_callback if scenario is not None else {}
        extra_after_first = self.faults.fire("callback-unknown-status", self.api)
        payment_id = new_id()
        now = iso_timestamp()
        base = {
            "id": payment_id, "status": statuses[0], "statusUpdatedAt": now, "createdAt": now,
            "paymentLinkURL": f"{_LINK_HOST}/l/{payment_id}", "paymentQRCode": f"{_LINK_HOST}/q/{payment_id}.png",
        }
        if scenario is not None:
            overlay(base, scenario.body)
        self.context.origins.put(payment_id, call.body)

        def step(index: int, status: str) -> None:
            view = {key: value for key, value in (self.payments.get(payment_id) or base).items()
                    if key != "statusMessage"}
            view.update(status=status)
            if index:
                view["statusUpdatedAt"] = iso_timestamp()
            if index == len(statuses) - 1 and last:
                overlay(view, last)
            if status == "SETTLED" and self.faults.active("conditional-field-wrong", self.api):
                view["statusMessage"] = "Payment settled"
            self.payments[payment_id] = view
            self.send_callback(payment_id, PAYMENTS_WEBHOOK, view)
            if index == 0 and extra_after_first:
                self.send_callback(payment_id, PAYMENTS_WEBHOOK, {**view, "status": _UNKNOWN_STATUS})

        self.progress([lambda i=i, s=s: step(i, s) for i, s in enumerate(statuses)])
        answer = self.payments[payment_id]
        if self.faults.active("missing-required-field", self.api):
            answer = {key: value for key, value in answer.items() if key != "paymentQRCode"}
        return Answer(201, answer)

    async def get_payment(self, call: Call) -> Answer:
        view = self.payments.get(call.path.get("id", ""))
        return Answer(200, view) if view is not None else self.error_answer(404, "No payment with that id")

    # -- payouts --------------------------------------------------------------------------------------------------

    async def create_payout(self, call: Call) -> Answer:
        request = call.body
        source_id = request["sourcePaymentId"]
        source = self.payments.get(source_id)
        if source is None:
            return self.business_answer("sourcePaymentId names no payment")
        if source["status"] != "SETTLED":
            return self.business_answer(f"A payout needs a SETTLED source payment; this one is {source['status']}")
        origin = self.context.origins.get(source_id) or {}
        if get_at(origin, ("paymentAmount", "currency")) != request["amount"]["currency"]:
            return self.business_answer("The payout currency differs from the source payment's")
        over_accepted = self.faults.active("over-limit-accepted", self.api)
        amount = _decimal(request["amount"]["value"]) or Decimal(0)
        limit = _decimal(get_at(origin, ("paymentAmount", "value"))) or Decimal(0)
        already = self.paid_out.get(source_id, Decimal(0))
        if already + amount > limit and not over_accepted:
            return self.business_answer("The payouts of a payment may not add up to more than the payment")
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            if not over_accepted:
                return self.scenario_error(scenario)
            scenario = None
        statuses = (scenario.callback_statuses if scenario is not None else []) or self.natural_statuses(
            PAYOUTS_WEBHOOK)
        last = scenario.last_callback if scenario is not None else {}
        payout_id = new_id()
        base = {
            "id": payout_id, "payoutReference": request["payoutReference"], "sourcePaymentId": source_id,
            "amount": dict(request["amount"]), "payoutType": request["payoutType"], "status": statuses[0],
            "createdAt": iso_timestamp(),
        }
        if scenario is not None:
            overlay(base, scenario.body)
        self.paid_out[source_id] = already + amount
        self.context.origins.put(payout_id, request)

        def step(index: int, status: str) -> None:
            view = {**(self.payouts.get(payout_id) or base), "status": status}
            if index == len(statuses) - 1 and last:
                overlay(view, last)
            self.payouts[payout_id] = view
            self.send_callback(payout_id, PAYOUTS_WEBHOOK, view)

        self.progress([lambda i=i, s=s: step(i, s) for i, s in enumerate(statuses)])
        return Answer(201, self.payouts[payout_id])

    async def get_payout(self, call: Call) -> Answer:
        view = self.payouts.get(call.path.get("id", ""))
        return Answer(200, view) if view is not None else self.error_answer(404, "No payout with that id")

    # -- the invalid-request-accepted fault ----------------------------------------------------------------------

    async def accept_invalid(self, call: Call) -> Answer | None:
        """An invalid payment request answered 201: a Pay By Bank payment answer echoes nothing of the request,
        so the normal answer is built and only the acceptance is wrong."""
        if call.operation_id != "createPayment":
            return None
        if not isinstance(call.body, dict):
            call = Call(call.operation_id, call.headers, call.path, call.query, {})
        return await self.create_payment(call)
