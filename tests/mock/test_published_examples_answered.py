"""The mock answers every request modeled on the provider's published examples as a correct provider would.

Each example of `tests/fixtures/provider_examples/` is sent, in the file's order, to one mock over
HTTP; its answer must have the expected status, carry the expected body subset, and be valid
against the document's schema for that status. Values taken from an earlier example's exchange
(`$examples.<id>.response.body#/...`) come from what this mock answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from mock_support import MERCHANT_ID, spec, subset_matches

from conformance import pointers

FIXTURES = Path(__file__).parent.parent / "fixtures" / "provider_examples"
APIS = ("online-payments", "global-payments")


def _examples(api: str) -> list[dict[str, Any]]:
    return yaml.safe_load((FIXTURES / f"{api}.yaml").read_text())["examples"]


class Exchanges:
    """What each example sent and got, for the references of later examples."""

    def __init__(self) -> None:
        self.sent: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, Any] = {}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not (isinstance(value, str) and value.startswith("$examples.")):
            return value
        name, _, expression = value.removeprefix("$examples.").partition(".")
        if expression.startswith("request.header."):
            return pointers.header(self.sent[name]["headers"], expression.removeprefix("request.header."))
        return pointers.resolve(self.answers[name], expression.partition("#")[2])


def _send(api_client, api: str, example: dict[str, Any], exchanges: Exchanges) -> httpx.Response:
    operation = spec(api).operations[example["operation"]]
    path = operation.path
    for name, value in exchanges.resolve(example.get("path") or {}).items():
        path = path.replace("{" + name + "}", str(value))
    headers = {"merchant-id": MERCHANT_ID} if api == "online-payments" else {}
    headers.update(exchanges.resolve(example.get("headers") or {}))
    exchanges.sent[example["id"]] = {"headers": headers}
    return api_client.request(api, operation.method, path, exchanges.resolve(example.get("body")),
                              headers=headers, params=exchanges.resolve(example.get("query")) or None)


@pytest.mark.parametrize("name", APIS)
def test_every_published_example_gets_a_correct_answer(name, api):
    the_spec = spec(name)
    exchanges = Exchanges()
    wrong = []
    for example in _examples(name):
        response = _send(api, name, example, exchanges)
        body = response.json() if response.content else None
        exchanges.answers[example["id"]] = body
        expect = example["expect"]
        if response.status_code != expect["status"]:
            wrong.append(f"{example['id']}: answered {response.status_code}, expected {expect['status']}: "
                         f"{response.text[:300]}")
            continue
        expected_body = exchanges.resolve(expect.get("body"))
        if expected_body is not None and not subset_matches(expected_body, body):
            wrong.append(f"{example['id']}: body lacks {expected_body}: {response.text[:600]}")
        schema = the_spec.response_schema(example["operation"], response.status_code)
        if schema is not None:
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in the_spec.validator(schema, "response").iter_errors(body)]
            if errors:
                wrong.append(f"{example['id']}: answer breaks {schema}: {errors[:3]}")
    assert not wrong, "\n".join(wrong)
