"""Every deliberately faulty receiver is flagged with its rule, alone, and exit code 1."""

from __future__ import annotations

import pytest
from callbacks_support import APIS_WITH_CALLBACKS, serve
from faulty_receivers import FAULTY_RECEIVERS, StopsAnswering

from conformance import load_spec


@pytest.mark.parametrize("api", APIS_WITH_CALLBACKS)
@pytest.mark.parametrize("fault", sorted(FAULTY_RECEIVERS))
def test_faulty_receiver_is_flagged(fault, api, run_callbacks):
    receiver_class, suffix = FAULTY_RECEIVERS[fault]
    rule_id = f"{load_spec(api).prefix}-{suffix}"
    options = ("--deadline", "0.5") if suffix == "RECEIVER-DEADLINE" else ()
    with serve(receiver_class(api).app()) as origin:
        run = run_callbacks("--api", api, "--target", f"{origin}/callbacks", *options)
    assert run.code == 1, run.out + run.err
    assert f" {rule_id} [" in run.out  # the summary lists the failure
    assert f"FAIL {rule_id} [" in run.err  # and progress reported it as it happened
    assert run.failed_rules() == {rule_id}, run.out
    assert run.certification["verdict"] == "nonconformant"
    failure = next(f for f in run.certification["failures"] if f["rule_id"] == rule_id)
    assert failure["exchange"]["url"].startswith(origin) and "\ncurl -sS -i -X POST " in failure["reproduction"]


def test_receiver_that_stops_answering_ends_the_run(run_callbacks):
    """After three deliveries in a row without an answer the run stops: deadline failed, the rest skipped."""
    with serve(StopsAnswering("pay-by-bank").app()) as origin:
        run = run_callbacks("--api", "pay-by-bank", "--target", f"{origin}/callbacks", "--deadline", "0.3", "--quiet")
    assert run.code == 1, run.out + run.err
    assert run.failed_rules() == {"PBB-RECEIVER-DEADLINE"}
    assert len(run.certification["failures"]) == 3
    results = {rule["id"]: rule["result"] for rule in run.certification["apis"][0]["rules"]}
    assert results["PBB-RECEIVER-DUPLICATE"] == "skipped"
    assert run.err == ""  # --quiet: no progress lines
