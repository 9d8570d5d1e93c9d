"""Issue 14's journal: every request the mock served, bounded, shown only behind the admin credentials
and redacted (card numbers masked, CVVs and expiry dates dropped, credentials hidden)."""

from __future__ import annotations

import httpx
from hostile_support import ADMIN, LIMITS, MERCHANT_ID, PATIENCE, example, token

from conformance.mock import MockServer

PAN = "4012000033330026"


def test_the_journal_keeps_the_last_requests_redacted():
    with MockServer(limits=LIMITS, journal_size=3) as mock:
        bearer = f"Bearer {token(mock)}"
        sale = example("online-payments", "V2PaymentPost")
        sale["paymentMethodType"]["card"].update(accountNumber=PAN, cvv="123", expiry={"month": 5, "year": 2033})
        created = httpx.post(mock.base_url("online-payments") + "/payments", json=sale, timeout=PATIENCE,
                             headers={"authorization": bearer, "merchant-id": MERCHANT_ID, "request-id": "j-1"})
        assert created.status_code == 200, created.text
        missing = httpx.get(mock.base_url("pay-by-bank") + "/payments/nope", timeout=PATIENCE,
                            headers={"authorization": bearer})
        assert missing.status_code == 404
        assert httpx.get(mock.origin + "/_mock/journal", timeout=PATIENCE).status_code == 401
        journal = httpx.get(mock.origin + "/_mock/journal", auth=ADMIN, timeout=PATIENCE).json()
    requests = journal["requests"]
    assert journal["size"] == 3 and len(requests) == 3  # the token request fell out of the ring
    create, read, refused = requests
    assert (create["method"], create["path"], create["status"]) == ("POST", "/api/v2/payments", 200)
    assert (create["api"], create["operation"]) == ("online-payments", "V2PaymentPost")
    assert (read["api"], read["operation"], read["status"]) == ("pay-by-bank", "getPayment", 404)
    assert (refused["path"], refused["status"]) == ("/_mock/journal", 401)
    assert create["headers"]["authorization"] == "Bearer [REDACTED]"
    text = create["body"]["text"]
    assert "401200XXXXXX0026" in text and PAN not in text
    assert "cvv" not in text and "expiry" not in text
    assert create["body"]["bytes"] > len(text) // 2
