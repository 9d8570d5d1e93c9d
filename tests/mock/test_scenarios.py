"""Every scenario trigger of every rules table, run against the mock over HTTP.

The scenario's request is the operation's example (the first, or the one the scenario names) with
`when` applied (after `given`); the answer must have the expected status and body subset and be
valid against the schema the document gives for that status, and the callbacks a real local
receiver gets for the resource must carry exactly the expected statuses, in order, the last one
with the expected fields, each body valid against the webhook's schema.
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
    the_spec = spec(spec_name)
    scenario = the_spec.rules.scenario(scenario)
    given_answer = None
    if scenario.given:
        given_answer = scenario_request(api, spec_name, scenario.given.operation, dict(scenario.given.when))
        assert given_answer.status_code < 300, given_answer.text
        settle_given(api, spec_name, given_answer)

    answer = scenario_request(api, spec_name, scenario.operation, dict(scenario.when), given_answer,
                              dict(scenario.path) or None, scenario.example)
    expect = scenario.expect
    assert answer.status_code == expect["status"], answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert subset_matches(expect.get("body") or {}, body), body
    documented = the_spec.response_schema(scenario.operation, answer.status_code)
    assert documented is not None, f"{scenario.operation} documents no {answer.status_code}"
    errors = list(the_spec.validator(documented, "response").iter_errors(body))
    assert errors == [], body

    callbacks = expect.get("callbacks")
    if callbacks:
        statuses = callbacks["statuses"]
        if spec_name == "global-payments":
            resource = body["paymentInitiationResponse"]["firmRootId"]

            def seen():
                return receiver.gp_statuses(resource)

            def record_of(callback):
                records = callback.get("callbacks") or [{}]
                return records[0] if records[0].get("firmRootId") == resource else None
        else:
            resource = body["id"]

            def seen():
                return receiver.pbb_statuses(resource)

            def record_of(callback):
                return callback if callback.get("id") == resource else None
        wait_until(lambda: len(seen()) >= len(statuses), what=f"{len(statuses)} callbacks")
        assert mock.wait_idle()  # every status reached and delivered: no extra callback can still come
        assert seen() == statuses
        bodies = [b for b in receiver.bodies() if record_of(b) is not None]
        assert subset_matches(callbacks.get("last") or {}, record_of(bodies[-1])), bodies[-1]
        # Each callback body is what the document says the webhook posts.
        webhook_schema = the_spec.request_schema(the_spec.webhooks[callbacks["webhook"]])
        validator = the_spec.validator(webhook_schema, "response")
        for callback in bodies:
            assert list(validator.iter_errors(callback)) == [], callback


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
