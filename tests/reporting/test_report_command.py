"""`conformance report`: the HTML (and a text summary) regenerated from certification.json alone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reporting import certification_schema

from .conftest import PAN, TOKEN, leaks, record_run

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = str(Path(sys.executable).with_name("conformance"))
"""The console script, installed beside the interpreter (pip install -e .)."""


@pytest.fixture
def report(tmp_path, make_recorder, specs) -> Path:
    """A finished failing run; returns its report directory."""
    recorder = make_recorder(tmp_path / "run")
    record_run(recorder, specs, failing=True)
    recorder.finish()
    return tmp_path / "run"


def test_report_reproduces_the_html_from_the_json_alone(report, tmp_path):
    alone = tmp_path / "elsewhere"
    alone.mkdir()
    shutil.copy(report / "certification.json", alone / "certification.json")
    result = subprocess.run(
        [CONFORMANCE, "report", str(alone / "certification.json")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {alone / 'certification.html'}"
    assert (alone / "certification.html").read_bytes() == (report / "certification.html").read_bytes()


def test_report_accepts_the_directory_and_an_output_path(report, tmp_path, capsys):
    out = tmp_path / "out" / "page.html"
    assert main(["report", str(report), "--html", str(out)]) == 0
    assert out.read_bytes() == (report / "certification.html").read_bytes()
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert main(["report", str(report / "certification.json"), "--html", "-"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")


def test_report_text_prints_the_summary_with_every_failure(report, capsys):
    before = (report / "certification.html").stat().st_mtime_ns
    assert main(["report", str(report / "certification.json"), "--text"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("conformance certify: NONCONFORMANT (3 failures in 3 rules)")
    assert "OP-NO-CARD-DATA [V2PaymentPost]: 1 failure; first F1: " in text
    assert "GP-STATUS-COVERAGE: 1 failure; first F3: PENDING_POSTING was never seen" in text
    assert "expected: no full PAN or CVV in any answer" in text
    assert "curl -sS -i -X POST http://127.0.0.1:48123/api/v2/payments" in text
    assert leaks(text) == []
    assert (report / "certification.html").stat().st_mtime_ns == before  # --text alone writes no HTML


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "file not found"),
        ("{not json", "not JSON"),
        ('["a list"]', "not a certification record (no format_version)"),
        ('{"format_version": "2.0"}', "format_version 2.0 is not supported (this tool reads 1.x)"),
        ('{"format_version": "1.0", "verdict": "maybe"}', "invalid certification record at (root)"),
    ],
)
def test_a_missing_or_invalid_json_is_one_line_and_exit_code_2(tmp_path, capsys, content, message):
    path = tmp_path / "certification.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert err.startswith(f"conformance: error: {path}: ")


def test_an_edited_record_is_validated_field_by_field(report, capsys):
    document = json.loads((report / "certification.json").read_text())
    document["failures"][0]["exchange"]["status"] = "two hundred"
    (report / "certification.json").write_text(json.dumps(document))
    assert main(["report", str(report)]) == 2
    assert "invalid certification record at failures/0/exchange" in capsys.readouterr().err


def test_a_record_written_elsewhere_is_redacted_before_rendering(report, capsys):
    document = json.loads((report / "certification.json").read_text())
    failure = document["failures"][0]
    failure["title"] = f"leaked {PAN}"
    failure["exchange"]["request_headers"]["Authorization"] = f"Bearer {TOKEN}"
    failure["exchange"]["request_body"] = json.dumps({"card": {"accountNumber": PAN, "cvv": "8351"}})
    failure["reproduction"] = f"curl -H 'Authorization: Bearer {TOKEN}' http://x"
    (report / "certification.json").write_text(json.dumps(document))
    assert main(["report", str(report)]) == 0
    html = (report / "certification.html").read_text()
    assert leaks(html) == []
    assert "leaked 401200XXXXXX0026" in html


def test_the_schema_in_the_docs_is_the_published_one():
    docs = (ROOT / "docs" / "reports.md").read_text()
    block = re.search(r"<!-- schema:begin -->\s*```json\n(.*?)```\s*<!-- schema:end -->", docs, re.S)
    assert block, "docs/reports.md must carry the schema between <!-- schema:begin --> and <!-- schema:end -->"
    assert json.loads(block.group(1)) == certification_schema()


def test_report_is_listed_in_the_cli_help(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert "--text" in capsys.readouterr().out
