"""The mock's admin endpoints under /_mock/, behind the mock's own client credentials.

Whoever can register the callback URL can send every callback anywhere, and the callback log and
the request journal show what integrators sent: so every admin endpoint needs HTTP Basic with the
mock's client id and secret (the credentials `certify --origin` against a running mock has anyway),
and `--no-admin` turns them all off (404). Everything shown is redacted. In-process callers
(`MockServer.set_callback_url`) need no credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..redaction import Redactor
from ..serving import BodyTooLarge, ClientGone, read_body
from ._common import dumps, loads
from ._faults import FAULTS
from ._journal import RequestJournal
from ._targets import CallbackTargetError, check_callback_url, resolved_problem

if TYPE_CHECKING:
    from ._app import MockContext

PREFIX = "/_mock"
ENDPOINTS = ("callback-url", "callbacks", "faults", "journal")
REALM = 'Basic realm="conformance-mock admin", charset="UTF-8"'
RESOLVE_TIMEOUT = 2.0
"""Seconds a callback URL's host name may take to resolve when it is registered."""


def _json(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(value), status, headers, media_type="application/json")


class Admin:
    """The ASGI app answering every path under /_mock."""

    def __init__(self, context: MockContext, base_paths: Callable[[], dict[str, str]], journal: RequestJournal,
                 enabled: bool = True) -> None:
        self.context = context
        self.base_paths = base_paths
        self.journal = journal
        self.enabled = enabled
        self.redactor = Redactor([context.authority.client_secret])
        self._routes = {
            ("POST", f"{PREFIX}/callback-url"): self._callback_url,
            ("GET", f"{PREFIX}/callbacks"): self._callbacks,
            ("GET", f"{PREFIX}/faults"): self._faults,
            ("GET", f"{PREFIX}/journal"): self._journal,
            ("GET", PREFIX): self._index,
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = await self._answer(scope, receive)
        if response is not None:
            await response(scope, receive, send)

    async def _answer(self, scope: dict[str, Any], receive: Any) -> Response | None:
        path = scope["path"].rstrip("/") or "/"
        if not self.enabled:
            return _json(404, {"error": "not_found", "message": "the admin endpoints are off (--no-admin)"})
        authorization = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None)
        if not self.context.authority.client_matches(authorization):
            return _json(401, {"error": "unauthorized",
                               "message": "the admin endpoints need HTTP Basic with the mock's client credentials"},
                         {"www-authenticate": REALM})
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        handler = self._routes.get((method, path))
        if handler is None:
            allowed = sorted(m for m, p in self._routes if p == path)
            if allowed:
                return _json(405, {"error": "method_not_allowed", "message": f"use {', '.join(allowed)}"},
                             {"allow": ", ".join(allowed)})
            return _json(404, {"error": "not_found", "message": f"no admin endpoint at {path}"})
        return await handler(scope, receive)

    # -- endpoints ----------------------------------------------------------------------------------------------

    async def _callback_url(self, scope: dict[str, Any], receive: Any) -> Response | None:
        try:
            raw = await read_body(scope, receive, self.context.limits.max_body_bytes)
        except BodyTooLarge as exc:
            return _json(413, {"error": "payload_too_large", "message": str(exc)})
        except ClientGone:
            return None
        expected = 'expected {"url": "http(s)://..."} or {"url": null}'
        try:
            payload = loads(raw)
            url = check_callback_url(payload["url"])
        except CallbackTargetError as exc:
            return _json(400, {"error": str(exc)})
        except (ValueError, TypeError, KeyError):
            return _json(400, {"error": expected})
        if url is not None:
            refused = await resolved_problem(url, RESOLVE_TIMEOUT)
            if refused:
                return _json(400, {"error": f"callback URL {url!r} points at {refused}"})
        self.context.dispatcher.url = url
        return _json(200, {"url": url})

    async def _callbacks(self, scope: dict[str, Any], receive: Any) -> Response:
        snapshot = self.context.dispatcher.snapshot()
        for key in ("attempts", "given_up"):
            snapshot[key] = self.redactor.data(snapshot[key])
        return _json(200, snapshot)

    async def _faults(self, scope: dict[str, Any], receive: Any) -> Response:
        return _json(200, {
            "active": list(self.context.faults.names),
            "faults": [{"name": f.name, "description": f.description, "rule": f.rule, "api": f.api, "kind": f.kind}
                       for f in FAULTS.values()],
        })

    async def _journal(self, scope: dict[str, Any], receive: Any) -> Response:
        return _json(200, {"size": self.journal.size, "requests": self.journal.read(self.redactor)})

    async def _index(self, scope: dict[str, Any], receive: Any) -> Response:
        return _json(200, {
            "apis": self.base_paths(),
            "admin": [f"{PREFIX}/{name}" for name in ENDPOINTS],
            "callback_url": self.context.dispatcher.url,
            "faults": list(self.context.faults.names),
        })
