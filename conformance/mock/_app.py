"""The mock's ASGI application: every operation of every spec it serves, and the admin endpoints, on one origin.

Every request goes through the same steps, whatever the API: find the operation from the spec's
paths (a documented path with an undocumented method is 405 with `Allow`), check the bearer token
against the scopes the spec asks for, read and validate the request against the spec, honour the
idempotency key of the rules table, then hand over to the API's handler (`_api.Api`: generic, driven
by the document and its rules table; a per-API module where no table can say). Every answer passes
the faults, in one place, on its way out. Errors at any step get the API's own error body. Admin
endpoints under /_mock/ (in no spec) register the callback URL and show the callback log and the faults.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from .. import pointers
from .._specs import SPEC_NAMES, Spec, load_spec
from ._api import Answer, Api
from ._auth import TokenAuthority
from ._callbacks import CallbackDispatcher
from ._common import Call, dumps, loads
from ._faults import FAULTS, FaultSwitch, Outgoing
from ._lifecycle import Lifecycles
from ._oauth import OAuth
from ._online_payments import OnlinePayments
from ._validation import NO_BODY, OperationValidator, SpecSchemas

logger = logging.getLogger("conformance.mock")

MODULES: dict[str, type[Api]] = {"online-payments": OnlinePayments}
"""What no table says, by API: Online Payments' nested payment records. Every other API is the generic core."""

JSON = "application/json"
ADMIN = "/_mock"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
"""The 404 fallback takes every method."""
STORE_LIMIT = 100_000
"""Records kept per API before the oldest finished ones are evicted (docs/mock.md)."""


@dataclass
class MockContext:
    """What the APIs share: the faults, the tokens, the callback channel, the lifecycles."""

    faults: FaultSwitch
    authority: TokenAuthority
    dispatcher: CallbackDispatcher
    callback_interval: float
    store_limit: int = STORE_LIMIT
    lifecycles: Lifecycles = field(init=False)

    def __post_init__(self) -> None:
        self.lifecycles = Lifecycles(self)

    @property
    def tasks(self) -> set:
        return self.lifecycles.tasks


def load_specs(specs: Sequence[str | Spec]) -> tuple[Spec, ...]:
    """The specs to serve: loaded Specs as they are, names and paths through the loader (cached per file)."""
    return tuple(spec if isinstance(spec, Spec) else load_spec(spec) for spec in specs)


def api_for(spec: Spec, context: MockContext) -> Api:
    """The behaviour of one spec: the token endpoint's, a module's, or the generic core."""
    if spec.rules.is_token_endpoint:
        return OAuth(spec, context)
    return MODULES.get(spec.name, Api)(spec, context)


@dataclass(frozen=True)
class _Runtime:
    api: Api
    operation_id: str
    validator: OperationValidator
    scopes: frozenset[str] | None
    raw: bool
    example: object


@dataclass(frozen=True)
class _Path:
    """One path of a spec: the API serving it and its operations by HTTP method."""

    api: Api
    methods: dict[str, _Runtime]
    allow: str
    pattern: re.Pattern[str] | None
    """None for a path without parameters (matched by a dictionary lookup)."""


def _compile(template: str) -> re.Pattern[str]:
    """/payments/{id}/captures -> ^/payments/(?P<p0>[^/]+)/captures$ (names kept in order)."""
    parts = re.split(r"\{([^{}]+)\}", template)
    regex = "".join(re.escape(part) if index % 2 == 0 else f"(?P<p{index // 2}>[^/]+)"
                    for index, part in enumerate(parts))
    return re.compile(f"^{regex}$")


def _names(template: str) -> list[str]:
    return re.findall(r"\{([^{}]+)\}", template)


class MockApp:
    """The ASGI app. Build it, then serve it with uvicorn (MockServer does both).

    The spec's operations are dispatched by a table compiled from the specs' paths, straight on the
    ASGI interface: that is the hot path of a load test, and Starlette's per-request routing and
    request/response objects cost about a third of it. The admin endpoints, the 404 fallback and the
    lifespan (starting and stopping the callback channel) are a Starlette router.
    """

    def __init__(self, context: MockContext, specs: Sequence[str | Spec] = SPEC_NAMES) -> None:
        self.context = context
        self.apis: list[Api] = []
        self._exact: dict[str, _Path] = {}
        self._templated: list[tuple[_Path, list[str]]] = []
        for spec in load_specs(specs):
            api = api_for(spec, context)
            self.apis.append(api)
            schemas = SpecSchemas(spec)
            by_path: dict[str, dict[str, _Runtime]] = {}
            for operation in spec.client_operations():
                examples = spec.examples(operation.operation_id)
                by_path.setdefault(operation.path, {})[operation.method] = _Runtime(
                    api, operation.operation_id, OperationValidator(schemas, operation),
                    spec.required_scopes(operation.operation_id), operation.operation_id in api.raw_operations,
                    next(iter(examples.values()), None),
                )
            for template, methods in by_path.items():
                full = spec.base_path + template
                allow = ", ".join(sorted({*methods, *(["HEAD"] if "GET" in methods else [])}))
                if "{" in full:
                    self._templated.append((_Path(api, methods, allow, _compile(full)), _names(full)))
                else:
                    self._exact[full] = _Path(api, methods, allow, None)
        # Longer static prefixes first, so "/payments/status" wins over "/payments/{id}".
        self._templated.sort(key=lambda item: -len(item[0].pattern.pattern.split("(?P")[0]))  # type: ignore[union-attr]
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
                for candidate, names in self._templated:
                    match = candidate.pattern.match(path)  # type: ignore[union-attr]
                    if match is not None:
                        found = candidate
                        params = {names[int(key[1:])]: urllib.parse.unquote(value)
                                  for key, value in match.groupdict().items()}
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
            self.context.lifecycles.cancel()
            await self.context.dispatcher.stop()

    def base_paths(self) -> dict[str, str]:
        """Each served API's base path, by its name."""
        return {api.name: api.spec.base_path for api in self.apis}

    # -- the pipeline ---------------------------------------------------------------------------------------

    async def _dispatch(self, found: _Path, params: dict[str, str], scope, receive, send) -> None:
        method = scope["method"]
        api = found.api
        runtime = found.methods.get(method) or (found.methods.get("GET") if method == "HEAD" else None)
        operation_id = runtime.operation_id if runtime else ""
        request: dict = {}
        if runtime is None:
            answer = api.error_answer(None, 405, f"{method} is not supported here", headers=[("allow", found.allow)])
        else:
            try:
                chunks = []
                while True:
                    message = await receive()
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body"):
                        break
                raw = b"".join(chunks)
                headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
                query_string = scope.get("query_string")
                query = dict(urllib.parse.parse_qsl(query_string.decode("latin-1"))) if query_string else {}
                call = Call(runtime.operation_id, headers, params, query, None)
                if runtime.raw:
                    answer = await api.handlers[runtime.operation_id](call, raw, runtime.validator)  # type: ignore[call-arg]
                else:
                    answer = await self._serve(runtime, call, raw)
                request = call.snapshot()
            except Exception:  # noqa: BLE001 - the client gets the API's 500 body, the log the traceback
                logger.exception("the mock failed on %s %s", method, scope["path"])
                answer = api.error_answer(operation_id or None, 500, "The mock failed; see its log")
        outgoing = Outgoing(api.name, operation_id, method, answer.status, answer.body, list(answer.headers),
                            request=request, records=answer.records, invalid_request=answer.invalid_request)
        if self.context.faults:
            if isinstance(outgoing.body, bytes):
                outgoing.body = loads(outgoing.body) if outgoing.body else None
            outgoing = self.context.faults.answer(outgoing)
        body = outgoing.body if isinstance(outgoing.body, bytes) else (
            b"" if outgoing.body is None and answer.status == 204 else dumps(outgoing.body))
        headers = [(b"content-type", outgoing.media_type.encode()), (b"content-length", str(len(body)).encode())]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in outgoing.headers]
        await send({"type": "http.response.start", "status": outgoing.status, "headers": headers})
        await send({"type": "http.response.body", "body": body if method != "HEAD" else b""})

    async def _serve(self, runtime: _Runtime, call: Call, raw: bytes) -> Answer:
        api = runtime.api
        faults = self.context.faults
        if runtime.scopes is not None and not faults.off(api.name, "auth"):
            problem = self.context.authority.problem(call.headers.get("authorization"), runtime.scopes)
            if problem is not None:
                return api.auth_answer(call.operation_id, problem)
        validator = runtime.validator
        body, problems = validator.parse_body(call.headers.get("content-type"), raw)
        if not problems:
            problems = validator.problems(call.headers, call.path, call.query, body)
        call.body = None if body is NO_BODY else body
        if problems:
            if faults.off(api.name, "validation") and runtime.example is not None:
                return await self._accept_invalid(runtime, call)
            if all(p.location == "path" for p in problems) and \
                    str(api.rules.errors.validation_status) not in validator.documented_statuses:
                return api.not_found(call.operation_id)
            return api.validation_answer(call.operation_id, problems)
        keyed = None if faults.off(api.name, "idempotency") else api.idempotency.key(call)
        if keyed is not None:
            rule, key, fingerprint = keyed
            stored = api.idempotency.lookup(rule, key)
            if stored is not None:
                stored_fingerprint, status, stored_body, headers = stored
                if stored_fingerprint == fingerprint:
                    return Answer(status, stored_body, list(headers))
                return api.conflict_answer(call.operation_id, rule.conflict_status, rule.conflict_code)
        answer = await api.handlers[runtime.operation_id](call)
        if keyed is not None and answer.status < 500:
            encoded = answer.body if isinstance(answer.body, bytes) else dumps(answer.body)
            api.idempotency.remember(rule, key, (fingerprint, answer.status, encoded, tuple(answer.headers)))
            answer.body = encoded
        return answer

    async def _accept_invalid(self, runtime: _Runtime, call: Call) -> Answer:
        """With the fault that accepts invalid requests: the 2xx answer to the canonical example instead, with
        nothing in it that echoes the (invalid) request, so that only the acceptance is wrong."""
        api = runtime.api
        headers = dict(call.headers)
        for _, parameter in api.spec.parameters(call.operation_id):
            if parameter["in"] == "header" and parameter.get("required"):
                name = parameter["name"].lower()
                if not runtime.validator.problems({name: headers.get(name, "")}, {}, {}, None) == [] or name not in \
                        headers:
                    headers[name] = _stand_in_header(api.spec, parameter)
        stand_in = Call(call.operation_id, headers, call.path, call.query, runtime.example)
        answer = await api.handlers[runtime.operation_id](stand_in)
        if 200 <= answer.status < 300 and isinstance(answer.body, dict):
            for entry in api.rules.echoes:
                if call.operation_id in entry.operations and entry.presence == "optional":
                    _drop(answer.body, entry.response.partition("#")[2])
            for entry in api.rules.masked_pans:
                if call.operation_id in entry.operations:
                    _drop(answer.body, entry.response.partition("#")[2])
        return answer

    def _respond(self, api: Api | None, method: str, answer: Answer) -> Response:
        outgoing = Outgoing(api.name if api else "", "", method, answer.status, answer.body, list(answer.headers))
        if api is not None and self.context.faults:
            outgoing = self.context.faults.answer(outgoing)
        body = outgoing.body if isinstance(outgoing.body, bytes) else dumps(outgoing.body)
        return Response(body if method != "HEAD" else b"", outgoing.status, dict(outgoing.headers),
                        outgoing.media_type)

    async def _not_found(self, request: Request) -> Response:
        path = request.url.path
        owners = [a for a in self.apis if a.spec.base_path and (path + "/").startswith(a.spec.base_path + "/")]
        api = max(owners, key=lambda a: len(a.spec.base_path), default=None)
        if api is None:
            return Response(dumps({"error": "not_found", "message": f"No API is served at {path}"}), 404,
                            media_type=JSON)
        return self._respond(api, request.method, api.error_answer(None, 404, f"No operation at {path}"))

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
            "faults": [{"name": f.name, "description": f.description, "rule": f.rule, "api": f.api, "kind": f.kind}
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


def _stand_in_header(spec: Spec, parameter: dict) -> str:
    """A valid value for a required header (the fault that accepts invalid requests needs one)."""
    import uuid

    schema = spec.deref(parameter.get("schema") or {})
    value = uuid.uuid4().hex
    low, high = int(schema.get("minLength", 1)), int(schema.get("maxLength", 32))
    return (value * 2)[:max(low, min(high, 32))]


def _drop(body: dict, pointer: str) -> None:
    for container, key in list(pointers.locations(body, pointer)):
        if isinstance(container, dict):
            container.pop(key, None)
