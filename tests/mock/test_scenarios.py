"""Every scenario trigger of every rules table, run against the mock over HTTP.

The scenario's request is the operation's canonical example with `when` applied (after `given`);
the answer must have the expected status and body subset, and the callbacks a real local receiver
gets for the resource must carry exactly the expected statuses, in order, the last one with the
expected fields.
"""

from __future__ import annotations

import pytest
from mock_support import scenario_request, settle_given, spec, subset_matches, wait_until

from conformance import SPEC_NAMES

SCENARIOS = [
    pytest.param(name, row.id, id=row.id) for name in SPEC_NAMES for row in spec(name).rules.scenarios
]


@pytest.mark.parametrize(("spec_name", "scenario"), SCENARIOS)
def test_scenario(mock, api, receiver, spec_name, scenario):
    scenario = spec(spec_name).rules.scenario(scenario)
    given_answer = None
    if scenario.given:
        given_answer = scenario_request(api, spec_name, scenario.given.operation, dict(scenario.given.when))
        assert given_answer.status_code < 300, given_answer.text
        settle_given(api, spec_name, given_answer)

    answer = scenario_request(api, spec_name, scenario.operation, dict(scenario.when), given_answer,
                              dict(scenario.path) or None)
    expect = scenario.expect
    assert answer.status_code == expect["status"], answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert subset_matches(expect.get("body") or {}, body), body
    if answer.status_code >= 400:
        error_schema = spec(spec_name).rules.errors.schema
        errors = list(spec(spec_name).validator(error_schema, "response").iter_errors(body))
        assert errors == [], body

    callbacks = expect.get("callbacks")
    if callbacks:
        statuses = callbacks["statuses"]
        if spec_name == "global-payments":
            def seen():
                return receiver.gp_statuses(body["firmRootId"])
        else:
            def seen():
                return receiver.pbb_statuses(body["id"])
        wait_until(lambda: len(seen()) >= len(statuses), what=f"{len(statuses)} callbacks")
        assert mock.wait_idle()  # every status reached and delivered: no extra callback can still come
        assert seen() == statuses
        records = [b for b in receiver.bodies() if (b.get("callbacks") or [b])[0].get(
            "firmRootId" if spec_name == "global-payments" else "id") in (body.get("firmRootId"), body.get("id"))]
        last = records[-1]["callbacks"][0] if spec_name == "global-payments" else records[-1]
        assert subset_matches(callbacks.get("last") or {}, last), last
        if spec_name == "global-payments":
            webhook_schema = "#/components/schemas/PaymentStatusCallback"
        else:
            webhook_schema = "#/components/schemas/" + ("Payout" if "payoutReference" in body else "Payment")
        validator = spec(spec_name).validator(webhook_schema, "response")
        for record in records:
            assert list(validator.iter_errors(record)) == [], record


def test_every_documented_status_is_reachable_through_a_scenario():
    """The scenarios (each run above) drive every value of every `coverage` field of the three APIs."""
    for name in ("global-payments", "pay-by-bank", "online-payments"):
        the_spec = spec(name)
        reached: set[str] = set()
        for row in the_spec.rules.scenarios:
            reached.update(row.callbacks.statuses if row.callbacks else ())
            reached.update(_values(dict(row.body)))
        for coverage in the_spec.rules.coverage:
            documented = set(the_spec.resolve(coverage.schema)["enum"])
            missing = documented - reached
            assert not missing, f"{name} {coverage.field}: no scenario reaches {sorted(missing)}"


def _values(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _values(item)
    elif isinstance(node, str):
        yield node
