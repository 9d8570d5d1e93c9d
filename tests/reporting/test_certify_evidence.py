"""End to end: `conformance certify` against the embedded mock leaves the evidence, and no secret.

The CLI runs in a subprocess with known credentials, against the embedded mock, which sends the
spec's real test PAN and uses real tokens it issues. A small launcher records every token the
mock issues (wrapping its token authority), so the scan looks for the exact tokens, not only for
token-shaped text. Every file in the report directory and the captured console are scanned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conformance.reporting._document import validator

from .conftest import CLIENT_ID, CLIENT_SECRET, PAN, leaks, scan_directory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ROOT / "conformance" / "cli" / "_certify.py").exists(),
        reason="conformance/cli/_certify.py not written yet",
    ),
]

LAUNCHER = textwrap.dedent(
    """
    import sys
    tokens = sys.argv[1]
    from conformance.mock import _auth

    issue = _auth.TokenAuthority.issue

    def recording_issue(self, scopes):
        answer = issue(self, scopes)
        with open(tokens, "a") as stream:
            stream.write(answer["access_token"] + "\\n")
        return answer

    _auth.TokenAuthority.issue = recording_issue
    from conformance.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


APIS = ("--api", "online-payments", "--api", "pay-by-bank")
"""Card payments (the PAN) and an API with callbacks (callbacks.ndjson); the other two add time, not evidence."""


class Run:
    """One `conformance certify` subprocess: started at once, waited for when its result is needed."""

    def __init__(self, directory: Path, *args: str) -> None:
        self.reports = directory / "reports"
        self._tokens = directory / "issued-tokens.txt"
        environment = dict(os.environ, CONFORMANCE_CLIENT_ID=CLIENT_ID, CONFORMANCE_CLIENT_SECRET=CLIENT_SECRET)
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                LAUNCHER,
                str(self._tokens),
                "certify",
                "--profile",
                "quick",
                "--seed",
                "5",
                "--report-dir",
                str(self.reports),
                *APIS,
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            cwd=directory,
        )
        self._result: tuple[int, str] | None = None

    def wait(self) -> tuple[int, str, list[str]]:
        """Exit code, console (stdout and stderr), tokens the mock issued."""
        if self._result is None:
            try:
                out, err = self._process.communicate(timeout=240)
            finally:
                if self._process.poll() is None:
                    self._process.kill()
                    self._process.communicate()
            self._result = (self._process.returncode, out + err)
        issued = self._tokens.read_text().split() if self._tokens.exists() else []
        return (*self._result, issued)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A clean run and a failing one (the mock leaking the PAN), side by side to save wall time."""
    from conformance.mock import FAULTS

    fault = next(fault for fault in FAULTS.values() if fault.rule == "OP-NO-CARD-DATA")
    started = {
        "clean": Run(tmp_path_factory.mktemp("certify-clean")),
        "failing": Run(tmp_path_factory.mktemp("certify-failing"), "--fault", fault.name),
    }
    try:
        yield started
    finally:
        for run in started.values():
            run.wait()


def _no_secrets(reports: Path, console: str, issued: list[str]) -> None:
    assert scan_directory(reports) == {}
    assert leaks(console) == []
    assert issued, "the mock issued no token: the run did not authenticate"
    texts = {path.name: path.read_text() for path in reports.rglob("*") if path.is_file()} | {"console": console}
    for name, text in texts.items():
        for token in issued:
            assert token not in text, f"an issued bearer token is in {name}"
        assert CLIENT_SECRET not in text and PAN not in text, name


def _sent_the_real_pan(reports: Path) -> bool:
    """The run's evidence shows our test PAN went out (masked as the provider masks it)."""
    return any("401200XXXXXX0026" in path.read_text() for path in reports.rglob("*") if path.is_file())


def test_certify_against_the_mock_leaves_all_four_files_valid_and_clean(runs):
    code, console, issued = runs["clean"].wait()
    reports = runs["clean"].reports
    assert code in (0, 1), console
    for name in ("junit.xml", "certification.json", "certification.html", "callbacks.ndjson"):
        assert (reports / name).is_file(), name
    document = json.loads((reports / "certification.json").read_text())
    validator().validate(document)
    assert document["command"] == "certify" and document["seed"] == 5 and document["profile"] == "quick"
    assert document["callbacks"]["count"] == len((reports / "callbacks.ndjson").read_text().splitlines()) > 0
    assert document["verdict"].upper() in console
    _no_secrets(reports, console, issued)


def test_a_failing_certify_run_has_full_evidence_and_no_secrets(runs):
    code, console, issued = runs["failing"].wait()
    reports = runs["failing"].reports
    assert code == 1, console
    assert "OP-NO-CARD-DATA" in console
    for name in ("junit.xml", "certification.json", "certification.html", "callbacks.ndjson"):
        assert (reports / name).is_file(), name
    document = json.loads((reports / "certification.json").read_text())
    validator().validate(document)
    assert document["verdict"] == "nonconformant"
    leak = next(failure for failure in document["failures"] if failure["rule_id"] == "OP-NO-CARD-DATA")
    exchange = leak["exchange"]
    assert exchange is not None, leak
    assert exchange["method"] and exchange["url"].startswith("http://127.0.0.1:")
    assert exchange["status"] is not None and exchange["request_body"] and exchange["response_body"]
    assert exchange["request_headers"] and exchange["response_headers"]
    assert leak["reproduction"].startswith("# OP-NO-CARD-DATA") and "\ncurl -sS -i -X POST " in leak["reproduction"]
    assert "401200XXXXXX0026" in exchange["response_body"]  # the leaked PAN, shown masked
    assert _sent_the_real_pan(reports)
    html = (reports / "certification.html").read_text()
    assert f'data-count="{len(document["failures"])}"' in html
    _no_secrets(reports, console, issued)
