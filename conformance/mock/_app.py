"""The mock's ASGI application: every operation of every spec it serves, and the admin endpoints, on one origin.

Every request goes through the same steps, whatever the API: find the operation from the spec's
paths (a documented path with an undocumented method is 405 with `Allow`), check the bearer token
against the scopes the spec asks for, read and validate the request against the spec, honour the
idempotency key of the rules table, then hand over to the API's handler (`_api.Api`: generic, driven
by the document and its rules table; a per-API module where no table can say). The body is read only
once the credentials are accepted, and never beyond the body cap (413). Every answer passes the
faults, in one place, on its way out. Errors at any step get the API's own error body. Admin
endpoints under /_mock/ (in no spec, behind the mock's client credentials) are the Admin app of _admin.py.
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
from ..serving import BodyTooLarge, ClientGone, ServerLimits, read_body
from ._admin import Admin
from ._api import Answer, Api
from ._auth import TokenAuthority
from ._callbacks import CallbackDispatcher
from ._common import Call, dumps, loads
from ._faults import FaultSwitch, Outgoing
from ._journal import OPERATION, RequestJournal
from ._lifecycle import Lifecycles
from ._oauth import OAuth
from ._online_payments import OnlinePayments
from ._targets import check_callback_url
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
    limits: ServerLimits = field(default_factory=ServerLimits)
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
    Every HTTP request goes through the request journal first (unless its size is 0).
    """

    def __init__(self, context: MockContext, specs: Sequence[str | Spec] = SPEC_NAMES, admin: bool = True,
                 journal: RequestJournal | None = None) -> None:
        self.context = context
        self.journal = journal if journal is not None else RequestJournal()
        self.admin = Admin(context, self.base_paths, self.journal, enabled=admin)
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
        routes = [Route("/{path:path}", self._not_found, methods=ALL_METHODS)]
        self.router = Router(routes, redirect_slashes=False, lifespan=self._lifespan)

    async def __call__(self, scope, receive, send) -> None:
        if self.journal.size and scope["type"] == "http":
            await self.journal.record(self._route, scope, receive, send)
        else:
            await self._route(scope, receive, send)

    async def _route(self, scope, receive, send) -> None:
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
            if path == ADMIN or path.startswith(ADMIN + "/"):
                await self.admin(scope, receive, send)
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
            scope[OPERATION] = (api.name, operation_id)
            try:
                headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
                query_string = scope.get("query_string")
                query = dict(urllib.parse.parse_qsl(query_string.decode("latin-1"))) if query_string else {}
                call = Call(runtime.operation_id, headers, params, query, None)
                answer = await self._serve(runtime, call, scope, receive)
                request = call.snapshot()
            except ClientGone:
                return  # nobody is left to answer
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

    async def _serve(self, runtime: _Runtime, call: Call, scope, receive) -> Answer:
        api = runtime.api
        faults = self.context.faults
        if runtime.scopes is not None and not runtime.raw and not faults.off(api.name, "auth"):
            problem = self.context.authority.problem(call.headers.get("authorization"), runtime.scopes)
            if problem is not None:
                return api.auth_answer(call.operation_id, problem)
        limits = self.context.limits
        try:
            raw = await read_body(scope, receive, limits.max_body_bytes)
        except BodyTooLarge as exc:
            return api.error_answer(call.operation_id, 413, str(exc))
        if runtime.raw:  # the handler checks the client's credentials itself (the token endpoint)
            return await api.handlers[runtime.operation_id](call, raw, runtime.validator)  # type: ignore[call-arg]
        validator = runtime.validator
        body, problems = validator.parse_body(call.headers.get("content-type"), raw, limits.max_json_depth)
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
            api.idempotency.remember(rule, key, call.operation_id,
                                     (fingerprint, answer.status, encoded, tuple(answer.headers)))
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

    # -- callbacks ----------------------------------------------------------------------------------------------------

    def set_callback_url(self, url: str | None) -> None:
        """Register (None: forget) the callback URL, as POST /_mock/callback-url does (ValueError if refused)."""
        self.context.dispatcher.url = check_callback_url(url)


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
