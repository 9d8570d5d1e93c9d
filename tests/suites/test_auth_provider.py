"""The OAuth client-credentials client and its Schemathesis auth provider, against the embedded mock's
token endpoint: one token per lifetime, a fresh one once it expires, and bad input in one line."""

from __future__ import annotations

import time

import pytest

from conformance._errors import TargetUnreachable, UsageError
from conformance.auth import OAuthClient, schemathesis_auth
from conformance.mock import MockServer

CLIENT_ID, CLIENT_SECRET = "auth-tests", "auth-tests-secret-value"


@pytest.fixture(scope="module")
def mock():
    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_ttl=2) as server:
        yield server


def test_token_is_cached_for_its_lifetime_then_refreshed(mock):
    issued = []
    client = OAuthClient(mock.token_url, CLIENT_ID, CLIENT_SECRET, on_token=issued.append)
    first = client.token()
    assert client.token() == first and client.fetches == 1
    time.sleep(client.current.expires_in - client._skew(client.current) + 0.05)
    second = client.token()
    assert second != first and client.fetches == 2
    assert issued == [first, second]
    client.close()


def test_schemathesis_provider_sets_the_cached_bearer_token(mock, specs):
    client = OAuthClient(mock.token_url, CLIENT_ID, CLIENT_SECRET)
    schema = specs["pay-by-bank"].schemathesis(mock.base_url("pay-by-bank"))
    schema.auth(refresh_interval=None)(schemathesis_auth(client))
    from schemathesis import AuthContext

    case = schema.find_operation_by_id("getPayment").Case(path_parameters={"id": "unknown"})
    schema.auth.set(case, AuthContext(operation=case.operation, app=None))
    assert case.headers["Authorization"] == f"Bearer {client.token()}"
    assert case.call().status_code == 404  # authorized: the payment is unknown, not the caller
    client.close()


def test_wrong_credentials_and_unreachable_endpoints_are_one_line_errors(mock):
    with pytest.raises(UsageError, match="refused the client credentials"):
        OAuthClient(mock.token_url, CLIENT_ID, "not-the-secret").token()
    with pytest.raises(TargetUnreachable, match="cannot reach token endpoint"):
        OAuthClient("http://127.0.0.1:9/token", CLIENT_ID, CLIENT_SECRET, timeout=1).token()


def test_a_token_is_renewed_from_its_request_and_surely_expired_from_its_answer(mock):
    """The provider issued the token between the request and the answer: renewal counts from the request
    (never late), the expired-token probe from the answer (never early, however long the exchange took)."""
    moments = iter([100.0, 100.7])
    client = OAuthClient(mock.token_url, CLIENT_ID, CLIENT_SECRET, clock=lambda: next(moments))
    token = client.fetch()
    client.close()
    assert (token.obtained_at, token.received_at) == (100.0, 100.7)
    assert token.expires_at == 100.0 + token.expires_in
    assert token.surely_expired_at == 100.7 + token.expires_in
