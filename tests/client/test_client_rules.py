"""The client rules table, the schedule drawn from it, and the documents that must describe both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conformance import SPEC_NAMES, load_spec
from conformance._errors import SpecError, UsageError
from conformance._specs import load_client_rules
from conformance._specs._client_rules import parse_client_rules
from conformance.checks._client import CLIENT_CHECKS
from conformance.client import Schedule, base_url_variable
from conformance.client._injector import triggers

ROOT = Path(__file__).resolve().parents[2]


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
