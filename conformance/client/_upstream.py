"""Where the proxy sends the client's requests on: the embedded mock, or a live sandbox (`--upstream URL`).

One httpx client per proxy, with a total deadline per exchange (a provider that hangs cannot hold the
proxy: the client gets a 504 and the exchange is recorded as the provider's failure). The token
endpoint's path may go to its own URL (`--token-url`: the provider's token host differs from its API
host). Revoking tokens is the mock's to do when the mock is upstream (its own 401, in the API's error
body); in front of a sandbox, the proxy refuses revoked tokens itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .._deadline import deadline_client
from .._errors import TargetUnreachable
from ..suites._environment import _connect_reason as connect_reason

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length", "content-encoding",
})
"""Headers that belong to one connection (RFC 9110 7.6.1), not to the exchange: never passed on."""

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The largest answer passed back to the client; a bigger one is the provider's failure (502)."""


class UpstreamFailure(Exception):
    """The provider could not be reached, did not answer within the deadline, or answered too much."""

    def __init__(self, reason: str, status: int = 502) -> None:
        super().__init__(reason)
        self.status = status


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    content: bytes


class Upstream:
    """Sends requests on to one origin (and the token endpoint's path to `token_url` when given)."""

    def __init__(self, origin: str, *, token_path: str | None = None, token_url: str | None = None,
                 deadline: float = 30.0, verify: bool | str = True, revoke: Callable[[], object] | None = None,
                 name: str | None = None) -> None:
        self.origin = origin.rstrip("/")
        self.token_path = token_path
        self.token_url = token_url
        self.deadline = deadline
        self.verify = verify
        self.revoke = revoke
        """Revokes every token at the provider (the embedded mock); None when the proxy must refuse them itself."""
        self.name = name or self.origin
        self._client: httpx.AsyncClient | None = None

    def url(self, target: str) -> str:
        path = target.partition("?")[0]
        if self.token_url and self.token_path and path == self.token_path:
            query = target.partition("?")[2]
            return self.token_url + (f"?{query}" if query else "")
        return self.origin + target

    async def send(self, method: str, target: str, headers: list[tuple[str, str]], content: bytes) -> Answer:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.deadline), verify=self.verify,
                                             follow_redirects=False, trust_env=False)
        outgoing = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        try:
            response = await asyncio.wait_for(self._exchange(method, self.url(target), outgoing, content),
                                              timeout=self.deadline)
        except TimeoutError:
            raise UpstreamFailure(f"{self.name} did not answer within {self.deadline:g} s", 504) from None
        except httpx.TimeoutException:
            raise UpstreamFailure(f"{self.name} did not answer within {self.deadline:g} s", 504) from None
        except httpx.HTTPError as exc:
            raise UpstreamFailure(f"cannot reach {self.name}: {connect_reason(exc)}") from None
        return response

    async def _exchange(self, method: str, url: str, headers: list[tuple[str, str]], content: bytes) -> Answer:
        assert self._client is not None
        async with self._client.stream(method, url, headers=headers, content=content) as response:
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise UpstreamFailure(f"{self.name} answered more than {MAX_ANSWER_BYTES} bytes")
                chunks.append(chunk)
            answer_headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
            return Answer(response.status_code, answer_headers, b"".join(chunks))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def probe(self) -> None:
        """One request to the origin (and the token URL's): TargetUnreachable (exit 3) when either cannot be reached."""
        for url in dict.fromkeys(u for u in (self.origin + "/", self.token_url) if u):
            parts = urlsplit(url)
            try:
                with deadline_client(min(self.deadline, 10.0), verify=self.verify, trust_env=False) as http:
                    http.get(url)
            except httpx.TimeoutException:
                raise TargetUnreachable(f"{parts.scheme}://{parts.netloc} did not answer within "
                                        f"{min(self.deadline, 10.0):g} s") from None
            except httpx.HTTPError as exc:
                raise TargetUnreachable(f"cannot reach {parts.scheme}://{parts.netloc}: {connect_reason(exc)}") \
                    from None
