"""The reference receiver in examples/ passes `conformance callbacks` cleanly, for every API with callbacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from callbacks_support import APIS_WITH_CALLBACKS, serve

from conformance import SPEC_NAMES, load_spec
from conformance.callbacks import RULES, webhooks
from examples.receiver import CallbackReceiver

ROOT = Path(__file__).resolve().parents[2]


def test_the_apis_with_callbacks_are_those_the_specs_say():
    assert tuple(name for name in SPEC_NAMES if webhooks(load_spec(name))) == APIS_WITH_CALLBACKS


@pytest.mark.parametrize("api", APIS_WITH_CALLBACKS)
def test_reference_receiver_conforms(api, run_callbacks):
    spec = load_spec(api)
    with serve(CallbackReceiver(api).app()) as origin:
        run = run_callbacks("--api", api, "--target", f"{origin}/callbacks")
    assert run.code == 0, run.out + run.err
    document = run.certification
    assert document["verdict"] == "conforms"
    (report,) = document["apis"]
    results = {rule["id"]: rule for rule in report["rules"]}
    assert set(results) == {rule.id(spec.prefix) for rule in RULES}
    for rule_id, rule in results.items():
        if rule_id.endswith("-MTLS"):
            assert rule["result"] == "skipped"  # plain http: mutual TLS is tested in test_callbacks_mtls
        elif rule_id.endswith("-REJECTS-UNASSIGNED-CODE") and api == "global-payments":
            assert rule["result"] == "skipped"  # its callbacks carry no currency or country code
        else:
            assert rule["result"] == "passed" and rule["checks"]["passed"] > 0, rule
    coverage = {entry["field"]: entry for entry in report["coverage"]}
    for webhook in webhooks(spec):
        seen = {s["value"] for s in coverage[webhook.coverage_label]["statuses"] if s["seen"]}
        assert seen == set(webhook.statuses)  # every status of every callback type was acknowledged
    assert run.out.startswith("conformance callbacks: CONFORMS")


def test_one_url_per_webhook(run_callbacks):
    """A {webhook} placeholder sends each callback type to its own path (the receiver then skips guessing)."""
    with serve(CallbackReceiver("pay-by-bank").app()) as origin:
        run = run_callbacks("--api", "pay-by-bank", "--target", f"{origin}/callbacks/{{webhook}}")
    assert run.code == 0, run.out
    urls = {json.loads(line)["url"] for line in (run.report_dir / "callbacks.ndjson").read_text().split("\n")[:-1]}
    assert urls == {f"{origin}/callbacks/payments", f"{origin}/callbacks/payouts"}


def test_same_seed_same_deliveries(run_callbacks):
    def deliveries(run):
        lines = (run.report_dir / "callbacks.ndjson").read_text().split("\n")[:-1]
        return [(event["check"], event["note"], json.dumps(event["body"])) for event in map(json.loads, lines)]

    with serve(CallbackReceiver("global-payments").app()) as origin:
        first = run_callbacks("--api", "global-payments", "--target", f"{origin}/callbacks", seed=7)
    with serve(CallbackReceiver("global-payments").app()) as origin:
        second = run_callbacks("--api", "global-payments", "--target", f"{origin}/callbacks", seed=7)
    assert first.code == second.code == 0
    assert deliveries(first) == deliveries(second)


@pytest.mark.parametrize("launch", ["python -m examples.receiver", "conformance receiver"])
def test_command_line_end_to_end(tmp_path, launch):
    """The receiver and the command as a user runs them: two processes, real entry points. `conformance
    receiver` runs from any directory (the installed package carries the receiver)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = ["-m", "examples.receiver"] if launch.startswith("python") else ["-m", "conformance", "receiver"]
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    receiver = subprocess.Popen(
        [sys.executable, *command, "--api", "global-payments", "--port", "0"],
        cwd=ROOT if launch.startswith("python") else workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = receiver.stdout.readline()
        assert line.startswith("receiving global-payments callbacks at http://127.0.0.1:"), (
            line + receiver.stderr.read()
        )
        url = line.split(" at ", 1)[1].strip()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance",
                "callbacks",
                "--api",
                "global-payments",
                "--target",
                url,
                "--profile",
                "quick",
                "--seed",
                "3",
                "--report-dir",
                str(tmp_path),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        receiver.terminate()
        receiver.wait(timeout=15)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("conformance callbacks: CONFORMS"), done.stdout
    assert {p.name for p in tmp_path.iterdir()} >= {
        "certification.json",
        "certification.html",
        "junit.xml",
        "callbacks.ndjson",
    }
