"""State lives in the server: payments are read, captured, voided and refunded; limits and keys hold."""

from __future__ import annotations

import datetime as dt

import httpx
from mock_support import example, gp_ack, unique, utc_today, wait_until

# -- Online Payments --------------------------------------------------------------------------------------------------


def test_authorize_capture_refund_and_read_back(api):
    auth = api.sale(captureMethod="MANUAL", amount=5000)
    assert auth["transactionState"] == "AUTHORIZED"
    assert auth["paymentRequest"]["paymentRequestStatus"] == "PENDING"
    assert auth["remainingAuthAmount"] == 5000 and auth["remainingRefundableAmount"] == 0
    payment_id = auth["transactionId"]

    capture_request = unique("r")
    captured = api.op("POST", f"/payments/{payment_id}/captures", {"amount": 3000}, request_id=capture_request)
    assert captured.status_code == 200, captured.text
    capture = captured.json()
    # A capture is a transaction of its own: its id, the amount captured, the payment's records.
    assert capture["transactionId"] != payment_id and capture["requestId"] == capture_request
    assert capture["transactionState"] == "CLOSED" and capture["amount"] == 3000
    assert capture["remainingRefundableAmount"] == 3000 and capture["remainingAuthAmount"] == 0
    assert capture["paymentRequest"]["paymentRequestStatus"] == "CLOSED"
    assert [c["amount"] for c in capture["paymentRequest"]["captures"]] == [3000]
    assert api.op("GET", f"/captures/{capture['transactionId']}").json() == capture
    assert api.op("GET", "/captures", params={"requestIdentifier": capture_request}).json() == capture

    refund_request = unique("r")
    refund = api.op("POST", "/refunds", _refund(payment_id, 1000), request_id=refund_request)
    assert refund.status_code == 200, refund.text
    assert refund.json()["remainingRefundableAmount"] == 2000
    assert refund.json()["transactionReferenceId"] == payment_id
    assert api.op("GET", f"/refunds/{refund.json()['transactionId']}").json() == refund.json()
    assert api.op("GET", "/refunds", params={"requestIdentifier": refund_request}).json() == refund.json()

    second = api.op("POST", "/refunds", _refund(payment_id, 2000))
    assert second.status_code == 200 and second.json()["remainingRefundableAmount"] == 0
    too_much = api.op("POST", "/refunds", _refund(payment_id, 1))
    assert too_much.status_code == 400
    assert too_much.json()["responseStatus"] == "ERROR"

    read = api.op("GET", f"/payments/{payment_id}").json()
    assert read["transactionState"] == "CLOSED"
    assert read["remainingRefundableAmount"] == 0
    assert [r["amount"] for r in read["paymentRequest"]["refunds"]] == [1000, 2000]
    assert sum(c["amount"] for c in read["paymentRequest"]["captures"]) == 3000


def test_a_multi_capture_keeps_the_payment_authorized_until_the_final_capture(api):
    payment_id = api.sale(captureMethod="MANUAL", amount=1234)["transactionId"]
    first = api.op("POST", f"/payments/{payment_id}/captures", example("online-payments", "V2CapturePost",
                                                                        "firstOfTwo"))
    assert first.status_code == 200, first.text
    assert first.json()["amount"] == 600 and first.json()["remainingAuthAmount"] == 634
    assert first.json()["paymentRequest"]["paymentRequestStatus"] == "OPEN"
    payment = api.op("GET", f"/payments/{payment_id}").json()
    assert payment["transactionState"] == "AUTHORIZED" and payment["paymentRequest"]["paymentRequestStatus"] == "OPEN"
    assert payment["remainingAuthAmount"] == 634 and payment["remainingRefundableAmount"] == 600

    final = api.op("POST", f"/payments/{payment_id}/captures", example("online-payments", "V2CapturePost",
                                                                        "finalOfTwo"))
    assert final.status_code == 200, final.text
    assert final.json()["amount"] == 634 and final.json()["remainingAuthAmount"] == 0
    assert final.json()["paymentRequest"]["paymentRequestStatus"] == "CLOSED"
    payment = api.op("GET", f"/payments/{payment_id}").json()
    assert payment["transactionState"] == "CLOSED" and payment["remainingRefundableAmount"] == 1234
    assert api.op("POST", f"/payments/{payment_id}/captures", {"amount": 1}).status_code == 400


def _refund(payment_id: str, amount: int | None) -> dict:
    body = example("online-payments", "V2RefundPost")  # a refund of an earlier payment (transactionReference)
    body["paymentMethodType"]["transactionReference"]["transactionReferenceId"] = payment_id
    if amount is None:
        del body["amount"]
    else:
        body["amount"] = amount
    return body


def test_refund_without_amount_takes_what_is_left(api):
    payment = api.sale(amount=800)
    refund = api.op("POST", "/refunds", _refund(payment["transactionId"], None))
    assert refund.status_code == 200 and refund.json()["amount"] == 800


def test_refunds_cannot_exceed_what_was_captured(api):
    payment = api.sale(amount=1234)
    assert api.op("POST", "/refunds", _refund(payment["transactionId"], 1235)).status_code == 400
    authorization = api.sale(captureMethod="MANUAL")
    assert api.op("POST", "/refunds", _refund(authorization["transactionId"], 1)).status_code == 400
    assert api.op("POST", "/refunds", _refund(unique("missing"), 1)).status_code == 404


def test_void_and_what_cannot_be_done_after(api):
    authorization = api.sale(captureMethod="MANUAL")
    payment_id = authorization["transactionId"]
    voided = api.op("PATCH", f"/payments/{payment_id}", {"isVoid": True})
    assert voided.status_code == 200
    assert voided.json()["transactionState"] == "VOIDED" and voided.json()["isVoid"] is True
    assert api.op("POST", f"/payments/{payment_id}/captures", {}).status_code == 400
    assert api.op("PATCH", f"/payments/{payment_id}", {"isVoid": True}).status_code == 400
    sale = api.sale()  # CLOSED: the machine has no CLOSED -> VOIDED
    assert api.op("PATCH", f"/payments/{sale['transactionId']}", {"isVoid": True}).status_code == 400


def test_voiding_a_delayed_capture_cancels_the_capture(api):
    delayed = api.sale(captureMethod="DELAYED")
    assert delayed["transactionState"] == "AUTHORIZED" and delayed["captureTime"] > delayed["transactionDate"]
    assert [c["transactionStatusCode"] for c in delayed["paymentRequest"]["captures"]] == ["RECEIVED"]
    voided = api.op("PATCH", f"/payments/{delayed['transactionId']}", {"isVoid": True})
    assert voided.status_code == 200, voided.text
    assert [c["transactionStatusCode"] for c in voided.json()["paymentRequest"]["captures"]] == ["CANCELLED"]


def test_patch_captures_and_changes_the_amount(api):
    authorization = api.sale(captureMethod="MANUAL", amount=900)
    payment_id = authorization["transactionId"]
    changed = api.op("PATCH", f"/payments/{payment_id}", {"amount": 700})
    assert changed.json()["amount"] == 700 and changed.json()["remainingAuthAmount"] == 700
    captured = api.op("PATCH", f"/payments/{payment_id}", {"captureMethod": "NOW"})
    assert captured.json()["transactionState"] == "CLOSED"
    assert captured.json()["remainingRefundableAmount"] == 700
    assert api.op("PATCH", f"/payments/{payment_id}", {"amount": 600}).status_code == 400  # CLOSED: final


def test_request_id_is_idempotent(api):
    body = example("online-payments", "V2PaymentPost")
    key = unique("r")
    first = api.op("POST", "/payments", body, request_id=key)
    again = api.op("POST", "/payments", body, request_id=key)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    body["amount"] = 999
    conflict = api.op("POST", "/payments", body, request_id=key)
    assert conflict.status_code == 412
    assert conflict.json()["responseCode"] == "PRECONDITION_FAILED"
    assert api.op("GET", "/payments", params={"requestIdentifier": key}).json() == first.json()


# -- Global Payments --------------------------------------------------------------------------------------------------


def _status(api, **selector) -> httpx.Response:
    return api.gp("GET", "/payments/status", params=selector)


def _error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["errorDetails"][0]["errorCode"]


def test_status_read_by_either_id_and_duplicates(api, receiver):
    body = example("global-payments", "initiatePayments")
    body["payments"]["requestedExecutionDate"] = utc_today().isoformat()
    body["payments"]["paymentIdentifiers"]["endToEndId"] = unique("E")
    first = api.gp("POST", "/payments", body)
    ack = gp_ack(first)
    assert ack["endToEndId"] == body["payments"]["paymentIdentifiers"]["endToEndId"]
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"])[-1:] == ["COMPLETED"], what="the last status")
    by_e2e = _status(api, endToEndId=ack["endToEndId"]).json()
    by_root = _status(api, firmRootId=ack["firmRootId"]).json()
    assert by_e2e == by_root
    assert by_e2e["paymentStatus"]["status"] == "COMPLETED"

    again = api.gp("POST", "/payments", body)
    assert again.status_code == 202 and again.json() == first.json()
    body["payments"]["paymentAmount"] = 1.5
    conflict = api.gp("POST", "/payments", body)
    assert conflict.status_code == 400 and conflict.json()["errors"]["errorDetails"][0]["errorCode"] == "10009"
    missing = _status(api)
    assert missing.status_code == 400 and _error_code(missing) == "GCA-095"
    assert _status(api, endToEndId=ack["endToEndId"], firmRootId=ack["firmRootId"]).json() == by_e2e
    mismatched = _status(api, endToEndId=ack["endToEndId"], firmRootId="00000000-0000-4000-8000-000000000000")
    assert mismatched.status_code == 400 and _error_code(mismatched) == "10009"
    unknown = _status(api, endToEndId="NOSUCH1")
    assert unknown.status_code == 400 and _error_code(unknown) == "10009"


def test_warehoused_stays_warehoused(mock, api, receiver):
    future = (utc_today() + dt.timedelta(days=3)).isoformat()
    ack = api.gp_initiated(**{"/payments/requestedExecutionDate": future})
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"]), what="the first callback")
    assert mock.wait_idle()
    assert receiver.gp_statuses(ack["firmRootId"]) == ["WAREHOUSED"]
    status = _status(api, firmRootId=ack["firmRootId"]).json()
    assert status["paymentStatus"]["status"] == "WAREHOUSED"


# -- Pay By Bank ------------------------------------------------------------------------------------------------------


def _payout(source_id: str, value: str, currency: str = "GBP") -> dict:
    body = example("pay-by-bank", "createPayout")
    body["sourcePaymentId"] = source_id
    body["amount"] = {"value": value, "currency": currency}
    return body


def test_payouts_need_a_settled_payment_and_stay_within_it(api, receiver):
    created = api.pbb_payment()
    payment_id = created.json()["id"]
    early = api.pbb("POST", "/payouts", _payout(payment_id, "1.00"))  # still NONE or SENT
    assert early.status_code == 400 and early.json()["errors"][0]["code"] == "11400"
    wait_until(lambda: api.pbb("GET", f"/payments/{payment_id}").json()["status"] == "SETTLED", what="settlement")

    first = api.pbb("POST", "/payouts", _payout(payment_id, "6.00"))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "PENDING" and first.json()["sourcePaymentId"] == payment_id
    assert api.pbb("GET", f"/payouts/{first.json()['id']}").status_code == 200
    over = api.pbb("POST", "/payouts", _payout(payment_id, "4.51"))  # 6.00 + 4.51 > 10.50
    assert over.status_code == 400 and over.json()["errors"][0]["code"] == "11400"
    exact = api.pbb("POST", "/payouts", _payout(payment_id, "4.50"))
    assert exact.status_code == 201
    assert api.pbb("POST", "/payouts", _payout(payment_id, "1.00", "EUR")).status_code == 400
    assert api.pbb("POST", "/payouts", _payout(unique("nopayment"), "1.00")).status_code == 400


def test_idempotency_key(api):
    body = example("pay-by-bank", "createPayment")
    key = unique("k")
    first = api.pbb("POST", "/payments", body, key=key)
    again = api.pbb("POST", "/payments", body, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    body["reference"] = "ANOTHER"
    conflict = api.pbb("POST", "/payments", body, key=key)
    assert conflict.status_code == 400
    assert conflict.json()["errors"][0]["code"] == "10106"
