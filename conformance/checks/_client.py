"""The client rules: judgements of an integration's own traffic, one small named function per rule.

Registered with `@client_check(SUFFIX)`; each reads the whole traffic (every request the client sent, in
order, with what became of it) and yields a `Judgement` per thing it judged: a pass, or a violation with
the exchange that showed it and the ones before it that matter (the failed attempt a retry repeats).
Rule IDs are the API's prefix and the suffix (`OP-CLIENT-IDEMPOTENT-RETRY`); descriptions and parameters
come from specs/client.rules.yaml. Everything API-specific (idempotency keys, resources, state machines,
limits, preconditions, security) comes from the specs and their rules tables.

Separate from `CHECKS` (the provider's rules): a certification of a provider never judges its client.
"""

from __future__ import annotations

import copy
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .._specs import ClientRules, Kind, Spec
from ..formats import decimal_of, luhn_valid
from ..pointers import MISSING, concrete_paths, delete_path, evaluate_one, leaves, resolve_all
from ..pointers import instance_pointer as pointer_of
from ._model import NOT_JSON, Result, ok, violation
from ._stateful import _accepted, _limit
from ._traffic import CLIENT_GONE, ClientExchange, canonical

# -- what a check sees and says ---------------------------------------------------------------------------


@dataclass
class ClientContext:
    """What the checks need besides the traffic: the specs, the judged APIs, the table, the run's secrets."""

    specs: Mapping[str, Spec]
    apis: list[str]
    """The APIs judged (the token endpoint among them when the client asked it for tokens)."""
    table: ClientRules
    secrets: tuple[str, ...] = ()
    """The run's known secrets (the client secret)."""
    troubles_planned: int = 0
    """How many troubles the run's schedule holds (0: none injected on purpose)."""
    troubles_met: list[str] = field(default_factory=list)
    troubles_required: list[str] = field(default_factory=list)
    """Troubles a test asked for (the fixture's fail_next...): each must be met."""

    def parameter(self, suffix: str, name: str) -> Any:
        return self.table.parameter(suffix, name)

    def judged(self, exchange: ClientExchange) -> bool:
        return exchange.api is not None and exchange.api in self.apis


@dataclass(frozen=True)
class Judgement:
    """One rule judged once for one API: the result, the exchange that showed it, what came before."""

    api: str
    result: Result
    exchange: ClientExchange | None = None
    before: tuple[ClientExchange, ...] = ()

    @property
    def operation(self) -> str | None:
        return self.exchange.operation if self.exchange is not None else None


ClientCheckFunction = Callable[[list[ClientExchange], ClientContext], Iterable[Judgement]]

CLIENT_CHECKS: dict[str, ClientCheckFunction] = {}
"""Every client check by rule suffix, in registration order (the table's order is the catalogue's)."""


def client_check(suffix: str) -> Callable[[ClientCheckFunction], ClientCheckFunction]:
    def register(function: ClientCheckFunction) -> ClientCheckFunction:
        CLIENT_CHECKS[suffix] = function
        return function

    return register


def applies(spec: Spec, suffix: str) -> bool:
    """Whether a client rule can say anything about this API (a rule that cannot is not declared for it)."""
    token_endpoint = spec.rules.is_token_endpoint
    if suffix == "CLIENT-IDEMPOTENT-RETRY":
        return bool(spec.rules.idempotency)
    if suffix == "CLIENT-HTTPS-URLS":
        return not token_endpoint
    if suffix == "CLIENT-STATE-MACHINE":
        return any(kind.actions and kind.machine for kind in spec.resources) or bool(spec.rules.preconditions) or \
            any(limit.kind == "across-calls" for limit in spec.rules.limits)
    if suffix == "CLIENT-POLLING-BOUNDED":
        return any(not lookup.many for kind in spec.resources for lookup in kind.lookups.values())
    return True


def judge_client(traffic: list[ClientExchange], context: ClientContext) -> list[Judgement]:
    """Every client rule of the table, judged over the traffic."""
    found: list[Judgement] = []
    for rule in context.table.rules:
        check = CLIENT_CHECKS.get(rule.suffix)
        if check is not None:
            found.extend(check(traffic, context))
    return found


def _ok(context: ClientContext, api: str, suffix: str, exchange: ClientExchange | None = None) -> Judgement:
    return Judgement(api, ok(context.specs[api].prefix + "-" + suffix), exchange)


def _broken(context: ClientContext, api: str, suffix: str, title: str, expected: Any, observed: Any,
            exchange: ClientExchange | None = None, before: Iterable[ClientExchange] = ()) -> Judgement:
    rule_id = context.specs[api].prefix + "-" + suffix
    return Judgement(api, violation(rule_id, title, expected, observed), exchange, tuple(before))


# -- what the specs say about a request --------------------------------------------------------------------


def _kinds(spec: Spec) -> dict[str, tuple[str, Kind, Any]]:
    """operationId -> (role, kind, detail): create, lookup (detail: the Lookup) or action (the path parameter).

    An action wins over a create: a capture posted on a payment's path is a resource of its own, but what the
    client may ask of it depends on the payment it names."""
    roles: dict[str, tuple[str, Kind, Any]] = {}
    for kind in spec.resources:
        for operation_id in kind.create:
            roles[operation_id] = ("create", kind, None)
        for operation_id, lookup in kind.lookups.items():
            roles[operation_id] = ("lookup", kind, lookup)
    for kind in spec.resources:
        for operation_id, parameter in kind.actions.items():
            roles[operation_id] = ("action", kind, parameter)
    return roles


def idempotency_key(exchange: ClientExchange, spec: Spec) -> tuple[str, Any] | None:
    """(idempotency rule id, the key the request carries, MISSING when none) for a keyed write; None otherwise."""
    rule = spec.rules.idempotency_for(exchange.operation or "")
    if rule is None:
        return None
    value = evaluate_one(rule.key, request=exchange.request)
    return rule.id, (MISSING if value in (None, "") or isinstance(value, dict | list) else str(value))


def request_shape(exchange: ClientExchange, spec: Spec | None) -> str:
    """The request without its idempotency key: what a retry repeats whatever key it carries."""
    if "shape" in exchange.cache:
        return exchange.cache["shape"]
    data = exchange.data
    rule = spec.rules.idempotency_for(exchange.operation or "") if spec is not None else None
    if rule is not None and rule.key.startswith("$request.body#") and isinstance(data, dict):
        data = copy.deepcopy(data)
        for path in concrete_paths(data, rule.key.partition("#")[2]):
            delete_path(data, path)
    query = sorted(exchange.query)
    shape = f"{exchange.api}|{exchange.method}|{exchange.path}|{query}|{canonical(data)}"
    exchange.cache["shape"] = shape
    return shape


def _failed(exchange: ClientExchange, retryable: Iterable[int]) -> bool:
    """An outcome a client may retry: no answer, a 5xx, or a retryable status (408, 429)."""
    return exchange.unanswered or exchange.status is None or exchange.status >= 500 or exchange.status in retryable


def _after(exchange: ClientExchange) -> float:
    return exchange.ended if exchange.ended is not None else exchange.started


def previous_attempts(exchanges: Iterable[ClientExchange], specs: Mapping[str, Spec],
                      lookback: int = 64) -> dict[int, ClientExchange]:
    """Request number -> the latest earlier request of the same shape that had ended when it started (what a
    retry repeats, what a poll follows). In one pass; a request in flight at the same time is no earlier one."""
    found: dict[int, ClientExchange] = {}
    by_shape: dict[str, list[ClientExchange]] = {}
    for exchange in sorted(exchanges, key=lambda e: e.started):
        earlier = by_shape.setdefault(request_shape(exchange, specs.get(exchange.api or "")), [])
        for candidate in reversed(earlier[-lookback:]):
            if _after(candidate) <= exchange.started:
                found[exchange.seq] = candidate
                break
        earlier.append(exchange)
    return found


# -- CLIENT-REQUEST-CONFORMS --------------------------------------------------------------------------------

_HTTP_URL = re.compile(r"^http://[^\s/?#]+", re.IGNORECASE)


@client_check("CLIENT-REQUEST-CONFORMS")
def request_conforms(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """Every request is a documented operation, with its required headers and parameters, content type and body."""
    suffix = "CLIENT-REQUEST-CONFORMS"
    seen: dict[tuple[Any, ...], list[str]] = {}
    for exchange in traffic:
        if not context.judged(exchange):
            continue
        spec = context.specs[exchange.api]
        if exchange.operation is None:
            yield _broken(context, exchange.api, suffix, "No documented operation at this method and path",
                          f"one of the operations of {spec.name}", f"{exchange.method} {exchange.path}", exchange)
            continue
        # Identical requests (a poll) are validated once: what the judgement reads, nothing else.
        same = (exchange.api, exchange.operation, exchange.path, tuple(exchange.query), exchange.content,
                exchange.content_type, exchange.headers.get("authorization", "").partition(" ")[0].lower(),
                bool(exchange.headers.get("authorization", "").partition(" ")[2].strip()),
                tuple(exchange.headers.get(p["name"].lower()) for _, p in spec.parameters(exchange.operation)
                      if p["in"] == "header"))
        if same not in seen:
            seen[same] = _parameter_problems(exchange, spec) + _credential_problems(exchange, spec) + \
                _body_problems(exchange, spec)
        problems = seen[same]
        if problems:
            yield _broken(context, exchange.api, suffix, "Request does not conform to the spec",
                          f"{exchange.operation} as {spec.name} documents it", "; ".join(problems[:6]), exchange)
        else:
            yield _ok(context, exchange.api, suffix, exchange)


def _parameter_problems(exchange: ClientExchange, spec: Spec) -> list[str]:
    problems = []
    sources = {"header": exchange.headers, "query": exchange.query_dict, "path": exchange.path_parameters}
    for pointer, parameter in spec.parameters(exchange.operation or ""):
        where, name = parameter["in"], parameter["name"]
        if where not in sources:
            continue
        value = sources[where].get(name.lower() if where == "header" else name)
        if value is None:
            if parameter.get("required") or where == "path":
                problems.append(f"{where} parameter {name} missing")
            continue
        if "schema" not in parameter:
            continue
        schema = spec.deref(parameter["schema"])
        for error in spec.validator(f"{pointer}/schema", "request").iter_errors(_coerce(value, schema)):
            problems.append(f"{where} parameter {name}: {error.message}")
            break
    return problems


def _coerce(value: str, schema: Any) -> Any:
    """A parameter's text as the type its schema says (query and headers travel as text)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _credential_problems(exchange: ClientExchange, spec: Spec) -> list[str]:
    """A secured operation needs the credential its security scheme names (a bearer token, HTTP Basic)."""
    schemes = spec.security_schemes(exchange.operation or "")
    if not schemes:
        return []
    authorization = exchange.headers.get("authorization", "")
    wanted = set()
    for scheme in schemes.values():
        if scheme.get("type") == "http":
            wanted.add(str(scheme.get("scheme", "")).lower())
        elif scheme.get("type") in ("oauth2", "openIdConnect"):
            wanted.add("bearer")
    if not wanted:
        return []
    given = authorization.partition(" ")[0].lower()
    if given in wanted and authorization.partition(" ")[2].strip():
        return []
    needed = " or ".join(sorted(f"Authorization: {name.capitalize()} ..." for name in wanted))
    return [f"no credential ({needed} is required)" if not authorization else f"credential of the wrong scheme "
            f"({needed} is required)"]


def _body_problems(exchange: ClientExchange, spec: Spec) -> list[str]:
    operation = exchange.operation or ""
    media = spec.request_media(operation)
    if not media:
        return ["a body where the operation takes none"] if exchange.content else []
    if not exchange.content:
        return ["no body (the operation requires one)"] if spec.request_body(operation).get("required") else []
    if exchange.content_type not in {name.split(";")[0].strip().lower() for name in media}:
        return [f"Content-Type {exchange.content_type or '(none)'} (documented: {', '.join(media)})"]
    data = exchange.data
    if data is NOT_JSON:
        return [f"the body is not valid {exchange.content_type}"]
    pointer = media.get(next(name for name in media if name.split(";")[0].strip().lower() == exchange.content_type))
    if not pointer:
        return []
    problems = []
    for error in spec.validator(pointer, "request").iter_errors(data):
        if isinstance(error.instance, str) and _HTTP_URL.match(error.instance):
            continue  # an http:// URL: CLIENT-HTTPS-URLS says so
        problems.append(f"{pointer_of(list(error.absolute_path)) or '/'}: {error.message}")
    return sorted(problems)


# -- CLIENT-TOKEN-REUSE ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    value: str
    exchange: ClientExchange
    lifetime: float


def issued_tokens(traffic: list[ClientExchange]) -> list[_Token]:
    """Every token the token endpoint issued to the client, in order."""
    found = []
    for exchange in traffic:
        body = exchange.response_body
        if exchange.token_endpoint and exchange.succeeded and isinstance(body, dict) and \
                isinstance(body.get("access_token"), str):
            lifetime = decimal_of(body.get("expires_in"))
            found.append(_Token(body["access_token"], exchange, float(lifetime) if lifetime is not None else 3600.0))
    return found


@client_check("CLIENT-TOKEN-REUSE")
def token_reuse(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """Tokens are reused until they expire or are refused, then refreshed; a refused request is sent again."""
    suffix = "CLIENT-TOKEN-REUSE"
    window = float(context.parameter(suffix, "refresh_window"))
    tokens = issued_tokens(traffic)
    refusals = [e for e in traffic if e.bearer and not e.token_endpoint and e.status == 401 and e.ended is not None]

    def refused_before(token: str, moment: float) -> bool:
        return any(e.bearer == token and e.ended <= moment for e in refusals)

    for exchange in traffic:
        if not (exchange.token_endpoint and context.judged(exchange)):
            continue
        live = [t for t in tokens if t.exchange is not exchange and _after(t.exchange) <= exchange.started
                and not refused_before(t.value, exchange.started)
                and exchange.started < _after(t.exchange) + t.lifetime * (1 - window)]
        if live:
            token = live[-1]
            age = exchange.started - _after(token.exchange)
            yield _broken(context, exchange.api, suffix, "A new token was asked for while another was still valid",
                          f"reuse of the token issued by #{token.exchange.seq} until it expires ({token.lifetime:g} s) "
                          "or is refused", f"asked {age:.1f} s after it was issued; it was valid for "
                          f"{token.lifetime - age:.0f} s more and never refused", exchange, [token.exchange])
        else:
            yield _ok(context, exchange.api, suffix, exchange)
    for exchange in traffic:
        if exchange.token_endpoint or not context.judged(exchange) or not exchange.bearer:
            continue
        earlier = next((r for r in refusals if r.bearer == exchange.bearer and r.ended <= exchange.started), None)
        if earlier is not None:
            yield _broken(context, exchange.api, suffix, "A token refused with 401 was sent again",
                          "a new token after a 401", f"the token refused by #{earlier.seq} sent again", exchange,
                          [earlier])
            continue
        if exchange in refusals:
            shape = request_shape(exchange, context.specs[exchange.api])
            again = [e for e in traffic if e.started >= _after(exchange) and e.bearer != exchange.bearer
                     and e.api == exchange.api and request_shape(e, context.specs[e.api]) == shape]
            if not again:
                yield _broken(context, exchange.api, suffix,
                              "A request refused with 401 was not sent again with a new token",
                              "a new token, then the same request again", "the client did not try again", exchange)
                continue
        yield _ok(context, exchange.api, suffix, exchange)


# -- CLIENT-IDEMPOTENT-RETRY ---------------------------------------------------------------------------------


def _ambiguous(exchange: ClientExchange) -> bool:
    """An outcome after which the client cannot know whether the write was done: no answer, 5xx, 408, 429."""
    return exchange.unanswered or exchange.status is None or exchange.status >= 500 or exchange.status in (408, 429)


@client_check("CLIENT-IDEMPOTENT-RETRY")
def idempotent_retry(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """A write repeated after an ambiguous outcome keeps its key; distinct writes never share one."""
    suffix = "CLIENT-IDEMPOTENT-RETRY"
    keyed: list[tuple[ClientExchange, str, tuple[str, Any]]] = []
    for exchange in traffic:
        if not context.judged(exchange) or exchange.token_endpoint:
            continue
        spec = context.specs[exchange.api]
        found = idempotency_key(exchange, spec)
        if found is None:
            continue
        if found[1] is MISSING:
            expression = spec.rules.idempotency_for(exchange.operation or "").key
            yield _broken(context, exchange.api, suffix, "A write without its idempotency key",
                          f"{expression} on every {exchange.operation}", "no key", exchange)
            continue
        keyed.append((exchange, request_shape(exchange, spec), found))
    previous_of = previous_attempts([write for write, _, _ in keyed], context.specs)
    shapes_by_key: dict[tuple[str, Any], list[tuple[ClientExchange, str]]] = {}
    key_of = {write.seq: key for write, _, key in keyed}
    for exchange, shape, key in sorted(keyed, key=lambda item: item[0].started):
        expression = context.specs[exchange.api].rules.idempotency_for(exchange.operation or "").key
        attempt = previous_of.get(exchange.seq)
        reused = next((w for w, s in shapes_by_key.get(key, []) if s != shape and _after(w) <= exchange.started),
                      None)
        shapes_by_key.setdefault(key, []).append((exchange, shape))
        if attempt is not None and _ambiguous(attempt) and key_of[attempt.seq] != key:
            observed = f"key {key[1]!r}, where #{attempt.seq} ({_outcome(attempt)}) carried {key_of[attempt.seq][1]!r}"
            if exchange.succeeded and attempt.provider_status is not None and 200 <= attempt.provider_status < 300:
                observed += (f"; the provider had accepted #{attempt.seq} ({attempt.provider_status}) and accepted "
                             f"this one too ({exchange.status}): a second resource")
            yield _broken(context, exchange.api, suffix, "A write was retried with a new idempotency key",
                          f"the retry carries the key of the attempt it repeats ({expression})", observed,
                          exchange, [attempt])
        elif reused is not None:
            yield _broken(context, exchange.api, suffix, "Distinct writes share an idempotency key",
                          f"a new key ({expression}) for every distinct write",
                          f"key {key[1]!r} of #{reused.seq} ({reused.operation}) used again for another request",
                          exchange, [reused])
        else:
            yield _ok(context, exchange.api, suffix, exchange)


def _outcome(exchange: ClientExchange) -> str:
    return f"HTTP {exchange.status}" if not exchange.unanswered else exchange.outcome


# -- CLIENT-BACKOFF ------------------------------------------------------------------------------------------


@client_check("CLIENT-BACKOFF")
def backoff(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """Retry-After honoured; retries bounded and spaced; a request refused with a 4xx is not sent again unchanged."""
    suffix = "CLIENT-BACKOFF"
    max_retries = int(context.parameter(suffix, "max_retries"))
    min_gap = float(context.parameter(suffix, "min_retry_gap_seconds"))
    tolerance = float(context.parameter(suffix, "retry_after_tolerance_seconds"))
    retryable = tuple(context.parameter(suffix, "retryable_statuses"))
    final = tuple(context.parameter(suffix, "not_retryable_statuses"))
    judged = [e for e in traffic if context.judged(e)]
    waits = [(e, _after(e) + (e.retry_after or 0)) for e in judged if e.retry_after is not None and e.status is not None
             and (e.status == 429 or e.status >= 500)]
    previous_of = previous_attempts(judged, context.specs)
    chains: dict[str, int] = {}
    flagged_chains: set[str] = set()
    for exchange in judged:
        api = exchange.api
        early = next(((r, until) for r, until in waits if r.api == api and r is not exchange
                      and _after(r) <= exchange.started < until - tolerance), None)
        if early is not None:
            r, until = early
            yield _broken(context, api, suffix, "Retry-After was not honoured",
                          f"no request to {api} for {r.retry_after:g} s after #{r.seq} answered {r.status} with "
                          f"Retry-After: {r.retry_after:g}",
                          f"sent {exchange.started - _after(r):.2f} s after it", exchange, [r])
            continue
        shape = request_shape(exchange, context.specs[api])
        previous = previous_of.get(exchange.seq)
        if previous is None:
            chains[shape] = 0
            yield _ok(context, api, suffix, exchange)
            continue
        if previous.status in final and not previous.unanswered:
            yield _broken(context, api, suffix, f"A request refused with {previous.status} was sent again unchanged",
                          f"no retry of a {previous.status} answer without a change to the request",
                          f"#{previous.seq} answered {previous.status}; the same request sent again", exchange,
                          [previous])
            continue
        if not _failed(previous, retryable):
            chains[shape] = 0
            yield _ok(context, api, suffix, exchange)
            continue
        chains[shape] = chains.get(shape, 0) + 1
        gap = exchange.started - _after(previous)
        if chains[shape] > max_retries and shape not in flagged_chains:
            flagged_chains.add(shape)
            yield _broken(context, api, suffix, "Retries are not bounded",
                          f"at most {max_retries} retries of one request",
                          f"retry {chains[shape]} of the same request", exchange, [previous])
        elif previous.outcome != CLIENT_GONE and gap < min_gap:
            yield _broken(context, api, suffix, "Retried without a pause",
                          f"at least {min_gap:g} s between a failure and its retry",
                          f"{gap:.3f} s after #{previous.seq} ({_outcome(previous)})", exchange, [previous])
        else:
            yield _ok(context, api, suffix, exchange)


# -- CLIENT-NO-SECRETS-IN-URL ----------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"(?<!\d)\d{12,19}(?!\d)")


@client_check("CLIENT-NO-SECRETS-IN-URL")
def no_secrets_in_url(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """No card number, CVV, token or client secret in a URL's path or query string."""
    suffix = "CLIENT-NO-SECRETS-IN-URL"
    names = {str(name).lower() for name in context.parameter(suffix, "query_names")}
    tokens = {token.value: token.exchange for token in issued_tokens(traffic)}
    given: set[str] = set()
    for exchange in traffic:
        if context.judged(exchange):
            found = _secrets_in_url(exchange, names, tokens, context.secrets, given)
            if found:
                yield _broken(context, exchange.api, suffix, "A secret in the URL",
                              "no card number, CVV, token or client secret in the path or query string",
                              "; ".join(found), exchange)
            else:
                yield _ok(context, exchange.api, suffix, exchange)
        given.update(_DIGIT_RUN.findall(exchange.response_content.decode("utf-8", "replace")))


def _secrets_in_url(exchange: ClientExchange, names: set[str], tokens: Mapping[str, ClientExchange],
                    secrets: Iterable[str], given: set[str]) -> list[str]:
    target = urllib.parse.unquote_plus(exchange.url.partition("://")[2].partition("/")[2])
    found = [f"query parameter {name!r}" for name, _ in exchange.query if name.lower() in names]
    for run in _DIGIT_RUN.findall(target):
        if luhn_valid(run) and run not in given:
            found.append(f"a card number ({len(run)} digits passing the Luhn check)")
    for token, issued in tokens.items():
        if len(token) >= 8 and token in target:
            found.append(f"the bearer token issued by #{issued.seq}")
    if any(len(secret) >= 4 and secret in target for secret in secrets):
        found.append("the client secret")
    return list(dict.fromkeys(found))


# -- CLIENT-HTTPS-URLS --------------------------------------------------------------------------------------------


@client_check("CLIENT-HTTPS-URLS")
def https_urls(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """Every absolute URL the client hands the provider, in a body or the query string, is https://."""
    suffix = "CLIENT-HTTPS-URLS"
    for exchange in traffic:
        if not context.judged(exchange) or exchange.token_endpoint:
            continue
        plain = [f"query {name}: {value}" for name, value in exchange.query if _HTTP_URL.match(value)]
        data = exchange.data
        if data is not MISSING and data is not NOT_JSON:
            plain += [f"{pointer_of(list(path)) or '/'}: {value}" for path, value in leaves(data)
                      if isinstance(value, str) and _HTTP_URL.match(value)]
        if plain:
            yield _broken(context, exchange.api, suffix, "A URL handed to the provider is not https",
                          "https:// for every URL in the request", "; ".join(plain[:5]), exchange)
        elif any(isinstance(value, str) and value.lower().startswith("https://") for _, value in
                 (leaves(data) if data is not MISSING and data is not NOT_JSON else ())):
            yield _ok(context, exchange.api, suffix, exchange)


# -- CLIENT-STATE-MACHINE ------------------------------------------------------------------------------------------


@client_check("CLIENT-STATE-MACHINE")
def state_machine(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """No action on a resource in a final state, no child above its parent's limit, no child of an excluded parent."""
    suffix = "CLIENT-STATE-MACHINE"
    for api in context.apis:
        spec = context.specs[api]
        if spec.rules.is_token_endpoint:
            continue
        yield from _state_machine_of(api, spec, [e for e in traffic if e.api == api], context, suffix)


def _state_machine_of(api: str, spec: Spec, traffic: list[ClientExchange], context: ClientContext,
                      suffix: str) -> Iterator[Judgement]:
    roles = _kinds(spec)
    last: dict[str, tuple[str, ClientExchange, Any]] = {}
    """identity -> (status, the exchange that answered it, its state machine)."""
    limits: dict[tuple[str, str], tuple[Decimal, ClientExchange]] = {}
    totals: dict[tuple[str, str], Decimal] = {}
    across = [limit for limit in spec.rules.limits if limit.kind == "across-calls" and limit.child and limit.parent]
    events = sorted([(e.started, 1, e) for e in traffic] + [(_after(e), 0, e) for e in traffic],
                    key=lambda item: (item[0], item[1]))
    for _, is_request, exchange in events:
        if not is_request:
            _learn(spec, exchange, last, limits, across)
            continue
        operation = exchange.operation or ""
        problem: tuple[str, str, ClientExchange] | None = None
        role = roles.get(operation)
        if role is not None and role[0] == "action" and role[1].machine is not None:
            identity = exchange.path_parameters.get(role[2])
            seen = last.get(str(identity))
            if seen is not None and seen[0] in role[1].machine.final:
                problem = ("An action on a resource in a final state",
                           f"{operation} on {identity}, last answered {seen[0]}", seen[1])
        for precondition in spec.rules.preconditions:
            if problem is None and precondition.operation == operation:
                parent = evaluate_one(precondition.parent, request=exchange.request)
                seen = last.get(str(parent))
                if seen is not None and seen[0] in seen[2].final and seen[0] not in precondition.status_in:
                    problem = (f"A {operation} naming a resource in a final state its precondition excludes",
                               f"{operation} naming {parent}, last answered {seen[0]} (needs "
                               f"{' or '.join(precondition.status_in)})", seen[1])
        for limit in across:
            if problem is None and limit.child.operation == operation:
                parent = str(evaluate_one(limit.child.parent_id, request=exchange.request))
                amount = decimal_of(evaluate_one(limit.child.amount, request=exchange.request))
                known = limits.get((limit.id, parent))
                total = totals.get((limit.id, parent), Decimal(0))
                if amount is not None and known is not None and total + amount > known[0]:
                    problem = (f"A {operation} above what its parent allows ({limit.id})",
                               f"{amount} asked for, {total} already accepted, limit {known[0]}", known[1])
        if problem is not None:
            title, observed, cause = problem
            yield _broken(context, api, suffix, title, "only requests the state machines and limits allow",
                          observed, exchange, [cause])
        elif (role is not None and role[0] == "action") or any(
                p.operation == operation for p in spec.rules.preconditions) or any(
                limit.child.operation == operation for limit in across):
            yield _ok(context, api, suffix, exchange)
        for limit in across:
            if limit.child.operation == operation and _accepted(exchange, limit.child.accepted_when):
                parent = str(evaluate_one(limit.child.parent_id, request=exchange.request))
                amount = decimal_of(evaluate_one(limit.child.amount, request=exchange.request))
                if amount is not None:
                    totals[(limit.id, parent)] = totals.get((limit.id, parent), Decimal(0)) + amount


def _learn(spec: Spec, exchange: ClientExchange, last: dict, limits: dict, across: list) -> None:
    """What an answer told the client: the status of each resource it shows, each parent's limit."""
    if not exchange.succeeded:
        return
    for machine, records in spec.rules.machines_for(operation=exchange.operation):
        seen = machine.observation(operation=exchange.operation)
        for record in resolve_all(exchange.response_body, records) if records else [exchange.response_body]:
            identity = resolve_all(record, machine.identity_in(seen))
            status = resolve_all(record, machine.field_in(seen))
            if identity and status and isinstance(status[0], str):
                last[str(identity[0])] = (status[0], exchange, machine)
    observers = {o.operation for m, _ in spec.rules.machines_for(operation=exchange.operation) for o in m.observed_in}
    for limit in across:
        parent = limit.parent
        if exchange.operation != parent.operation and not (
                parent.limit.startswith("$response") and parent.operation in observers):
            continue
        identity = evaluate_one(parent.id, request=exchange.request, response=exchange.response_body)
        value = _limit(parent, exchange)
        if identity is not MISSING and value is not None:
            limits[(limit.id, str(identity))] = (value, exchange)


# -- CLIENT-POLLING-BOUNDED ------------------------------------------------------------------------------------------


@client_check("CLIENT-POLLING-BOUNDED")
def polling_bounded(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """Reads of one resource are at most max_reads_per_resource, each min_gap_seconds after the answer before."""
    suffix = "CLIENT-POLLING-BOUNDED"
    most = int(context.parameter(suffix, "max_reads_per_resource"))
    min_gap = float(context.parameter(suffix, "min_gap_seconds"))
    reads: dict[tuple[str, str, str], list[ClientExchange]] = {}
    for exchange in traffic:
        if not context.judged(exchange) or exchange.token_endpoint:
            continue
        role = _kinds(context.specs[exchange.api]).get(exchange.operation or "")
        if role is None or role[0] != "lookup" or role[2].many:
            continue
        sources = {"path": exchange.path_parameters, "query": exchange.query_dict}
        named = next((f"{key}={sources.get(p.partition('.')[0], {}).get(p.partition('.')[2])}"
                      for p, key in role[2].by.items()
                      if sources.get(p.partition(".")[0], {}).get(p.partition(".")[2])), None)
        if named is not None:
            reads.setdefault((exchange.api, role[1].name, named), []).append(exchange)
    for (api, kind, named), series in reads.items():
        hasty = [(before, after) for before, after in zip(series, series[1:], strict=False)
                 if before.succeeded and after.started - _after(before) < min_gap]
        if len(series) > most:
            yield _broken(context, api, suffix, "Polling is not bounded", f"at most {most} reads of one {kind}",
                          f"{len(series)} reads of {kind} {named}", series[most], series[most - 2:most])
        elif hasty:
            before, after = hasty[0]
            yield _broken(context, api, suffix, "Polling without a pause",
                          f"at least {min_gap:g} s between reads of one {kind}",
                          f"{len(hasty)} of {len(series)} reads of {kind} {named} came sooner; the first "
                          f"{after.started - _after(before):.3f} s after #{before.seq}", after, [before])
        else:
            yield _ok(context, api, suffix, series[-1])


# -- CLIENT-EXERCISED -------------------------------------------------------------------------------------------------


@client_check("CLIENT-EXERCISED")
def exercised(traffic: list[ClientExchange], context: ClientContext) -> Iterator[Judgement]:
    """The client called each judged API, and met the injected trouble (every trouble a test asked for)."""
    suffix = "CLIENT-EXERCISED"
    least = int(context.parameter(suffix, "min_troubles_met"))
    missing = [trouble for trouble in context.troubles_required if trouble not in context.troubles_met]
    for api in context.apis:
        calls = [e for e in traffic if e.api == api]
        if not calls:
            yield _broken(context, api, suffix, f"The client never called {api}", f"at least one request to {api}",
                          "no request")
        elif missing:
            yield _broken(context, api, suffix, "An injected trouble was never met",
                          "every trouble asked for met by a request", "never met: " + ", ".join(missing))
        elif context.troubles_planned and len(context.troubles_met) < least:
            yield _broken(context, api, suffix, "The client met none of the injected troubles",
                          f"at least {least} of the {context.troubles_planned} scheduled troubles met",
                          f"{len(context.troubles_met)} met")
        else:
            yield _ok(context, api, suffix, calls[-1])
