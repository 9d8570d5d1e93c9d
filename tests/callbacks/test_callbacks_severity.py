"""Severity: a failed `should` rule is a warning (verdict CONFORMS, exit 0, shown and counted); a `must` one fails.

The receiver rule on well-formed but unassigned codes is `should`: a receiver that accepts a payout in
currency "XQZ" is warned, not failed. A rules table may raise it to `must` (`severities`), and then the
same receiver fails.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET

import yaml
from callbacks_support import serve
from faulty_receivers import AcceptsUnassignedCodes

from conformance import load_spec

RULE = "PBB-RECEIVER-REJECTS-UNASSIGNED-CODE"


def test_a_failed_should_rule_is_a_warning_and_the_run_conforms(run_callbacks, tmp_path):
    with serve(AcceptsUnassignedCodes("pay-by-bank").app()) as origin:
        run = run_callbacks("--api", "pay-by-bank", "--target", f"{origin}/callbacks/{{webhook}}")
    assert run.code == 0, run.out + run.err
    document = run.certification
    assert document["verdict"] == "conforms"
    assert run.failed_rules() == set() and run.warned_rules() == {RULE}
    assert document["summary"]["warnings"] == len(document["failures"]) > 0
    assert all(failure["severity"] == "should" for failure in document["failures"])
    rule = next(rule for rule in document["apis"][0]["rules"] if rule["id"] == RULE)
    assert rule["severity"] == "should" and rule["severity_reason"]
    assert run.out.startswith("conformance callbacks: CONFORMS") and "warning" in run.out
    assert f"WARN {RULE} [" in run.err
    # JUnit: a skipped case of type warning with a severity property; the suite counts no failure.
    junit = ET.parse(run.report_dir / "junit.xml").getroot()
    case = next(case for case in junit.iter("testcase") if case.get("name").startswith(RULE)
                and case.find("skipped") is not None and case.find("skipped").get("type") == "warning")
    assert "XQZ" in case.find("skipped").text or "warning (should)" in case.find("skipped").get("message")
    assert {p.get("name"): p.get("value") for p in case.iter("property")}["severity"] == "should"
    assert junit.get("failures") == "0"
    html = (run.report_dir / "certification.html").read_text()
    assert f'data-rule="{RULE}" data-severity="should"' in html and "WARN" in html


def test_a_rules_table_can_make_the_rule_a_must(run_callbacks, tmp_path):
    source = load_spec("pay-by-bank").path
    shutil.copy(source, tmp_path / source.name)
    rules_path = source.with_name("pay-by-bank.rules.yaml")
    rules = yaml.safe_load(rules_path.read_text())
    rules["severities"] = {RULE: {"severity": "must", "severity_reason": "our ledger keeps only ISO 4217 codes"}}
    (tmp_path / rules_path.name).write_text(yaml.safe_dump(rules, sort_keys=False))
    with serve(AcceptsUnassignedCodes("pay-by-bank").app()) as origin:
        run = run_callbacks("--api", str(tmp_path / source.name), "--target", f"{origin}/callbacks/{{webhook}}")
    assert run.code == 1, run.out + run.err
    assert run.certification["verdict"] == "nonconformant"
    assert run.failed_rules() == {RULE}
