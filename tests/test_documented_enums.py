"""Every enum listed in shared/reference/api-facts.md appears in the specs with exactly the documented values.

The lists below are copied from api-facts.md, in its order: they are the statement of what the
provider documents, and the specs must match them value for value.
"""

from __future__ import annotations

import pytest

DOCUMENTED_ENUMS = [
    # Online Payments
    ("online-payments", "#/components/schemas/Card/properties/accountNumberType",
     ["PAN", "NETWORK_TOKEN", "DEVICE_TOKEN", "SAFETECH_TOKEN", "SAFETECH_PAGE_ENCRYPTION"]),
    ("online-payments", "#/components/schemas/CaptureMethod", ["NOW", "DELAYED", "MANUAL"]),
    ("online-payments", "#/components/schemas/InitiatorType", ["CARDHOLDER", "MERCHANT"]),
    ("online-payments", "#/components/schemas/AccountOnFile", ["NOT_STORED", "STORED", "TO_BE_STORED"]),
    ("online-payments", "#/components/schemas/TransactionState",
     ["AUTHORIZED", "VOIDED", "PENDING", "DECLINED", "CLOSED", "ERROR"]),
    ("online-payments", "#/components/schemas/ResponseStatus", ["SUCCESS", "DENIED", "ERROR"]),
    ("online-payments", "#/components/schemas/Card/properties/cardType",
     ["VI", "MC", "AX", "DI", "JC", "DC", "CC", "CZ", "CR", "IM", "SP", "PP", "EP", "AP", "NP", "VR", "MR", "CB",
      "DP"]),
    ("online-payments", "#/components/schemas/Card/properties/cardTypeName",
     ["VISA", "MASTERCARD", "AMERICAN_EXPRESS", "DISCOVER", "JCB", "DINERS_CLUB",
      "CHINA_UNION_PAY"]),
    ("online-payments", "#/components/schemas/PaymentRequestInfo/properties/paymentRequestStatus",
     ["PENDING", "OPEN", "CLOSED", "CANCELLED"]),
    ("online-payments", "#/components/schemas/Authorization/properties/transactionStatusCode",
     ["AUTHORIZED", "VOIDED", "CAPTURED", "FAILED"]),
    ("online-payments", "#/components/schemas/Authorization/properties/authorizationType",
     ["INITIAL", "REAUTH", "INCREMENTAL"]),
    ("online-payments", "#/components/schemas/Capture/properties/transactionStatusCode",
     ["RECEIVED", "CLOSED", "CANCELLED"]),
    ("online-payments", "#/components/schemas/RefundRecord/properties/transactionStatusCode",
     ["RECEIVED", "CLOSED", "CANCELLED"]),
    ("online-payments", "#/components/schemas/Health/properties/status", ["PASS", "FAIL", "WARN"]),
    # Global Payments
    ("global-payments", "#/components/schemas/PaymentStatus",
     ["PENDING", "PENDING_POSTING", "COMPLETED", "COMPLETED_CREDITED", "REJECTED", "RETURNED", "BLOCKED",
      "WAREHOUSED"]),
    ("global-payments", "#/components/schemas/PaymentInitiation/properties/transferType", ["CREDIT"]),
    ("global-payments", "#/components/schemas/PaymentInitiation/properties/paymentType", ["RTP", "WIRE", "ACH"]),
    # Pay By Bank
    ("pay-by-bank", "#/components/schemas/PaymentCreate/properties/paymentType",
     ["RTP", "LOW_VALUE_RETAIL", "HIGH_VALUE_BUSINESS"]),
    ("pay-by-bank", "#/components/schemas/PaymentStatus", ["NONE", "SENT", "SETTLED", "FAILED", "CANCELLED"]),
    ("pay-by-bank", "#/components/schemas/PayoutCreate/properties/payoutType", ["REFUND", "WITHDRAWAL"]),
    ("pay-by-bank", "#/components/schemas/Payout/properties/payoutType", ["REFUND", "WITHDRAWAL"]),
    ("pay-by-bank", "#/components/schemas/PayoutStatus", ["PENDING", "COMPLETED", "FAILED"]),
    ("pay-by-bank", "#/components/schemas/Account/properties/accountIdType", ["SORT_CODE", "IBAN"]),
    ("pay-by-bank", "#/components/schemas/ErrorCode",
     ["10001", "10002", "10003", "10004", "10100", "10101", "10102", "10103", "10104", "10105", "10106", "10199",
      "11400"]),
    # OAuth (RFC 6749 5.2)
    ("oauth", "#/components/schemas/OAuthError/properties/error",
     ["invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
      "invalid_scope"]),
    ("oauth", "#/components/schemas/TokenResponse/properties/token_type", ["Bearer"]),
    ("oauth", "#/components/schemas/TokenRequest/properties/grant_type", ["client_credentials"]),
]


@pytest.mark.parametrize(("name", "pointer", "values"), DOCUMENTED_ENUMS, ids=[p for _, p, _ in DOCUMENTED_ENUMS])
def test_enum_has_exactly_the_documented_values(specs, name, pointer, values):
    assert specs[name].resolve(pointer)["enum"] == values


def test_status_enums_used_by_responses_are_the_documented_ones(specs):
    """The status fields of answers and callbacks point at the documented enums, not at private copies."""
    op = specs["online-payments"].resolve("#/components/schemas/Payment/properties")
    assert op["transactionState"] == {"$ref": "#/components/schemas/TransactionState"}
    gp = specs["global-payments"].resolve("#/components/schemas/PaymentStatusRecord/properties")
    assert gp["paymentStatus"] == {"$ref": "#/components/schemas/PaymentStatus"}
    pbb = specs["pay-by-bank"].resolve("#/components/schemas/Payout/properties")
    assert pbb["status"] == {"$ref": "#/components/schemas/PayoutStatus"}
