"""Reading a request body on the ASGI interface: capped, in linear time, only when asked.

A server calls `read_body` after it has decided the request deserves it (credentials checked), so an
unauthenticated upload is answered without being read. The declared Content-Length is judged before
a byte is read; a chunked body is counted as it arrives and refused once over the cap. Chunks are
joined once at the end: `raw += chunk` on bytes copies everything read so far for every chunk, which
made a 100 MB body cost 34 s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


class BodyTooLarge(Exception):
    """The body is larger than the server accepts (answer 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body exceeds {limit} bytes")
        self.limit = limit


class ClientGone(Exception):
    """The client disconnected (or timed out) before its body arrived: there is nobody to answer."""


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length an ASGI scope's headers declare, or None (the protocol has checked its syntax)."""
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]], limit: int) -> bytes:
    """The whole request body, at most `limit` bytes; BodyTooLarge beyond, ClientGone if the client left."""
    declared = declared_length(scope["headers"])
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
        if not message.get("more_body"):
            break
    if len(chunks) == 1:
        return chunks[0]
    return b"".join(chunks)


def too_deep(raw: bytes, value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests more than `limit` arrays and objects deep.

    Recursive code downstream (orjson's encoder stops at 255 levels, schema validators at their own
    limits) fails on deep documents with a server error; this says so first. A body with fewer
    brackets than the limit cannot be too deep, which spares the walk for ordinary requests."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        node, depth = level.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            level.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            level.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False
