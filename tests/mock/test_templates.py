"""Every answer and callback template the mock starts from is valid against its document.

A template the mock cannot make valid is logged on every answer and leaves the answer to repairs; the
conditional requirements (`if`/`then`) the instance builder cannot see are completed (Global Payments'
Chile ACH payment type requires tax information).
"""

from __future__ import annotations

import pytest

from conformance._specs import SPEC_NAMES, load_spec
from conformance.mock._answers import AnswerBuilder


def _places(name: str):
    spec = load_spec(name)
    for operation in spec.operations.values():
        if operation.webhook:
            yield spec, operation.operation_id, spec.request_schema(operation.operation_id)
            continue
        for code in spec.documented_statuses(operation.operation_id):
            if code.isdigit():
                yield spec, operation.operation_id, spec.response_schema(operation.operation_id, int(code))


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_minimal_template_is_valid(name):
    answers = None
    invalid = []
    for spec, operation_id, pointer in _places(name):
        if pointer is None:
            continue
        answers = answers or AnswerBuilder(spec)
        template = answers.minimal(pointer)
        if not answers.validator(pointer).is_valid(template):
            invalid.append(f"{operation_id} {pointer}")
    assert not invalid, invalid
