"""The Recorder writes all report files, valid, consistent, atomically, and with nothing to leak."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.reporting import (
    Exchange,
    Failure,
    Recorder,
    ReportWriteError,
    Verdict,
    certification_schema,
    load_report,
    render_html,
)
from conformance.reporting._document import validator

from .conftest import CLIENT_SECRET, PAN, TOKEN, leaks, payment_exchange, record_run, scan_directory, token_exchange

FILES = ("junit.xml", "certification.json", "certification.html", "callbacks.ndjson")


def _json(report_dir: Path) -> dict:
    return json.loads((report_dir / "certification.json").read_text())


def test_the_leak_scan_finds_every_kind_of_leak():
    """The scan used below must be able to fail: raw evidence trips every one of its detectors."""
    raw = json.dumps(
        {
            "request": payment_exchange().__dict__ | {"request_body": payment_exchange().request_body.decode()},
            "token": token_exchange().__dict__,
        },
        default=str,
    )
    found = leaks(raw)
    for kind in (
        "full PAN",
        "CVV value",
        "CVV field with a value",
        "card expiry",
        "bearer token",
        "client secret",
        "basic credentials",
        "token or secret value",
    ):
        assert kind in found, kind
    assert leaks("card 4012 0000 3333 0026") == ["full PAN", "card-like number 4012000033330026"]
    assert leaks("masked 401200XXXXXX0026, Bearer [REDACTED], access_token=[REDACTED]") == []
    # The scan's own false alarms, seen in runs: a duration and a UUID group holding the test CVV's digits.
    assert leaks('"seconds": 0.8351, "id": "0d5e6f70-1a2b-4c3d-8351-9e8f7a6b5c4d"') == []
    assert leaks('"cvv": "8351"') != []


def test_a_failing_run_writes_every_file_valid_and_redacted(tmp_path, make_recorder, specs):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=True)
    verdict = recorder.finish()

    assert verdict is Verdict.NONCONFORMANT and verdict.exit_code == 1
    for name in FILES:
        assert (tmp_path / name).is_file(), name
    document = _json(tmp_path)
    validator().validate(document)
    assert document["format_version"] == "1.5"
    assert document["verdict"] == "nonconformant" and document["complete"] is True
    assert document["profile"] == "quick" and document["seed"] == 20240917
    assert [spec["name"] for spec in document["specs"]] == list(specs)
    assert all(len(spec["sha256"]) == 64 and spec["prefix"] for spec in document["specs"])
    assert document["summary"]["failures"] == 3
    assert document["summary"]["rules_failed"] == 3
    assert document["callbacks"] == {"file": "callbacks.ndjson", "count": 2}

    assert scan_directory(tmp_path) == {}

    # Failures carry full, redacted evidence and a reproduction.
    leak = next(f for f in document["failures"] if f["rule_id"] == "OP-NO-CARD-DATA")
    exchange = leak["exchange"]
    assert exchange["method"] == "POST" and exchange["status"] == 200
    handed_in = exchange["elapsed_ms"]  # the value the exchange carried, not a time measured here
    assert handed_in == 12.7
    assert exchange["request_headers"]["Authorization"] == "Bearer [REDACTED]"
    assert exchange["response_headers"]["set-cookie"] == "[REDACTED]"
    request = json.loads(exchange["request_body"])
    assert request["paymentMethodType"]["card"] == {"accountNumber": "401200XXXXXX0026"}  # CVV and expiry dropped
    assert request["amount"] == 1000 and request["merchant"]["merchantSoftware"]["companyName"] == "Acme"
    answer = json.loads(exchange["response_body"])
    assert answer["paymentMethodType"]["card"]["accountNumber"] == "401200XXXXXX0026"
    assert answer["transactionId"] == "9f186d77-cb1b-4a9f-bb44-b5be91b891ac"  # ids are not mangled
    assert leak["observed"] == {"pointer": "/paymentMethodType/card/accountNumber", "value": "401200XXXXXX0026"}
    assert leak["title"] == "The answer carries the full PAN 401200XXXXXX0026 that was sent"
    assert leak["reproduction"].startswith("# OP-NO-CARD-DATA [V2PaymentPost]: 1 request")
    assert "\ncurl -sS -i -X POST http://127.0.0.1:48123/api/v2/payments" in leak["reproduction"]
    assert "-H \"Authorization: Bearer $TOKEN\"" in leak["reproduction"]  # the run's token, as a variable
    assert "-H 'Content-Type: application/json'" in leak["reproduction"]
    assert '--data-raw \'{"amount": 1000' in leak["reproduction"]

    token = next(f for f in document["failures"] if f["rule_id"] == "OAUTH-ERROR-SHAPE")
    assert token["exchange"]["request_headers"]["Authorization"] == "Basic [REDACTED]"
    assert "client_secret=[REDACTED]" in token["exchange"]["request_body"]
    assert json.loads(token["exchange"]["response_body"])["access_token"] == "[REDACTED]"
    assert json.loads(token["exchange"]["response_body"])["expires_in"] == 3599
    assert document["target"]["token_url"] == "https://auth.example/t"

    no_exchange = next(f for f in document["failures"] if f["rule_id"] == "GP-STATUS-COVERAGE")
    assert no_exchange["exchange"] is None and no_exchange["reproduction"] is None and no_exchange["operation"] is None


def test_a_clean_run_conforms(tmp_path, make_recorder, specs):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=False)
    assert recorder.finish() is Verdict.CONFORMS
    document = _json(tmp_path)
    validator().validate(document)
    assert document["verdict"] == "conforms" and document["failures"] == []
    assert scan_directory(tmp_path) == {}
    by_api = {api["name"]: api for api in document["apis"]}
    rules = {rule["id"]: rule for rule in by_api["global-payments"]["rules"]}
    assert rules["GP-CALLBACK-RETRY"]["result"] == "skipped"
    assert rules["GP-CALLBACK-RETRY"]["skip_reasons"] == ["no callback listener reachable"]
    assert (
        rules["GP-DOCUMENTED-STATUS"]["result"] == "passed" and rules["GP-DOCUMENTED-STATUS"]["checks"]["passed"] == 6
    )
    assert by_api["global-payments"]["result"] == "passed"
    coverage = by_api["online-payments"]["coverage"][0]
    assert coverage["field"] == "/transactionState" and (coverage["documented"], coverage["seen"]) == (6, 4)
    seen = {status["value"]: status["seen"] for status in coverage["statuses"]}
    assert seen == {"AUTHORIZED": 1, "VOIDED": 1, "PENDING": 0, "DECLINED": 1, "CLOSED": 2, "ERROR": 0}
    assert document["summary"]["statuses_documented"] == 11 and document["summary"]["statuses_seen"] == 7


def test_rules_that_judged_nothing_are_skipped_and_undocumented_statuses_are_shown(tmp_path):
    recorder = Recorder(tmp_path, command="callbacks")
    recorder.rule("pay-by-bank", "PBB-RECEIVER-ACKNOWLEDGES", "The receiver answers 2xx")
    recorder.saw_status("pay-by-bank", "/status", "LOST")
    assert recorder.finish() is Verdict.CONFORMS
    document = _json(tmp_path)
    validator().validate(document)
    rule = document["apis"][0]["rules"][0]
    assert rule["result"] == "skipped" and rule["checks"] == {"passed": 0, "failed": 0, "skipped": 0}
    assert rule["skip_reasons"] == ["nothing in this run exercised it"]  # judging nothing is not passing
    assert document["apis"][0]["coverage"][0]["statuses"] == [{"value": "LOST", "documented": False, "seen": 1}]
    assert document["callbacks"] is None and not (tmp_path / "callbacks.ndjson").exists()
    assert document["specs"] == [] and document["seed"] is None


def test_junit_has_one_case_per_rule_and_operation_named_by_rule_id(tmp_path, make_recorder, specs):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=True)
    recorder.finish()
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    assert ("conformance.online-payments", "OP-MASKED-PAN-MATCHES-CARD[V2PaymentPost]") in cases
    failing = cases[("conformance.online-payments", "OP-NO-CARD-DATA[V2PaymentPost]")]
    failure = failing.find("failure")
    assert failure is not None and failure.get("type") == "OP-NO-CARD-DATA"
    assert "curl -sS -i -X POST" in failure.text and "Bearer $TOKEN" in failure.text
    assert cases[("conformance.global-payments", "GP-STATUS-COVERAGE")].find("failure") is not None
    assert cases[("conformance.global-payments", "GP-CALLBACK-RETRY")].find("skipped") is not None
    document = _json(tmp_path)
    expected_cases = sum(max(1, len(rule["operations"])) for api in document["apis"] for rule in api["rules"])
    assert int(root.get("tests")) == len(cases) == expected_cases
    assert int(root.get("failures")) == 3 and int(root.get("skipped")) == 1 and int(root.get("errors")) == 0
    for suite in root.iter("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))


def test_html_is_self_contained_and_matches_the_json(tmp_path, make_recorder, specs):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=True)
    recorder.finish()
    html = (tmp_path / "certification.html").read_text()
    assert html == render_html(load_report(tmp_path / "certification.json"))
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for fetches in ("http://", "https://", "src=", "@import", "url("):
        body = html.replace("http://www.w3.org/2000/svg", "").replace(f"{'http'}://127.0.0.1:48123", "")
        assert fetches not in body.replace("https://auth.example", ""), fetches
    assert 'data-verdict="nonconformant"' in html and 'data-count="3"' in html
    assert html.count('<details class="failure"') == 3


def test_callbacks_are_appended_at_once_redacted_and_from_many_threads(tmp_path, make_recorder):
    recorder = make_recorder(tmp_path, specs=[])
    recorder.callback({"direction": "sent", "body": {"card": PAN}, "headers": {"Authorization": f"Bearer {TOKEN}"}})
    first = (tmp_path / "callbacks.ndjson").read_text()  # on disk before finish()
    assert json.loads(first)["body"] == {"card": "401200XXXXXX0026"}
    threads = [
        threading.Thread(target=lambda n=n: [recorder.callback({"n": n, "i": i, "pad": "x" * 5000}) for i in range(50)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "callbacks.ndjson").read_text().splitlines()
    assert len(lines) == 201 and all(json.loads(line) for line in lines)
    assert recorder.finish() is Verdict.CONFORMS
    assert _json(tmp_path)["callbacks"]["count"] == 201


def test_a_new_run_starts_a_new_callbacks_file(tmp_path, make_recorder):
    (tmp_path / "callbacks.ndjson").write_text('{"stale": true}\n')
    make_recorder(tmp_path, specs=[]).finish()
    assert not (tmp_path / "callbacks.ndjson").exists()


def test_writes_are_atomic_a_failed_write_leaves_the_previous_file(tmp_path, make_recorder, specs, monkeypatch):
    recorder = make_recorder(tmp_path)
    record_run(recorder, specs, failing=False)
    recorder.finish()
    before = {
        name: (tmp_path / name).read_bytes() for name in ("certification.json", "junit.xml", "certification.html")
    }

    recorder.failed(Failure("oauth", "OAUTH-X", title="late failure"))

    def broken_replace(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ReportWriteError, match="cannot write reports to .*: No space left on device"):
        recorder.finish()
    monkeypatch.undo()
    after = {name: (tmp_path / name).read_bytes() for name in before}
    assert after == before  # the old, whole files: never a torn one
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []

    # And an error while rendering leaves no partial HTML either, nor a JSON newer than the HTML (JSON comes last).
    import conformance.reporting._html as html_module

    monkeypatch.setattr(html_module, "render_html", lambda document: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        recorder.finish()
    assert (tmp_path / "certification.html").read_bytes() == before["certification.html"]
    assert (tmp_path / "certification.json").read_bytes() == before["certification.json"]
    assert [path.name for path in tmp_path.iterdir() if path.name.endswith(".tmp")] == []


def test_an_interrupted_run_leaves_a_report_marked_incomplete(tmp_path, make_recorder, specs):
    with pytest.raises(KeyboardInterrupt):
        with make_recorder(tmp_path) as recorder:
            record_run(recorder, specs, failing=True)
            raise KeyboardInterrupt
    document = _json(tmp_path)
    validator().validate(document)
    assert document["complete"] is False and document["verdict"] == "incomplete"
    assert document["incomplete_reason"] == "interrupted (Ctrl-C)"
    assert document["summary"]["failures"] == 3  # what it had
    assert recorder.verdict is Verdict.INCOMPLETE and recorder.verdict.exit_code == 1
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    error = next(case for case in junit.iter("testcase") if case.get("name") == "RUN-COMPLETE").find("error")
    assert error.get("message") == "interrupted (Ctrl-C)" and junit.get("errors") == "1"
    html = (tmp_path / "certification.html").read_text()
    assert 'data-verdict="incomplete"' in html and 'id="incomplete"' in html
    assert scan_directory(tmp_path) == {}


def test_an_error_inside_the_run_is_reported_redacted_and_re_raised(tmp_path, make_recorder):
    with pytest.raises(ValueError):
        with make_recorder(tmp_path, specs=[]):
            raise ValueError(f"token {TOKEN} rejected for card {PAN}")
    document = _json(tmp_path)
    assert document["verdict"] == "incomplete"
    assert (
        document["incomplete_reason"]
        == "stopped by an error: ValueError: token [REDACTED] rejected for card 401200XXXXXX0026"
    )


def test_a_clean_exit_from_the_with_block_finishes_the_run(tmp_path, make_recorder):
    with make_recorder(tmp_path, specs=[]) as recorder:
        recorder.passed("oauth", "OAUTH-DOCUMENTED-STATUS")
    assert recorder.finished and _json(tmp_path)["verdict"] == "conforms"


SIGINT_SCRIPT = """
import os, signal, sys, time
sys.path.insert(0, {tests!r})
from conformance import load_all
from reporting.conftest import record_run
from conformance.reporting import Recorder
specs = {{spec.name: spec for spec in load_all()}}
with Recorder({out!r}, command="certify", specs=list(specs.values()), secrets=({secret!r},)) as recorder:
    record_run(recorder, specs, failing=True)
    print("recorded", flush=True)
    os.kill(os.getpid(), signal.SIGINT)   # what Ctrl-C sends
    time.sleep(30)
"""


def test_ctrl_c_in_a_real_process_leaves_an_incomplete_report(tmp_path):
    out = tmp_path / "reports"
    tests = str(Path(__file__).resolve().parent.parent)
    script = textwrap.dedent(SIGINT_SCRIPT.format(tests=tests, out=str(out), secret=CLIENT_SECRET))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "recorded" in result.stdout
    assert result.returncode in (1, -signal.SIGINT, 130), result.stderr
    document = json.loads((out / "certification.json").read_text())
    assert document["verdict"] == "incomplete" and document["summary"]["failures"] == 3
    for name in FILES:
        assert (out / name).is_file(), name
    assert scan_directory(out) == {}


# -- merging across pytest-xdist workers --------------------------------------------------------------


def _worker(report_dir: Path, specs, part: int) -> Recorder:
    recorder = Recorder(
        report_dir, command="certify", specs=list(specs.values()), secrets=(CLIENT_SECRET,), fresh=False
    )
    recorder.rule("online-payments", "OP-DOCUMENTED-STATUS", "status documented")
    recorder.passed("online-payments", "OP-DOCUMENTED-STATUS", "V2PaymentPost", count=part + 1)
    recorder.expect_statuses("online-payments", "/transactionState", ["AUTHORIZED", "CLOSED"])
    recorder.saw_status("online-payments", "/transactionState", ["AUTHORIZED", "CLOSED"][part])
    recorder.skipped("oauth", "OAUTH-AUTH-ENFORCED", reason=f"worker {part} had no token")
    recorder.callback({"worker": part})
    if part == 1:
        recorder.failed(
            Failure("online-payments", "OP-NO-CARD-DATA", "V2PaymentByIdGet", "full PAN", exchange=payment_exchange())
        )
    return recorder


def test_worker_results_merge_into_one_report(tmp_path, specs):
    controller = Recorder(tmp_path, command="certify", specs=list(specs.values()), profile="quick", seed=7)
    workers = [_worker(tmp_path, specs, part) for part in (0, 1)]
    # Through pytest user_properties: plain JSON data crosses the process boundary.
    carried = [json.loads(json.dumps(worker.to_dict())) for worker in workers]
    assert all(leaks(json.dumps(data)) == [] for data in carried)
    assert controller.merge(*carried) is controller
    assert controller.finish() is Verdict.NONCONFORMANT
    document = _json(tmp_path)
    validator().validate(document)
    op = next(api for api in document["apis"] if api["name"] == "online-payments")
    rule = next(rule for rule in op["rules"] if rule["id"] == "OP-DOCUMENTED-STATUS")
    assert rule["checks"]["passed"] == 3 and rule["operations"] == [
        {"operation": "V2PaymentPost", "passed": 3, "failed": 0, "skipped": 0, "seconds": 0.0}
    ]
    assert op["coverage"][0]["seen"] == 2
    oauth = next(api for api in document["apis"] if api["name"] == "oauth")
    assert oauth["rules"][0]["skip_reasons"] == ["worker 0 had no token", "worker 1 had no token"]
    assert document["summary"]["failures"] == 1 and document["failures"][0]["id"] == "F1"
    assert document["callbacks"]["count"] == 2
    assert len((tmp_path / "callbacks.ndjson").read_text().splitlines()) == 2
    assert (document["profile"], document["seed"]) == ("quick", 7)


def test_partial_files_merge_and_are_removed(tmp_path, specs):
    controller = Recorder(tmp_path, command="certify", specs=list(specs.values()))
    for part in (0, 1):
        _worker(tmp_path, specs, part).save_partial(f"gw{part}")
    assert scan_directory(tmp_path) == {}
    controller.merge_partials()
    assert not (tmp_path / ".partials").exists()
    assert controller.finish() is Verdict.NONCONFORMANT
    assert _json(tmp_path)["summary"]["checks_passed"] == 3


def test_from_dict_rebuilds_a_recorder(tmp_path, specs):
    worker = _worker(tmp_path, specs, 1)
    rebuilt = Recorder.from_dict(worker.to_dict())
    assert rebuilt.report_dir == tmp_path
    assert rebuilt.to_dict()["apis"] == worker.to_dict()["apis"]
    assert rebuilt.to_dict()["failures"] == worker.to_dict()["failures"]
    with pytest.raises(Exception, match="not a payments-conformance partial result"):
        rebuilt.merge({"something": "else"})


def test_exchange_from_an_httpx_response_is_complete():
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"id": "p1", "status": "NONE"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        response = client.post(
            "http://provider.test/tsapi/pay-by-bank/v2/payments",
            json={"paymentAmount": {"value": "10.00"}},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    exchange = Exchange.from_response(response)
    assert (exchange.method, exchange.url, exchange.status) == (
        "POST",
        "http://provider.test/tsapi/pay-by-bank/v2/payments",
        201,
    )
    assert json.loads(exchange.request_body) == {"paymentAmount": {"value": "10.00"}}
    assert json.loads(exchange.response_body) == {"id": "p1", "status": "NONE"}
    assert exchange.request_headers["authorization"] == f"Bearer {TOKEN}"


def test_unwritable_report_dir_is_one_line_usage_error(tmp_path):
    from conformance import UsageError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot write reports to"):
        Recorder(blocker / "reports", command="certify")


def test_published_schema_is_valid_draft_2020_12():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(certification_schema())


def test_junit_times_cases_and_says_each_distinct_failure_once_and_the_text_groups_by_rule(tmp_path, make_recorder):
    """The issue's "24 failures: Required field missing; Required field missing; ..." with time="0", and a
    console listing 67 failures of one rule one by one: now timed, distinct, and grouped."""
    from conformance.reporting import render_text

    recorder = make_recorder(tmp_path)
    recorder.rule("online-payments", "OP-REQUIRED-FIELDS", "required fields are present")
    recorder.passed("online-payments", "OP-REQUIRED-FIELDS", "V2PaymentPost", count=5, seconds=0.25)
    recorder.spent("online-payments", 1.5)
    for number in range(24):
        observed = "/responseMessage absent" if number < 20 else "/transactionId absent"
        exchange = payment_exchange(leak=False)
        recorder.failed(Failure("online-payments", "OP-REQUIRED-FIELDS", "V2PaymentPost", "Required field missing",
                                expected="every required field", observed=observed, exchange=exchange))
    recorder.finish()
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "online-payments")
    assert suite.get("time") == "1.500"
    case = next(c for c in suite.iter("testcase") if c.get("name") == "OP-REQUIRED-FIELDS[V2PaymentPost]")
    assert case.get("time") == f"{0.25 + 24 * 0.0127:.3f}"  # passes' exchanges plus each failing exchange (12.7 ms)
    failure = case.find("failure")
    assert failure.get("message") == ("24 failures: Required field missing (observed /responseMessage absent) x20; "
                                      "Required field missing (observed /transactionId absent) x4")
    assert failure.text.count("[F") == 2 and "(also F2, F3," in failure.text

    text = render_text(_json(tmp_path), detail=False)
    lines = [line for line in text.splitlines() if "OP-REQUIRED-FIELDS" in line]
    assert lines == ["  OP-REQUIRED-FIELDS [V2PaymentPost]: 24 failures; first F1: Required field missing"]
    detailed = render_text(_json(tmp_path))
    assert "      also: F2, F3, F4," in detailed and "F24" not in detailed  # 20 IDs listed, then "..."
