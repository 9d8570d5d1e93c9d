"""Requests breaking one documented rule are refused with 4xx and the family's error body."""

import pytest

from ._flows import invalid_requests

pytestmark = pytest.mark.negative


def test_invalid_requests_refused(conformance, api, body_operation):
    """One request per invalid-by-rule variant of the operation's body; never 2xx, never 5xx."""
    invalid_requests(conformance, api, body_operation)
