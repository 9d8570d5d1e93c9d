"""What a certify run includes: --include/--exclude, --dry-run, severity, and a running `conformance mock` as --origin.

Each against real servers: the embedded mock with a fault on, or a `MockServer` started here and named
by --origin (as a user runs `conformance mock` in another terminal).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
import yaml

from conformance import load_spec
from conformance.cli import main
from conformance.mock import MockServer
from conformance.suites._environment import WRONG_SCOPE, embedded_retry
from conformance.suites._parameters import planned_tests

CLIENT_ID, CLIENT_SECRET = "selection-tests", "selection-tests-secret-value"
OVER_REFUND = "op-over-refund-accepted"
REFUND_RULE = "OP-REFUNDS-NOT-ABOVE-CAPTURED"


def certify(tmp_path, *args):
    return main(["certify", "--report-dir", str(tmp_path / "reports"), "--quiet", "--seed", "5", *args])


def report(tmp_path):
    return json.loads((tmp_path / "reports" / "certification.json").read_text())


def test_include_judges_only_the_rules_it_names(tmp_path, capsys):
    assert certify(tmp_path, "--include", "OP-REFUNDS-*", "--fault", OVER_REFUND) == 1
    out = capsys.readouterr().out
    assert f"rules failed: {REFUND_RULE}" in out
    document = report(tmp_path)
    assert [api["name"] for api in document["apis"]] == ["online-payments"]
    assert [rule["id"] for rule in document["apis"][0]["rules"]] == [REFUND_RULE]
    assert {failure["rule_id"] for failure in document["failures"]} == {REFUND_RULE}


def test_exclude_leaves_the_rule_out(tmp_path, capsys):
    """The over-refund fault breaks two rules: leave both out and the same run conforms."""
    assert certify(tmp_path, "--api", "online-payments", "--include", "scenarios", "--exclude", "OP-REFUNDS-*",
                   "--exclude", "OP-SCENARIO-OVER-REFUND", "--fault", OVER_REFUND) == 0, capsys.readouterr()
    document = report(tmp_path)
    rules = {rule["id"] for api in document["apis"] for rule in api["rules"]}
    assert REFUND_RULE not in rules and "OP-SCENARIO-OVER-REFUND" not in rules and "OP-SCENARIO-REFUND" in rules
    assert document["verdict"] == "conforms"
    assert certify(tmp_path, "--api", "online-payments", "--include", "scenarios", "--exclude", "OP-REFUNDS-*",
                   "--fault", OVER_REFUND) == 1
    assert {failure["rule_id"] for failure in report(tmp_path)["failures"]} == {"OP-SCENARIO-OVER-REFUND"}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (["--include", "OP-NO-SUCH-*"], "--include 'OP-NO-SUCH-*' matches no API, suite, operation, scenario or rule"),
        (["--exclude", "nothing"], "--exclude 'nothing' matches no"),
        (["--include", "generated", "--exclude", "generated"], "leave no test to run"),
        (["--api", "oauth", "--include", "OP-*"], "--include 'OP-*' matches no"),
    ],
)
def test_filters_that_match_nothing_are_exit_2(tmp_path, capsys, filters, message):
    assert certify(tmp_path, *filters) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "reports").exists()


def test_a_test_is_selected_by_its_suite_operation_or_scenario(capsys):
    assert main(["certify", "--dry-run", "--api", "online-payments", "--include", "V2RefundPost",
                 "--include", "OP-SCENARIO-VOID"]) == 0
    out = capsys.readouterr().out
    suites = {line.split()[0]: line.split(None, 2)[2].split(", ")
              for line in out.splitlines() if line.startswith("  ") and not line.startswith("  rule ")}
    assert suites["generated"] == ["V2RefundPost"] and suites["negative"] == ["V2RefundPost"]
    assert suites["scenarios"] == ["OP-SCENARIO-VOID", "OP-SCENARIO-REFUND", "OP-SCENARIO-REFUND-PENDING",
                                   "OP-SCENARIO-REFUND-DECLINED", "OP-SCENARIO-OVER-REFUND"]
    assert suites["idempotency"] == ["OP-IDEMPOTENT-REQUEST-ID:V2RefundPost"]
    assert suites["flows"] == ["OP-SCENARIO-VOID", "V2RefundPost"]  # a follow-up, and reading a refund back
    assert "auth" not in suites  # credentials are tried on V2PaymentGet, which no glob names


class Counting:
    """An ASGI middleware counting every request the mock receives (admin endpoints included)."""

    def __init__(self, app):
        self.app, self.count = app, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)

    def __getattr__(self, name):
        return getattr(self.app, name)


def test_dry_run_sends_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", CLIENT_SECRET)
    mock = MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    counter = mock.app = Counting(mock.app)
    with mock:
        code = main(["certify", "--dry-run", "--origin", mock.origin, "--report-dir", str(tmp_path / "reports"),
                     "--include", "OP-*", "--callback-timeout", "45"])
        out = capsys.readouterr().out
        time.sleep(0.2)
        assert counter.count == 0
        assert code == 0
        import httpx

        httpx.get(mock.origin + "/_mock")  # the counter does count what reaches the mock
        assert counter.count == 1
    assert out.startswith("conformance certify --dry-run: nothing was sent")
    assert f"target: {mock.origin}" in out and "rate limit 20 requests/s" in out
    assert "timeout 5 s, callback timeout 45 s" in out  # the profile's, and the option over the profile's
    assert "at most 2000 requests" in out
    assert f"rule {REFUND_RULE} [must]" in out
    assert not (tmp_path / "reports").exists()


def test_dry_run_lists_what_pytest_collects(tmp_path):
    """The planned tests are the suites' own parametrization: the same list pytest collects."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
                           "--collect-only", "-q"], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env=dict(os.environ, CONFORMANCE_CLIENT_ID="", CONFORMANCE_CLIENT_SECRET=""))
    collected = sorted(line.split("[", 1)[1].rstrip("]") for line in done.stdout.splitlines() if "::" in line)
    specs = {name: load_spec(name) for name in ("oauth", "online-payments", "global-payments", "pay-by-bank")}
    planned = sorted(f"{test.api}:{test.value}" for test in planned_tests(specs, list(specs)))
    assert collected == planned


def test_a_should_rule_in_a_rules_table_leaves_the_verdict_conforms(tmp_path, capsys):
    source = load_spec("online-payments").path
    copy = tmp_path / "specs"
    copy.mkdir()
    shutil.copy(source, copy / source.name)
    rules = yaml.safe_load(source.with_name("online-payments.rules.yaml").read_text())
    entry = next(limit for limit in rules["limits"] if limit["id"] == REFUND_RULE)
    entry["severity"], entry["severity_reason"] = "should", "our sandbox lets refunds through; the ledger checks them"
    (copy / "online-payments.rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    arguments = ("--spec", str(copy / source.name), "--include", "OP-REFUNDS-*", "--fault", OVER_REFUND)
    assert certify(tmp_path, *arguments) == 0
    out = capsys.readouterr().out
    assert "CONFORMS" in out and "warning" in out and f"warnings (should rules): {REFUND_RULE}" in out
    document = report(tmp_path)
    assert document["verdict"] == "conforms" and document["summary"]["warnings"] > 0
    [rule] = document["apis"][0]["rules"]
    assert (rule["result"], rule["severity"]) == ("failed", "should")
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    assert junit.get("failures") == "0"
    assert any(skipped.get("type") == "warning" for skipped in junit.iter("skipped"))
    # The same rule at its usual level fails the run.
    assert certify(tmp_path, "--include", "OP-REFUNDS-*", "--fault", OVER_REFUND) == 1
    assert report(tmp_path)["verdict"] == "nonconformant"


def test_should_needs_a_reason_in_the_rules_table(tmp_path, capsys):
    source = load_spec("online-payments").path
    shutil.copy(source, tmp_path / source.name)
    rules = yaml.safe_load(source.with_name("online-payments.rules.yaml").read_text())
    rules["limits"][0]["severity"] = "should"
    (tmp_path / "online-payments.rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    assert certify(tmp_path, "--spec", str(tmp_path / source.name), "--dry-run") == 2
    assert "severity_reason" in capsys.readouterr().err


def test_origin_that_is_a_conformance_mock_gets_the_sink_registered(tmp_path, capsys, monkeypatch):
    """No --callback-listen and no registration by hand: certify finds the mock and registers its sink."""
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", CLIENT_SECRET)
    # The embedded mock's back-off: gaps long enough that a loaded machine's jitter cannot make growing gaps look
    # constant (docs/certify.md); the default 0.05 s start is for a mock nobody times.
    retry = embedded_retry()
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=("jpm:payments:sandbox", WRONG_SCOPE),
                    callback_url="http://127.0.0.1:9/before", retry=retry) as mock:
        code = certify(tmp_path, "--origin", mock.origin, "--api", "pay-by-bank", "--rate-limit", "0")
        out, err = capsys.readouterr()
        assert mock.callback_url == "http://127.0.0.1:9/before"  # given back at the end
    assert code == 0, out + err
    document = report(tmp_path)
    assert document["target"]["callback_sink"]
    assert document["callbacks"] and document["callbacks"]["count"] > 0
    [api] = document["apis"]
    coverage = next(rule for rule in api["rules"] if rule["id"] == "PBB-STATUS-COVERAGE")
    assert coverage["result"] == "passed", coverage
    assert all(field["seen"] == field["documented"] for field in api["coverage"])


def test_a_refused_sink_registration_does_not_print_the_sinks_token():
    """The mock refuses a URL it must not call (here: the cloud metadata address); the one-line error names
    the URL without its path, which carries the sink's per-run token."""
    from conformance._errors import UsageError
    from conformance.suites._mock_admin import MockAdmin

    token = "tok-Zx81-never-printed"
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as mock:
        admin = MockAdmin.find(mock.origin, CLIENT_ID, CLIENT_SECRET, timeout=5)
        assert admin is not None
        with pytest.raises(UsageError) as refused:
            admin.register(f"http://169.254.169.254/{token}/{{api}}/{{webhook}}")
    message = str(refused.value)
    assert "refused the callback URL http://169.254.169.254/[REDACTED]" in message and "metadata" in message
    assert token not in message
