"""The mock's ASGI application: every spec's operations, and the admin endpoints, on one origin.

Every request goes through the same steps, whatever the API: find the operation from the spec's
paths, check the bearer token against the scopes the spec asks for, read and validate the request
against the spec, honour the idempotency key of the rules table, then hand over to the API
family's handler. Errors at any step get the API's own error body. Admin endpoints under /_mock/
(not in any spec) register the callback URL and show the callback log and the faults.
"""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.parse
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from .._specs import SPEC_NAMES, Spec, load_spec
from ._auth import TokenAuthority
from ._callbacks import CallbackDispatcher
from ._common import Call, JsonStore, dumps, loads
from ._family import Answer, Family
from ._faults import FAULTS, FaultSwitch
from ._global_payments import GlobalPayments
from ._oauth import OAuth
from ._online_payments import OnlinePayments
from ._pay_by_bank import PayByBank
from ._validation import NO_BODY, OperationValidator, SpecSchemas

logger = logging.getLogger("conformance.mock")

FAMILIES: dict[str, type[Family]] = {
    "oauth": OAuth,
    "online-payments": OnlinePayments,
    "global-payments": GlobalPayments,
    "pay-by-bank": PayByBank,
}
"""The behaviour of each API, by its rules table's `api`."""

JSON = "application/json"
ADMIN = "/_mock"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
"""The 404 fallback takes every method."""


@dataclass
class MockContext:
    """What the families share: the faults, the tokens, the callback channel, the resources created."""

    faults: FaultSwitch
    authority: TokenAuthority
    dispatcher: CallbackDispatcher
    callback_interval: float
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    origins: JsonStore = field(default_factory=JsonStore)
    """The request body that created each resource, by the resource's identifiers (for scenario `given`s)."""


def load_specs(specs: Sequence[str | Spec]) -> tuple[Spec, ...]:
    """The specs to serve: loaded Specs as they are, names and paths through the loader (cached per file)."""
    return tuple(spec if isinstance(spec, Spec) else load_spec(spec) for spec in specs)


@cache
def _validators(spec: Spec) -> dict[str, OperationValidator]:
    schemas = SpecSchemas(spec)
    return {op_id: OperationValidator(schemas, op) for op_id, op in spec.operations.items() if not op.webhook}


@dataclass(frozen=True)
class _Runtime:
    family: Family
    operation_id: str
    validator: OperationValidator
    scopes: frozenset[str] | None
    raw: bool


@dataclass(frozen=True)
class _Path:
    """One path of a spec: the family serving it and its operations by HTTP method."""

    family: Family
    methods: dict[str, _Runtime]
    allow: str
    pattern: re.Pattern[str] | None
    """None for a path without parameters (matched by a dictionary lookup)."""


def _compile(template: str) -> re.Pattern[str]:
    """/payments/{id}/captures -> ^/payments/(?P<id>[^/]+)/captures$"""
    parts = re.split(r"\{([^{}]+)\}", template)
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts))
    return re.compile(f"^{regex}$")


class MockApp:
    """The ASGI app. Build it, then serve it with uvicorn (MockServer does both).

    The spec's operations are dispatched by a table compiled from the specs' paths, straight on the
    ASGI interface: that is the hot path of a load test, and Starlette's per-request routing and
    request/response objects cost about a third of it. The admin endpoints, the 404 fallback and the
    lifespan (starting and stopping the callback channel) are a Starlette router.
    """

    def __init__(self, context: MockContext, specs: Sequence[str | Spec] = SPEC_NAMES) -> None:
        self.context = context
        self.families: list[Family] = []
        self._exact: dict[str, _Path] = {}
        self._templated: list[_Path] = []
        for spec in load_specs(specs):
            family_class = FAMILIES.get(spec.rules.api)
            if family_class is None:
                logger.warning("no mock behaviour for API %r (%s); not served", spec.rules.api, spec.path)
                continue
            family = family_class(spec, context)
            self.families.append(family)
            validators = _validators(spec)
            by_path: dict[str, dict[str, _Runtime]] = {}
            for operation_id, operation in spec.operations.items():
                if operation.webhook or operation_id not in family.handlers:
                    continue
                by_path.setdefault(operation.path, {})[operation.method] = _Runtime(
                    family, operation_id, validators[operation_id], spec.required_scopes(operation_id),
                    operation_id in family.raw_operations,
                )
            for template, methods in by_path.items():
                full = spec.base_path + template
                allow = ", ".join(sorted(methods))
                if "{" in full:
                    self._templated.append(_Path(family, methods, allow, _compile(full)))
                else:
                    self._exact[full] = _Path(family, methods, allow, None)
        routes = [
            Route(f"{ADMIN}/callback-url", self._admin_callback_url, methods=["POST"]),
            Route(f"{ADMIN}/callbacks", self._admin_callbacks, methods=["GET"]),
            Route(f"{ADMIN}/faults", self._admin_faults, methods=["GET"]),
            Route(ADMIN, self._admin_index, methods=["GET"]),
            Route("/{path:path}", self._not_found, methods=ALL_METHODS),
        ]
        self.router = Router(routes, redirect_slashes=False, lifespan=self._lifespan)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            found = self._exact.get(path)
            params: dict[str, str] = {}
            if found is None:
                for candidate in self._templated:
                    match = candidate.pattern.match(path)  # type: ignore[union-attr]
                    if match is not None:
                        found, params = candidate, match.groupdict()
                        break
            if found is not None:
                await self._dispatch(found, params, scope, receive, send)
                return
        await self.router(scope, receive, send)

    @asynccontextmanager
    async def _lifespan(self, _app):
        await self.context.dispatcher.start()
        try:
            yield
        finally:
            for task in list(self.context.tasks):
                task.cancel()
            await self.context.dispatcher.stop()

    def base_paths(self) -> dict[str, str]:
        """Each served API's base path, by its rules table's `api`."""
        return {family.api: family.spec.base_path for family in self.families}

    # -- the pipeline ---------------------------------------------------------------------------------------------

    async def _dispatch(self, found: _Path, params: dict[str, str], scope, receive, send) -> None:
        method = scope["method"]
        family = found.family
        runtime = found.methods.get(method) or (found.methods.get("GET") if method == "HEAD" else None)
        if runtime is None:
            answer = family.error_answer(405, f"{method} is not supported here", headers=[("allow", found.allow)])
        else:
            try:
                raw = b""
                while True:
                    message = await receive()
                    raw += message.get("body", b"")
                    if not message.get("more_body"):
                        break
                headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
                query_string = scope.get("query_string")
                query = dict(urllib.parse.parse_qsl(query_string.decode("latin-1"))) if query_string else {}
                call = Call(runtime.operation_id, headers, params, query, None)
                if runtime.raw:
                    answer = await family.handlers[runtime.operation_id](call, raw, runtime.validator)  # type: ignore[call-arg]
                else:
                    answer = await self._serve(runtime, call, raw, self.context.faults)
                if not isinstance(answer.body, bytes):
                    answer.body = dumps(answer.body)
            except Exception:  # noqa: BLE001 - the client gets the API's 500 body, the log the traceback
                logger.exception("the mock failed on %s %s", method, scope["path"])
                answer = family.error_answer(500, "The mock failed; see its log")
        body = answer.body if isinstance(answer.body, bytes) else dumps(answer.body)
        media_type = b"text/plain" if method in ("GET", "HEAD") and self.context.faults.active(
            "wrong-content-type", family.api) else b"application/json"
        headers = [(b"content-type", media_type), (b"content-length", str(len(body)).encode())]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body if method != "HEAD" else b""})

    async def _serve(self, runtime: _Runtime, call: Call, raw: bytes, faults: FaultSwitch) -> Answer:
        family = runtime.family
        api = family.api
        if runtime.scopes is not None and not faults.active("auth-not-enforced", api):
            problem = self.context.authority.problem(call.headers.get("authorization"), runtime.scopes)
            if problem is not None:
                return family.auth_answer(problem)
        validator = runtime.validator
        body, problems = validator.parse_body(call.headers.get("content-type"), raw)
        if not problems:
            problems = validator.problems(call.headers, call.path, call.query, body)
        call.body = None if body is NO_BODY else body
        if problems:
            if faults.active("invalid-request-accepted", api):
                accepted = await family.accept_invalid(call)
                if accepted is not None:
                    return accepted
            if all(p.location == "path" for p in problems) and str(family.validation_status) not in (
                validator.documented_statuses
            ):
                return family.error_answer(404, "No such resource")
            return family.validation_answer(problems)
        keyed = None if faults.active("idempotency-ignored", api) else family.idempotency.key(call)
        if keyed is not None:
            rule, key, fingerprint = keyed
            stored = family.idempotency.lookup(rule, key)
            if stored is not None:
                stored_fingerprint, status, body, headers = stored
                if stored_fingerprint == fingerprint:
                    return Answer(status, body, list(headers))
                return family.conflict_answer(rule.conflict_status, rule.conflict_code)
        answer = await family.handlers[runtime.operation_id](call)
        if keyed is not None and answer.status < 500:
            body = answer.body if isinstance(answer.body, bytes) else dumps(answer.body)
            family.idempotency.remember(rule, key, (fingerprint, answer.status, body, tuple(answer.headers)))
            answer.body = body
        return answer

    def _respond(self, family: Family | None, method: str, answer: Answer) -> Response:
        media_type = JSON
        if family is not None and method in ("GET", "HEAD") and self.context.faults.active(
            "wrong-content-type", family.api
        ):
            media_type = "text/plain"
        body = answer.body if isinstance(answer.body, bytes) else dumps(answer.body)
        return Response(body if method != "HEAD" else b"", answer.status, dict(answer.headers), media_type)

    async def _not_found(self, request: Request) -> Response:
        path = request.url.path
        owners = [f for f in self.families if f.spec.base_path and (path + "/").startswith(f.spec.base_path + "/")]
        family = max(owners, key=lambda f: len(f.spec.base_path), default=None)
        if family is None:
            return Response(dumps({"error": "not_found", "message": f"No API is served at {path}"}), 404,
                            media_type=JSON)
        return self._respond(family, request.method, family.error_answer(404, f"No operation at {path}"))

    # -- admin ------------------------------------------------------------------------------------------------------

    def set_callback_url(self, url: str | None) -> None:
        self.context.dispatcher.url = check_callback_url(url)

    async def _admin_callback_url(self, request: Request) -> Response:
        try:
            payload = loads(await request.body())
            url = payload["url"]
            self.set_callback_url(url)
        except Exception as exc:  # noqa: BLE001 - any bad input is the client's
            message = str(exc) if isinstance(exc, ValueError) and "callback URL" in str(exc) else (
                'expected {"url": "http(s)://..."} or {"url": null}')
            return Response(dumps({"error": message}), 400, media_type=JSON)
        return Response(dumps({"url": self.context.dispatcher.url}), 200, media_type=JSON)

    async def _admin_callbacks(self, request: Request) -> Response:
        dispatcher = self.context.dispatcher
        return Response(dumps({"url": dispatcher.url, "attempts": list(dispatcher.log),
                               "given_up": list(dispatcher.given_up)}), 200, media_type=JSON)

    async def _admin_faults(self, request: Request) -> Response:
        return Response(dumps({
            "active": list(self.context.faults.names),
            "faults": [{"name": f.name, "description": f.description, "rule": f.rule, "api": f.api}
                       for f in FAULTS.values()],
        }), 200, media_type=JSON)

    async def _admin_index(self, request: Request) -> Response:
        return Response(dumps({
            "apis": self.base_paths(),
            "admin": [f"{ADMIN}/callback-url", f"{ADMIN}/callbacks", f"{ADMIN}/faults"],
            "callback_url": self.context.dispatcher.url,
            "faults": list(self.context.faults.names),
        }), 200, media_type=JSON)


def check_callback_url(url: str | None) -> str | None:
    """The URL, if it can receive callbacks (http or https with a host); ValueError otherwise."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise ValueError("callback URL must be a string")
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"callback URL must be http:// or https:// with a host, not {url!r}")
    return url
