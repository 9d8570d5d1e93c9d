"""One judging path: our Judge judges each answer once; Schemathesis adds only the checks we lack.

Against the embedded mock over real HTTP: a valid answer is validated once by our Judge and reaches
Schemathesis only for its auth probe (the first success per operation); the checks Schemathesis
still contributes (ignored auth, negative data rejection) still find what they find.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from schemathesis import GenerationMode
from schemathesis.generation.case import Case

import strategies
from conformance import SPEC_NAMES, load_spec
from conformance.checks import Call, Judge
from conformance.checks._knowledge import SpecView
from conformance.mock import MockServer
from conformance.suites._requests import Request
from conformance.suites._runtime import Collector, RunSettings, Target

CLIENT_ID, CLIENT_SECRET = "judging-tests", "judging-tests-secret-value"


def target_for(mock: MockServer) -> Target:
    specs = [load_spec(name) for name in SPEC_NAMES]
    return Target(RunSettings(specs=[str(spec.path) for spec in specs], apis=list(SPEC_NAMES),
                              base_urls={spec.name: mock.base_url(spec.name) for spec in specs},
                              token_url=mock.token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET))


@pytest.fixture
def spied(monkeypatch):
    """How often Schemathesis validates an answer, and how often our Judge validates a body against a schema."""
    counts = {"schemathesis": 0, "schema": 0}
    validate, findings = Case.validate_response, SpecView.findings

    def counting_validate(self, *args, **kwargs):
        counts["schemathesis"] += 1
        return validate(self, *args, **kwargs)

    def counting_findings(self, *args, **kwargs):
        counts["schema"] += 1
        return findings(self, *args, **kwargs)

    monkeypatch.setattr(Case, "validate_response", counting_validate)
    monkeypatch.setattr(SpecView, "findings", counting_findings)
    return counts


def payment_request(specs) -> Request:
    return Request("online-payments", "V2PaymentPost",
                   body=copy.deepcopy(specs["online-payments"].examples("V2PaymentPost")["quickStartCardSale"]),
                   headers={"merchant-id": "998482157630"})


def test_a_valid_answer_is_validated_once_and_reaches_schemathesis_only_for_its_auth_probe(specs, spied):
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as mock:
        target = target_for(mock)
        try:
            calls = []
            for number in range(3):
                request = payment_request(specs)
                request.headers["request-id"] = f"judging-{number}"
                before = dict(spied)
                calls.append(target.send(request))
                assert spied["schema"] - before["schema"] == 1, "one schema validation per answer"
        finally:
            target.close()
    assert [call.status for call in calls] == [200, 200, 200]
    assert spied["schemathesis"] == 1  # ignored_auth, once for the operation
    assert not target.collector.failed_rules, target.collector.failed_rules


class _TokensForAnyone(BaseHTTPRequestHandler):
    """A token endpoint that issues a token whatever the credentials (or none)."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"access_token": "issued", "token_type": "Bearer", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_ignored_auth_still_comes_from_schemathesis():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokensForAnyone)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_port}"
    oauth = load_spec("oauth")
    target = Target(RunSettings(specs=[str(oauth.path)], apis=["oauth"], base_urls={"oauth": origin + oauth.base_path},
                                token_url=origin + "/token", client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
    try:
        target.send(Request("oauth", "requestAccessToken", body={"grant_type": "client_credentials"},
                            media_type="application/x-www-form-urlencoded"))
    finally:
        target.close()
        server.shutdown()
        server.server_close()
    failures = [record for record in target.collector.records if record["kind"] == "failed"]
    assert [failure["rule_id"] for failure in failures] == ["OAUTH-AUTH-ENFORCED"]
    assert failures[0]["title"].startswith("Schemathesis:")


def test_accepted_negative_data_still_comes_from_schemathesis():
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    faults=("op-invalid-request-accepted",)) as mock:
        target = target_for(mock)
        try:
            operation = target.operation("online-payments", "V2PaymentPost")
            cases = strategies.sample(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), n=3, seed=3)
            for case in cases:
                target.collector = Collector()
                call = target.send(case, intent="negative")
                failed = {record["rule_id"] for record in target.collector.records if record["kind"] == "failed"}
                if call.status == 200 and "OP-REJECTS-INVALID-REQUEST" in failed:
                    break
            else:
                pytest.fail("no negative case accepted with 200 was judged OP-REJECTS-INVALID-REQUEST")
        finally:
            target.close()


def test_a_required_header_missing_from_a_success_fails_required_fields(tmp_path, specs):
    """Schemathesis' response-header check is not run any more: our Judge checks required headers itself."""
    source = specs["online-payments"].path
    document = yaml.safe_load(source.read_text())
    answer = document["paths"]["/payments"]["post"]["responses"]["200"]
    if "$ref" in answer:  # a shared response: give this operation its own copy
        answer = copy.deepcopy(document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]])
        document["paths"]["/payments"]["post"]["responses"]["200"] = answer
    answer["headers"] = {"request-id": {"required": True, "schema": {"type": "string"}}}
    (tmp_path / source.name).write_text(yaml.safe_dump(document, sort_keys=False))
    rules = source.with_name(source.name.replace(".yaml", ".rules.yaml"))
    (tmp_path / rules.name).write_text(rules.read_text())
    judge = Judge([load_spec(str(tmp_path / source.name))])

    def answered(headers):
        call = Call(api="online-payments", operation_id="V2PaymentPost", method="POST", url="http://provider",
                    status=200, response_headers=headers, response_body={}, response_text="{}")
        return [result for result in judge.answer(call) if result.title in ("", "Required header missing")
                and result.rule_id == "OP-REQUIRED-FIELDS"]

    missing = answered({"Content-Type": "application/json"})
    assert [result.passed for result in missing] == [False] and "request-id" in missing[0].observed
    assert [result.passed for result in answered({"Content-Type": "application/json", "Request-Id": "x"})] == [True]
