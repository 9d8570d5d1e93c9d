"""Each fault produces its documented misbehaviour, and nothing else.

For every fault there is a probe: a short black-box exchange that returns True when it sees that
misbehaviour. A faulty server must show its own fault's misbehaviour and none of the other
misbehaviours of the same API (the probes of the other faults stay False); the conforming server
shows none at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from mock_support import Api, Receiver, example, spec, unique, utc_today

from conformance.mock import FAULTS, MockServer, RetryPolicy
from conformance.mock._faults import Switch

FAST = {"callback_interval": 0.005, "retry": RetryPolicy(base=0.01, factor=2, cap=0.05, attempts=3, timeout=2)}
ISO_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class Env:
    """A mock, a client with a token, and a receiver registered for its callbacks."""

    def __init__(self, mock: MockServer, receiver: Receiver) -> None:
        self.mock = mock
        self.api = Api(mock)
        self.receiver = receiver

    def settle(self) -> None:
        assert self.mock.wait_idle(), "the mock never became idle"


def _enum(api: str, name: str) -> set[str]:
    return set(spec(api).resolve(f"#/components/schemas/{name}")["enum"])


def _gp_statuses(env: Env, **changes) -> tuple[list[dict], str]:
    """(the callback records about a new payment, its firmRootId). Records are told by the endToEndId sent, so that
    a callback naming the wrong firmRootId is still seen."""
    end_to_end_id = unique("E")
    root = env.api.gp_initiated(**{"/payments/paymentIdentifiers/endToEndId": end_to_end_id, **changes})["firmRootId"]
    env.settle()
    records = [b["callbacks"][0] for b in env.receiver.bodies()
               if "callbacks" in b and b["callbacks"][0].get("endToEndId") == end_to_end_id]
    return records, root


def _pbb_callbacks(env: Env, **changes) -> list[dict]:
    created = env.api.pbb_payment(**changes)
    assert created.status_code == 201, created.text
    env.settle()
    return [b for b in env.receiver.bodies() if b.get("id") == created.json()["id"]]


def _transitions_legal(statuses: list[str]) -> bool:
    """Every move along the machine's edges (where a lifecycle starts is GP-FIRST-CALLBACK-PENDING's to judge)."""
    machine = spec("global-payments").rules.state_machines[0]
    return all(b in machine.transitions.get(a, ()) for a, b in zip(statuses, statuses[1:], strict=False))


# -- one probe per fault: True when the misbehaviour shows ---------------------------------------------------------


def p_oauth_no_www_authenticate(env: Env) -> bool:
    response = env.api.token_request(client=("conformance-mock", "wrong-secret"))
    return response.status_code == 401 and "www-authenticate" not in response.headers


def p_op_status_outside_enum(env: Env) -> bool:
    status = env.api.sale()["paymentRequest"]["paymentRequestStatus"]
    return status not in set(spec("online-payments").resolve(
        "#/components/schemas/paymentRequest/properties/paymentRequestStatus")["enum"])


def p_op_missing_required_field(env: Env) -> bool:
    return "responseMessage" not in env.api.sale()


def p_op_card_number_in_response(env: Env) -> bool:
    body = example("online-payments", "V2PaymentPost")
    response = env.api.op("POST", "/payments", body)
    return body["paymentMethodType"]["card"]["accountNumber"] in response.text


def p_op_over_refund_accepted(env: Env) -> bool:
    payment = env.api.sale(amount=1234)
    refund = example("online-payments", "V2RefundPost")
    refund["amount"] = 1500
    refund["paymentMethodType"]["transactionReference"]["transactionReferenceId"] = payment["transactionId"]
    response = env.api.op("POST", "/refunds", refund)
    return response.status_code == 200 and response.json()["responseStatus"] == "SUCCESS"


def p_op_request_id_ignored(env: Env) -> bool:
    body, key = example("online-payments", "V2PaymentPost"), unique("r")
    first = env.api.op("POST", "/payments", body, request_id=key)
    again = env.api.op("POST", "/payments", body, request_id=key)
    body["amount"] = 4321
    other = env.api.op("POST", "/payments", body, request_id=key)
    return again.content != first.content or other.status_code == 200


def p_op_auth_not_enforced(env: Env) -> bool:
    response = env.api.request("online-payments", "GET", f"/payments/{unique('p')}", token=None,
                               headers={"merchant-id": "998482157630"})
    return response.status_code != 401


def p_op_server_error(env: Env) -> bool:
    response = env.api.op("POST", "/payments", example("online-payments", "V2PaymentPost"))
    return response.status_code >= 500


def p_op_wrong_content_type(env: Env) -> bool:
    payment = env.api.sale()
    response = env.api.op("GET", f"/payments/{payment['transactionId']}")
    return not response.headers["content-type"].startswith("application/json")


def p_op_non_iso_date(env: Env) -> bool:
    return not ISO_DATE_TIME.match(env.api.sale()["transactionDate"])


def p_op_malformed_error_body(env: Env) -> bool:
    body = example("online-payments", "V2PaymentPost")
    body["currency"] = "dollars"
    response = env.api.op("POST", "/payments", body)
    return response.status_code == 400 and not {"responseStatus", "responseCode"} <= set(response.json())


def p_op_invalid_request_accepted(env: Env) -> bool:
    body = example("online-payments", "V2PaymentPost")
    body["amount"] = -5
    return env.api.op("POST", "/payments", body).status_code < 300


def p_op_read_by_request_id_answers_another(env: Env) -> bool:
    key = unique("r")
    env.api.op("POST", "/payments", example("online-payments", "V2PaymentPost"), request_id=key)
    return env.api.op("GET", "/payments", params={"requestIdentifier": key}).json()["requestId"] != key


def p_op_read_by_id_answers_another(env: Env) -> bool:
    payment_id = env.api.sale()["transactionId"]
    return env.api.op("GET", f"/payments/{payment_id}").json()["transactionId"] != payment_id


def p_op_verification_never_declined(env: Env) -> bool:
    body = example("online-payments", "V2VerificationPost")
    body["paymentMethodType"]["card"]["accountNumber"] = "4000000000000002"  # OP-SCENARIO-VERIFICATION-DECLINED
    return env.api.op("POST", "/verifications", body).json()["responseStatus"] != "DENIED"


def p_op_fraud_decline_ignored(env: Env) -> bool:
    body = example("online-payments", "V2FraudCheckPost")
    body["amount"] = 10008  # OP-SCENARIO-FRAUD-DECLINE
    return env.api.op("POST", "/fraudcheck", body).json()["riskDecision"]["fraudRuleAction"] != "DECLINE"


def p_gp_rejected_without_exceptions(env: Env) -> bool:
    records, _ = _gp_statuses(env, **{"/payments/paymentAmount": 100.04})  # GP-SCENARIO-REJECTED
    return any(r["paymentStatus"] == "REJECTED" and "exceptions" not in r for r in records)


def p_gp_illegal_transition(env: Env) -> bool:
    records, _ = _gp_statuses(env)
    statuses = [r["paymentStatus"] for r in records if r["paymentStatus"] in _enum("global-payments", "StatusCode")]
    return not _transitions_legal(statuses)


def p_gp_callback_unknown_status(env: Env) -> bool:
    records, _ = _gp_statuses(env)
    return any(r["paymentStatus"] not in _enum("global-payments", "StatusCode") for r in records)


def p_gp_callback_not_retried(env: Env) -> bool:
    env.receiver.plan[:] = [500]
    records, root = _gp_statuses(env)
    return [r["paymentStatus"] for r in records].count("PENDING") == 1 and any(
        g["resource"] == root for g in env.mock.given_up)


def p_gp_duplicate_accepted(env: Env) -> bool:
    body = example("global-payments", "initiatePayments")
    body["payments"]["requestedExecutionDate"] = utc_today().isoformat()
    body["payments"]["paymentIdentifiers"]["endToEndId"] = unique("E")
    env.api.gp("POST", "/payments", body)
    body["payments"]["paymentAmount"] = 7.5
    return env.api.gp("POST", "/payments", body).status_code == 202


def p_gp_malformed_error_body(env: Env) -> bool:
    response = env.api.gp_payment(**{"/payments/paymentType": "CHEQUE"})
    return response.status_code == 400 and "errorDetails" not in (response.json().get("errors") or {})


def p_gp_auth_not_enforced(env: Env) -> bool:
    response = env.api.gp("GET", "/payments/status", params={"endToEndId": "NOSUCH1"}, token=None)
    return response.status_code != 401


def p_gp_ack_names_another_payment(env: Env) -> bool:
    end_to_end_id = unique("E")
    ack = env.api.gp_initiated(**{"/payments/paymentIdentifiers/endToEndId": end_to_end_id})
    return ack["endToEndId"] != end_to_end_id


def p_gp_details_answer_another_payment(env: Env) -> bool:
    root = env.api.gp_initiated()["firmRootId"]
    return env.api.gp("GET", "/payments", params={"firmRootId": root}).json()["firmRootId"] != root


def p_gp_first_callback_not_pending(env: Env) -> bool:
    records, _ = _gp_statuses(env)
    first = spec("global-payments").rules.state_machines[0].first_callback
    return bool(records) and records[0]["paymentStatus"] not in first.statuses


def p_gp_callback_names_unknown_payment(env: Env) -> bool:
    records, root = _gp_statuses(env)
    return any(r["firmRootId"] != root for r in records)


def p_gp_non_iso_date(env: Env) -> bool:
    records, _ = _gp_statuses(env)
    return any(not ISO_DATE_TIME.match(r["createDateTime"]) for r in records)


def p_pbb_callback_unknown_status(env: Env) -> bool:
    return any(b["status"] not in _enum("pay-by-bank", "PaymentStatus") for b in _pbb_callbacks(env))


def p_pbb_status_message_when_settled(env: Env) -> bool:
    return any(b["status"] != "FAILED" and "statusMessage" in b for b in _pbb_callbacks(env))


def p_pbb_missing_required_field(env: Env) -> bool:
    return "paymentQRCode" not in env.api.pbb_payment().json()


def p_pbb_invalid_request_accepted(env: Env) -> bool:
    return env.api.pbb_payment(**{"/paymentType": "CASH"}).status_code < 300


def p_pbb_idempotency_ignored(env: Env) -> bool:
    body, key = example("pay-by-bank", "createPayment"), unique("k")
    env.api.pbb("POST", "/payments", body, key=key)
    body["reference"] = "OTHER"
    return env.api.pbb("POST", "/payments", body, key=key).status_code == 201


def p_pbb_over_payout_accepted(env: Env) -> bool:
    payment = env.api.settled_pbb_payment()
    payout = example("pay-by-bank", "createPayout")
    payout["sourcePaymentId"] = payment["id"]
    payout["amount"] = {"value": "10.51", "currency": "GBP"}
    return env.api.pbb("POST", "/payouts", payout).status_code == 201


def p_pbb_callback_not_retried(env: Env) -> bool:
    env.receiver.plan[:] = [500]
    callbacks = _pbb_callbacks(env)
    return [b["status"] for b in callbacks].count("NONE") == 1 and bool(env.mock.given_up)


def p_pbb_wrong_error_code(env: Env) -> bool:
    body = example("pay-by-bank", "createPayment")
    del body["creditor"]
    response = env.api.pbb("POST", "/payments", body)
    return response.status_code == 400 and "10001" not in [e["code"] for e in response.json()["errors"]]


def p_pbb_wrong_content_type(env: Env) -> bool:
    created = env.api.pbb_payment().json()
    response = env.api.pbb("GET", f"/payments/{created['id']}")
    return not response.headers["content-type"].startswith("application/json")


PROBES: dict[str, Callable[[Env], bool]] = {
    name: globals()["p_" + name.replace("-", "_")] for name in FAULTS
}


@pytest.fixture
def env_for() -> Iterator[Callable[..., Env]]:
    opened: list[tuple[MockServer, Receiver, Env]] = []

    def make(*faults: str) -> Env:
        receiver = Receiver()
        mock = MockServer(faults=faults, **FAST).start()
        mock.set_callback_url(receiver.url)
        env = Env(mock, receiver)
        opened.append((mock, receiver, env))
        return env

    yield make
    for mock, receiver, env in opened:
        env.api.close()
        mock.stop()
        receiver.close()


def test_every_fault_has_a_probe_and_a_one_line_description():
    assert len(FAULTS) >= 20
    for name, fault in FAULTS.items():
        assert fault.name == name and name in PROBES
        assert fault.description and "\n" not in fault.description


def _known_rule_ids() -> dict[str, set[str]]:
    generic = set(re.findall(r"`\{P\}-([A-Z0-9-]+)`", spec("oauth").path.with_name("README.md").read_text()))
    known: dict[str, set[str]] = {}
    for name in ("oauth", "online-payments", "global-payments", "pay-by-bank"):
        the_spec = spec(name)
        ids = {f"{the_spec.prefix}-{suffix}" for suffix in generic}
        ids |= set(re.findall(r"\bid: ([A-Z][A-Z0-9-]+)", the_spec.path.with_name(f"{name}.rules.yaml").read_text()))
        ids |= set(re.findall(r"x-rule-id: ([A-Z][A-Z0-9-]+)", the_spec.path.read_text()))
        known[name] = ids
    return known


def test_every_fault_names_a_rule_of_its_api():
    known = _known_rule_ids()
    for fault in FAULTS.values():
        assert fault.rule in known[fault.api], f"{fault.name}: {fault.rule} is not a rule of {fault.api}"


def test_the_catalogue_covers_every_family_of_misbehaviour():
    rules = {fault.rule for fault in FAULTS.values()}
    for wanted in ("STATUS-ENUM", "REQUIRED-FIELDS", "CONDITIONAL", "ERROR-SHAPE", "REJECTS-INVALID-REQUEST",
                   "NO-SERVER-ERROR", "NO-CARD-DATA", "AUTH-ENFORCED", "CONTENT-TYPE", "FIELD-FORMAT",
                   "CALLBACK-RETRY", "STATUS-TRANSITIONS", "GP-CALLBACK-EXCEPTIONS-CONDITIONAL",
                   "OP-REFUNDS-NOT-ABOVE-CAPTURED", "OP-IDEMPOTENT-REQUEST-ID", "PBB-IDEMPOTENCY-KEY"):
        assert any(wanted in rule for rule in rules), wanted
    assert {fault.api for fault in FAULTS.values()} == {"oauth", "online-payments", "global-payments", "pay-by-bank"}


def test_the_conforming_mock_shows_no_misbehaviour(env_for):
    env = env_for()
    seen = [name for name, probe in PROBES.items() if probe(env)]
    assert seen == []


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_shows_its_misbehaviour_and_no_other(env_for, name):
    env = env_for(name)
    assert PROBES[name](env), f"{name}: the misbehaviour did not show"
    fault = FAULTS[name]
    others = [other for other, f in FAULTS.items() if f.api == fault.api and other != name]
    seen = [other for other in others if PROBES[other](env)]
    assert seen == [], f"{name} also shows {seen}"
    if fault.once:  # misbehaves on the first occasion only
        assert not PROBES[name](env), f"{name} is a once fault but misbehaved twice"
    assert env.mock.given_up == [] or fault.effect == Switch("retries")
