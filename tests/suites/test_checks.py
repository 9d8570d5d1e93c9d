"""Each check on hand-built exchanges: a conforming answer passes, an answer breaking exactly its rule fails.

These are the checks as pure functions; test_certify.py proves them against real servers (the mock with
each fault of its catalogue, and a proxy that breaks the rules no fault covers).
"""

from __future__ import annotations

import copy

import pytest

from conformance import load_spec
from conformance.checks import CHECKS, Call, Delivery, Judge, callback_retry, catalogue, scenario_outcome, view

CARD = "4012000033330026"


def payment_answer(**changes):
    body = {
        "transactionId": "9f186d77-cb1b-4a9f-bb44-b5be91b891ac", "requestId": "req-1", "transactionState": "CLOSED",
        "responseStatus": "SUCCESS", "responseCode": "APPROVED", "responseMessage": "Transaction approved",
        "paymentMethodType": {"card": {"cardType": "VI", "maskedAccountNumber": "401200XXXXXX0026"}},
        "amount": 1234, "currency": "USD", "remainingRefundableAmount": 1234,
        "transactionDate": "2024-05-01T10:15:30Z",
        "merchant": {"merchantSoftware": {"companyName": "Payment Company", "productName": "Application Name"}},
        "paymentRequest": {"paymentRequestId": "pr-1", "paymentRequestStatus": "CLOSED",
                           "captures": [{"captureId": "c-1", "amount": 1234, "transactionStatusCode": "CLOSED"}]},
    }
    body.update(changes)
    return body


def create_payment(specs, answer=None, status=200, headers=None, **call_fields):
    request = copy.deepcopy(specs["online-payments"].examples("V2PaymentPost")["quickStartCardSale"])
    request["paymentMethodType"]["card"]["cvv"] = "123"
    return Call(api="online-payments", operation_id="V2PaymentPost", method="POST",
                url="http://provider/api/v2/payments", request_headers={"request-id": "req-1",
                                                                         "merchant-id": "998482157630"},
                request_body=request, status=status,
                response_headers=headers or {"Content-Type": "application/json"},
                response_body=answer if answer is not None else payment_answer(),
                response_text="{}", **call_fields)


def failed_rules(results):
    return {result.rule_id for result in results if not result.passed}


def passed_rules(results):
    return {result.rule_id for result in results if result.passed}


@pytest.fixture
def judge(specs):
    return Judge(specs.values())


def test_conforming_payment_answer_passes_every_answer_check(judge, specs):
    results = judge.answer(create_payment(specs))
    assert failed_rules(results) == set()
    assert {"OP-DOCUMENTED-STATUS", "OP-CONTENT-TYPE", "OP-REQUIRED-FIELDS", "OP-STATUS-ENUM", "OP-FIELD-FORMAT",
            "OP-RESPONSE-ECHOES-REQUEST-ID", "OP-MASKED-PAN-MATCHES-CARD", "OP-NO-CARD-DATA",
            "OP-REMAINING-REFUNDABLE-NOT-ABOVE-AMOUNT", "OP-PAYMENT-STATE-TRANSITIONS"} <= passed_rules(results)


@pytest.mark.parametrize(("change", "rule"), [
    (lambda b: b.pop("responseMessage"), "OP-REQUIRED-FIELDS"),
    (lambda b: b.update(transactionState="SETTLED"), "OP-STATUS-ENUM"),
    (lambda b: b["paymentRequest"].update(paymentRequestStatus="COMPLETED"), "OP-STATUS-ENUM"),
    (lambda b: b.update(transactionDate="09/18/2023 18:04:26"), "OP-FIELD-FORMAT"),
    (lambda b: b.update(transactionId=42), "OP-RESPONSE-SCHEMA"),
    (lambda b: b.update(requestId="another"), "OP-RESPONSE-ECHOES-REQUEST-ID"),
    (lambda b: b.update(amount=999), "OP-RESPONSE-ECHOES-AMOUNT"),
    (lambda b: b.update(currency="EUR"), "OP-RESPONSE-ECHOES-CURRENCY"),
    (lambda b: b["paymentMethodType"]["card"].update(maskedAccountNumber="401200XXXXXX9999"),
     "OP-MASKED-PAN-MATCHES-CARD"),
    (lambda b: b["paymentMethodType"]["card"].update(accountNumber=CARD), "OP-NO-CARD-DATA"),
    (lambda b: b["paymentMethodType"]["card"].update(cvv="123"), "OP-NO-CARD-DATA"),
    (lambda b: b.update(remainingRefundableAmount=5000), "OP-REMAINING-REFUNDABLE-NOT-ABOVE-AMOUNT"),
    (lambda b: b.update(transactionState="VOIDED"), "OP-PAYMENT-STATE-TRANSITIONS"),
])
def test_an_answer_breaking_one_rule_fails_that_rule(judge, specs, change, rule):
    answer = payment_answer()
    change(answer)
    call = create_payment(specs, answer)
    call.response_text = str(answer)
    assert rule in failed_rules(judge.answer(call))


def test_undocumented_status_and_content_type(judge, specs):
    results = judge.answer(create_payment(specs, status=418))
    assert "OP-DOCUMENTED-STATUS" in failed_rules(results)
    results = judge.answer(create_payment(specs, headers={"Content-Type": "text/plain"}))
    assert failed_rules(results) == {"OP-CONTENT-TYPE"}


def test_non_json_body_fails_the_response_schema(judge, specs):
    call = create_payment(specs, answer=None)
    from conformance.checks import NOT_JSON

    call.response_body, call.response_text = NOT_JSON, "<html>oops</html>"
    assert "OP-RESPONSE-SCHEMA" in failed_rules(judge.answer(call))


def test_server_error_unless_a_scenario_asked_for_it(judge, specs):
    error = {"responseStatus": "ERROR", "responseCode": "SYSTEM_ERROR"}
    assert "OP-NO-SERVER-ERROR" in failed_rules(judge.answer(create_payment(specs, error, status=500)))
    asked = create_payment(specs, error, status=500, expected_statuses=(500,))
    assert "OP-NO-SERVER-ERROR" in passed_rules(judge.answer(asked))


def test_error_shapes_per_family(judge, specs):
    good = {"responseStatus": "ERROR", "responseCode": "INVALID_REQUEST"}
    assert "OP-ERROR-SHAPE" in passed_rules(judge.answer(create_payment(specs, good, status=400)))
    assert "OP-ERROR-SHAPE" in failed_rules(judge.answer(create_payment(specs, {"error": "bad"}, status=400)))
    # Pay By Bank: a request breaking `required` carries 10001, not 10199.
    pbb = Call(api="pay-by-bank", operation_id="createPayment", method="POST", url="http://p/payments",
               request_body={}, status=400, response_headers={"Content-Type": "application/json"},
               intent="invalid", invalid_keyword="required")
    pbb.response_body = {"errors": [{"code": "10001", "message": "paymentAmount is required"}]}
    assert failed_rules(judge.answer(pbb)) == set()
    pbb.response_body = {"errors": [{"code": "10199", "message": "paymentAmount is required"}]}
    assert failed_rules(judge.answer(pbb)) == {"PBB-ERROR-SHAPE"}


def test_oauth_errors_travel_with_their_rfc_6749_status(judge):
    def token_error(status, body, headers):
        return Call(api="oauth", operation_id="requestAccessToken", method="POST", url="http://p/token",
                    status=status, response_headers={"Content-Type": "application/json", **headers},
                    response_body=body)

    good = token_error(401, {"error": "invalid_client"}, {"WWW-Authenticate": "Basic"})
    assert failed_rules(judge.answer(good)) == set()
    no_header = token_error(401, {"error": "invalid_client"}, {})
    assert failed_rules(judge.answer(no_header)) == {"OAUTH-ERROR-SHAPE"}
    wrong_status = token_error(400, {"error": "invalid_client"}, {})
    assert failed_rules(judge.answer(wrong_status)) == {"OAUTH-ERROR-SHAPE"}


def test_invalid_requests_must_be_refused_with_4xx(judge, specs):
    accepted = create_payment(specs, intent="invalid", invalid_keyword="required")
    assert "OP-REJECTS-INVALID-REQUEST" in failed_rules(judge.answer(accepted))
    refused = create_payment(specs, {"responseStatus": "ERROR", "responseCode": "BAD"}, status=400,
                             intent="invalid", invalid_keyword="required")
    assert "OP-REJECTS-INVALID-REQUEST" in passed_rules(judge.answer(refused))


def test_bad_credentials_must_get_the_documented_status(judge, specs):
    let_in = create_payment(specs, intent="auth", expected_statuses=(401,))
    assert "OP-AUTH-ENFORCED" in failed_rules(judge.answer(let_in))
    refused = create_payment(specs, {"responseStatus": "ERROR", "responseCode": "UNAUTHORIZED"}, status=401,
                             intent="auth", expected_statuses=(401,))
    assert failed_rules(judge.answer(refused)) == set()


def test_refunds_never_add_up_above_what_was_captured(judge, specs):
    read = Call(api="online-payments", operation_id="V2PaymentByIdGet", method="GET", url="http://p/payments/x",
                path_parameters={"id": payment_answer()["transactionId"]}, status=200,
                response_headers={"Content-Type": "application/json"}, response_body=payment_answer())
    assert failed_rules(judge.answer(read)) == set()

    def refund(amount):
        request = {"amount": amount, "currency": "USD", "merchant": {"merchantSoftware": {
            "companyName": "Payment Company", "productName": "Application Name"}},
            "paymentMethodType": {"transactionReference": {"transactionReferenceId": read.path_parameters["id"]}}}
        answer = {"requestId": "r", "transactionState": "CLOSED", "amount": amount, "currency": "USD",
                  "responseStatus": "SUCCESS", "responseCode": "APPROVED", "responseMessage": "ok"}
        return Call(api="online-payments", operation_id="V2RefundPost", method="POST", url="http://p/refunds",
                    request_headers={"request-id": "r"}, request_body=request, status=200,
                    response_headers={"Content-Type": "application/json"}, response_body=answer)

    assert "OP-REFUNDS-NOT-ABOVE-CAPTURED" in passed_rules(judge.answer(refund(1000)))
    assert "OP-REFUNDS-NOT-ABOVE-CAPTURED" in failed_rules(judge.answer(refund(500)))


def pbb_payment(status, **changes):
    body = {"id": "p-1", "status": status, "statusUpdatedAt": "2024-05-01T10:15:30Z",
            "createdAt": "2024-05-01T10:14:02Z", "paymentLinkURL": "https://pay.example.com/l/1",
            "paymentQRCode": "https://pay.example.com/q/1.png"}
    if status == "FAILED":
        body["statusMessage"] = "rejected"
    body.update(changes)
    return body


def callback(api, webhook, body):
    operation = view(load_spec(api)).webhooks[webhook]
    return Delivery(api=api, webhook=webhook, operation_id=operation, body=body)


def test_callback_sequences_follow_the_rules_table(judge):
    for status in ("NONE", "SENT", "SETTLED"):
        assert failed_rules(judge.callback(callback("pay-by-bank", "payments", pbb_payment(status)))) == set()
    left_final = judge.callback(callback("pay-by-bank", "payments", pbb_payment("FAILED")))
    assert "PBB-PAYMENT-STATUS-TRANSITIONS" in failed_rules(left_final)
    skipping = [callback("pay-by-bank", "payments", pbb_payment(s, id="p-2")) for s in ("NONE", "SETTLED")]
    judge.callback(skipping[0])
    assert "PBB-PAYMENT-STATUS-TRANSITIONS" in failed_rules(judge.callback(skipping[1]))


def test_first_callback_status(judge):
    assert "PBB-FIRST-PAYMENT-CALLBACK-NONE" in failed_rules(
        judge.callback(callback("pay-by-bank", "payments", pbb_payment("SENT", id="p-9"))))
    assert "PBB-FIRST-PAYMENT-CALLBACK-NONE" in passed_rules(
        judge.callback(callback("pay-by-bank", "payments", pbb_payment("NONE", id="p-10"))))


def test_conditional_fields_and_time_order_in_callbacks(judge):
    settled_with_message = pbb_payment("SETTLED", id="p-3", statusMessage="should not be here")
    assert "PBB-PAYMENT-STATUS-MESSAGE-CONDITIONAL" in failed_rules(
        judge.callback(callback("pay-by-bank", "payments", settled_with_message)))
    backwards = pbb_payment("NONE", id="p-4", createdAt="2024-05-01T11:00:00Z")
    assert "PBB-CREATED-NOT-AFTER-STATUS-UPDATE" in failed_rules(
        judge.callback(callback("pay-by-bank", "payments", backwards)))
    record = {"endToEndId": "E2E1", "createDateTime": "2023-07-27T07:41:54.773Z", "paymentStatus": "REJECTED",
              "firmRootId": "53038faa-43f6-42fc-9545-648fd2dab411"}
    assert "GP-CALLBACK-EXCEPTIONS-CONDITIONAL" in failed_rules(
        judge.callback(callback("global-payments", "paymentInitiationStatus", {"callbacks": [record]})))


def test_callbacks_correlate_with_what_the_suite_created(judge):
    record = {"endToEndId": "E2E2", "createDateTime": "2023-07-27T07:41:54.773Z", "paymentStatus": "PENDING",
              "firmRootId": "53038faa-43f6-42fc-9545-648fd2dab412"}
    judge.callback(callback("global-payments", "paymentInitiationStatus", {"callbacks": [record]}))
    judge.add_source("global-payments", "GP-CALLBACK-CORRELATES-WITH-INITIATION",
                     [("endToEndId", "E2E2"), ("firmRootId", record["firmRootId"])])
    stranger = dict(record, endToEndId="E2E3", firmRootId="53038faa-43f6-42fc-9545-648fd2dab413")
    judge.callback(callback("global-payments", "paymentInitiationStatus", {"callbacks": [stranger]}))
    settled = judge.settle("global-payments")
    assert [r.passed for r in settled] == [True, False]


def test_callback_retry_judgement(specs):
    known = view(specs["global-payments"])
    growing = [(0.0, 500), (0.05, 500), (0.15, 500), (0.35, 200)]
    assert [r.passed for r in callback_retry(known, growing, 3, settled=True)] == [True]
    never = [(0.0, 500)]
    assert [r.passed for r in callback_retry(known, never, 3, settled=True)] == [False]
    flat = [(0.0, 500), (0.2, 500), (0.4, 500), (0.45, 200)]
    assert [r.passed for r in callback_retry(known, flat, 3, settled=True)] == [False]
    after_success = [*growing, (0.5, 200)]
    assert [r.passed for r in callback_retry(known, after_success, 3, settled=True)] == [False]
    # A pause of the receiving process lengthens one gap: 0.25, 0.63, 1.56 s seen on a loaded machine.
    first_stretched = [(0.0, 500), (1.32, 500), (1.962, 500), (3.531, 200)]
    assert [r.passed for r in callback_retry(known, first_stretched, 3, settled=True)] == [True]
    # ... which makes a constant interval no more of a back-off.
    flat_stretched = [(0.0, 500), (1.3, 500), (1.7, 500), (2.1, 200)]
    assert [r.passed for r in callback_retry(known, flat_stretched, 3, settled=True)] == [False]


def test_scenario_outcome_matches_subsets_and_callback_order(specs):
    scenario = specs["pay-by-bank"].rules.scenario("PBB-SCENARIO-FAILED")
    good = [("NONE", {}), ("SENT", {}), ("FAILED", {"statusMessage": "Payment rejected by the debtor's bank"})]
    assert [r.passed for r in scenario_outcome(scenario, 201, {}, good)] == [True]
    assert [r.passed for r in scenario_outcome(scenario, 201, {}, good[:2])] == [False]
    assert [r.passed for r in scenario_outcome(scenario, 400, {}, good)] == [False]


def test_status_coverage_reports_the_gaps(judge):
    seen = {"PaymentStatus": {"NONE", "SENT", "SETTLED", "FAILED", "CANCELLED"}, "PayoutStatus": {"PENDING"}}
    [result] = judge.coverage("pay-by-bank", seen)
    assert not result.passed and "COMPLETED, FAILED" in result.observed
    seen["PayoutStatus"] |= {"COMPLETED", "FAILED"}
    assert [r.passed for r in judge.coverage("pay-by-bank", seen)] == [True]


def test_every_check_is_named_documented_and_in_the_catalogue(specs):
    for registered in CHECKS.values():
        assert registered.description, f"{registered.name} has no docstring"
    ids = {rule for spec in specs.values() for rule, _ in catalogue(spec)}
    for spec in specs.values():
        for entry in spec.rules.scenarios:
            assert entry.id in ids
    assert {"OP-NO-CARD-DATA", "GP-CALLBACK-RETRY", "PBB-STATUS-COVERAGE", "OAUTH-ERROR-SHAPE"} <= ids


def gp_initiation(specs, answer, status=202, **call_fields):
    request = copy.deepcopy(specs["global-payments"].examples("initiatePayments")["ukFasterPayments"])
    return Call(api="global-payments", operation_id="initiatePayments", method="POST",
                url="http://provider/tsapi/v1/payments", request_body=request, status=status,
                response_headers={"Content-Type": "application/json"}, response_body=answer,
                response_text=str(answer), **call_fields)


def test_global_payments_acknowledgement_and_errors_in_the_published_shapes(judge, specs):
    sent = specs["global-payments"].examples("initiatePayments")["ukFasterPayments"]["payments"]
    end_to_end_id = sent["paymentIdentifiers"]["endToEndId"]
    ack = {"paymentInitiationResponse": {"endToEndId": end_to_end_id, "firmRootId": "xatv-12522a-cqvf-991"}}
    assert failed_rules(judge.answer(gp_initiation(specs, ack))) == set()
    another = {"paymentInitiationResponse": dict(ack["paymentInitiationResponse"], endToEndId="ANOTHER0001")}
    assert failed_rules(judge.answer(gp_initiation(specs, another))) == {"GP-ACK-ECHOES-END-TO-END-ID"}
    earlier_shape = ack["paymentInitiationResponse"]  # the fields at the top, as our earlier document had them
    assert "GP-REQUIRED-FIELDS" in failed_rules(judge.answer(gp_initiation(specs, earlier_shape)))

    def refused(code):
        body = {"errors": {"endToEndId": end_to_end_id, "errorDetails": [
            {"errorCode": code, "errorDescription": "Error occurred on '/payments/debtor'"}]}}
        return gp_initiation(specs, body, status=400, intent="invalid", invalid_keyword="required")

    # A request breaking `required` is refused with 10001 (the published 400 table, GP rules table).
    assert failed_rules(judge.answer(refused("10001"))) == set()
    assert failed_rules(judge.answer(refused("10008"))) == {"GP-ERROR-SHAPE"}
