"""The bundled specs: valid OpenAPI 3.1, loadable by Schemathesis, true to the seeds and the facts."""

from __future__ import annotations

import copy
import json

import pytest
import schemathesis

from conformance import SPEC_NAMES

# The seed documents' examples (shared/seeds), copied as they stand.
SEED_PAYMENT_RESPONSE = {
    "transactionId": "9f186d77-cb1b-4a9f-bb44-b5be91b891ac",
    "requestId": "40902d7b-4566-485c-bd07-7aef69557f55",
    "transactionState": "CLOSED",
    "responseStatus": "SUCCESS",
    "responseCode": "APPROVED",
    "responseMessage": "Transaction approved by Issuer",
    "paymentMethodType": {
        "card": {"cardType": "VI", "cardTypeName": "VISA", "maskedAccountNumber": "411234XXXXXX4113"}
    },
    "captureMethod": "NOW",
    "captureTime": "2023-09-18T18:04:26.898Z",
    "initiatorType": "CARDHOLDER",
    "accountOnFile": "NOT_STORED",
    "isVoid": False,
    "transactionDate": "2023-09-18T18:04:26.898Z",
    "approvalCode": "tst021",
    "hostMessage": "Approved",
    "amount": 1000,
    "currency": "USD",
    "remainingRefundableAmount": 1000,
    "remainingAuthAmount": 0,
    "hostReferenceId": "xf1kGP1Q9zajkzcQ7SIpA6",
    "merchant": {
        "merchantId": "000020001234",
        "merchantSoftware": {"companyName": "Company Name", "productName": "Product Name"},
        "merchantCategoryCode": "4899",
    },
    "paymentRequest": {
        "paymentRequestId": "9f186d77-cb1b-4a9f-bb44-b5be91b891ac",
        "paymentRequestStatus": "CLOSED",
        "authorizations": [
            {"authorizationId": "9f186d77-cb1b-4a9f-bb44-b5be91b891ac", "amount": 1000,
             "transactionStatusCode": "CAPTURED", "authorizationType": "INITIAL"}
        ],
        "captures": [
            {"captureId": "9f186d77-cb1b-4a9f-bb44-b5be91b891ac", "amount": 1000,
             "transactionStatusCode": "CLOSED", "captureRemainingRefundableAmount": 1000}
        ],
    },
}
SEED_TOKEN = {"access_token": "eyJ0eXAiOiJKV1QiLCJraWQiOiJJR05rNSthbHVNdy9FeHQ4ejc5Wmg5ZVpZL0U9In0.e30.sig",
              "scope": "jpm:payments:sandbox", "token_type": "Bearer", "expires_in": 3599}
SEED_TOKEN_ERROR = {"error_description": "Client authentication failed", "error": "invalid_client"}
SEED_REJECTED_CALLBACK = {
    "callbacks": [{
        "endToEndId": "MY20230727_0219",
        "createDateTime": "2023-07-27T07:41:54.773Z",
        "paymentStatus": "REJECTED",
        "firmRootId": "53038faa-43f6-42fc-9545-648fd2dab411",
        "exceptions": [{"errorCode": "10004", "errorDescription": "Error occurred on /requestedExecutionDate",
                        "ruleDefinition": "Date validation failure"}],
    }]
}
PBB_PAYMENT = {
    "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "status": "SETTLED",
    "statusUpdatedAt": "2024-05-01T10:15:30Z",
    "createdAt": "2024-05-01T10:14:02Z",
    "paymentLinkURL": "https://pay.example.com/l/7c9e6679",
    "paymentQRCode": "https://pay.example.com/q/7c9e6679.png",
}


def errors(spec, pointer, instance, direction="response"):
    return [e.message for e in spec.validator(pointer, direction).iter_errors(instance)]


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_spec_is_valid_openapi_31_and_loads_in_schemathesis(specs, name):
    spec = specs[name]
    assert spec.document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(copy.deepcopy(spec.document))
    labels = [result.ok().label for result in schema.get_all_operations()]
    documented = [f"{op.method} {op.path}" for op in spec.operations.values() if not op.webhook]
    assert sorted(labels) == sorted(documented)


def test_online_payments_has_every_documented_operation(specs):
    labels = {f"{op.method} {op.path}" for op in specs["online-payments"].operations.values()}
    # The published v2.8.0 document's 19 operations.
    assert labels == {
        "POST /payments", "GET /payments", "GET /payments/{id}", "PATCH /payments/{id}",
        "POST /payments/{id}/captures", "GET /captures", "GET /captures/{id}",
        "POST /refunds", "GET /refunds", "GET /refunds/{id}",
        "POST /verifications", "GET /verifications", "GET /verifications/{id}",
        "POST /fraudcheck", "GET /fraudcheck", "GET /fraudcheck/{id}",
        "GET /healthcheck/payments", "GET /healthcheck/refunds", "GET /healthcheck/verifications",
    }


def test_every_documented_error_status_of_online_payments_carries_messages(specs):
    """Error statuses answer the one error body; a health check answers its health resource at every status."""
    spec = specs["online-payments"]
    for op in spec.operations.values():
        responses = spec.resolve(op.pointer)["responses"]
        expected = "healthCheckResource" if op.path.startswith("/healthcheck/") else "messages"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                body = spec.deref(response)["content"]["application/json"]["schema"]
                assert body == {"$ref": f"#/components/schemas/{expected}"}, (op.operation_id, status)


@pytest.mark.parametrize(
    ("name", "pointer", "instance", "direction"),
    [
        ("online-payments", "#/components/schemas/payment", "example:V2PaymentPost", "request"),
        ("online-payments", "#/components/schemas/paymentResponse", SEED_PAYMENT_RESPONSE, "response"),
        ("oauth", "#/components/schemas/TokenResponse", SEED_TOKEN, "response"),
        ("oauth", "#/components/schemas/OAuthError", SEED_TOKEN_ERROR, "response"),
        ("global-payments", "#/components/schemas/PaymentInitiationStatus", SEED_REJECTED_CALLBACK, "request"),
        ("pay-by-bank", "#/components/schemas/Payment", PBB_PAYMENT, "response"),
    ],
    ids=["quick-start-request", "quick-start-200", "token", "token-error", "rejected-callback", "pbb-payment"],
)
def test_seed_examples_validate(specs, name, pointer, instance, direction):
    spec = specs[name]
    if isinstance(instance, str):
        instance = next(iter(spec.examples(instance.split(":")[1]).values()))
    assert errors(spec, pointer, instance, direction) == []


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_request_and_callback_example_validates(specs, name):
    spec = specs[name]
    for op_id, op in spec.operations.items():
        body = spec.resolve(op.pointer).get("requestBody")
        if not body:
            continue
        media = next(iter(spec.deref(body)["content"].values()))
        schema_ref = media["schema"]["$ref"]
        direction = "response" if op.webhook else "request"  # the provider sends callbacks: its side's flags
        for example in spec.examples(op_id).values():
            assert errors(spec, schema_ref, example, direction) == [], op_id


def test_response_validation_honours_write_only_card_fields(specs):
    spec = specs["online-payments"]
    # The seed's response has no PAN and no expiry (writeOnly): fine as a response, not as a request.
    assert errors(spec, "#/components/schemas/paymentResponse", SEED_PAYMENT_RESPONSE, "response") == []
    request = copy.deepcopy(next(iter(spec.examples("V2PaymentPost").values())))
    assert errors(spec, "#/components/schemas/payment", request, "request") == []
    del request["paymentMethodType"]["card"]["accountNumber"]
    request_errors = errors(spec, "#/components/schemas/payment", request, "request")
    assert "'accountNumber' is a required property" in request_errors


def with_change(document, path, value):
    changed = copy.deepcopy(document)
    node = changed
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return changed


DELETE = object()


@pytest.mark.parametrize(
    ("name", "pointer", "base", "path", "value", "direction", "expected"),
    [
        ("online-payments", "#/components/schemas/paymentResponse", SEED_PAYMENT_RESPONSE, ("transactionState",),
         "SETTLED", "response", "'SETTLED' is not one of"),
        ("global-payments", "#/components/schemas/PaymentInitiationStatus", SEED_REJECTED_CALLBACK,
         ("callbacks", 0, "paymentStatus"), "LOST", "request", "'LOST' is not one of"),
        ("pay-by-bank", "#/components/schemas/Payment", PBB_PAYMENT, ("status",), "FAILED",
         "response", "'statusMessage' is a required property"),
        ("pay-by-bank", "#/components/schemas/Payment", PBB_PAYMENT, ("statusMessage",), "Settled fine",
         "response", "should not be valid under"),
        ("pay-by-bank", "#/components/schemas/Payment", PBB_PAYMENT, ("paymentLinkURL",), "http://pay.example.com/l/1",
         "response", "does not match"),
        ("pay-by-bank", "#/components/schemas/PaymentCreate", "example:createPayment", ("paymentAmount", "value"),
         "10.505", "request", "does not match"),
        ("pay-by-bank", "#/components/schemas/PaymentCreate", "example:createPayment", ("paymentAmount", "value"),
         "0.01", "request", "does not match"),
        ("pay-by-bank", "#/components/schemas/PaymentCreate", "example:createPayment", ("surprise",), "field",
         "request", "Additional properties are not allowed"),
        ("pay-by-bank", "#/components/schemas/PaymentCreate", "example:createPayment", ("market",), "DE",
         "request", "'debtor' is a required property"),
        ("pay-by-bank", "#/components/schemas/PaymentCreate", "example:createPayment", ("paymentAmount", "currency"),
         "XYZ", "request", "is not a 'iso-4217'"),
        ("pay-by-bank", "#/components/schemas/PaymentCreate", "example:createPayment", ("market",), "ZZ",
         "request", "is not a 'iso-3166-alpha-2'"),
        ("global-payments", "#/components/schemas/PaymentInitiationStatus", SEED_REJECTED_CALLBACK,
         ("callbacks", 0, "exceptions"), DELETE, "request", "'exceptions' is a required property"),
        ("online-payments", "#/components/schemas/paymentResponse", SEED_PAYMENT_RESPONSE, ("transactionDate",),
         "18/09/2023", "response", "is not a 'date-time'"),
        ("online-payments", "#/components/schemas/paymentResponse", SEED_PAYMENT_RESPONSE,
         ("paymentMethodType", "card", "maskedAccountNumber"), "4012000033330026", "response",
         "is not a 'masked-pan'"),
        ("oauth", "#/components/schemas/OAuthError", SEED_TOKEN_ERROR, ("error",), "access_denied",
         "response", "is not one of"),
    ],
    ids=[
        "payment-state-outside-enum", "callback-status-outside-enum", "failed-without-statusMessage",
        "settled-with-statusMessage", "http-payment-link", "amount-three-decimals", "amount-not-above-0.01",
        "unknown-request-field", "debtor-missing-outside-gb", "unknown-currency", "unknown-country",
        "rejected-without-exceptions", "non-iso-date", "full-pan-as-masked", "oauth-error-outside-rfc",
    ],
)
def test_broken_variants_fail_validation(specs, name, pointer, base, path, value, direction, expected):
    spec = specs[name]
    if isinstance(base, str):
        base = next(iter(spec.examples(base.split(":")[1]).values()))
    assert errors(spec, pointer, base, direction) == []
    broken = with_change(base, path, value)
    found = errors(spec, pointer, broken, direction)
    assert any(expected in message for message in found), found


def test_pbb_debtor_is_optional_in_gb_only(specs):
    spec = specs["pay-by-bank"]
    gb = next(iter(spec.examples("createPayment").values()))
    assert errors(spec, "#/components/schemas/PaymentCreate", gb, "request") == []
    debtor = {"name": "A Customer", "account": {"accountId": "DE89370400440532013000", "accountIdType": "IBAN"}}
    de = dict(gb, market="DE", debtor=debtor, paymentAmount={"value": "10.50", "currency": "EUR"})
    assert errors(spec, "#/components/schemas/PaymentCreate", de, "request") == []


def test_a_past_execution_date_and_an_expired_card_are_well_formed_requests(specs):
    """Neither document refuses the past (no `x-not-before`): a past execution date is acknowledged and
    rejected by callback (GP-DECISION-PAST-DATE, scenario GP-SCENARIO-PAST-DATE), an expired card declined
    (OP-DECISION-EXPIRED-CARD-DECLINED, scenario OP-SCENARIO-EXPIRED-CARD)."""
    for name in ("global-payments", "online-payments"):
        assert "x-not-before" not in json.dumps(specs[name].document), name  # the keyword the mock refuses by
    gp = specs["global-payments"]
    initiation = copy.deepcopy(next(iter(gp.examples("initiatePayments").values())))
    initiation["payments"]["requestedExecutionDate"] = "2020-01-15"
    assert errors(gp, "#/components/schemas/PaymentInitationDetails", initiation, "request") == []
    op = specs["online-payments"]
    payment = copy.deepcopy(next(iter(op.examples("V2PaymentPost").values())))
    payment["paymentMethodType"]["card"]["expiry"] = {"month": 1, "year": 2020}
    assert errors(op, "#/components/schemas/payment", payment, "request") == []
