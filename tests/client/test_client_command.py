"""`conformance client -- COMMAND`: the reference client conforms under every profile, each faulty client is
flagged with its one rule, the schedule of trouble is the seed's, and the evidence says what happened.

Every run is real: the embedded mock on loopback, the recording proxy in front of it, the client a separate
Python process talking HTTP to the proxy.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx
import pytest
from client_support import FAULTY, REFERENCE, ROOT, Background
from faulty_clients import FAULTY_CLIENTS

from conformance import load_spec

CARD = "4012000033330026"


def _troubles(run) -> list[tuple]:
    """The schedule as reported, with where each trouble landed (what the same seed must reproduce)."""
    return [(t["id"], t["kind"], t["slot"], json.dumps(t["action"], sort_keys=True),
             (t["met"]["api"], t["met"]["operation"], t["met"]["method"]) if t["met"] else None)
            for t in run.certification["client"]["troubles"]]


@pytest.fixture(scope="module", autouse=True)
def reference_runs(tmp_path_factory):
    """The reference client under each profile (quick twice with one seed), in processes of their own started
    with the module, so that they run while the other tests do (the tests reading them come last)."""
    runs = Background(tmp_path_factory.mktemp("reference"))
    runs.start("quick-a", command=REFERENCE, seed=11)
    runs.start("quick-b", command=REFERENCE, seed=11)
    runs.start("standard", "--profile", "standard", command=REFERENCE, seed=12)
    runs.start("thorough", "--profile", "thorough", command=REFERENCE, seed=13)
    yield runs
    runs.stop()


def _conforms(run) -> None:
    assert run.code == 0, run.out + run.err
    document = run.certification
    assert document["verdict"] == "conforms" and document["command"] == "client"
    assert document["client"]["exit_status"] == 0, run.err
    assert "classname=\"conformance.pay-by-bank\"" in (run.report_dir / "junit.xml").read_text()
    assert document["summary"]["rules_failed"] == 0 and document["summary"]["checks_passed"] > 50
    met = [t for t in document["client"]["troubles"] if t["met"]]
    assert met, "a run that met no trouble proves nothing"
    called = {(op["api"], op["operation"]) for op in document["client"]["operations"]}
    assert {("pay-by-bank", "createPayment"), ("pay-by-bank", "getPayment"), ("online-payments", "V2PaymentPost"),
            ("global-payments", "initiatePayments"), ("global-payments", "getPaymentStatus"),
            ("global-payments", "getPaymentDetails")} <= called


@pytest.mark.parametrize("name", sorted(FAULTY_CLIENTS))
def test_faulty_client_is_flagged_with_its_rule(run_client, name):
    faulty = FAULTY_CLIENTS[name]
    rule_id = f"{load_spec(faulty.api if name != 'token-per-call' else 'oauth').prefix}-{faulty.suffix}"
    troubles = [option for kind in faulty.troubles for option in ("--trouble", kind)] or ["--no-trouble"]
    run = run_client("--api", faulty.api, *troubles, command=[*FAULTY, name])
    assert run.code == 1, run.out + run.err
    assert run.failed_rules() == {rule_id}, run.out
    assert f"rules failed: {rule_id}" in run.out
    document = run.certification
    failure = next(f for f in document["failures"] if f["rule_id"] == rule_id)
    if faulty.suffix != "CLIENT-EXERCISED":
        assert failure["exchange"]["url"].startswith(document["client"]["proxy"])
        assert "curl" in failure["reproduction"]
    if faulty.troubles:
        assert document["client"]["troubles"][0]["met"], "the fault shows only under its trouble"
    html = (run.report_dir / "certification.html").read_text()
    assert f'data-rule="{rule_id}"' in html
    for path in run.report_dir.iterdir():
        assert CARD not in path.read_text(), f"a card number in {path.name}"


def test_the_failure_shows_the_trouble_it_followed(run_client):
    run = run_client("--api", "pay-by-bank", "--trouble", "ambiguous-503", command=[*FAULTY, "new-key-on-retry"])
    failure = run.certification["failures"][0]
    assert failure["trouble"]["kind"] == "ambiguous-503"
    troubled = [step for step in failure["chain"] if step.get("trouble")]
    assert troubled and troubled[-1]["status"] == 503 and failure["exchange"]["status"] == 201
    assert "a second resource" in failure["observed"]
    html = (run.report_dir / "certification.html").read_text()
    assert 'class="trouble" data-trouble="T1"' in html and "injected T1 ambiguous-503" in html


def test_a_failing_command_is_reported_not_judged(run_client, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "shop-client")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "s3cret-of-the-shop")
    run = run_client("--api", "pay-by-bank", "--trouble", "decline",
                     command=["sh", "-c", '"$0" "$1" --api pay-by-bank; exit 7', *REFERENCE])
    assert run.code == 0, run.out + run.err
    assert run.certification["client"]["exit_status"] == 7
    assert "command exited with status 7 (reported, not judged)" in run.out
    for path in run.report_dir.iterdir():
        assert "s3cret-of-the-shop" not in path.read_text(), f"the client secret in {path.name}"


@pytest.mark.parametrize(("options", "fragment"), [
    ((), "give the command to run after --"),
    (("--trouble", "earthquake", "--", "true"), "unknown trouble earthquake"),
    (("--no-trouble", "--trouble", "timeout", "--", "true"), "contradict"),
    (("--api", "nowhere", "--", "true"), "unknown API 'nowhere'"),
    (("--", "no-such-command-anywhere"), "cannot run 'no-such-command-anywhere'"),
    (("--token-url", "http://127.0.0.1:9/token", "--", "true"), "--token-url goes with --upstream"),
])
def test_usage_errors_are_one_line_and_exit_2(run_client, options, fragment):
    run = run_client(*options)
    assert run.code == 2, run.out + run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in run.err


def test_an_unreachable_upstream_is_exit_3(run_client, monkeypatch, reserved_port):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "id")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "secret")
    run = run_client("--upstream", f"http://127.0.0.1:{reserved_port}", command=["true"])
    assert run.code == 3, run.out + run.err
    assert "cannot reach" in run.err and "connection refused" in run.err and "Traceback" not in run.err


def test_in_front_of_a_sandbox_the_proxy_refuses_revoked_tokens_itself(run_client, monkeypatch):
    """--upstream: the sandbox (here a mock the test runs) never revokes; the proxy answers 401 for it."""
    from conformance.mock import MockServer

    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "sandbox-client")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "sandbox-secret")
    with MockServer(port=0, client_id="sandbox-client", client_secret="sandbox-secret") as sandbox:
        run = run_client("--upstream", sandbox.origin, "--api", "pay-by-bank", "--trouble", "token-revoked",
                         "--trouble", "ambiguous-503", command=[*REFERENCE, "--api", "pay-by-bank"])
    _conforms_on(run, "pay-by-bank")
    client = run.certification["client"]
    assert client["upstream"] == sandbox.origin and all(t["met"] for t in client["troubles"])
    revoked = next(t for t in client["troubles"] if t["kind"] == "token-revoked")
    statuses = [op["statuses"] for op in client["operations"] if op["operation"] == revoked["met"]["operation"]]
    assert any("401" in answers for answers in statuses)


def test_listening_judges_whatever_arrives_until_ctrl_c(tmp_path, monkeypatch, reserved_port):
    """--listen without a command: the integration runs on its own; Ctrl-C ends the run normally (exit 0)."""
    from examples import client as reference

    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "listening-shop")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "listening-secret")
    report_dir = tmp_path / "listen"
    process = subprocess.Popen([sys.executable, "-m", "conformance", "client", "--listen", f"127.0.0.1:{reserved_port}",
                                "--duration", "60", "--trouble", "ambiguous-503", "--seed", "5", "--report-dir",
                                str(report_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        origin = f"http://127.0.0.1:{reserved_port}"
        for _ in range(300):
            try:
                httpx.get(origin + "/api/v2/healthcheck/payments", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        monkeypatch.setenv("CONFORMANCE_TOKEN_URL", origin + "/am/oauth2/alpha/access_token")
        monkeypatch.setenv("CONFORMANCE_BASE_URL_PAY_BY_BANK", origin + "/tsapi/pay-by-bank/v2")
        assert reference.main(["--api", "pay-by-bank"]) == 0
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out + err
    assert "export CONFORMANCE_BASE_URL_PAY_BY_BANK=" + origin in out and "listening-secret" not in out + err
    document = json.loads((report_dir / "certification.json").read_text())
    assert document["verdict"] == "conforms" and document["client"]["mode"] == "listen"
    assert document["client"]["troubles"][0]["met"]["operation"] == "createPayment"


def test_a_command_past_duration_is_stopped_and_ctrl_c_is_130_with_an_incomplete_report(run_client, tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    run = run_client("--no-trouble", "--duration", "1", command=sleeper)
    client = run.certification["client"]
    assert client["stopped"].startswith("still running after --duration 1 s") and client["exit_status"] < 0
    assert run.failed_rules() == {"OAUTH-CLIENT-EXERCISED", "GP-CLIENT-EXERCISED", "OP-CLIENT-EXERCISED",
                                  "PBB-CLIENT-EXERCISED"}  # it sent nothing: nothing is proven
    report_dir = tmp_path / "interrupted"
    process = subprocess.Popen([sys.executable, "-m", "conformance", "client", "--quiet", "--report-dir",
                                str(report_dir), "--", *sleeper], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        if process.poll() is not None or len(subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True,
                                                           text=True).stdout.split()) > 0:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    document = json.loads((report_dir / "certification.json").read_text())
    assert document["verdict"] == "incomplete" and document["incomplete_reason"] == "interrupted (Ctrl-C)"


def _conforms_on(run, api: str) -> None:
    assert run.code == 0, run.out + run.err
    assert run.certification["verdict"] == "conforms"
    assert {a["name"] for a in run.certification["apis"]} == {"oauth", api}


# -- read last: the reference runs started with the module --------------------------------------------------


def test_reference_client_conforms_and_the_same_seed_gives_the_same_trouble(reference_runs):
    first, again = reference_runs.result("quick-a"), reference_runs.result("quick-b")
    _conforms(first)
    _conforms(again)
    assert _troubles(first) == _troubles(again)
    kinds = [t["kind"] for t in first.certification["client"]["troubles"]]
    assert sorted(kinds) == sorted(["ambiguous-503", "dropped-connection", "timeout", "rate-limited",
                                    "token-revoked", "decline"])
    assert "injected troubles met: 6 of 6" in first.out
    html = (first.report_dir / "certification.html").read_text()
    assert 'id="client"' in html and "trouble-T6" in html


@pytest.mark.parametrize("profile", ["standard", "thorough"])
def test_reference_client_conforms_under_every_profile(reference_runs, profile):
    run = reference_runs.result(profile)
    _conforms(run)
    assert len(run.certification["client"]["troubles"]) > 6


def test_options_come_from_the_config_file_under_client(run_client, tmp_path):
    config = tmp_path / "conformance.toml"
    config.write_text('[client]\nno-trouble = true\napi = ["pay-by-bank"]\n')
    run = run_client("--config", str(config), command=["true"])
    assert run.code == 1 and run.certification["client"]["troubles"] == []
    assert run.failed_rules() == {"PBB-CLIENT-EXERCISED"}  # named, never called
    config.write_text('[client]\nearthquakes = 3\n')
    run = run_client("--config", str(config), command=["true"])
    assert run.code == 2 and "unknown key 'earthquakes' in [client]" in run.err
