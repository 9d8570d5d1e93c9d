"""The same suites under plain pytest, as a team wires them into its own CI: `pytest --pyargs
conformance.suites --origin URL`, here against a mock started by the test, in two pytest-xdist workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conformance.mock import MockServer
from conformance.suites._environment import WRONG_SCOPE


def test_suites_run_under_plain_pytest_with_xdist_workers(tmp_path, reserved_port):
    port = reserved_port
    secret = "plain-pytest-secret-value"
    token = "plain-pytest-sink-token"  # the sink's path, as registered with the provider
    with MockServer(client_id="plain-pytest", client_secret=secret, scopes=("jpm:payments:sandbox", WRONG_SCOPE),
                    callback_url=f"http://127.0.0.1:{port}/{token}/{{api}}/{{webhook}}") as mock:
        environment = dict(os.environ, CONFORMANCE_CLIENT_ID="plain-pytest", CONFORMANCE_CLIENT_SECRET=secret,
                           CONFORMANCE_SINK_TOKEN=token)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
             "--origin", mock.origin, "--callback-listen", f"127.0.0.1:{port}", "--api", "pay-by-bank",
             "--report-dir", str(tmp_path / "reports"), "--rate-limit", "0", "-n", "2", "-q"],
            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "CONFORMS" in output
    assert secret not in output
    document = json.loads((tmp_path / "reports" / "certification.json").read_text())
    assert document["verdict"] == "conforms"
    [api] = document["apis"]
    assert api["name"] == "pay-by-bank" and all(field["seen"] == field["documented"] for field in api["coverage"])
    for path in (tmp_path / "reports").iterdir():
        assert secret not in path.read_text(errors="replace")
        assert token not in path.read_text(errors="replace")


def test_plain_pytest_marks_each_test_with_its_api_and_kind(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
         "--collect-only", "-q", "-m", "online_payments and scenarios"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, CONFORMANCE_CLIENT_ID="", CONFORMANCE_CLIENT_SECRET=""))
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected and all("online-payments:OP-SCENARIO-" in line for line in collected)
