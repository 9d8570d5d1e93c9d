"""Repeated writes: the same key and payload get the original answer; another payload is refused."""

import pytest

from ._flows import idempotency

pytestmark = pytest.mark.idempotency


def test_idempotent_write(conformance, api, idempotent_write):
    rule_id, operation_id = idempotent_write.split(":", 1)
    idempotency(conformance, api, rule_id, operation_id)
