"""Reproduction end to end: a mock with a fault on, `certify --origin` against it, then the evidence used.

- the chain of curl commands shown in the HTML, pasted into a real shell with a real token, gets the
  faulty answers again from the mock (without Content-Type the same POST would get 400);
- `conformance replay` says "still fails" against the faulty mock and "no longer fails" against a mock
  without the fault, with the exit codes docs/reports.md documents;
- the exchange log (--log), the HAR (--har) and --verbose hold every exchange, redacted.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from port_support import reserve_port

from conformance.auth import DEFAULT_SCOPE
from conformance.cli import main
from conformance.mock import MockServer

from .conftest import leaks

pytestmark = pytest.mark.slow

CLIENT_ID = "replay-client"
CLIENT_SECRET = "replay-Secret-7f3k29dk"
FAULT = "pbb-over-payout-accepted"
RULE = "PBB-PAYOUT-NOT-ABOVE-PAYMENT"
SINK_TOKEN = "replay-tests-sink-token"
"""The sink's path, as registered with the provider (the mock) before the run."""


def _mock(*faults: str, callback_url: str | None = None) -> MockServer:
    mock = MockServer(faults=faults, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, callback_url=callback_url,
                      scopes=(DEFAULT_SCOPE, "conformance:no-payments"))
    mock.start()
    return mock


@contextlib.contextmanager
def _credentials():
    names = ("CONFORMANCE_CLIENT_ID", "CONFORMANCE_CLIENT_SECRET", "CONFORMANCE_SINK_TOKEN")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(CONFORMANCE_CLIENT_ID=CLIENT_ID, CONFORMANCE_CLIENT_SECRET=CLIENT_SECRET,
                      CONFORMANCE_SINK_TOKEN=SINK_TOKEN)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with _credentials(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sink_port() -> int:
    return reserve_port()


@pytest.fixture(scope="module")
def faulty_mock(sink_port):
    """The mock with the fault on, its callbacks going to the sink the run will listen with."""
    mock = _mock(FAULT, callback_url=f"http://127.0.0.1:{sink_port}/{SINK_TOKEN}/{{api}}/{{webhook}}")
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture(scope="module")
def run(faulty_mock, sink_port, tmp_path_factory):
    """`certify --origin` against the faulty mock, keeping every exchange (log, HAR, --verbose)."""
    directory = tmp_path_factory.mktemp("reproduction")
    code, out, err = _cli("certify", "--origin", faulty_mock.origin, "--api", "pay-by-bank", "--rate-limit", "0",
                          "--callback-listen", f"127.0.0.1:{sink_port}", "--seed", "3",
                          "--report-dir", str(directory / "reports"), "--quiet", "--verbose",
                          "--log", str(directory / "exchanges.ndjson"), "--har", str(directory / "run.har"))
    assert code == 1, out + err
    document = json.loads((directory / "reports" / "certification.json").read_text())
    failure = next(f for f in document["failures"] if f["rule_id"] == RULE)
    return {"directory": directory, "document": document, "failure": failure, "out": out, "err": err}


def _token(mock: MockServer) -> str:
    answer = httpx.post(mock.token_url, data={"grant_type": "client_credentials", "scope": DEFAULT_SCOPE},
                        auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


def _pasted_script(report: Path, failure_id: str) -> str:
    """The reproduction of a failure as the HTML shows it (what a reader copies)."""
    page = report.read_text()
    start = page.index(f'<details class="failure" id="{failure_id}"')
    block = re.search(r'<pre class="reproduction">(.*?)</pre>', page[start:], re.S)
    return html.unescape(block.group(1))


def _run_in_shell(script: str, token: str) -> list[tuple[int, str]]:
    """Run a pasted script in bash; (status, body) of every answer, in order."""
    done = subprocess.run(["bash", "-c", script], env={"PATH": os.environ["PATH"], "TOKEN": token},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answers = re.split(r"(?=HTTP/1\.[01] \d{3} )", done.stdout)  # a JSON body ends without a newline
    return [(int(part.split()[1]), part.split("\n\n", 1)[-1]) for part in answers if part.startswith("HTTP/")]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed (apt-get install curl)")
def test_the_chain_pasted_from_the_html_reproduces_the_faulty_answer(run, faulty_mock):
    failure = run["failure"]
    steps = [*failure["chain"], failure["exchange"]]
    assert [step["operation"] for step in steps][0] == "createPayment" and steps[-1]["operation"] == "createPayout"
    script = _pasted_script(run["directory"] / "reports" / "certification.html", failure["id"])
    assert script == failure["reproduction"] and '"Authorization: Bearer $TOKEN"' in script
    answers = _run_in_shell(script, _token(faulty_mock))
    assert [status for status, _ in answers] == [step["status"] for step in steps]
    status, body = answers[-1]
    assert status == 201 and json.loads(body)["amount"]["value"] == "99.00"  # the over-payout, accepted again
    # The header the old reproduction left out: without it the same POSTs are refused outright.
    stripped = "\n".join(line for line in script.splitlines() if "Content-Type: application/json" not in line)
    assert [status for status, _ in _run_in_shell(stripped, _token(faulty_mock))][-1] == 400


def test_replay_says_still_fails_against_the_fault_and_no_longer_fails_without_it(run, faulty_mock):
    report = str(run["directory"] / "reports")
    failure_id = run["failure"]["id"]
    code, out, err = _cli("replay", report, failure_id, "--origin", faulty_mock.origin)
    assert code == 1, out + err
    assert f"{failure_id} {RULE} still fails at step" in out and "observed 99.00 accepted" in out
    assert out.count(" -> ") == len(run["failure"]["chain"]) + 1  # one line per request sent
    fixed = _mock()
    try:
        code, out, err = _cli("replay", report, failure_id.lower(), "--origin", fixed.origin, "--quiet")
    finally:
        fixed.stop()
    assert code == 0, out + err
    assert out.startswith(f"{failure_id} {RULE} no longer fails: ") and "(HTTP 400; the run saw 201)" in out
    assert leaks(out + err) == [] and CLIENT_SECRET not in out + err


def test_replay_bad_input_is_one_line_with_its_exit_code(run, faulty_mock, tmp_path):
    report = str(run["directory"] / "reports")
    code, out, err = _cli("replay", report, "F999", "--origin", faulty_mock.origin)
    assert code == 2 and err.startswith("conformance: error: ") and "has no failure 'F999'" in err
    assert len(err.strip().splitlines()) == 1
    with socket_closed() as port:
        code, out, err = _cli("replay", report, run["failure"]["id"], "--origin", f"http://127.0.0.1:{port}")
    assert code == 3 and err.startswith("conformance: error: ") and len(err.strip().splitlines()) == 1


@contextlib.contextmanager
def socket_closed():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


def test_every_exchange_is_logged_redacted_in_ndjson_har_and_verbose_lines(run):
    directory = run["directory"]
    lines = (directory / "exchanges.ndjson").read_text().splitlines()
    sent = int(re.search(r"requests sent: (\d+)", run["out"]).group(1))
    assert len(lines) == sent > 10
    logged = [json.loads(line) for line in lines]
    assert {"method", "url", "request_headers", "status", "response_body", "operation"} <= set(logged[0])
    posts = [entry for entry in logged if entry["method"] == "POST"]
    assert posts and all(entry["request_headers"].get("Content-Type") == "application/json" for entry in posts)
    assert any(entry["operation"] == "createPayout" and '"99.00"' in entry["request_body"] for entry in logged)

    har = json.loads((directory / "run.har").read_text())
    assert har["log"]["version"] == "1.2" and har["log"]["creator"]["name"] == "payments-conformance"
    entries = har["log"]["entries"]
    assert len(entries) == sent
    assert [entry["request"]["url"] for entry in entries] == [entry["url"] for entry in logged]
    first = entries[0]
    assert first["startedDateTime"].endswith("Z") and first["response"]["status"] == logged[0]["status"]
    assert {"name": "Authorization", "value": "Bearer [REDACTED]"} in first["request"]["headers"]
    assert not (directory / "reports" / ".exchanges.ndjson").exists()  # the HAR's scratch log is gone

    verbose = [line for line in run["err"].splitlines() if " -> " in line]
    assert len(verbose) == sent and verbose[0].startswith(f"{logged[0]['method']} {logged[0]['url']} -> ")
    for text in ((directory / "exchanges.ndjson").read_text(), (directory / "run.har").read_text(), run["err"]):
        assert leaks(text) == [] and CLIENT_SECRET not in text
