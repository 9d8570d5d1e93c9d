"""Every enum the providers document appears in the specs with exactly the documented values.

The lists below are the statement of what the provider documents: for Online Payments and Global
Payments, the published OpenAPI documents (v2.8.0 and v1.1.11, summarised in the "as the provider
publishes it" sections of shared/reference/api-facts.md), which outrank the older reconstruction; for
Pay By Bank and OAuth, api-facts.md. The specs must match them value for value. Where a spec adds a
value on purpose, the decision is named beside it.
"""

from __future__ import annotations

import pytest

DOCUMENTED_ENUMS = [
    # Online Payments (published v2.8.0)
    ("online-payments", "#/components/schemas/accountNumberType",
     ["PAN", "NETWORK_TOKEN", "DEVICE_TOKEN", "SAFETECH_TOKEN", "SAFETECH_PAGE_ENCRYPTION"]),
    ("online-payments", "#/components/schemas/captureMethod", ["NOW", "DELAYED", "MANUAL"]),
    ("online-payments", "#/components/schemas/initiatorType", ["CARDHOLDER", "MERCHANT"]),
    ("online-payments", "#/components/schemas/accountOnFile", ["NOT_STORED", "STORED", "TO_BE_STORED"]),
    ("online-payments", "#/components/schemas/transactionState",
     ["AUTHORIZED", "VOIDED", "PENDING", "DECLINED", "CLOSED", "ERROR"]),
    ("online-payments", "#/components/schemas/responseStatus", ["SUCCESS", "DENIED", "ERROR"]),
    ("online-payments", "#/components/schemas/cardType",
     ["VI", "MC", "AX", "DI", "JC", "DC", "CC", "CZ", "CR", "IM", "SP", "PP", "EP", "AP", "NP", "VR", "MR", "CB",
      "DP"]),
    ("online-payments", "#/components/schemas/cardTypeName",
     ["VISA", "MASTERCARD", "AMERICAN_EXPRESS", "DISCOVER", "JCB", "DINERS_CLUB", "CHINA_UNION_PAY",
      "CHASENET_CREDIT", "CHASENET_SIGNATURE_DEBIT", "INTERNATIONAL_MAESTRO", "STAR_PINLESS", "PULSE_PINLESS",
      "EFTPOS_PINLESS", "ACCEL_PINLESS", "NYCE_PINLESS", "VISA_RESTRICTED_DEBIT", "MASTERCARD_RESTRICTED_DEBIT",
      "CARTES_BANCAIRES", "DEBIT_PINLESS"]),
    ("online-payments", "#/components/schemas/paymentRequest/properties/paymentRequestStatus",
     ["PENDING", "OPEN", "CLOSED", "CANCELLED"]),
    # The three transactionStatusCode sets are prose in the published document (OP-DECISION-STATUS-CODE-ENUMS).
    ("online-payments", "#/components/schemas/paymentAuth/properties/transactionStatusCode",
     ["AUTHORIZED", "VOIDED", "CAPTURED", "FAILED"]),
    ("online-payments", "#/components/schemas/paymentAuth/properties/authorizationType",
     ["INITIAL", "REAUTH", "INCREMENTAL"]),
    ("online-payments", "#/components/schemas/paymentCapture/properties/transactionStatusCode",
     ["RECEIVED", "CLOSED", "CANCELLED"]),
    ("online-payments", "#/components/schemas/paymentRefund/properties/transactionStatusCode",
     ["RECEIVED", "CLOSED", "CANCELLED"]),
    ("online-payments", "#/components/schemas/healthCheckResource/properties/status", ["PASS", "FAIL", "WARN"]),
    # Global Payments (published v1.1.11; WAREHOUSED from seed 002, GP-DECISION-WAREHOUSED)
    ("global-payments", "#/components/schemas/StatusCode",
     ["PENDING", "PENDING_POSTING", "COMPLETED", "COMPLETED_CREDITED", "REJECTED", "RETURNED", "BLOCKED",
      "WAREHOUSED"]),
    ("global-payments", "#/components/schemas/Payments/properties/transferType", ["CREDIT", "DEBIT"]),
    ("global-payments", "#/components/schemas/PaymentType", ["RTP", "ACH.TRF", "BLOCKCHAIN"]),
    ("global-payments", "#/components/schemas/StatusException/properties/errorCode",
     ["10001", "10002", "10003", "10004", "10005", "10006", "10007", "10008", "10009", "10010", "11000", "12000",
      "13000"]),
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
    enum = specs[name].resolve(pointer)["enum"]
    # The sources list values in prose, so order is not theirs to fix; duplicates and gaps are.
    assert len(enum) == len(set(enum))
    assert sorted(enum) == sorted(values)


def test_status_enums_used_by_responses_are_the_documented_ones(specs):
    """The status fields of answers and callbacks point at the documented enums, not at private copies."""
    op = specs["online-payments"]
    for answer in ("paymentResponse", "refundResponse"):
        state = op.resolve(f"#/components/schemas/{answer}/properties")["transactionState"]
        assert state["$ref"] == "#/components/schemas/transactionState"
    gp = specs["global-payments"]
    for schema, field in (("Callback", "paymentStatus"), ("CoreStatus", "status")):
        status = gp.resolve(f"#/components/schemas/{schema}/properties")[field]
        assert status == {"$ref": "#/components/schemas/StatusCode"}
    pbb = specs["pay-by-bank"].resolve("#/components/schemas/Payout/properties")
    assert pbb["status"] == {"$ref": "#/components/schemas/PayoutStatus"}
