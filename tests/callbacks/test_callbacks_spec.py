"""`conformance callbacks --spec NAME=PATH`: the callbacks of the user's own copy of a document.

The copy is the bundled Global Payments document with `callbacks` made optional, as in the provider's
published document: a body chosen for a status must still carry a record with that status.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from test_callbacks_only import receiver  # noqa: F401 - the loopback receiver fixture

SPECS = Path(__file__).resolve().parents[2] / "specs"


def test_only_sends_a_callback_of_the_users_document_carrying_the_status(run_callbacks, receiver, tmp_path):  # noqa: F811
    document = yaml.safe_load((SPECS / "global-payments.yaml").read_text())
    document["components"]["schemas"]["PaymentInitiationStatus"].pop("required", None)
    copy = tmp_path / "our-gp-copy.yaml"
    copy.write_text(yaml.safe_dump(document, sort_keys=False))
    origin, received, _ = receiver
    run = run_callbacks("--spec", f"global-payments={copy}", "--target", f"{origin}/cb",
                        "--only", "paymentInitiationStatus:COMPLETED")
    assert run.code == 0, run.out + run.err
    body = json.loads(received[0]["body"])
    assert [record["paymentStatus"] for record in body["callbacks"]] == ["COMPLETED"]


def test_api_and_spec_naming_different_apis_is_a_usage_error(run_callbacks, tmp_path):
    run = run_callbacks("--api", "pay-by-bank", "--spec", f"global-payments={SPECS / 'global-payments.yaml'}",
                        "--target", "http://127.0.0.1:9/cb", "--only", "paymentInitiationStatus:COMPLETED")
    assert run.code == 2 and "name different APIs" in run.err
