"""OAuth 2.0 client credentials for the suites: a token client with caching, and Schemathesis auth providers.

The client asks the token endpoint (HTTP Basic client_id:client_secret, form grant_type=client_credentials)
and keeps the token until shortly before its `expires_in` runs out, then asks again: one token per
lifetime, however many requests a run sends. `schemathesis_auth(client)` turns it into a Schemathesis
auth provider (its official extension point) that sets `Authorization: Bearer ...` on generated cases;
`schemathesis_basic_auth(...)` does the same for the token endpoint itself, which takes client credentials.

Credentials come from CONFORMANCE_CLIENT_ID / CONFORMANCE_CLIENT_SECRET, never from the command line.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from ._deadline import deadline_client
from ._errors import EXIT_NONCONFORMANT, ConformanceError, TargetUnreachable, UsageError

CLIENT_ID_VARIABLE = "CONFORMANCE_CLIENT_ID"
CLIENT_SECRET_VARIABLE = "CONFORMANCE_CLIENT_SECRET"
DEFAULT_SCOPE = "jpm:payments:sandbox"


class TokenError(ConformanceError):
    """The token endpoint answered, but not with a usable token (a nonconformance of the target)."""

    exit_code = EXIT_NONCONFORMANT


@dataclass(frozen=True)
class Token:
    """An issued access token and when it stops being valid (monotonic clock)."""

    access_token: str
    expires_in: float | None
    obtained_at: float
    """When the token was asked for: the earliest it can have been issued, so renewal counts from here."""
    scope: str | None = None
    received_at: float | None = None
    """When the answer came: the latest it can have been issued."""

    def expired(self, now: float, skew: float = 0.0) -> bool:
        return self.expires_in is not None and now >= self.obtained_at + self.expires_in - skew

    @property
    def expires_at(self) -> float | None:
        """The earliest moment the token may stop being valid."""
        return None if self.expires_in is None else self.obtained_at + self.expires_in

    @property
    def surely_expired_at(self) -> float | None:
        """The moment by which the provider has surely let it expire (counted from the answer, not the request)."""
        if self.expires_in is None:
            return None
        return (self.received_at if self.received_at is not None else self.obtained_at) + self.expires_in


def credentials_from_environment(required: bool = True) -> tuple[str | None, str | None]:
    """(client id, client secret) from the environment; a UsageError naming the variables when missing."""
    client_id = os.environ.get(CLIENT_ID_VARIABLE) or None
    client_secret = os.environ.get(CLIENT_SECRET_VARIABLE) or None
    if required and not (client_id and client_secret):
        raise UsageError(f"set {CLIENT_ID_VARIABLE} and {CLIENT_SECRET_VARIABLE} (credentials are never taken "
                         "from the command line)")
    return client_id, client_secret


def basic_credentials(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


class OAuthClient:
    """Client-credentials tokens from one token endpoint, cached until just before they expire."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, scope: str = DEFAULT_SCOPE, *,
                 timeout: float = 10.0, verify: Any = True, clock: Callable[[], float] = time.monotonic,
                 on_token: Callable[[str], None] | None = None) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.timeout = timeout
        self.verify = verify
        self.clock = clock
        self.on_token = on_token
        """Called with every token issued (so a Recorder can add it to its secrets)."""
        self.fetches = 0
        self._cached: Token | None = None
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None

    def token(self) -> str:
        """A valid access token: the cached one, or a fresh one once it is (nearly) expired."""
        with self._lock:
            cached = self._cached
            if cached is None or cached.expired(self.clock(), self._skew(cached)):
                self._cached = cached = self.fetch()
            return cached.access_token

    @property
    def current(self) -> Token | None:
        return self._cached

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    @staticmethod
    def _skew(token: Token) -> float:
        """Renew early so no request carries a dying token: a tenth of the lifetime (at most 30 s), and for
        short-lived tokens at least a second (or half the lifetime), to allow for a slow network."""
        lifetime = token.expires_in or 0
        return min(30.0, max(lifetime / 10, min(1.0, lifetime / 2)))

    def request(self, *, scope: str | None = None, authorization: str | None = None,
                form: dict[str, str] | None = None) -> httpx.Response:
        """One raw token request (the caller judges the answer). Connection problems are TargetUnreachable."""
        data = form if form is not None else {"grant_type": "client_credentials", "scope": scope or self.scope}
        headers = {"Accept": "application/json"}
        headers["Authorization"] = authorization or basic_credentials(self.client_id, self.client_secret)
        if self._http is None:  # one connection pool (and one TLS context) for every token request
            self._http = deadline_client(self.timeout, verify=self.verify)
        try:
            return self._http.post(self.token_url, data=data, headers=headers)
        except httpx.TimeoutException:
            raise TargetUnreachable(
                f"token endpoint {self.token_url} did not answer within {self.timeout:g} s") from None
        except httpx.ConnectError as exc:
            raise TargetUnreachable(f"cannot reach token endpoint {self.token_url}: {_reason(exc)}") from None
        except httpx.HTTPError as exc:
            raise TargetUnreachable(f"token endpoint {self.token_url} failed: {_reason(exc)}") from None

    def fetch(self, scope: str | None = None) -> Token:
        """A new token (not cached): for the run's scope, or another scope when asked."""
        started = self.clock()
        response = self.request(scope=scope)
        received = self.clock()
        self.fetches += 1
        try:
            body = response.json()
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deeply to be a token answer
            kind = response.headers.get("content-type", "no content type")
            raise TokenError(f"token endpoint {self.token_url} answered {response.status_code} with a body that is "
                             f"not JSON ({kind}) [OAUTH-CONTENT-TYPE]") from None
        if response.status_code == 401:
            raise UsageError(f"token endpoint {self.token_url} refused the client credentials "
                             f"({body.get('error', 'no error code') if isinstance(body, dict) else 'no error code'}); "
                             f"check {CLIENT_ID_VARIABLE} and {CLIENT_SECRET_VARIABLE}")
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            error = body.get("error") if isinstance(body, dict) else None
            raise TokenError(f"token endpoint {self.token_url} answered {response.status_code} without a token"
                             + (f" ({error})" if error else ""))
        expires_in = body.get("expires_in")
        token = Token(body["access_token"], float(expires_in) if isinstance(expires_in, (int, float)) else None,
                      started, body.get("scope"), received)
        if self.on_token:
            self.on_token(token.access_token)
        return token


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text:
        return "TLS handshake failed (" + (text[:160] or type(exc).__name__) + ")"
    return text[:200] or type(exc).__name__


def schemathesis_auth(client: OAuthClient) -> type:
    """A Schemathesis auth provider class that sets the client's (cached, refreshed) bearer token.

    Register it on a schema with `schema.auth(refresh_interval=None)(schemathesis_auth(client))`: caching
    and refresh on expiry are the client's, driven by the token's own `expires_in`.
    """

    class OAuthBearer:
        """Bearer token from the OAuth client-credentials endpoint."""

        def get(self, case: Any, context: Any) -> str:
            return client.token()

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return OAuthBearer


def schemathesis_basic_auth(client_id: str, client_secret: str) -> type:
    """A Schemathesis auth provider class for an endpoint that takes the client credentials (HTTP Basic)."""
    value = basic_credentials(client_id, client_secret)

    class ClientCredentials:
        """HTTP Basic client_id:client_secret."""

        def get(self, case: Any, context: Any) -> str:
            return value

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    return ClientCredentials
