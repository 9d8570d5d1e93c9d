"""Valid requests and callbacks pass their spec (jsonschema) and their rules table, for every target."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from strategies_support import (
    SETTINGS,
    at,
    body_schema_pointer,
    decimals,
    header,
    instant,
    minor_units,
    request_errors,
)

import strategies
from conformance import SPEC_NAMES, load_spec

SPECS = {name: load_spec(name) for name in SPEC_NAMES}
OPERATIONS = [(name, op) for name, spec in SPECS.items() for op, o in spec.operations.items() if not o.webhook]
CALLBACKS = [(name, o.webhook) for name, spec in SPECS.items() for o in spec.operations.values() if o.webhook]


def _statuses(spec, webhook: str) -> tuple[str, list[str]]:
    entry = next(e for e in spec.rules.coverage if e.webhook == webhook)
    return entry.field, spec.resolve(entry.schema)["enum"]


def _check_rules_table(spec, request) -> None:
    """What the rules table adds to the spec for a valid request (read from the table here)."""
    for scenario in spec.rules.scenarios:
        if scenario.operation != request.operation_id:
            continue
        for pointer, value in scenario.when.items():
            if isinstance(value, str) and value.startswith("$"):
                continue
            assert value not in at(request.body, pointer), f"scenario trigger {pointer}={value!r} ({scenario.id})"
    for entry in spec.rules.idempotency:
        if request.operation_id in entry.operations:
            key = entry.key
            value = (header(request.headers, key.removeprefix("$request.header."))
                     if key.startswith("$request.header.") else at(request.body, key.partition("#")[2])[0])
            assert value, f"idempotency key {key} missing"


@pytest.mark.parametrize(("api", "operation_id"), OPERATIONS)
def test_requests_pass_the_spec_and_the_rules_table(api: str, operation_id: str) -> None:
    spec = SPECS[api]
    seen_keys: dict[str, object] = {}

    @settings(SETTINGS, max_examples=25)
    @given(strategies.requests(api, operation_id))
    def check(request) -> None:
        assert request.api == api and request.operation_id == operation_id
        assert request.method == spec.operations[operation_id].method
        assert not request_errors(spec, request)
        _check_rules_table(spec, request)
        for entry in spec.rules.idempotency:
            if operation_id in entry.operations:
                key = entry.key
                value = (header(request.headers, key.removeprefix("$request.header."))
                         if key.startswith("$request.header.") else at(request.body, key.partition("#")[2])[0])
                fingerprint = json.dumps(request.as_dict(), sort_keys=True, default=str)
                assert seen_keys.setdefault(value, fingerprint) == fingerprint, f"{key} {value} reused"

    check()


def test_amounts_fit_their_currency() -> None:
    """Pay By Bank's decimal amounts fit the currency's minor units (JPY: none).

    Global Payments' paymentAmount is a JSON number with no currency rule in its document
    (GP-DECISION-AMOUNT), and no Online Payments or Global Payments date may be refused for lying in the
    past any more: a past execution date and an expired card are well-formed requests the provider
    rejects or declines later (test_specs.py holds the documents to that).
    """
    found_zero_decimal_currency = False
    for request in strategies.sample(strategies.requests("pay-by-bank", "createPayment"), 150, seed=11):
        money = request.body["paymentAmount"]
        assert decimals(money["value"]) <= minor_units(money["currency"])
        found_zero_decimal_currency |= minor_units(money["currency"]) == 0
    assert found_zero_decimal_currency


def test_debtor_is_present_whenever_the_market_requires_it() -> None:
    markets = set()
    for request in strategies.sample(strategies.requests("pay-by-bank", "createPayment"), 120, seed=14):
        markets.add(request.body["market"])
        if request.body["market"] != "GB":
            assert "debtor" in request.body
    assert "GB" in markets and len(markets) > 5


def test_trigger_values_can_be_asked_for() -> None:
    """With exclude_triggers=False the scenario triggers are no longer excluded (a captureMethod of MANUAL shows up)."""
    requests = strategies.sample(strategies.requests("online-payments", "V2PaymentPost", exclude_triggers=False), 80)
    assert {"MANUAL", "DELAYED"} & {r.body.get("captureMethod") for r in requests}
    default = strategies.sample(strategies.requests("online-payments", "V2PaymentPost"), 80)
    assert not {"MANUAL", "DELAYED"} & {r.body.get("captureMethod") for r in default}


@pytest.mark.parametrize(("api", "webhook"), CALLBACKS)
def test_callbacks_pass_the_spec_for_every_status(api: str, webhook: str) -> None:
    spec = SPECS[api]
    operation_id = next(op for op, o in spec.operations.items() if o.webhook == webhook)
    validator = spec.validator(body_schema_pointer(spec, operation_id), "response")
    field, statuses = _statuses(spec, webhook)
    for status in statuses:
        bodies = strategies.sample(strategies.callbacks(api, webhook, status=status), 8, seed=len(status))
        assert len(bodies) == 8
        for body in bodies:
            errors = [e.message for e in validator.iter_errors(body)]
            assert not errors, (status, errors)
            assert at(body, field) and set(at(body, field)) == {status}


def test_conditional_fields_follow_the_status() -> None:
    """exceptions exactly when REJECTED (GP); statusMessage exactly when FAILED (PBB)."""
    for body in strategies.sample(strategies.callbacks("global-payments", "paymentInitiationStatus"), 120, seed=15):
        for record in body["callbacks"]:
            assert ("exceptions" in record) == (record["paymentStatus"] == "REJECTED")
    for body in strategies.sample(strategies.callbacks("pay-by-bank", "paymentCallback"), 120, seed=16):
        assert ("statusMessage" in body) == (body["status"] == "FAILED")


def test_callbacks_keep_time_order_and_read_only_fields() -> None:
    for body in strategies.sample(strategies.callbacks("pay-by-bank", "payments", status="SETTLED"), 80, seed=17):
        assert instant(body["createdAt"]) <= instant(body["statusUpdatedAt"])
        assert body["id"]  # readOnly in the spec: the provider sends it, so callbacks carry it


def test_a_request_is_a_schemathesis_case_and_a_url() -> None:
    request = strategies.sample(strategies.requests("online-payments", "V2PaymentByIdGet"), 1, seed=18)[0]
    url = request.url("http://127.0.0.1:9/")
    assert url.startswith("http://127.0.0.1:9/api/v2/payments/")
    assert url.endswith(request.path_parameters["id"])
    case = request.case(SPECS["online-payments"].schemathesis("http://127.0.0.1:9"))
    assert case.method == "GET" and case.path == "/payments/{id}"
    assert case.path_parameters == request.path_parameters and dict(case.headers) == request.headers
    assert request.case().operation is request.operation


def test_unknown_names_are_usage_errors() -> None:
    from conformance import ConformanceError

    with pytest.raises(ConformanceError, match="no operation or callback named"):
        strategies.requests("pay-by-bank", "nope")
    with pytest.raises(ConformanceError, match="is a callback"):
        strategies.requests("pay-by-bank", "payments")
    with pytest.raises(ConformanceError, match="not a status"):
        strategies.callbacks("pay-by-bank", "payments", status="LOST")
    with pytest.raises(ConformanceError, match="unknown spec .no-such-api."):
        strategies.targets("no-such-api")
