"""The client rules table, the schedule drawn from it, and the documents that must describe both."""

from __future__ import annotations

import re
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from conformance import SPEC_NAMES, load_spec
from conformance._errors import SpecError, UsageError
from conformance._specs import load_client_rules
from conformance._specs._client_rules import parse_client_rules
from conformance.checks._client import CLIENT_CHECKS
from conformance.client import Schedule, base_url_variable
from conformance.client._injector import _ends_in, rewrite, triggers
from conformance.mock import MockServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from examples import client as reference  # noqa: E402


@pytest.fixture(scope="module")
def table():
    return load_client_rules()


def test_every_rule_has_its_judging_function_and_every_function_its_rule(table):
    assert [rule.suffix for rule in table.rules] == list(CLIENT_CHECKS)


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another(table):
    for profile in table.profiles:
        first, again = Schedule.planned(table, profile, 7), Schedule.planned(table, profile, 7)
        assert first.to_list() == again.to_list() and [t.pick for t in first] == [t.pick for t in again]
        others = [Schedule.planned(table, profile, seed).to_list() for seed in range(1, 6)]
        assert any(other != first.to_list() for other in others)
        counts = {kind: sum(1 for t in first if t.kind == kind) for kind in table.troubles}
        assert counts == {kind: table.profiles[profile].troubles.get(kind, 0) for kind in table.troubles}


def test_a_schedule_keeps_only_the_kinds_asked_for(table):
    only = Schedule.planned(table, "standard", 3, kinds=["timeout", "decline"])
    assert {t.kind for t in only} == {"timeout", "decline"} and len(only) == 3
    with pytest.raises(UsageError, match="unknown trouble earthquake"):
        Schedule.planned(table, "quick", 3, kinds=["earthquake"])


def test_declines_are_documented_errors_or_final_states_without_a_given():
    found = 0
    for name in SPEC_NAMES:
        spec = load_spec(name)
        final = {status for machine in spec.rules.state_machines for status in machine.final}
        for operation in spec.client_operations():
            for scenario in triggers(spec, operation.operation_id, (401, 403)):
                found += 1
                assert scenario.given is None and scenario.status not in (401, 403)
                ends = scenario.callbacks.statuses[-1] if scenario.callbacks else None
                assert scenario.status >= 400 or ends in final or any(
                    value in final for value in scenario.body.values()), scenario.id
    assert found >= 10


def test_declines_include_past_dates_expired_cards_and_issuer_declines():
    """`$today-Nd` and `$today+Nd` are not what the canonical request (dated today) does: a past-dated payment or
    an expired card is a decline, not the normal outcome that rules declines out."""
    found = {name: {s.id for o in load_spec(name).client_operations()
                    for s in triggers(load_spec(name), o.operation_id, (401, 403))}
             for name in ("online-payments", "global-payments")}
    assert {"OP-SCENARIO-DECLINED-AMOUNT", "OP-SCENARIO-DECLINED-CARD", "OP-SCENARIO-EXPIRED-CARD",
            "OP-SCENARIO-PROCESSING-ERROR"} <= found["online-payments"]
    assert {"GP-SCENARIO-REJECTED", "GP-SCENARIO-PAST-DATE"} <= found["global-payments"]
    assert "GP-SCENARIO-WAREHOUSED" not in found["global-payments"]  # not a final state


def _reference_creates() -> list[tuple[str, str, dict, dict]]:
    """(API, create operation, the reference client's body, its headers): the requests a decline rewrites."""
    return [("online-payments", "V2PaymentPost", reference.card_payment(5000, "NOW", "ORDER-1"),
             {"request-id": str(uuid.uuid4()), **reference.FLOWS["online-payments"][1]}),
            ("global-payments", "initiatePayments", reference.global_payment(uuid.uuid4().hex[:20], 100.0, "INV-1"),
             {}),
            ("pay-by-bank", "createPayment", reference.bank_payment("ORDER-1"), {"Idempotency-Key": str(uuid.uuid4())})]


def _end_state(http, mock, api: str, answer: dict, want: str) -> str | None:
    """Where the resource a 2xx answered ends: its answer, or its status read until it is `want` (bounded)."""
    if api == "online-payments":
        return answer.get("transactionState")
    if api == "global-payments":
        url, params = mock.base_url(api) + "/payments/status", {"firmRootId": answer["paymentInitiationResponse"][
            "firmRootId"]}
        status_of = lambda body: body["paymentStatus"]["status"]  # noqa: E731
    else:
        url, params, status_of = mock.base_url(api) + f"/payments/{answer['id']}", None, lambda body: body["status"]
    status = None
    for _ in range(100):
        status = status_of(http.get(url, params=params).raise_for_status().json())
        if status == want:
            break
        time.sleep(0.05)
    return status


def test_each_decline_applied_to_the_reference_request_is_answered_as_its_trigger_says():
    """What a `decline` trouble sends (the client's request with a trigger applied) is answered by a real mock with
    the trigger's status and, for a 2xx, ends in the trigger's final state: an expired card keeps its {month,
    year} shape, and a trigger that would make the request invalid (a Hong Kong flow on a UK payment, without
    its category purpose) is not used."""
    seen = 0
    with MockServer(port=0, client_id="rules-test", client_secret="rules-secret") as mock, \
            httpx.Client(timeout=10) as http:
        tokens = reference.TokenCache(http, mock.token_url, "rules-test", "rules-secret")
        for api, operation, body, headers in _reference_creates():
            spec = load_spec(api)
            chosen = triggers(spec, operation, (401, 403), body)
            assert chosen, api
            everything = triggers(spec, operation, (401, 403))
            for scenario in chosen:
                seen += 1
                sent = rewrite(body, scenario)
                if api == "global-payments":
                    sent["payments"]["paymentIdentifiers"]["endToEndId"] = uuid.uuid4().hex[:20]
                http.headers["Authorization"] = f"Bearer {tokens.get()}"
                keyed = {name: str(uuid.uuid4()) if name.lower() in ("request-id", "idempotency-key") else value
                         for name, value in headers.items()}
                response = http.post(mock.base_url(api) + spec.operations[operation].path, json=sent, headers=keyed)
                assert response.status_code == scenario.status, (scenario.id, response.text)
                if response.status_code < 300:
                    end = _ends_in(spec, scenario)
                    assert _end_state(http, mock, api, response.json(), end) == end, scenario.id
            left_out = {s.id for s in everything} - {s.id for s in chosen}
            assert left_out == ({"GP-SCENARIO-HONG-KONG-CREDITED", "GP-SCENARIO-PUSH-TO-CARD-RETURNED"}
                                if api == "global-payments" else set()), api  # the expired card among them
    assert seen >= 12


def test_a_broken_table_is_one_clear_error(table, tmp_path):
    data = yaml.safe_load((ROOT / "specs" / "client.rules.yaml").read_text())
    data["profiles"]["quick"]["troubles"]["earthquake"] = 1
    with pytest.raises(SpecError, match="profile quick names unknown troubles: earthquake"):
        parse_client_rules(data, tmp_path / "client.rules.yaml")
    del data["rules"][0]["description"]
    with pytest.raises(SpecError, match="invalid client rules table at rules/0"):
        parse_client_rules(data, tmp_path / "client.rules.yaml")


def test_the_documents_describe_every_rule_trouble_and_variable(table):
    client_doc = (ROOT / "docs" / "client.md").read_text()
    catalogue = (ROOT / "specs" / "README.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for rule in table.rules:
        assert f"{{P}}-{rule.suffix}" in catalogue, rule.suffix
        assert rule.suffix in client_doc, rule.suffix
    for kind in table.troubles:
        assert f"`{kind}`" in client_doc, kind
    variables = {"CONFORMANCE_ORIGIN", "CONFORMANCE_TOKEN_URL", "CONFORMANCE_CLIENT_ID", "CONFORMANCE_CLIENT_SECRET",
                 *(base_url_variable(name) for name in SPEC_NAMES if not load_spec(name).rules.is_token_endpoint)}
    for variable in variables:
        assert variable in readme and variable in client_doc, variable
    assert re.search(r"conformance client .*-- ", readme) and "payments_mock" in readme
