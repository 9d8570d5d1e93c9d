"""A `conformance mock` named by --origin: found through its admin index, so that certify registers its sink.

Against a running `conformance mock`, callbacks only reach the run if the mock knows where to send them.
Rather than asking the user to start a sink (--callback-listen) and register it by hand, certify asks
`GET {origin}/_mock` (with the run's client credentials, over HTTP Basic: the admin endpoints are behind
them) whether the origin is one; if it is, certify starts its sink on loopback, registers it
(`POST /_mock/callback-url`) and puts the mock's previous callback URL back when the run ends.
Only for an origin on this machine: a mock elsewhere cannot reach a sink on our loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx

from .._deadline import deadline_client
from .._errors import ConformanceError, TargetUnreachable, UsageError

ADMIN = "/_mock"


def _on_this_machine(origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MockAdmin:
    """The admin endpoints of a `conformance mock` at an origin."""

    def __init__(self, origin: str, auth: tuple[str, str], timeout: float, previous: str | None) -> None:
        self.origin, self.auth, self.timeout, self.previous = origin, auth, timeout, previous
        self.registered = False

    @classmethod
    def find(cls, origin: str, client_id: str, client_secret: str, timeout: float) -> MockAdmin | None:
        """The mock's admin, if `origin` is a `conformance mock` on this machine; None for anything else."""
        if not _on_this_machine(origin):
            return None
        try:
            with deadline_client(timeout) as http:
                answer = http.get(origin + ADMIN, auth=(client_id, client_secret))
            index = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError, RecursionError):
            return None  # not a mock, or not answering: preflight says what is wrong with the origin
        if not isinstance(index, dict) or f"{ADMIN}/callback-url" not in (index.get("admin") or []):
            return None
        return cls(origin, (client_id, client_secret), timeout, index.get("callback_url"))

    def register(self, url: str | None) -> None:
        try:
            with deadline_client(self.timeout) as http:
                answer = http.post(self.origin + f"{ADMIN}/callback-url", json={"url": url}, auth=self.auth)
        except httpx.HTTPError as exc:
            raise TargetUnreachable(f"the mock at {self.origin} did not take the callback URL: {exc}") from None
        if answer.status_code != 200:
            shown, text = url, answer.text[:200]
            path = urlsplit(url).path if url else ""
            if path.strip("/"):  # the sink's path carries its per-run token, which forgers must not learn
                shown, text = url.replace(path, "/[REDACTED]"), text.replace(path, "/[REDACTED]")
            raise UsageError(f"the mock at {self.origin} refused the callback URL {shown}: HTTP {answer.status_code} "
                             f"{text}")
        self.registered = True

    def restore(self) -> None:
        """Give the mock its callback URL back (best effort: the run is over either way)."""
        if self.registered:
            self.registered = False
            try:
                self.register(self.previous)
            except ConformanceError:
                pass
