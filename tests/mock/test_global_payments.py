"""Global Payments end to end over real HTTP, as an integrator meets it: initiate, be called back, read.

The initiation is acknowledged 202 with the published shape; the payment's status callbacks follow
(the first PENDING); the details and status reads answer the same by firmRootId and by endToEndId
and agree with the last callback; a REJECTED payment's callback carries numbered exceptions, and
its reads show the same status and exceptions.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from mock_support import example, spec, unique, utc_today, wait_until

GP = spec("global-payments")
COMPLETED_PATH = list(GP.rules.scenario("GP-SCENARIO-COMPLETED").callbacks.statuses)
NUMBERED_CODES = set(GP.resolve("#/components/schemas/StatusException/properties/errorCode")["enum"])


def _valid(schema: str | None, body: Any, direction: str = "response") -> list[str]:
    assert schema is not None
    return [error.message for error in GP.validator(schema, direction).iter_errors(body)]


def _initiate(api, **payment: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the body sent, the acknowledgement) of the canonical initiation for today with `payment` fields changed."""
    body = example("global-payments", "initiatePayments")
    body["payments"].update({"requestedExecutionDate": utc_today().isoformat(), **payment})
    body["payments"]["paymentIdentifiers"]["endToEndId"] = unique("E")
    response = api.gp("POST", "/payments", body)
    assert response.status_code == 202, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert _valid(GP.response_schema("initiatePayments", 202), response.json()) == []
    assert set(response.json()) == {"paymentInitiationResponse"}
    return body, response.json()["paymentInitiationResponse"]


def _records(receiver, firm_root_id: str) -> list[dict[str, Any]]:
    """The callback records about one payment, in the order received; every body valid for the webhook."""
    bodies = [b for b in receiver.bodies() if b["callbacks"][0]["firmRootId"] == firm_root_id]
    schema = GP.request_schema(GP.webhooks["paymentInitiationStatus"])
    for body in bodies:
        assert _valid(schema, body, "request") == [], body
        assert len(body["callbacks"]) == 1
    return [b["callbacks"][0] for b in bodies]


def _reads(api, ack: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(details, status) of a payment, each read by firmRootId and by endToEndId, which must agree."""
    answers = {}
    for operation_id, path in (("getPaymentDetails", "/payments"), ("getPaymentStatus", "/payments/status")):
        by_root = api.gp("GET", path, params={"firmRootId": ack["firmRootId"]})
        by_e2e = api.gp("GET", path, params={"endToEndId": ack["endToEndId"]})
        for response in (by_root, by_e2e):
            assert response.status_code == 200, response.text
            assert _valid(GP.response_schema(operation_id, 200), response.json()) == [], response.json()
        assert by_root.json() == by_e2e.json()
        answers[operation_id] = by_root.json()
    return answers["getPaymentDetails"], answers["getPaymentStatus"]


def test_initiate_then_callbacks_then_reads_by_either_id(mock, api, receiver):
    sent, ack = _initiate(api)
    assert ack["endToEndId"] == sent["payments"]["paymentIdentifiers"]["endToEndId"] and ack["firmRootId"]

    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"]), what="the first callback")
    assert receiver.gp_statuses(ack["firmRootId"])[0] == "PENDING"
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"]) == COMPLETED_PATH, what="every callback")
    assert mock.wait_idle()
    records = _records(receiver, ack["firmRootId"])
    assert [r["paymentStatus"] for r in records] == COMPLETED_PATH
    assert all(r["endToEndId"] == ack["endToEndId"] and "exceptions" not in r for r in records)
    # The document's callback expression is {client-url}/status: the registered URL with /status appended.
    paths = {entry["path"] for entry in receiver.received if entry["body"]["callbacks"][0]["firmRootId"]
             == ack["firmRootId"]}
    assert paths == {urllib.parse.urlsplit(receiver.url).path.rstrip("/") + "/status"}

    details, status = _reads(api, ack)
    assert details["firmRootId"] == ack["firmRootId"]
    assert details["payments"]["paymentIdentifiers"]["endToEndId"] == ack["endToEndId"]
    for field in ("paymentAmount", "paymentCurrency", "debtor", "creditor", "requestedExecutionDate"):
        assert details["payments"][field] == sent["payments"][field], field  # the payment as initiated
    assert details["paymentStatus"] == status["paymentStatus"]
    assert status["paymentStatus"]["status"] == records[-1]["paymentStatus"] == "COMPLETED"
    assert "exception" not in status["paymentStatus"]


def test_a_rejected_payment_is_called_back_and_read_with_numbered_exceptions(mock, api, receiver):
    _, ack = _initiate(api, requestedExecutionDate="2020-01-15")  # a past date (GP-DECISION-PAST-DATE)
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"])[-1:] == ["REJECTED"], what="the rejection")
    assert mock.wait_idle()
    records = _records(receiver, ack["firmRootId"])
    assert [r["paymentStatus"] for r in records] == ["PENDING", "REJECTED"]
    assert "exceptions" not in records[0]
    exceptions = records[-1]["exceptions"]
    assert exceptions and all(e["errorCode"] in NUMBERED_CODES for e in exceptions)
    assert exceptions[0]["errorCode"] == "10004"  # date validation
    assert exceptions[0]["errorDescription"] == "Error occurred on /requestedExecutionDate"

    details, status = _reads(api, ack)
    assert status["paymentStatus"]["status"] == details["paymentStatus"]["status"] == "REJECTED"
    assert status["paymentStatus"]["exception"] == exceptions
    assert details["paymentStatus"]["exception"] == exceptions


def test_reads_name_a_payment_or_are_refused(api):
    missing = api.gp("GET", "/payments")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["errorDetails"][0]["errorCode"] == "GCA-095"
    unknown = api.gp("GET", "/payments", params={"firmRootId": "no-such-payment"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["errorDetails"][0]["errorCode"] == "10009"
    for response in (missing, unknown):
        assert _valid(GP.response_schema("getPaymentDetails", 400), response.json()) == []
