"""What the sender derives from the specs and rules tables, and how it shapes bodies (no HTTP here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from callbacks_support import APIS_WITH_CALLBACKS

from conformance import load_spec, pointers
from conformance.callbacks import RULES, webhooks
from conformance.callbacks._payloads import Payloads

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = [(api, webhook) for api in APIS_WITH_CALLBACKS for webhook in webhooks(load_spec(api))]
IDS = [f"{api}/{webhook.name}" for api, webhook in WEBHOOKS]


@pytest.mark.parametrize(("api", "webhook"), WEBHOOKS, ids=IDS)
def test_statuses_are_the_enum_of_the_state_machine_field(api, webhook):
    spec = load_spec(api)
    (entry,) = [c for c in spec.rules.coverage if c.webhook == webhook.name]
    assert list(webhook.statuses) == spec.resolve(entry.schema)["enum"]
    assert webhook.coverage_label == entry.schema.rsplit("/", 1)[-1]


@pytest.mark.parametrize(("api", "webhook"), WEBHOOKS, ids=IDS)
def test_lifecycles_follow_the_state_machine_and_cover_every_status(api, webhook):
    machine = webhook.machine
    seen = set()
    for lifecycle in machine.lifecycles():
        assert lifecycle[0] in machine.initial
        for earlier, later in zip(lifecycle, lifecycle[1:], strict=False):
            assert later in machine.transitions[earlier]
        assert lifecycle[-1] in machine.final or not machine.transitions.get(lifecycle[-1])
        seen.update(lifecycle)
    assert seen == set(webhook.statuses)
    for status in webhook.statuses:
        path = machine.path_to(status)
        assert path[0] in machine.initial and path[-1] == status


@pytest.mark.parametrize(("api", "webhook"), WEBHOOKS, ids=IDS)
def test_stamped_bodies_stay_valid_and_name_fresh_resources(api, webhook):
    spec = load_spec(api)
    validator = spec.validator(webhook.schema_pointer, "response")
    payloads = Payloads(spec, webhook, seed=11)
    identities = []
    for status in webhook.statuses:
        body, stamped = payloads.resources(status)
        assert validator.is_valid(body), list(validator.iter_errors(body))
        for record, identity in zip(payloads.records(body), stamped, strict=True):
            assert pointers.resolve(record, webhook.status_field) == status
            assert payloads.identity_of(record) == identity
            identities.append(repr(identity[webhook.identity]))
        extended = payloads.with_unknown_fields(body, 0)
        assert extended is not None and extended != body and validator.is_valid(extended)
    assert len(identities) == len(set(identities))  # no resource named twice in a run


@pytest.mark.parametrize(("api", "webhook"), WEBHOOKS, ids=IDS)
def test_invalid_examples_break_the_schema(api, webhook):
    spec = load_spec(api)
    validator = spec.validator(webhook.schema_pointer, "response")
    examples = Payloads(spec, webhook, seed=5).invalid(1)
    assert examples
    for body, rule in examples:
        assert not validator.is_valid(body), rule


def test_every_receiver_rule_is_in_the_catalogue():
    catalogue = (ROOT / "specs" / "README.md").read_text()
    section = catalogue[catalogue.index("## Receiver rules") :]
    listed = set(re.findall(r"`\{P\}-(RECEIVER-[A-Z-]+)`", section))
    assert listed == {rule.suffix for rule in RULES}
