"""Any document is an input: a fourth API, written for this test as a spec and a rules table, is served by the
embedded mock and certified end to end with no code of the project naming it; the document given is the one
requests are generated from and answers judged by; a document without a rules table gets the generic rules.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conformance import load_spec
from conformance.cli import main
from conformance.mock import MockServer

WIDGETS = Path(__file__).resolve().parents[1] / "fixtures" / "widgets" / "widgets.yaml"


def certify(tmp_path: Path, *args: str) -> tuple[int, dict]:
    code = main(["certify", "--report-dir", str(tmp_path / "reports"), "--quiet", "--seed", "3", *args])
    report = json.loads((tmp_path / "reports" / "certification.json").read_text())
    return code, report


def rules_of(report: dict, api: str) -> dict[str, str]:
    return {rule["id"]: rule["result"] for entry in report["apis"] if entry["name"] == api for rule in entry["rules"]}


def test_a_fourth_api_is_served_and_certified_from_its_spec_and_table_alone(tmp_path, capsys):
    code, report = certify(tmp_path, "--spec", f"widgets={WIDGETS}", "--api", "widgets")
    out, err = capsys.readouterr()
    assert code == 0, out + err
    rules = rules_of(report, "widgets")
    for rule in ("WID-SCENARIO-SHIPPED", "WID-SCENARIO-SCRAPPED", "WID-STATUS-TRANSITIONS", "WID-FIRST-CALLBACK-NEW",
                 "WID-CALLBACK-CORRELATES-WITH-ORDER", "WID-IDEMPOTENCY-KEY", "WID-READ-YOUR-WRITES",
                 "WID-CALLBACK-RETRY", "WID-AUTH-ENFORCED", "WID-REJECTS-INVALID-REQUEST"):
        assert rules.get(rule) == "passed", (rule, rules.get(rule))
    [coverage] = [field for entry in report["apis"] if entry["name"] == "widgets" for field in entry["coverage"]]
    assert coverage["seen"] == coverage["documented"] == 4


@pytest.fixture
def heavier(tmp_path: Path) -> Path:
    """The same API, but an order must also say its weight."""
    folder = tmp_path / "heavier"
    folder.mkdir()
    text = WIDGETS.read_text().replace("required: [name, colour, size]", "required: [name, colour, size, weight]")
    text = text.replace("        size: {type: integer, minimum: 1, maximum: 20}\n    Widget:",
                        "        size: {type: integer, minimum: 1, maximum: 20}\n"
                        "        weight: {type: integer, minimum: 1}\n    Widget:")
    text = text.replace("value: {name: Gizmo, colour: BLUE, size: 3}",
                        "value: {name: Gizmo, colour: BLUE, size: 3, weight: 9}")
    (folder / "widgets.yaml").write_text(text)
    shutil.copy(WIDGETS.with_name("widgets.rules.yaml"), folder / "widgets.rules.yaml")
    assert "weight" in load_spec(folder / "widgets.yaml").resolve("#/components/schemas/WidgetOrder")["required"]
    return folder / "widgets.yaml"


def test_the_document_given_drives_generation_and_judging(tmp_path, capsys, monkeypatch, heavier):
    """Certify with the bundled-style document against a provider that requires a field it does not know:
    the provider's refusals fail the run (requests were generated from the document given, not another)."""
    oauth = load_spec("oauth")
    with MockServer(port=0, specs=[oauth, load_spec(heavier, api="widgets")]) as provider:
        monkeypatch.setenv("CONFORMANCE_CLIENT_ID", provider.client_id)
        monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "conformance-mock-secret")
        code, report = certify(tmp_path, "--origin", provider.origin, "--spec", f"widgets={WIDGETS}",
                               "--api", "widgets", "--rate-limit", "0")
    out, err = capsys.readouterr()
    assert code == 1, out + err
    failed = [f for f in report["failures"] if f["rule_id"] == "WID-SCENARIO-SHIPPED"]
    assert failed and "400" in failed[0]["title"], report["failures"][:3]
    # And the heavier document certifies its own mock: generation follows the document given.
    code, report = certify(tmp_path / "again", "--spec", f"widgets={heavier}", "--api", "widgets")
    failures = [(f["rule_id"], f["title"], f.get("observed")) for f in report["failures"]]
    assert code == 0, (capsys.readouterr().out, failures)


def test_without_a_rules_table_the_generic_rules_certify(tmp_path, capsys):
    bare = tmp_path / "bare" / "gadgets.yaml"
    bare.parent.mkdir()
    shutil.copy(WIDGETS, bare)
    code, report = certify(tmp_path, "--spec", f"gadgets={bare}", "--api", "gadgets")
    out, err = capsys.readouterr()
    assert code == 0, out + err
    rules = rules_of(report, "gadgets")
    assert rules["GADGETS-READ-YOUR-WRITES"] == "passed" and rules["GADGETS-RESPONSE-SCHEMA"] == "passed"
    assert not any(rule.startswith("WID-") for rule in rules)
    [spec] = [s for s in report["specs"] if s["name"] == "gadgets"]
    assert spec["rules_table"] is None


def test_a_published_style_30_document_certifies_with_its_findings_reported_apart(tmp_path, capsys):
    """OpenAPI 3.0.1 with nullable, \\p{L} patterns, an absolute server URL, a writeOnly required field, an example
    breaking its schema, a dangling $ref, and no 401 documented for its secured operations: it conforms against
    the embedded mock, and its own defects are listed as findings in every artifact, not as failures."""
    quirks = Path(__file__).resolve().parents[1] / "fixtures" / "quirks-3.0.yaml"
    code, report = certify(tmp_path, "--spec", f"quirks={quirks}", "--api", "quirks")
    out, err = capsys.readouterr()
    assert code == 0, out + err
    [spec] = [s for s in report["specs"] if s["name"] == "quirks"]
    kinds = {finding["kind"] for finding in spec["findings"]}
    assert {"dangling-ref", "pattern", "read-write", "example", "auth-status", "parameter"} <= kinds
    assert spec["openapi"] == "3.0.1" and spec["rules_table"] is None
    assert report["failures"] == []
    assert "document quirks: " in out and "findings about the document itself" in out
    html = (tmp_path / "reports" / "certification.html").read_text()
    assert "Findings about the documents" in html and "#/components/schemas/Widget/properties/code/pattern" in html
