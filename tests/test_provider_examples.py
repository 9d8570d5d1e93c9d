"""The example requests modeled on the provider's published examples are valid requests of our documents.

`tests/fixtures/provider_examples/` holds, per API, one request for every request example the provider
publishes (written for the tests, not copied), each with the answer a correct provider gives. The mock's
answers to them are judged where the mock is; here each example is held to our document: its operation,
parameters and body are valid requests (no field the document does not declare, no date in the past),
what it expects is a documented status and a body the document allows, and every value it takes from an
earlier example's exchange names an earlier example and a place that exchange has. So a fixture and a
document drifting apart fail here, before any mock runs.
"""

from __future__ import annotations

import copy
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import pointers
from conformance._specs import Spec, load_spec
from strategies._schema import walk

FIXTURES = Path(__file__).parent / "fixtures" / "provider_examples"
SPECS = Path(__file__).parent.parent / "specs"
APIS = ("online-payments", "global-payments")

REFERENCE = re.compile(r"^\$examples\.(?P<id>[a-z0-9-]+)\.(?P<expression>(?:request|response)\..+)$")
"""`$examples.<id>.` and a runtime expression without its `$`: a value of an earlier example's exchange."""

PLACEHOLDER = "ref-0123456789"
"""What a reference stands for while a request is validated (its real value comes from a run)."""

PUBLISHED = {
    "online-payments": {
        "V2PaymentPost": [
            "Approved Auth Basic", "Approved Auth CIT Onetime Stored", "Approved Auth MIT Subsequent Stored",
            "Healthcare VI", "Healthcare MC", "Approved Auth With Authentication", "Pinless Debit",
            "ACH Auth And Capture", "GooglePay Auth And Capture", "ApplePay Auth And Capture",
            "Approve With Page encryption", "CB Approve With Non-3DS", "CB Approve With 3DS",
            "Approve First Recurring", "Approve Subsequent Recurring",
        ],
        "V2PaymentPatch": ["Success Capture", "Success Void", "Error"],
        "V2CapturePost": ["Success First Capture", "Success Final Capture"],
        "V2RefundPost": ["Stand Alone Refund", "Referenced Refund"],
        "V2VerificationPost": ["Basic Verification AVS", "Basic Verification CVV", "Verification with authentication"],
        "V2FraudCheckPost": ["Success Fraud Check", "Fraud Check with PAGE Encryption", "Fraud Check with Token"],
        "V2PaymentGet": ["Success Basic Auth", "Success Authentication", "Error"],
        "V2PaymentByIdGet": ["Success", "Error"],
        "V2CaptureByIdGet": ["Success Final Capture"],
        "V2CaptureGet": ["Success Final Capture"],
        "V2RefundGet": ["Success"],
        "V2RefundByIdGet": ["Success"],
        "V2VerificationGet": ["Success Basic Verification", "Success Authentication", "Error"],
        "V2VerificationByIdGet": ["Success", "Error"],
        "V2FraudCheckget": ["Success", "Error"],
        "V2FraudCheckByIdGet": ["Success", "Error"],
        "V2PaymentHealthGet": ["Approved Auth Basic"],
        "V2RefundHealthGet": ["Approved Auth Basic"],
        "V2VerificationHealthGet": ["Approved Auth Basic"],
    },
    "global-payments": {
        "initiatePayments": [
            "Payment Initiation - UK FPS", "Payment Initiation - Singapore RTP", "Payment Initiation - Australia FPS",
            "Payment Initiation - Hong Kong FPS", "Payment Initiation - Malaysia FPS",
            "Payment Initiation - SEPA Instant", "Payment Initiation - Brazil PIX RTP", "Payment Initiation - US RTP",
            "Payment Initiation - Mexico SPIE", "Payment Initiation - Indonesia RTP",
            "Payment Initiation - Push To Card (P2C)", "Payment Initiation - ACH - Chile",
            "Payment Initiation - JPM COIN",
        ],
        "getPaymentDetails": [
            "Payment details retrieval - firmRootId", "Payment details retrieval - endToEndId",
            "PaymentDetailsAURequest400",
        ],
        "getPaymentStatus": [
            "Status retrieval - firmRootId", "Status retrieval - endToEndId", "PaymentStatusAURequest400",
        ],
    },
}
"""The request examples the provider publishes, by operation (their names: facts of the published documents)."""


def read_examples(api: str) -> list[dict[str, Any]]:
    return yaml.safe_load((FIXTURES / f"{api}.yaml").read_text())["examples"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Spec]:
    """Each bundled document loaded on its own: these examples judge the document, not its rules table."""
    folder = tmp_path_factory.mktemp("documents")
    return {api: load_spec(shutil.copy(SPECS / f"{api}.yaml", folder / f"{api}.yaml")) for api in APIS}


# -- what is wrong with one example ------------------------------------------------------------------------


def problems(spec: Spec, example: dict[str, Any], earlier: dict[str, dict[str, Any]]) -> list[str]:
    """Every way an example is not a valid request of the document, or expects what it cannot answer."""
    operation_id = example.get("operation")
    if operation_id not in spec.operations or spec.operations[operation_id].webhook:
        return [f"no operation {operation_id!r}"]
    found = [f"runs after {name!r}, which is no earlier example" for name in example.get("after", [])
             if name not in earlier]
    found += _parameter_problems(spec, example, earlier)
    found += _body_problems(spec, example, earlier)
    found += _expect_problems(spec, example, earlier)
    return found


def _parameter_problems(spec: Spec, example: dict[str, Any], earlier: dict[str, dict[str, Any]]) -> list[str]:
    found, known = [], set()
    sources = {"header": example.get("headers") or {}, "query": example.get("query") or {},
               "path": example.get("path") or {}}
    for where, parameter in spec.parameters(example["operation"]):
        location, name = parameter["in"], parameter["name"]
        known.add((location, name.lower()))
        values = sources.get(location, {})
        value = pointers.header(values, name) if location == "header" else values.get(name, pointers.MISSING)
        if value is pointers.MISSING:
            if parameter.get("required"):
                found.append(f"{location} {name} is required")
            continue
        if _is_reference(value):
            found += _reference_problems(spec, value, earlier)
            value = PLACEHOLDER
        found += [f"{location} {name}: {error.message}"
                  for error in spec.validator(f"{where}/schema", "request").iter_errors(value)]
    for location, values in sources.items():
        found += [f"{location} {name} is not a parameter of the operation"
                  for name in values if (location, name.lower()) not in known]
    return found


def _body_problems(spec: Spec, example: dict[str, Any], earlier: dict[str, dict[str, Any]]) -> list[str]:
    schema = spec.request_schema(example["operation"])
    body = example.get("body")
    if schema is None:
        return [] if body is None else ["the operation takes no body"]
    if body is None:
        return ["the body is missing"] if spec.request_body(example["operation"]).get("required") else []
    found = [problem for _, value in pointers.leaves(body) if _is_reference(value)
             for problem in _reference_problems(spec, value, earlier)]
    body = _without_references(body)
    found += [f"body {pointers.instance_pointer(list(error.absolute_path)) or '/'}: {error.message}"
              for error in spec.validator(schema, "request").iter_errors(body)]
    found += [f"body {place or '/'} is not declared by the document" for place in _undeclared(spec, schema, body)]
    found += _past_dates(spec, example["operation"], body)
    return found


def _expect_problems(spec: Spec, example: dict[str, Any], earlier: dict[str, dict[str, Any]]) -> list[str]:
    expect = example.get("expect") or {}
    status = expect.get("status")
    if not isinstance(status, int) or spec.response_key(example["operation"], status) is None:
        return [f"status {status!r} is not documented for {example['operation']}"]
    expected = expect.get("body")
    schema = spec.response_schema(example["operation"], status)
    if expected is None or schema is None:
        return [] if expected is None else [f"a {status} answer has no body"]
    found = [problem for _, value in pointers.leaves(expected) if _is_reference(value)
             for problem in _reference_problems(spec, value, earlier)]
    nodes = _nodes_by_place(spec, schema, "response")
    for path, value in pointers.leaves(expected):
        place = pointers.instance_pointer(list(path))
        if place not in nodes:
            found.append(f"expected body {place} is not in a {status} answer")
        elif not _is_reference(value):
            found += [f"expected body {place}: {error.message}" for pointer in nodes[place]
                      for error in spec.validator(pointer, "response").iter_errors(value)]
    return found


def _reference_problems(spec: Spec, value: str, earlier: dict[str, dict[str, Any]]) -> list[str]:
    match = REFERENCE.match(value)
    if match is None:
        return [f"{value!r} is not a reference ($examples.<id>.request.header.<name> or .response.body#/<pointer>)"]
    source = earlier.get(match["id"])
    if source is None:
        return [f"{value!r} names no earlier example"]
    expression = match["expression"]
    if expression.startswith("request.header."):
        sent = pointers.header(source.get("headers") or {}, expression.removeprefix("request.header."))
        return [] if sent is not pointers.MISSING else [f"{value!r}: that example sends no such header"]
    status = (source.get("expect") or {}).get("status")
    schema = spec.response_schema(source["operation"], status) if isinstance(status, int) else None
    place = expression.partition("#")[2]
    if not expression.startswith("response.body#") or schema is None:
        return [f"{value!r}: that example's answer has no body to read"]
    return [] if place in _nodes_by_place(spec, schema, "response") else [f"{value!r}: its answer has no {place}"]


# -- reading the document ----------------------------------------------------------------------------------


def _nodes_by_place(spec: Spec, schema: str, direction: str) -> dict[str, list[str]]:
    """Place in a value ("/a/*/b") -> pointers of the schema nodes that apply there."""
    found: dict[str, list[str]] = {}
    for node in walk(spec.document, schema, direction):  # type: ignore[arg-type]
        found.setdefault(node.place, []).append(node.pointer)
    return found


def _undeclared(spec: Spec, schema: str, body: Any) -> list[str]:
    """Places of the body holding a field no schema there declares (the open objects' unknown fields)."""
    nodes, found = {}, []
    for node in walk(spec.document, schema, "request"):
        nodes.setdefault(node.place, []).append(node.schema)
    for path, _ in pointers.leaves(body):
        for depth in range(1, len(path) + 1):
            if isinstance(path[depth - 1], int):
                continue
            parent = pointers.instance_pointer(list(path[:depth - 1]))
            place = pointers.instance_pointer(list(path[:depth]))
            declared = any("properties" in schema for schema in nodes.get(parent, []))
            if place not in nodes and declared and place not in found:
                found.append(place)
                break
    return found


def _past_dates(spec: Spec, operation_id: str, body: Any) -> list[str]:
    """Dates in the past, or that will be by the next run, where the rules table's scenarios tell outcomes apart
    by date (`$today` tokens: a past execution date is REJECTED, an expired card DECLINED): an example's
    expected answer must not change with the calendar."""
    today = date.today()
    places = {pointer for scenario in spec.rules.scenarios if scenario.operation == operation_id
              for pointer, value in scenario.when.items() if isinstance(value, str) and value.startswith("$today")}
    found = []
    for place in sorted(places):
        for value in pointers.resolve_all(body, place):
            if isinstance(value, str) and date.fromisoformat(value) < today:
                found.append(f"body {place} {value} lies in the past")
            elif isinstance(value, dict) and (value.get("year", 0), value.get("month", 0)) < (today.year, today.month):
                found.append(f"body {place} {value.get('month')}/{value.get('year')} lies in the past")
    return found


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$examples.")


def _without_references(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_references(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_references(item) for item in value]
    return PLACEHOLDER if _is_reference(value) else value


# -- the tests --------------------------------------------------------------------------------------------


def _cases() -> list[Any]:
    return [pytest.param(api, index, id=f"{api}:{example['id']}")
            for api in APIS for index, example in enumerate(read_examples(api))]


@pytest.mark.parametrize(("api", "index"), _cases())
def test_example_is_a_valid_request_expecting_a_documented_answer(documents, api, index):
    examples = read_examples(api)
    earlier = {example["id"]: example for example in examples[:index]}
    assert problems(documents[api], examples[index], earlier) == []


@pytest.mark.parametrize("api", APIS)
def test_every_published_request_example_has_one_modeled_on_it(api):
    modeled = {}
    for example in read_examples(api):
        if "helper" not in example:
            modeled.setdefault(example["operation"], []).append(example["modeled_on"])
    assert modeled == PUBLISHED[api]


@pytest.mark.parametrize("api", APIS)
def test_example_ids_are_unique(api):
    ids = [example["id"] for example in read_examples(api)]
    assert len(ids) == len(set(ids))


def _broken(api: str, example_id: str, change) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    examples = read_examples(api)
    index = next(i for i, example in enumerate(examples) if example["id"] == example_id)
    example = copy.deepcopy(examples[index])
    change(example)
    return example, {example["id"]: example for example in examples[:index]}


BROKEN = [
    ("online-payments", "approved-auth-basic", lambda e: e["headers"].pop("merchant-id"),
     "header merchant-id is required"),
    ("online-payments", "approved-auth-basic", lambda e: e["headers"].update({"request-id": "x" * 41}),
     "header request-id: "),
    ("online-payments", "approved-auth-basic", lambda e: e["headers"].update({"x-trace": "1"}),
     "header x-trace is not a parameter"),
    ("online-payments", "approved-auth-basic", lambda e: e["body"].pop("currency"),
     "'currency' is a required property"),
    ("online-payments", "approved-auth-basic", lambda e: e["body"].update({"dynamicCVV2Timestamp": "2030-01-01"}),
     "body /dynamicCVV2Timestamp is not declared"),
    ("online-payments", "approved-auth-basic",
     lambda e: e["body"]["paymentMethodType"]["card"].update({"accountNumber": "4012000033330027"}),
     "is not a 'pan'"),
    ("online-payments", "approved-auth-basic",
     lambda e: e["body"]["paymentMethodType"]["card"].update({"expiry": {"month": 5, "year": 2024}}),
     "/paymentMethodType/card/expiry 5/2024 lies in the past"),
    ("online-payments", "approved-auth-basic", lambda e: e["body"]["paymentMethodType"].update(
        {"ach": {"accountNumber": "000123456789"}}), "has too many properties"),
    ("online-payments", "approved-auth-basic", lambda e: e["expect"].update({"status": 201}),
     "status 201 is not documented"),
    ("online-payments", "approved-auth-basic", lambda e: e["expect"]["body"].update({"transactionState": "SETTLED"}),
     "expected body /transactionState: 'SETTLED' is not one of"),
    ("online-payments", "approved-auth-basic", lambda e: e["expect"]["body"].update({"settledAt": "now"}),
     "expected body /settledAt is not in a 200 answer"),
    ("online-payments", "patch-success-capture",
     lambda e: e["path"].update({"id": "$examples.final-capture.response.body#/transactionId"}),
     "names no earlier example"),
    ("online-payments", "patch-success-capture",
     lambda e: e["path"].update({"id": "$examples.authorization-to-capture-by-patch.response.body#/paymentId"}),
     "its answer has no /paymentId"),
    ("online-payments", "payment-by-request-success",
     lambda e: e["query"].update({"requestIdentifier": "$examples.approved-auth-basic.request.header.idempotency-key"}),
     "that example sends no such header"),
    ("online-payments", "payment-by-id-success", lambda e: e.update({"body": {"captureMethod": "NOW"}}),
     "the operation takes no body"),
    ("global-payments", "uk-fps", lambda e: e["body"]["payments"].update({"requestedExecutionDate": "2023-04-22"}),
     "/payments/requestedExecutionDate 2023-04-22 lies in the past"),
    ("global-payments", "uk-fps", lambda e: e["body"]["payments"].pop("paymentType"),
     "'paymentType' is a required property"),
    ("global-payments", "mexico-spei", lambda e: e["body"]["payments"]["debtor"].update(
        {"dateAndPlaceOfBirth": {"birthDate": "1995-02-10"}}),
     "body /payments/debtor/dateAndPlaceOfBirth is not declared"),
    ("global-payments", "push-to-card",
     lambda e: e["body"]["payments"]["creditor"]["creditorAccount"].pop("cardExpiryDate"),
     "'cardExpiryDate' is a required property"),
    ("global-payments", "status-without-id", lambda e: e["query"].update({"paymentId": "x"}),
     "query paymentId is not a parameter"),
    ("global-payments", "details-by-firm-root-id", lambda e: e["expect"]["body"]["paymentStatus"].update(
        {"status": "SETTLED"}), "expected body /paymentStatus/status: 'SETTLED' is not one of"),
]


@pytest.mark.parametrize(("api", "example_id", "change", "expected"), BROKEN,
                         ids=[f"{api}:{example_id}:{expected[:40]}" for api, example_id, _, expected in BROKEN])
def test_a_broken_example_is_caught(documents, api, example_id, change, expected):
    example, earlier = _broken(api, example_id, change)
    found = problems(documents[api], example, earlier)
    assert any(expected in problem for problem in found), found
