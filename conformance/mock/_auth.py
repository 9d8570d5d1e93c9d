"""Bearer tokens: issued by the token endpoint, checked on every operation the spec secures.

Tokens are opaque random strings kept in memory with their expiry and scopes, so that the four
ways a token can be bad (missing, malformed, expired, wrong scope) are told apart, as the rules
tables' `errors.auth` table needs. Memory is bounded: a token is forgotten `grace` seconds after it
expired (until then it is told apart as expired; after, as never issued, which is answered with the
same status), and at most `max_tokens` live at once (issuing one more forgets the oldest).
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

DEFAULT_GRACE = 600.0
"""Seconds an expired token is still told apart as expired before it is forgotten."""
DEFAULT_MAX_TOKENS = 100_000
"""Live tokens at most (about 200 bytes each)."""


class TokenAuthority:
    """Issues and checks the mock's bearer tokens for one client."""

    def __init__(self, client_id: str, client_secret: str, scopes: Iterable[str], ttl: float,
                 grace: float = DEFAULT_GRACE, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = tuple(scopes)
        self.ttl = float(ttl)
        self.grace = float(grace)
        self.max_tokens = int(max_tokens)
        self._tokens: dict[str, tuple[float, frozenset[str]]] = {}
        """Insertion order is expiry order: every token lives `ttl` seconds."""

    @property
    def client_secret(self) -> str:
        """The secret the token endpoint and the admin endpoints accept (for redaction, never for display)."""
        return self._secret

    def __len__(self) -> int:
        """Tokens remembered now (live, or expired less than `grace` seconds ago)."""
        return len(self._tokens)

    def purge(self, now: float | None = None) -> None:
        """Forget tokens that expired more than `grace` seconds ago (the oldest are first)."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens
        while tokens:
            oldest = next(iter(tokens))
            if tokens[oldest][0] + self.grace > now:
                break
            del tokens[oldest]

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
        now = time.monotonic()
        self.purge(now)
        while len(self._tokens) >= self.max_tokens:
            del self._tokens[next(iter(self._tokens))]
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (now + self.ttl, scopes)
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
        now = time.monotonic()
        if now >= expires:
            self.purge(now)
            return EXPIRED_TOKEN
        if not required <= scopes:
            return WRONG_SCOPE
        return None
