"""Probe class 1, deep JSON: nesting that recursive code downstream (orjson's encoder of the idempotency
fingerprint, the schema validator) cannot take is refused with a 400 in the API's error shape, never a 500."""

from __future__ import annotations

import httpx
import pytest
from hostile_support import CREATE, PATIENCE, error_body_problems


def nested(depth: int) -> bytes:
    """A JSON object `depth` levels deep: {"a": {"a": ... {} ...}}."""
    return b'{"a": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize("depth", [100, 254, 300, 1023, 5000])
@pytest.mark.parametrize("api", list(CREATE))
def test_deep_json_is_a_400_in_the_apis_error_shape(mock, bearer, api, depth):
    path, _, headers = CREATE[api]
    answer = httpx.post(mock.base_url(api) + path, content=nested(depth), timeout=PATIENCE,
                        headers={**headers, "authorization": bearer, "content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert error_body_problems(api, answer.json()) == []
