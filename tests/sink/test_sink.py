"""The callback sink: it routes by the path after its token, records each delivery as it arrives, and judges
the provider's callbacks; against the embedded mock every status arrives and every judgement holds,
and each callback fault of the mock's catalogue is named by the rule it breaks.
"""

from __future__ import annotations

import json

import httpx
import pytest

from conformance import load_all
from conformance.checks import CHECKS, view
from conformance.mock import FAULTS, MockServer, RetryPolicy
from conformance.reporting import Recorder
from conformance.sink import CallbackSink
from conformance.suites import _flows
from conformance.suites._runtime import RunSettings, Target

CLIENT_ID, CLIENT_SECRET = "sink-tests", "sink-tests-secret-value"
SPECS = {spec.name: spec for spec in load_all()}
WEBHOOK_APIS = [name for name, spec in SPECS.items() if view(spec).webhooks]

GP_RECORD = {"endToEndId": "E2E1", "createDateTime": "2023-07-27T07:41:54.773Z", "paymentStatus": "PENDING",
             "firmRootId": "53038faa-43f6-42fc-9545-648fd2dab411"}
PAYOUT = {"id": "0f8fad5b", "payoutReference": "REFUND-1001", "sourcePaymentId": "7c9e6679",
          "amount": {"value": "5.25", "currency": "GBP"}, "payoutType": "REFUND", "status": "PENDING",
          "createdAt": "2024-05-01T10:40:00Z"}


def test_routes_by_path_and_serves_what_arrived():
    with CallbackSink(refusals=0) as sink:
        assert httpx.post(sink.url_for("pay-by-bank", "payouts"), json=PAYOUT).status_code == 200
        assert httpx.post(sink.url_for("global-payments", "paymentInitiationStatus"), json={"callbacks": [GP_RECORD]}
                          ).status_code == 200
        assert httpx.post(sink.url_for("pay-by-bank", "payouts") + "/status", json=dict(PAYOUT, id="other")
                          ).status_code == 200
        assert httpx.post(sink.base + "/pay-by-bank/nothing", json=PAYOUT).status_code == 404
        served = httpx.get(f"{sink.base}/_sink/deliveries").json()
        later = httpx.get(f"{sink.base}/_sink/deliveries", params={"since": 2, "api": "pay-by-bank"}).json()
    assert [(d["api"], d["webhook"]) for d in served] == [
        ("pay-by-bank", "payouts"), ("global-payments", "paymentInitiationStatus"), ("pay-by-bank", "payouts")]
    assert [d["body"]["id"] for d in later] == ["other"]


def test_identifiers_are_served_as_they_came():
    """Redaction on the way in masks card numbers, not a UUID whose digit groups happen to pass Luhn: the
    scenarios find their callbacks by that identifier (one UUID in 200 used to be mangled)."""
    payout = dict(PAYOUT, id="72192676-2130-4d30-9336-65b81f48a092", payoutReference="4012000033330026")
    with CallbackSink(refusals=0) as sink:
        assert httpx.post(sink.url_for("pay-by-bank", "payouts"), json=payout).status_code == 200
        [served] = httpx.get(f"{sink.base}/_sink/deliveries").json()
    assert served["body"]["id"] == payout["id"]
    assert served["body"]["payoutReference"] == "401200XXXXXX0026"


def test_refuses_the_first_callback_of_each_webhook_on_purpose():
    with CallbackSink(refusals=2) as sink:
        url = sink.url_for("global-payments", "paymentInitiationStatus")
        answers = [httpx.post(url, json={"callbacks": [GP_RECORD]}).status_code for _ in range(3)]
        other = httpx.post(url, json={"callbacks": [dict(GP_RECORD, paymentStatus="PENDING_POSTING")]})
    assert answers == [500, 500, 200]
    assert other.status_code == 200


def test_records_each_delivery_as_it_arrives(tmp_path):
    recorder = Recorder(tmp_path, command="certify", specs=SPECS.values())
    with CallbackSink(recorder=recorder, refusals=0) as sink:
        httpx.post(sink.url_for("global-payments", "paymentInitiationStatus"), json={"callbacks": [GP_RECORD]})
        lines = (tmp_path / "callbacks.ndjson").read_text().splitlines()
        assert len(lines) == 1
        event = json.loads(lines[0])
        assert (event["api"], event["webhook"], event["answered"]) == (
            "global-payments", "paymentInitiationStatus", 200)


def drive(mock: MockServer, sink: CallbackSink, api: str) -> Target:
    """Run every scenario of an API that leads to callbacks, as certify does, and tell the sink what was created."""
    settings = RunSettings(specs=[f"{spec.name}={spec.path}" for spec in SPECS.values()], apis=[api],
                           base_urls={name: mock.base_url(name) for name in SPECS}, token_url=mock.token_url,
                           client_id=CLIENT_ID, client_secret=CLIENT_SECRET, sink=sink.base, embedded=True)
    target = Target(settings)
    try:
        for scenario in SPECS[api].rules.scenarios:
            if scenario.callbacks:
                _flows.scenario(target, api, scenario.id)
        for record in target.collector.to_records():
            if record["kind"] == "source":
                sink.add_source(record["api"], record["correlation"], record["keys"])
    finally:
        target.close()
    return target


def mock_for(sink: CallbackSink, faults=()) -> MockServer:
    return MockServer(faults=faults, callback_url=sink.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.mark.parametrize("api", WEBHOOK_APIS)
def test_every_status_reaches_the_sink_and_every_judgement_holds(api):
    with CallbackSink(specs=SPECS.values()) as sink, mock_for(sink) as mock:
        drive(mock, sink, api)
        sink.finish(timeout=5)
    known = view(SPECS[api])
    for entry in SPECS[api].rules.coverage:
        assert set(known.coverage_values(entry)) <= sink.seen[api][known.coverage_label(entry)], entry
    assert sink.violations == []
    judged = {result.rule_id for _, _, result, _ in sink.results}
    assert known.rule("{P}-CALLBACK-RETRY") in judged
    for machine in SPECS[api].rules.state_machines:
        assert machine.id in judged
        assert machine.first_callback.id in judged
    for correlation in SPECS[api].rules.correlations:
        assert correlation.id in judged
    for key in sink._refused:
        attempts = [status for _, status in sink._attempts[key]]
        assert attempts == [500, 500, 500, 200], "retried until accepted, then no more"


def callback_rules(spec) -> set[str]:
    """Rules only callbacks can break: retries, first callbacks, transitions seen in callbacks, correlations,
    the conditional rules of the callbacks' schemas."""
    known = view(spec)
    rules = {known.rule("{P}-CALLBACK-RETRY")}
    for operation_id in known.webhooks.values():
        rules |= set(known.conditional_rules(known.request_schema(operation_id)))
    for machine in spec.rules.state_machines:
        if any(seen.webhook for seen in machine.observed_in):
            rules.add(machine.id)
        if machine.first_callback:
            rules.add(machine.first_callback.id)
    rules |= {entry.id for entry in spec.rules.correlations}
    return rules


def is_callback_fault(fault) -> bool:
    """A fault of the catalogue that misbehaves in callbacks (by the rule it breaks, or as it describes itself)."""
    return fault.api in WEBHOOK_APIS and (
        fault.rule in callback_rules(SPECS[fault.api]) or "callback" in fault.kind
        or "callback" in fault.description.lower())


CALLBACK_FAULTS = [fault for fault in FAULTS.values() if is_callback_fault(fault)]


def test_the_catalogue_has_callback_faults_for_every_api_with_callbacks():
    assert {fault.api for fault in CALLBACK_FAULTS} == set(WEBHOOK_APIS)
    assert all(rule.on for rule in CHECKS.values() if "callback" in rule.on)


@pytest.mark.parametrize("fault", CALLBACK_FAULTS, ids=[fault.name for fault in CALLBACK_FAULTS])
def test_each_callback_fault_is_named_by_the_sink(fault):
    with CallbackSink(specs=SPECS.values()) as sink, mock_for(sink, faults=(fault.name,)) as mock:
        drive(mock, sink, fault.api)
        sink.finish(timeout=3, patience=1.0)
    assert fault.rule in {result.rule_id for result in sink.violations}


def test_retries_at_a_constant_interval_are_not_back_off():
    """The other half of CALLBACK-RETRY (the catalogue's fault proves "never retried"): a provider that
    retries every 0.8 s is named, by a real sender, though it does retry until accepted."""
    flat = RetryPolicy(base=0.8, factor=1.0, cap=0.8)
    with CallbackSink(specs=SPECS.values()) as sink, \
            MockServer(callback_url=sink.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry=flat) as mock:
        drive(mock, sink, "pay-by-bank")
        sink.finish(timeout=6, patience=2.0)
    failed = [result for result in sink.violations if result.rule_id == "PBB-CALLBACK-RETRY"]
    assert failed and {result.title for result in failed} == {"Retries without growing gaps"}, sink.violations
