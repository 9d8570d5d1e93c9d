"""Bearer tokens: issued by the token endpoint, checked on every operation the spec secures.

Tokens are opaque random strings kept in memory with their expiry and scopes, so that the four
ways a token can be bad (missing, malformed, expired, wrong scope) are told apart, as the rules
tables' `errors.auth` table needs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import secrets
import time
from collections.abc import Iterable

MISSING_TOKEN = "missing_token"
INVALID_TOKEN = "invalid_token"
EXPIRED_TOKEN = "expired_token"
WRONG_SCOPE = "wrong_scope"


class TokenAuthority:
    """Issues and checks the mock's bearer tokens for one client."""

    def __init__(self, client_id: str, client_secret: str, scopes: Iterable[str], ttl: float) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = tuple(scopes)
        self.ttl = float(ttl)
        self._tokens: dict[str, tuple[float, frozenset[str]]] = {}

    def client_matches(self, authorization: str | None) -> bool:
        """Whether an HTTP Basic Authorization header names this client with its secret."""
        if not authorization or not authorization[:6].lower() == "basic ":
            return False
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, _, secret = decoded.partition(":")
        # Bytes, not str: compare_digest refuses non-ASCII strings, and a client may send any UTF-8.
        return hmac.compare_digest(client_id.encode(), self.client_id.encode()) and hmac.compare_digest(
            secret.encode(), self._secret.encode()
        )

    def grantable(self, requested: str | None) -> frozenset[str] | None:
        """The scopes a token request gets (all of the client's when it names none); None if any is not allowed."""
        if requested is None:
            return frozenset(self.scopes)
        wanted = frozenset(requested.split())
        if not wanted or not wanted <= frozenset(self.scopes):
            return None
        return wanted

    def issue(self, scopes: frozenset[str]) -> dict[str, object]:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (time.monotonic() + self.ttl, scopes)
        return {
            "access_token": token,
            "scope": " ".join(sorted(scopes)),
            "token_type": "Bearer",
            "expires_in": max(1, math.ceil(self.ttl)),
        }

    def revoke_all(self) -> int:
        """Revoke every token issued so far (a provider's key rotation or an admin's revocation); how many.

        A revoked token is told apart from one never issued by nothing: both are answered as invalid.
        """
        count = len(self._tokens)
        self._tokens.clear()
        return count

    def problem(self, authorization: str | None, required: frozenset[str]) -> str | None:
        """None when the Authorization header carries a live token with the required scopes, else why not."""
        if not authorization:
            return MISSING_TOKEN
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return INVALID_TOKEN
        entry = self._tokens.get(token.strip())
        if entry is None:
            return INVALID_TOKEN
        expires, scopes = entry
        if time.monotonic() >= expires:
            return EXPIRED_TOKEN
        if not required <= scopes:
            return WRONG_SCOPE
        return None
