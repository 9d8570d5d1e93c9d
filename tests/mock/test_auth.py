"""The token endpoint and bearer-token enforcement: each bad token gets the documented status and body."""

from __future__ import annotations

import base64
import time

import pytest
from mock_support import Api, example, spec, unique

from conformance.mock import MockServer

APIS = {  # name: (operationId, method, path, body)
    "online-payments": ("V2PaymentPost", "POST", "/payments", lambda: example("online-payments", "V2PaymentPost")),
    "global-payments": ("getPaymentStatus", "GET", "/payments/status", None),
    "pay-by-bank": ("createPayment", "POST", "/payments", lambda: example("pay-by-bank", "createPayment")),
}


def _call(api: Api, name: str, token: str | None) -> object:
    _, method, path, body = APIS[name]
    headers = {"merchant-id": "998482157630", "request-id": unique("r"), "Idempotency-Key": unique("k")}
    params = {"endToEndId": "NOSUCHPAYMENT"} if name == "global-payments" else None
    return api.request(name, method, path, body() if body else None, token=token, headers=headers, params=params)


def _assert_error(name: str, response, status: int) -> None:
    assert response.status_code == status, response.text
    schema = spec(name).response_schema(APIS[name][0], status)  # the error body the operation documents
    assert schema is not None, f"{APIS[name][0]} documents no {status}"
    assert list(spec(name).validator(schema, "response").iter_errors(response.json())) == []
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", list(APIS))
def test_missing_and_malformed_tokens_get_401(api, name):
    _assert_error(name, _call(api, name, None), 401)
    _assert_error(name, _call(api, name, "not-a-token-we-issued"), 401)
    response = api.request(name, APIS[name][1], APIS[name][2], token=None, headers={"authorization": "Basic abc"})
    _assert_error(name, response, 401)


PASSED = {  # what a request past the token check gets
    "online-payments": (200, None),
    "global-payments": (400, "10009"),  # the status read names no payment: unknown id, not an auth error
    "pay-by-bank": (201, None),
}


@pytest.mark.parametrize("name", list(APIS))
def test_a_good_token_passes(api, name):
    response = _call(api, name, "default")
    status, code = PASSED[name]
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["errors"][0]["errorDetails"][0]["errorCode"] == code


def test_wrong_scope_gets_403_and_expired_gets_401():
    with MockServer(scopes=("jpm:payments:sandbox", "jpm:other"), token_ttl=0.3) as mock:
        api = Api(mock)
        other = api.fetch_token(scope="jpm:other")
        for name in APIS:
            _assert_error(name, _call(api, name, other), 403)
        expired = api.fetch_token()
        time.sleep(0.4)
        for name in APIS:
            _assert_error(name, _call(api, name, expired), 401)
        assert _call(api, "online-payments", api.fetch_token()).status_code == 200
        api.close()


def test_bad_client_credentials_are_invalid_client_with_www_authenticate(api):
    response = api.token_request(client=("conformance-mock", "wrong"))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Client authentication failed"}
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.headers["cache-control"] == "no-store"
    no_auth = api.http.post(api.mock.token_url, data={"grant_type": "client_credentials"})
    assert no_auth.status_code == 401


def test_non_ascii_client_credentials_are_invalid_client_not_a_server_error(api):
    credentials = base64.b64encode("clïent-é:sécret-ü".encode()).decode()
    response = api.http.post(api.mock.token_url, data={"grant_type": "client_credentials"},
                             headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"scope": "jpm:payments:production"}, "invalid_scope"),
        ({"scope": ""}, "invalid_request"),  # malformed: the spec asks for minLength 1
    ],
)
def test_token_request_errors_follow_rfc_6749(api, form, error):
    response = api.token_request(**form)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    validator = spec("oauth").validator("#/components/schemas/OAuthError", "response")
    assert list(validator.iter_errors(response.json())) == []


def test_token_request_must_be_a_form(api):
    response = api.http.post(api.mock.token_url, auth=("conformance-mock", "conformance-mock-secret"),
                             json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_custom_client_credentials():
    with MockServer(client_id="my-client", client_secret="my-secret-value") as mock:
        api = Api.__new__(Api)
        api.mock = mock
        import httpx

        api.http = httpx.Client()
        assert api.token_request(client=("my-client", "my-secret-value")).status_code == 200
        assert api.token_request(client=("conformance-mock", "conformance-mock-secret")).status_code == 401
        api.close()
