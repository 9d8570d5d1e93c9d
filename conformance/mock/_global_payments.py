"""Global Payments: an initiation acknowledged with 202, then one callback per status change.

The statuses a payment goes through, and the fields of its last callback (the REJECTED
exception), are those of the matching scenario in global-payments.rules.yaml. Each status is
what a status read returns from the moment it is reached, and is posted as
{"callbacks": [record]} to the registered callback URL.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from ._common import Call, get_at, iso_timestamp, new_id, overlay, utc_now
from ._family import Answer, Family
from ._validation import Problem

WEBHOOK = "paymentStatus"
_UNKNOWN_STATUS = "PROCESSING"


class GlobalPayments(Family):
    """Handlers for every operation of global-payments.yaml."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        self.by_end_to_end_id: dict[str, dict[str, Any]] = {}
        self.by_firm_root_id: dict[str, dict[str, Any]] = {}
        self.handlers.update(initiatePayment=self.initiate_payment, getPaymentStatus=self.get_payment_status)

    def error(self, status: int, message: str, problems: Iterable[Problem] = (), code: str | None = None) -> Any:
        problems = list(problems)
        if problems:
            return {"exceptions": [
                {"errorCode": code or str(status), "errorDescription": f"Error occurred on {p.field or p.location}",
                 "ruleDefinition": p.message} for p in problems
            ]}
        return {"exceptions": [{"errorCode": code or str(status), "errorDescription": message}]}

    def validation_answer(self, problems: list[Problem]) -> Answer:
        if self.faults.fire("malformed-error-body", self.api):
            return Answer(self.validation_status, {"message": problems[0].message})
        return super().validation_answer(problems)

    def conflict_answer(self, status: int, code: str | None) -> Answer:
        return self.error_answer(status, "Duplicate endToEndId: a payment with another payload already uses it",
                                 code=code)

    def _timestamp(self) -> str:
        if self.faults.active("non-iso-date", self.api):
            return utc_now().strftime("%d/%m/%Y %H:%M:%S")
        return iso_timestamp()

    async def initiate_payment(self, call: Call) -> Answer:
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(scenario)
        statuses = (scenario.callback_statuses if scenario is not None else []) or self.natural_statuses(WEBHOOK)
        last = scenario.last_callback if scenario is not None else {}
        if "PENDING_POSTING" in statuses and self.faults.fire("illegal-transition", self.api):
            statuses = [status for status in statuses if status != "PENDING_POSTING"]
        extra_after_first = self.faults.fire("callback-unknown-status", self.api)
        end_to_end_id = get_at(call.body, ("paymentIdentifiers", "endToEndId"))
        firm_root_id = new_id()
        self.context.origins.put(firm_root_id, call.body)

        def step(index: int, status: str) -> None:
            record = {
                "endToEndId": end_to_end_id, "createDateTime": self._timestamp(), "paymentStatus": status,
                "firmRootId": firm_root_id,
            }
            if index == len(statuses) - 1 and last:
                overlay(record, last)
            if status == "REJECTED" and self.faults.active("conditional-field-wrong", self.api):
                record.pop("exceptions", None)
            self.by_end_to_end_id[end_to_end_id] = record
            self.by_firm_root_id[firm_root_id] = record
            self.send_callback(firm_root_id, WEBHOOK, {"callbacks": [copy.deepcopy(record)]})
            if index == 0 and extra_after_first:
                odd = {**record, "paymentStatus": _UNKNOWN_STATUS}
                self.send_callback(firm_root_id, WEBHOOK, {"callbacks": [odd]})

        self.progress([lambda i=i, s=s: step(i, s) for i, s in enumerate(statuses)])
        return Answer(202, {"endToEndId": end_to_end_id, "firmRootId": firm_root_id})

    async def get_payment_status(self, call: Call) -> Answer:
        asked = [name for name in ("endToEndId", "firmRootId") if name in call.query]
        if len(asked) != 1:
            return self.error_answer(self.validation_status, "Give exactly one of endToEndId or firmRootId")
        table = self.by_end_to_end_id if asked[0] == "endToEndId" else self.by_firm_root_id
        record = table.get(call.query[asked[0]])
        if record is None:
            return self.error_answer(404, "No payment with that identifier")
        return Answer(200, record)
