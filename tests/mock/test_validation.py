"""Requests are judged by the specs themselves; a rejected one gets its API family's error body."""

from __future__ import annotations

import pytest
import yaml
from mock_support import Api, example, gp_ack, spec, unique, wait_until

from conformance import load_spec
from conformance._specs import Spec
from conformance.mock import MockServer


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
    body = example("online-payments", "V2PaymentPost")
    body["amount"] = -1
    body["paymentMethodType"]["card"]["accountNumber"] = "4012000033330027"  # fails the Luhn check
    response = api.op("POST", "/payments", body, headers={"merchant-id": "short"})
    assert response.status_code == 400
    answer = response.json()
    assert answer["responseStatus"] == "ERROR"
    entities = {e["entity"] for e in answer["validationErrors"]}
    assert {"merchant-id", "$.amount", "$.paymentMethodType.card.accountNumber"} <= entities
    assert "4012000033330027" not in response.text  # no card data in error bodies either
    assert _valid("online-payments", _documented("online-payments", "V2PaymentPost", 400), answer)


def _documented(name: str, operation_id: str, status: int) -> str:
    """The schema the document gives for this answer."""
    schema = spec(name).response_schema(operation_id, status)
    assert schema is not None, f"{operation_id} documents no {status}"
    return schema


def test_online_payments_requires_the_request_id_on_writes(api):
    response = api.request("online-payments", "POST", "/payments", example("online-payments", "V2PaymentPost"),
                           headers={"merchant-id": "998482157630"})
    assert response.status_code == 400
    assert "request-id" in {e["entity"] for e in response.json()["validationErrors"]}


def test_global_payments_rejects_with_numbered_error_details(api):
    response = api.gp_payment(**{"/payments/paymentAmount": "10.999", "/payments/paymentType": "CHEQUE"})
    assert response.status_code == 400
    answer = response.json()
    assert _valid("global-payments", _documented("global-payments", "initiatePayments", 400), answer)
    message = spec("global-payments").rules.errors.message
    details = {(e["errorCode"], e["errorDescription"]) for e in answer["errors"]["errorDetails"]}
    codes = spec("global-payments").rules.errors.codes
    assert (codes["type"], message.format(path="$.payments.paymentAmount")) in details  # a string, not a number
    assert (codes["enum"], message.format(path="$.payments.paymentType")) in details


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"{not json", "application/json"), (b"amount=1", "application/x-www-form-urlencoded"), (b"", "application/json")],
    ids=["not-json", "wrong-media-type", "no-body"],
)
def test_unreadable_bodies_are_rejected(api, content, content_type):
    response = api.op("POST", "/payments", headers={"content-type": content_type}, content=content)
    assert response.status_code == 400
    assert _valid("online-payments", _documented("online-payments", "V2PaymentPost", 400), response.json())
    response = api.gp("POST", "/payments", headers={"content-type": content_type}, content=content)
    assert response.status_code == 400
    assert _valid("global-payments", _documented("global-payments", "initiatePayments", 400), response.json())
    response = api.pbb("POST", "/payments", headers={"content-type": content_type}, content=content)
    assert response.status_code == 400
    assert _valid("pay-by-bank", "#/components/schemas/ValidationErrorResponse", response.json())


def test_path_parameters(api):
    # The bundled Online Payments document puts no constraint on ids: any id is looked up, an unknown one is 404.
    missing = api.op("GET", f"/payments/{unique('p')}")
    assert missing.status_code == 404
    assert _valid("online-payments", _documented("online-payments", "V2PaymentByIdGet", 404), missing.json())
    # Pay By Bank documents no 400 for reads, so a malformed id there is simply not found.
    missing = api.pbb("GET", "/payments/not!an!id")
    assert missing.status_code == 404
    assert _valid("pay-by-bank", "#/components/schemas/ErrorResponse", missing.json())


def _derived_online_payments(tmp_path, change) -> Spec:
    """The bundled Online Payments document with `change(document)` applied, loaded with its rules table."""
    document = yaml.safe_load(spec("online-payments").path.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "online-payments.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return load_spec(path, api="online-payments")


def _constrained(document) -> None:
    """An id of 4 to 40 characters, and a card expiry that may not lie in the past (`x-not-before`)."""
    document["components"]["parameters"]["id"]["schema"] = {"type": "string", "minLength": 4, "maxLength": 40}
    expiry = document["components"]["schemas"]["expiry"]
    expiry["x-not-before"] = "$today"


def test_a_document_constraining_ids_and_dates_gets_them_enforced(tmp_path):
    """What the bundled documents no longer say still works for a document that says it (`--spec`): a malformed
    path parameter is 400 where the operation documents 400, and `x-not-before: $today` refuses the past."""
    derived = _derived_online_payments(tmp_path, _constrained)
    with MockServer(specs=[derived, "oauth"]) as mock:
        client = Api(mock)
        try:
            short = client.op("GET", "/payments/ab")
            assert short.status_code == 400, short.text
            assert "id" in {e.get("entity") for e in short.json()["validationErrors"]}
            assert client.op("GET", f"/payments/{unique('p')}").status_code == 404
            body = example("online-payments", "V2PaymentPost")
            body["paymentMethodType"]["card"]["expiry"] = {"month": 1, "year": 2020}
            expired = client.op("POST", "/payments", body)
            assert expired.status_code == 400, expired.text
            assert "$.paymentMethodType.card.expiry" in {e["entity"] for e in expired.json()["validationErrors"]}
            assert client.sale()["transactionState"] == "CLOSED"  # the example's 2030 expiry is fine
        finally:
            client.close()


@pytest.mark.parametrize(
    ("name", "operation_id"),
    [("online-payments", "V2PaymentPost"), ("global-payments", "getPaymentStatus"), ("pay-by-bank", None)],
)
def test_undocumented_paths_and_methods_get_the_family_error_body(api, name, operation_id):
    # No operation documents these answers: the body is the one the API's operations use for errors.
    schema = _documented(name, operation_id, 400) if operation_id else "#/components/schemas/ErrorResponse"
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


def test_past_dates_and_expired_cards_are_well_formed_requests(mock, api, receiver):
    """A past execution date is acknowledged, then REJECTED by callback (GP-DECISION-PAST-DATE); an expired card is
    declined by the issuer (OP-DECISION-EXPIRED-CARD-DECLINED): neither is a 400."""
    past = api.gp_payment(**{"/payments/requestedExecutionDate": "2020-01-15"})
    ack = gp_ack(past)
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"])[-1:] == ["REJECTED"], what="the rejection")
    assert mock.wait_idle()
    assert receiver.gp_statuses(ack["firmRootId"]) == ["PENDING", "REJECTED"]
    rejected = [b["callbacks"][0] for b in receiver.bodies() if b["callbacks"][0]["firmRootId"] == ack["firmRootId"]]
    assert [(e["errorCode"], e["errorDescription"]) for e in rejected[-1]["exceptions"]] == [
        ("10004", "Error occurred on /requestedExecutionDate")]

    body = example("online-payments", "V2PaymentPost")
    body["paymentMethodType"]["card"]["expiry"] = {"month": 1, "year": 2020}
    expired = api.op("POST", "/payments", body)
    assert expired.status_code == 200, expired.text
    answer = expired.json()
    assert (answer["transactionState"], answer["responseStatus"], answer["responseCode"]) == (
        "DECLINED", "DENIED", "EXPIRED_CARD")
