"""What docs/certify.md says holds (issue 13, item 16).

- Without a callback sink, a scenario's callback expectations are reported as skipped, with the
  reason, not failed with `observed: []` after a minute of waiting for callbacks nobody receives.
- A run without Online Payments shows no progress row for a suite with nothing to test
  (pytest's "test_x[NOTSET]", once shown as a `NOTSET]/flows` row that never finished).
"""

from __future__ import annotations

import json

from client_peers import RecordingProxy, serving

from conformance.cli import main
from conformance.mock import MockServer
from conformance.suites._environment import WRONG_SCOPE

CLIENT_ID, CLIENT_SECRET = "docs-client", "docs-client-secret"
NO_SINK = "callbacks not received (no --callback-listen)"


def test_without_a_sink_callback_expectations_are_skipped_not_failed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", CLIENT_SECRET)
    scopes = ("jpm:payments:sandbox", WRONG_SCOPE)
    # Behind a proxy hiding its admin endpoints, the mock is a provider like any other: no sink is registered.
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=scopes) as mock, \
            serving(RecordingProxy(mock.origin, hidden=("/_mock",))) as provider:
        code = main(["certify", "--origin", provider.origin, "--api", "pay-by-bank", "--rate-limit", "0",
                     "--seed", "4", "--quiet", "--report-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    record = json.loads((tmp_path / "certification.json").read_text())
    rules = {rule["id"]: rule for api in record["apis"] for rule in api["rules"]}
    scenarios = [rule for rule_id, rule in rules.items() if rule_id.startswith("PBB-SCENARIO-")]
    with_callbacks = [rule for rule in scenarios if any(NO_SINK in reason for reason in rule["skip_reasons"])]
    assert len(with_callbacks) >= 3, [rule["id"] for rule in scenarios]  # settled, failed, cancelled, payouts
    assert all(rule["result"] == "passed" for rule in scenarios)  # the answers were judged; the callbacks were not
    assert rules["PBB-STATUS-COVERAGE"]["result"] == "skipped"
    assert record["failures"] == []


def test_a_run_without_online_payments_has_no_stray_progress_row(tmp_path, capsys):
    code = main(["certify", "--api", "pay-by-bank", "--seed", "4", "--report-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "NOTSET" not in err
    started = {line.split("] ", 1)[1].split(":")[0] for line in err.splitlines() if ": started" in line}
    done = {line.split("] ", 1)[1].split(":")[0] for line in err.splitlines() if ": done," in line}
    assert started and started == done and all(row.startswith("pay-by-bank/") for row in started), err
