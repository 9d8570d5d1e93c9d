"""How long a scenario waits for its callbacks: while the provider keeps delivering about the resource,
refused deliveries included (it is backing off as the sink asked), and no longer once it goes quiet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from conformance import load_spec
from conformance.checks import Call
from conformance.suites._flows import wait_for_callbacks

SPEC = load_spec("pay-by-bank")
PAYMENT_ID = "72192676-2130-4d30-9336-65b81f48a092"


@dataclass
class Profile:
    callback_timeout: float


class Provider:
    """A target whose sink receives, at the given seconds after the wait began, the given deliveries."""

    def __init__(self, schedule: list[tuple[float, str, int]], patience: float) -> None:
        self.specs = {SPEC.name: SPEC}
        self.profile = Profile(callback_timeout=patience)
        self.schedule = schedule
        self.started = time.monotonic()
        self.sink_problem: str | None = None

    def deliveries(self, api: str, webhook: str) -> list[dict[str, Any]]:
        elapsed = time.monotonic() - self.started
        return [{"body": {"id": PAYMENT_ID, "status": status}, "answered": answered}
                for at, status, answered in self.schedule if at <= elapsed]


def created() -> Call:
    return Call(api="pay-by-bank", operation_id="createPayment", method="POST", url="/payments", status=201,
                request_body={}, response_body={"id": PAYMENT_ID, "status": "NONE"})


def statuses(provider: Provider) -> list[str]:
    return [status for status, _ in wait_for_callbacks(provider, created(), "payments", ["NONE", "SENT", "SETTLED"])]


def test_a_provider_backing_off_is_waited_for_past_the_timeout():
    # The first callback refused three times (0.25, 0.5, 0.55 s apart): 1.4 s in all, with a 0.6 s timeout.
    schedule = [(0.0, "NONE", 500), (0.25, "NONE", 500), (0.75, "NONE", 500), (1.3, "NONE", 200),
                (1.35, "SENT", 200), (1.4, "SETTLED", 200)]
    assert statuses(Provider(schedule, patience=0.6)) == ["NONE", "SENT", "SETTLED"]


def test_a_quiet_provider_is_not_waited_for_longer_than_the_timeout():
    # Had the wait gone on to the late callback, it would have seen SENT.
    assert statuses(Provider([(0.0, "NONE", 200), (10.0, "SENT", 200)], patience=0.3)) == ["NONE"]


def test_a_chatty_provider_is_not_waited_for_more_than_three_timeouts():
    # A refused delivery every 0.1 s for 20 s, then SENT: without the bound the wait would last till SENT.
    chatty = [(step / 10, "NONE", 500) for step in range(200)] + [(20.0, "SENT", 200)]
    assert statuses(Provider(chatty, patience=0.3)) == ["NONE"]


def test_a_scenario_that_saw_nothing_says_what_the_sink_did_see():
    from conformance.checks import scenario_outcome
    from conformance.suites._flows import _silence

    quiet = Provider([], patience=0.1)
    others = Provider([(0.0, "NONE", 200)], patience=0.1)
    others.deliveries = lambda api, webhook: [{"body": {"id": "another", "status": "NONE"}, "answered": 200}] * 3
    assert _silence(quiet, created(), "payments", 5.04) == (
        f"no payments callback about {PAYMENT_ID} in 5.0 s; the sink received none at all")
    said = _silence(others, created(), "payments", 5.0)
    assert said.endswith("the sink received 3 about other resources")
    [result] = scenario_outcome(SPEC.rules.scenario("PBB-SCENARIO-SETTLED"), 201, {"status": "NONE"}, [], said)
    assert not result.passed and result.observed == said


def test_a_sink_that_cannot_be_read_is_not_reported_as_silence(tmp_path):
    """A run whose sink stopped answering says so, rather than blaming the provider for sending nothing."""
    from conformance.suites._flows import _silence
    from conformance.suites._runtime import RunSettings, Target

    settings = RunSettings(specs=[f"{SPEC.name}={SPEC.path}"], apis=[SPEC.name], base_urls={},
                           token_url="http://127.0.0.1:9/token", client_id="id", client_secret="secret",
                           sink="http://127.0.0.1:9/sink-token")
    target = Target(settings)
    try:
        said = _silence(target, created(), "payments", 5.0)
    finally:
        target.close()
    assert said.startswith(f"no payments callback about {PAYMENT_ID} in 5.0 s; the sink could not be read (")
    assert "sink-token" not in said
