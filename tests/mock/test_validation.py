"""Requests are judged by the specs themselves; a rejected one gets its API family's error body."""

from __future__ import annotations

import pytest
from mock_support import example, spec, unique


def _valid(name: str, schema: str, body) -> bool:
    return list(spec(name).validator(schema, "response").iter_errors(body)) == []


def _pbb_payment(**changes):
    body = example("pay-by-bank", "createPayment")
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "headers", "code", "field"),
    [
        ({k: v for k, v in _pbb_payment().items() if k != "creditor"}, {}, "10001", "$.creditor"),
        (_pbb_payment(creditor={"name": "", "account": {"accountId": "1", "accountIdType": "IBAN"}}), {}, "10002",
         "$.creditor.name"),
        (_pbb_payment(reference="R" * 141), {}, "10003", "$.reference"),
        (_pbb_payment(), {"Idempotency-Key": "not a key!"}, "10004", "idempotency-key"),
        (_pbb_payment(market="XX"), {}, "10103", "$.market"),
        (_pbb_payment(paymentAmount={"value": 10, "currency": "GBP"}), {}, "10103", "$.paymentAmount.value"),
        (_pbb_payment(paymentType="CASH"), {}, "10104", "$.paymentType"),
        (_pbb_payment(colour="blue"), {}, "10105", "$.colour"),
        (_pbb_payment(market="FR"), {}, "10001", "$.debtor"),
    ],
    ids=["required", "minLength", "maxLength", "pattern", "format", "type", "enum", "additionalProperties",
         "debtor-by-market"],
)
def test_pay_by_bank_codes_come_from_the_rules_table(api, body, headers, code, field):
    response = api.pbb("POST", "/payments", body, headers=headers)
    assert response.status_code == 400, response.text
    errors = response.json()["errors"]
    assert {"code": code, "field": field} in [{"code": e["code"], "field": e["field"]} for e in errors], errors
    assert _valid("pay-by-bank", "#/components/schemas/ValidationErrorResponse", response.json())
    table = spec("pay-by-bank").rules.errors.codes
    assert code in table.values()


def test_online_payments_rejects_with_messages(api):
    body = example("online-payments", "createPayment")
    body["amount"] = -1
    body["paymentMethodType"]["card"]["accountNumber"] = "4012000033330027"  # fails the Luhn check
    response = api.op("POST", "/payments", body, headers={"merchant-id": "short"})
    assert response.status_code == 400
    answer = response.json()
    assert answer["responseStatus"] == "ERROR"
    entities = {e["entity"] for e in answer["validationErrors"]}
    assert {"merchant-id", "$.amount", "$.paymentMethodType.card.accountNumber"} <= entities
    assert "4012000033330027" not in response.text  # no card data in error bodies either
    assert _valid("online-payments", "#/components/schemas/Messages", answer)


def test_online_payments_requires_the_request_id_on_writes(api):
    response = api.request("online-payments", "POST", "/payments", example("online-payments", "createPayment"),
                           headers={"merchant-id": "998482157630"})
    assert response.status_code == 400
    assert "request-id" in {e["entity"] for e in response.json()["validationErrors"]}


def test_global_payments_rejects_with_exceptions(api):
    response = api.gp_payment(**{"/value/amount": "10.999", "/paymentType": "CHEQUE"})
    assert response.status_code == 400
    answer = response.json()
    assert _valid("global-payments", "#/components/schemas/ErrorResponse", answer)
    described = {e["errorDescription"] for e in answer["exceptions"]}
    assert "Error occurred on /value/amount" in described and "Error occurred on /paymentType" in described


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"amount=1", "application/x-www-form-urlencoded"), (b"", "application/json")],
    ids=["not-json", "wrong-media-type", "no-body"],
)
def test_unreadable_bodies_are_rejected(api, content, content_type):
    response = api.op("POST", "/payments", headers={"content-type": content_type}, content=content)
    assert response.status_code == 400
    assert _valid("online-payments", "#/components/schemas/Messages", response.json())
    response = api.pbb("POST", "/payments", headers={"content-type": content_type}, content=content)
    assert response.status_code == 400
    assert _valid("pay-by-bank", "#/components/schemas/ValidationErrorResponse", response.json())


def test_path_parameters(api):
    # Online Payments documents 400 for reads; Pay By Bank does not, so a malformed id there is simply not found.
    assert api.op("GET", "/payments/ab").status_code == 400
    assert api.op("GET", f"/payments/{unique('p')}").status_code == 404
    missing = api.pbb("GET", "/payments/not!an!id")
    assert missing.status_code == 404
    assert _valid("pay-by-bank", "#/components/schemas/ErrorResponse", missing.json())


@pytest.mark.parametrize(
    ("name", "schema"),
    [("online-payments", "#/components/schemas/Messages"), ("global-payments", "#/components/schemas/ErrorResponse"),
     ("pay-by-bank", "#/components/schemas/ErrorResponse")],
)
def test_undocumented_paths_and_methods_get_the_family_error_body(api, name, schema):
    response = api.request(name, "GET", "/no/such/path")
    assert response.status_code == 404
    assert _valid(name, schema, response.json())
    response = api.request(name, "DELETE", "/payments")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert _valid(name, schema, response.json())


def test_a_path_outside_every_api_is_404_json(api):
    response = api.http.get(api.mock.origin + "/elsewhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_a_get_and_a_head_agree(api):
    payment = api.sale()
    head = api.request("online-payments", "HEAD", f"/payments/{payment['transactionId']}",
                       headers={"merchant-id": "998482157630"})
    assert head.status_code == 200 and head.content == b""


def test_dates_and_card_expiry_are_not_before_today(api):
    past = api.gp_payment(**{"/requestedExecutionDate": "2020-01-15"})
    assert past.status_code == 400
    assert past.json()["exceptions"][0]["errorDescription"] == "Error occurred on /requestedExecutionDate"
    body = example("online-payments", "createPayment")
    body["paymentMethodType"]["card"]["expiry"] = {"month": 1, "year": 2020}
    expired = api.op("POST", "/payments", body)
    assert expired.status_code == 400
    assert "$.paymentMethodType.card.expiry" in {e["entity"] for e in expired.json()["validationErrors"]}
