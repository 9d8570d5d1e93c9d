"""Bad input and a hostile environment end in one line, a documented exit code, nothing lost (issue 13, item 11).

- A report directory that fills up (a file-size limit on the process, the kernel's answer being the
  same as a full disk's for the files it stops: EFBIG instead of ENOSPC): exit 2, one line, the
  verdict still on the console, no torn file.
- `conformance report` on 100,000 nested arrays, on a NaN duration, on evidence nested deeper than
  any reader should walk: exit 2, one line.
- A target answering 20,000 nested arrays to every request: judged (its answers are not JSON a
  client can read), never a crash; and the report of that run re-renders.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from client_peers import DeepOrigin, echo_origin, one_error_line, serving

from conformance.cli import main

IN_PROGRESS_FITS = 12_000
"""Bytes: the record a run writes as it starts fits, the full report of a run does not."""


def _run_limited(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """A command whose files may not grow beyond `limit` bytes (RLIMIT_FSIZE), as on a disk that is full."""

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          env=environment, preexec_fn=limit_file_size, timeout=300)


def _no_torn_files(directory: Path) -> None:
    assert [path.name for path in directory.iterdir() if path.name.endswith(".tmp")] == []
    record = json.loads((directory / "certification.json").read_text())  # whole, and honest about itself
    assert record["complete"] is False and record["verdict"] == "incomplete"


def test_certify_with_a_report_directory_that_fills_up(tmp_path):
    reports = tmp_path / "reports"
    done = _run_limited(IN_PROGRESS_FITS, "certify", "--api", "pay-by-bank", "--seed", "4", "--quiet",
                        "--report-dir", str(reports))
    assert done.returncode == 2, done.stdout + done.stderr
    line = one_error_line(done.stderr)
    assert line.startswith(f"conformance: error: cannot write reports to {reports}: File too large"), line
    assert "CONFORMS" in done.stdout or "NONCONFORMANT" in done.stdout, done.stdout  # the verdict is not lost
    _no_torn_files(reports)


def test_certify_with_a_report_directory_full_from_the_start(tmp_path):
    done = _run_limited(1_000, "certify", "--api", "pay-by-bank", "--quiet", "--report-dir", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot write reports to" in one_error_line(done.stderr)


def test_callbacks_with_a_report_directory_that_fills_up(tmp_path):
    reports = tmp_path / "reports"
    with echo_origin() as receiver:
        done = _run_limited(IN_PROGRESS_FITS, "callbacks", "--api", "pay-by-bank", "--target",
                            receiver.origin + "/cb/{webhook}", "--profile", "quick", "--seed", "4", "--quiet",
                            "--report-dir", str(reports))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot write reports to" in one_error_line(done.stderr)
    assert "callbacks" in done.stdout  # the summary (verdict and table) reached the console
    _no_torn_files(reports)


def _a_real_record(tmp_path: Path) -> dict:
    """A record a run wrote (it re-renders), to be spoiled by a test."""
    from conformance import load_spec
    from conformance.reporting import Recorder

    recorder = Recorder(tmp_path / "real", command="certify", specs=[load_spec("oauth")], seed=1)
    recorder.rule("oauth", "OAUTH-CONTENT-TYPE", "JSON answers")
    recorder.passed("oauth", "OAUTH-CONTENT-TYPE", "requestAccessToken")
    recorder.finish()
    assert main(["report", str(tmp_path / "real")]) == 0
    return json.loads((tmp_path / "real" / "certification.json").read_text())


def _report_fails(tmp_path: Path, capsys, content: str) -> str:
    capsys.readouterr()
    path = tmp_path / "certification.json"
    path.write_text(content)
    assert main(["report", str(path)]) == 2
    return one_error_line(capsys.readouterr().err)


def test_report_on_100000_nested_arrays_is_one_line(tmp_path, capsys):
    assert "nested too deeply" in _report_fails(tmp_path, capsys, "[" * 100_000 + "]" * 100_000)


def test_report_with_a_nan_duration_is_one_line(tmp_path, capsys):
    record = _a_real_record(tmp_path)
    record["duration_seconds"] = float("nan")
    assert "NaN is not a number JSON allows" in _report_fails(tmp_path, capsys, json.dumps(record))


def test_report_with_evidence_nested_500_deep_is_one_line(tmp_path, capsys):
    record = _a_real_record(tmp_path)
    nested: list = []
    for _ in range(500):
        nested = [nested]
    record["failures"] = [{"id": "F1", "api": "oauth", "rule_id": "OAUTH-CONTENT-TYPE", "operation": None,
                           "title": "deep", "expected": None, "observed": nested, "exchange": None,
                           "reproduction": None}]
    assert "nested deeper than 200 levels" in _report_fails(tmp_path, capsys, json.dumps(record))


def test_a_target_answering_deeply_nested_json_is_judged_not_a_crash(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "deep-client")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "deep-secret-value")
    reports = tmp_path / "reports"
    with serving(DeepOrigin(depth=20_000)) as deep:
        code = main(["certify", "--origin", deep.origin, "--api", "global-payments", "--quiet", "--rate-limit", "0",
                     "--seed", "4", "--report-dir", str(reports)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert err == "" and "GP-RESPONSE-SCHEMA" in out
    record = json.loads((reports / "certification.json").read_text())
    assert record["complete"] and any(f["title"] == "Body is not JSON" for f in record["failures"])
    assert main(["report", str(reports), "--html", str(tmp_path / "again.html")]) == 0
    assert "<html" in (tmp_path / "again.html").read_text()[:200].lower()


def test_an_unreachable_target_leaves_an_incomplete_report_saying_so(tmp_path, capsys, monkeypatch):
    """Exit 3 on first contact, one line, and the report directory says why (not an earlier run's verdict)."""
    import socket

    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "refused-client")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "refused-secret-value")
    assert main(["certify", "--api", "oauth", "--quiet", "--report-dir", str(tmp_path)]) == 0  # an earlier run
    capsys.readouterr()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        code = main(["certify", "--origin", f"http://127.0.0.1:{sock.getsockname()[1]}", "--quiet",
                     "--report-dir", str(tmp_path)])
    assert code == 3
    line = one_error_line(capsys.readouterr().err)
    record = json.loads((tmp_path / "certification.json").read_text())
    assert record["verdict"] == "incomplete" and record["incomplete_reason"] in line
