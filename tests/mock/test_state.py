"""State lives in the server: payments are read, captured, voided and refunded; limits and keys hold."""

from __future__ import annotations

import datetime as dt

from mock_support import example, unique, utc_today, wait_until

# -- Online Payments --------------------------------------------------------------------------------------------------


def test_authorize_capture_refund_and_read_back(api):
    auth = api.sale(captureMethod="MANUAL", amount=5000)
    assert auth["transactionState"] == "AUTHORIZED"
    assert auth["remainingAuthAmount"] == 5000 and auth["remainingRefundableAmount"] == 0
    payment_id = auth["transactionId"]

    captured = api.op("POST", f"/payments/{payment_id}/captures", {"amount": 3000})
    assert captured.status_code == 200, captured.text
    body = captured.json()
    assert body["transactionId"] == payment_id
    assert body["transactionState"] == "CLOSED"
    assert body["remainingRefundableAmount"] == 3000
    capture_id = body["paymentRequest"]["captures"][-1]["captureId"]
    assert api.op("GET", f"/captures/{capture_id}").json()["transactionId"] == payment_id

    refund = api.op("POST", "/refunds", _refund(payment_id, 1000))
    assert refund.status_code == 200, refund.text
    assert refund.json()["remainingRefundableAmount"] == 2000
    assert api.op("GET", f"/refunds/{refund.json()['transactionId']}").json() == refund.json()

    second = api.op("POST", "/refunds", _refund(payment_id, 2000))
    assert second.status_code == 200 and second.json()["remainingRefundableAmount"] == 0
    too_much = api.op("POST", "/refunds", _refund(payment_id, 1))
    assert too_much.status_code == 400
    assert too_much.json()["responseStatus"] == "ERROR"

    read = api.op("GET", f"/payments/{payment_id}").json()
    assert read["remainingRefundableAmount"] == 0
    assert [r["amount"] for r in read["paymentRequest"]["refunds"]] == [1000, 2000]
    assert sum(c["amount"] for c in read["paymentRequest"]["captures"]) == 3000


def _refund(payment_id: str, amount: int | None) -> dict:
    body = example("online-payments", "createRefund")
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
    sale = api.sale()
    assert api.op("PATCH", f"/payments/{sale['transactionId']}", {"isVoid": True}).status_code == 400


def test_patch_captures_and_changes_the_amount(api):
    authorization = api.sale(captureMethod="MANUAL", amount=900)
    payment_id = authorization["transactionId"]
    changed = api.op("PATCH", f"/payments/{payment_id}", {"amount": 700})
    assert changed.json()["amount"] == 700 and changed.json()["remainingAuthAmount"] == 700
    captured = api.op("PATCH", f"/payments/{payment_id}", {"isCapture": True})
    assert captured.json()["transactionState"] == "CLOSED"
    assert captured.json()["remainingRefundableAmount"] == 700


def test_request_id_is_idempotent(api):
    body = example("online-payments", "createPayment")
    key = unique("r")
    first = api.op("POST", "/payments", body, request_id=key)
    again = api.op("POST", "/payments", body, request_id=key)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    body["amount"] = 999
    conflict = api.op("POST", "/payments", body, request_id=key)
    assert conflict.status_code == 412
    assert conflict.json()["responseCode"] == "PRECONDITION_FAILED"


# -- Global Payments --------------------------------------------------------------------------------------------------


def test_status_read_by_either_id_and_duplicates(api, receiver):
    body = example("global-payments", "initiatePayment")
    body["requestedExecutionDate"] = utc_today().isoformat()
    body["paymentIdentifiers"]["endToEndId"] = unique("E")
    first = api.gp("POST", "/payments", body)
    assert first.status_code == 202
    ack = first.json()
    assert ack["endToEndId"] == body["paymentIdentifiers"]["endToEndId"]
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"])[-1:] == ["COMPLETED_CREDITED"], what="the last status")
    by_e2e = api.gp("GET", "/payments/status", params={"endToEndId": ack["endToEndId"]}).json()
    by_root = api.gp("GET", "/payments/status", params={"firmRootId": ack["firmRootId"]}).json()
    assert by_e2e == by_root
    assert by_e2e["paymentStatus"] == "COMPLETED_CREDITED"

    again = api.gp("POST", "/payments", body)
    assert again.status_code == 202 and again.json() == ack
    body["value"]["amount"] = "1.00"
    assert api.gp("POST", "/payments", body).status_code == 400
    assert api.gp("GET", "/payments/status").status_code == 400
    both = {"endToEndId": ack["endToEndId"], "firmRootId": ack["firmRootId"]}
    assert api.gp("GET", "/payments/status", params=both).json() == by_e2e
    mismatched = {"endToEndId": ack["endToEndId"], "firmRootId": "00000000-0000-4000-8000-000000000000"}
    assert api.gp("GET", "/payments/status", params=mismatched).status_code == 404
    assert api.gp("GET", "/payments/status", params={"endToEndId": "NOSUCH1"}).status_code == 404


def test_warehoused_stays_warehoused(mock, api, receiver):
    future = (utc_today() + dt.timedelta(days=3)).isoformat()
    ack = api.gp_payment(**{"/requestedExecutionDate": future}).json()
    wait_until(lambda: receiver.gp_statuses(ack["firmRootId"]), what="the first callback")
    assert mock.wait_idle()
    assert receiver.gp_statuses(ack["firmRootId"]) == ["WAREHOUSED"]
    status = api.gp("GET", "/payments/status", params={"firmRootId": ack["firmRootId"]}).json()
    assert status["paymentStatus"] == "WAREHOUSED"


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
