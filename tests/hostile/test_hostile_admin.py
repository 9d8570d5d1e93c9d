"""Probe class 7, admin endpoints: behind the mock's client credentials, off with --no-admin, and never
pointing callbacks at link-local or cloud metadata addresses."""

from __future__ import annotations

import httpx
import pytest
from hostile_support import ADMIN, LIMITS, PATIENCE

from conformance import UsageError
from conformance.mock import MockServer

ENDPOINTS = [("GET", "/_mock"), ("GET", "/_mock/callbacks"), ("GET", "/_mock/faults"), ("GET", "/_mock/journal"),
             ("POST", "/_mock/callback-url")]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_admin_endpoint_needs_the_client_credentials(mock, bearer, method, path):
    url = mock.origin + path
    body = {"url": "http://127.0.0.1:9/stolen"}
    for credentials in ({}, {"auth": ("conformance-mock", "guess")}, {"headers": {"authorization": bearer}}):
        answer = httpx.request(method, url, json=body, timeout=PATIENCE, **credentials)
        assert answer.status_code == 401, (credentials, answer.text)
        assert answer.headers["www-authenticate"].startswith("Basic")
    assert mock.callback_url is None
    assert httpx.request(method, url, json={"url": None}, auth=ADMIN, timeout=PATIENCE).status_code == 200


def test_no_admin_turns_every_admin_endpoint_off():
    with MockServer(limits=LIMITS, admin=False) as mock:
        for method, path in ENDPOINTS:
            answer = httpx.request(method, mock.origin + path, json={"url": None}, auth=ADMIN, timeout=PATIENCE)
            assert answer.status_code == 404, path


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/", "http://169.254.170.2/v2/credentials", "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/", "http://[fe80::1]:8080/",
])
def test_callbacks_never_go_to_link_local_or_metadata_addresses(mock, url):
    answer = httpx.post(mock.origin + "/_mock/callback-url", json={"url": url}, auth=ADMIN, timeout=PATIENCE)
    assert answer.status_code == 400, answer.text
    assert mock.callback_url is None
    with pytest.raises(UsageError):
        mock.set_callback_url(url)


def test_a_callback_url_names_only_known_placeholders(mock):
    answer = httpx.post(mock.origin + "/_mock/callback-url", json={"url": "http://127.0.0.1:9/{secret}"}, auth=ADMIN,
                        timeout=PATIENCE)
    assert answer.status_code == 400
    registered = httpx.post(mock.origin + "/_mock/callback-url", json={"url": "http://127.0.0.1:9/{api}/{webhook}"},
                            auth=ADMIN, timeout=PATIENCE)
    assert registered.status_code == 200
    mock.set_callback_url(None)
