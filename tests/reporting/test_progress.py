"""conformance.progress: bars on a terminal, plain lines in CI logs, silence when quiet; all redacted."""

from __future__ import annotations

import io
import re

import pytest

from conformance.progress import Progress
from conformance.reporting import load_report

from .conftest import CLIENT_SECRET, PAN, TOKEN, leaks, record_run

CONTROL = re.compile(r"\x1b|\r")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a developer's shell would."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def document(tmp_path, make_recorder, specs):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=True)
    recorder.finish()
    return load_report(tmp_path / "certification.json"), recorder


def _run(progress: Progress) -> None:
    progress.start("online-payments", total=4, suite="schema")
    progress.advance("online-payments", suite="schema", passed=2)
    progress.log(f"token {TOKEN} issued for client secret {CLIENT_SECRET}, card {PAN}")
    progress.advance("online-payments", suite="schema", passed=1, failed=1)
    progress.done("online-payments", suite="schema")
    progress.advance("pay-by-bank", passed=1)  # a suite nobody announced still shows
    progress.done("pay-by-bank")
    progress.start("global-payments", suite="flows")  # never marked done: closed with the run
    progress.advance("global-payments", suite="flows", skipped=1)


def test_ci_logs_get_plain_lines_without_control_codes(document):
    document, recorder = document
    log, out = io.StringIO(), io.StringIO()
    with Progress(stream=log, summary_stream=out, redactor=recorder.redactor, interval=0) as progress:
        _run(progress)
    text = log.getvalue()
    assert not CONTROL.search(text)
    lines = text.splitlines()
    assert re.fullmatch(r"\[\s*\d+\.\ds\] online-payments/schema: started \(4 checks\)", lines[0])
    assert "online-payments/schema: 2/4 checks (2 passed, 0 failed, 0 skipped)" in lines[1]
    assert "token [REDACTED] issued for client secret [REDACTED], card 401200XXXXXX0026" in text
    assert re.search(r"online-payments/schema: done, 3 passed, 1 failed, 0 skipped in \d+\.\d s", text)
    assert "pay-by-bank: done, 1 passed" in text
    assert (
        "global-payments/flows: started" in text
        and "global-payments/flows: done, 0 passed, 0 failed, 1 skipped" in text
    )
    assert leaks(text) == []
    summary = progress.summary(document, report_dir="reports")
    assert out.getvalue() == summary and not CONTROL.search(summary)
    assert summary.startswith("conformance certify: NONCONFORMANT (3 failures in 3 rules)")
    assert re.search(r"online-payments\s+5\s+1\s+0\s+0\s+4/6", summary)
    assert re.search(r"pay-by-bank\s+5\s+0\s+0\s+0\s+3/5", summary)
    assert "statuses not seen:" in summary and "OP-NO-CARD-DATA [V2PaymentPost]: 1 failure; first F1" in summary
    assert "report: reports/certification.html" in summary
    assert leaks(summary) == []


def test_quiet_mode_prints_only_the_summary(document):
    document, recorder = document
    log, out = Terminal(), io.StringIO()
    progress = Progress(quiet=True, stream=log, summary_stream=out, redactor=recorder.redactor)
    _run(progress)
    progress.close()
    assert log.getvalue() == ""
    progress.summary(document)
    assert out.getvalue().startswith("conformance certify: NONCONFORMANT")


def test_a_terminal_gets_rich_bars_and_a_coloured_summary(document, monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    document, recorder = document
    log, out = Terminal(), Terminal()
    with Progress(stream=log, summary_stream=out, redactor=recorder.redactor) as progress:
        _run(progress)
    text = log.getvalue()
    assert "\x1b[" in text  # a live display, redrawn in place
    assert "online-payments/schema" in text and "3 passed" in text and "1 failed" in text
    assert "4/4" in text
    assert "token [REDACTED] issued" in text and leaks(text) == []
    progress.summary(document)
    shown = out.getvalue()
    assert "\x1b[" in shown and "NONCONFORMANT" in shown and "online-payments" in shown
    assert leaks(shown) == []


def test_a_summary_of_a_clean_run(tmp_path, make_recorder, specs):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=False)
    recorder.finish()
    out = io.StringIO()
    Progress(quiet=True, summary_stream=out).summary(recorder.document())
    text = out.getvalue()
    passed = recorder.document()["summary"]["rules_passed"]
    assert passed > 0
    assert text.startswith(f"conformance certify: CONFORMS ({passed} rules passed)")
    assert "failures:" not in text
