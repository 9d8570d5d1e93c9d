"""Valid requests generated from the specs conform: Schemathesis' checks and ours, on every answer."""

import pytest

from ._flows import generated

pytestmark = pytest.mark.generated


def test_generated_requests_conform(conformance, api, operation_id):
    """Requests drawn from the payment-domain strategies (and Schemathesis' negative mode) get conforming answers."""
    generated(conformance, api, operation_id)
