"""Checks on every answer the provider gives (and, where marked, on every callback it sends).

Each function verifies one rule, named in its registration; the docstring's first line says what.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .._specs._rules import Observation
from ..formats import decimal_of, luhn_valid
from ..pointers import MISSING, evaluate_one, leaves, resolve_all
from ..pointers import split as split_pointer
from ._knowledge import SchemaFinding
from ._model import NOT_JSON, Call, Delivery, Result, check, ok, violation
from ._state import ApiState

Item = Call | Delivery


def _success(call: Call) -> bool:
    return call.status is not None and 200 <= call.status < 300


def _json_media(media: dict[str, str]) -> str | None:
    for name, pointer in media.items():
        if pointer and ("json" in name):
            return pointer
    return next((p for p in media.values() if p), None)


def _schema_target(item: Item, state: ApiState) -> tuple[str | None, Any]:
    """(schema pointer, instance) a body is judged against: the answer's documented schema, or the webhook's."""
    if isinstance(item, Delivery):
        return state.view.request_schema(item.operation_id), item.body
    if item.status is None:
        return None, MISSING
    return _json_media(state.view.response_media(item.operation_id, item.status)), item.response_body


def schema_findings(item: Item, state: ApiState) -> list[SchemaFinding] | None:
    """Attributed schema failures of an answer or callback body (cached on the item); None when not judged."""
    if "findings" not in item.cache:
        pointer, instance = _schema_target(item, state)
        if pointer is None or instance is MISSING or instance is NOT_JSON:
            item.cache["findings"] = None
        else:
            item.cache["findings"] = state.view.findings(pointer, instance, "response")
    return item.cache["findings"]


def _judged_as_resource(item: Item) -> bool:
    """Answers below 400 and every callback are judged by the generic schema rules; errors by ERROR-SHAPE."""
    return isinstance(item, Delivery) or (item.status is not None and item.status < 400)


def _schema_rule(item: Item, state: ApiState, rule_id: str, title: str) -> Iterator[Result]:
    if not _judged_as_resource(item):
        return
    findings = schema_findings(item, state)
    if findings is None:
        return
    broken = [f for f in findings if f.rule_id == rule_id]
    if broken:
        yield violation(rule_id, title, "every field as the spec documents it",
                        "; ".join(f"{f.location}: {f.message}" for f in broken))
    else:
        yield ok(rule_id)


@check("{P}-DOCUMENTED-STATUS")
def documented_status(call: Call, state: ApiState) -> Iterator[Result]:
    """The HTTP status is one the spec documents for the operation."""
    if call.status is None:
        return
    rule = state.view.rule("{P}-DOCUMENTED-STATUS")
    if state.view.response_key(call.operation_id, call.status) is None:
        if _refused_credentials(call, state):
            return  # a secured operation that documents no 401 is the document's defect (a finding), not the target's
        yield violation(rule, f"Undocumented status {call.status}",
                        state.view.documented_statuses(call.operation_id), call.status)
    else:
        yield ok(rule)


def _refused_credentials(call: Call, state: ApiState) -> bool:
    """An answer refusing credentials (the table's auth statuses) to a secured operation."""
    spec = state.view.spec
    statuses = {spec.rules.errors.auth_status(problem)
                for problem in ("missing_token", "invalid_token", "expired_token", "wrong_scope")}
    return call.status in statuses and any(spec.security(call.operation_id))


def _media_matches(documented: str, received: str) -> bool:
    d_main, _, d_sub = documented.lower().partition("/")
    r_main, _, r_sub = received.lower().split(";")[0].strip().partition("/")
    return d_main in ("*", r_main) and d_sub in ("*", r_sub)


@check("{P}-CONTENT-TYPE")
def documented_content_type(call: Call, state: ApiState) -> Iterator[Result]:
    """A body is sent with the documented media type (application/json)."""
    if call.status is None:
        return
    media = state.view.response_media(call.operation_id, call.status)
    rule = state.view.rule("{P}-CONTENT-TYPE")
    if not media or not call.response_text.strip():
        return
    received = call.content_type
    if received is None or not any(_media_matches(documented, received) for documented in media):
        yield violation(rule, "Body sent with an undocumented media type", sorted(media), received or "no Content-Type")
    else:
        yield ok(rule)


@check("{P}-RESPONSE-SCHEMA", on=("answer", "callback"))
def body_is_documented_json(item: Item, state: ApiState) -> Iterator[Result]:
    """A body validates against its documented schema (failures not named by a finer rule)."""
    if not _judged_as_resource(item):
        return
    pointer, instance = _schema_target(item, state)
    rule = state.view.rule("{P}-RESPONSE-SCHEMA")
    if pointer is None:
        return
    if instance is NOT_JSON:
        text = item.text if isinstance(item, Delivery) else item.response_text
        yield violation(rule, "Body is not JSON", "a JSON body", text[:200])
        return
    if instance is MISSING:
        yield violation(rule, "Documented body missing", "a JSON body", "an empty body")
        return
    yield from _schema_rule(item, state, rule, "Body does not match its schema")


@check("{P}-REQUIRED-FIELDS", on=("answer", "callback"))
def required_fields(item: Item, state: ApiState) -> Iterator[Result]:
    """Every required field is present (readOnly and writeOnly honoured)."""
    yield from _schema_rule(item, state, state.view.rule("{P}-REQUIRED-FIELDS"), "Required field missing")


@check("{P}-REQUIRED-FIELDS")
def required_headers(call: Call, state: ApiState) -> Iterator[Result]:
    """Every header the spec marks required on an answer below 400 is present (errors: {P}-ERROR-SHAPE)."""
    if call.status is None or call.status >= 400:
        return
    required = [name for name, definition in state.view.response_headers(call.operation_id, call.status).items()
                if definition.get("required")]
    if not required:
        return
    rule = state.view.rule("{P}-REQUIRED-FIELDS")
    present = {key.lower() for key in call.response_headers}
    missing = [name for name in required if name.lower() not in present]
    if missing:
        yield violation(rule, "Required header missing", required, f"missing: {', '.join(missing)}")
    else:
        yield ok(rule)


@check("{P}-STATUS-ENUM", on=("answer", "callback"))
def enum_values(item: Item, state: ApiState) -> Iterator[Result]:
    """Every enum-valued field (statuses, codes, types) holds a documented value."""
    yield from _schema_rule(item, state, state.view.rule("{P}-STATUS-ENUM"), "Value outside its documented enum")


@check("{P}-FIELD-FORMAT", on=("answer", "callback"))
def field_formats(item: Item, state: ApiState) -> Iterator[Result]:
    """Formats and patterns hold: ISO 8601 dates, UUIDs, HTTPS URLs, ISO codes, amounts, masked PANs."""
    yield from _schema_rule(item, state, state.view.rule("{P}-FIELD-FORMAT"), "Field breaks its format or pattern")


@check("spec:x-rule-id", on=("answer", "callback"))
def conditional_fields(item: Item, state: ApiState) -> Iterator[Result]:
    """Conditional presence rules (if/then/else with an x-rule-id) hold."""
    if not _judged_as_resource(item):
        return
    pointer, _ = _schema_target(item, state)
    if pointer is None or schema_findings(item, state) is None:
        return
    for rule_id in state.view.conditional_rules(pointer):
        yield from _schema_rule(item, state, rule_id, "Conditional field rule broken")


@check("{P}-ERROR-SHAPE")
def error_shape(call: Call, state: ApiState) -> Iterator[Result]:
    """Every error answer carries the API's documented error body, code and headers."""
    if call.status is None or call.status < 400:
        return
    view = state.view
    rule = view.rule("{P}-ERROR-SHAPE")
    errors = view.rules.errors
    pointer = _json_media(view.response_media(call.operation_id, call.status)) or (
        view.canonical(errors.schema) if errors.schema else None)
    if pointer is None:
        return  # the document declares no error body: nothing to judge its shape by
    body = call.response_body
    if body is NOT_JSON or body is MISSING:
        yield violation(rule, f"Error {call.status} without the documented error body",
                        f"a JSON body matching {pointer}", call.response_text[:200] or "an empty body")
        return
    problems = [f"{f.location}: {f.message}" for f in view.findings(pointer, body, "response")]
    for name, definition in view.response_headers(call.operation_id, call.status).items():
        if definition.get("required") and not any(k.lower() == name.lower() for k in call.response_headers):
            problems.append(f"header {name} missing")
    code_field = view.error_code_field()
    if code_field and isinstance(body, dict) and body.get(code_field) in errors.status_by_code:
        expected_status = errors.status_by_code[body[code_field]]
        if expected_status != call.status:
            problems.append(f"{code_field} {body[code_field]!r} travels with {expected_status}, not {call.status}")
    if (call.intent == "invalid" and call.invalid_keyword and errors.code_at
            and call.status == errors.validation_status and errors.codes):
        wanted = errors.codes.get(call.invalid_keyword, errors.codes.get("other"))
        got = [str(code) for place in errors.code_at for code in resolve_all(body, place)]
        if wanted and wanted not in got:
            problems.append(f"a request breaking `{call.invalid_keyword}` carries code {wanted}, got {got or 'none'}")
    if problems:
        yield violation(rule, f"Error {call.status} with a malformed error body", "the documented error body",
                        "; ".join(problems))
    else:
        yield ok(rule)


@check("{P}-NO-SERVER-ERROR")
def no_server_error(call: Call, state: ApiState) -> Iterator[Result]:
    """A request the spec allows never gets a 5xx, unless a scenario asked for that status."""
    if call.status is None or call.intent == "invalid":
        return
    rule = state.view.rule("{P}-NO-SERVER-ERROR")
    if call.status >= 500 and call.status not in call.expected_statuses:
        yield violation(rule, f"Server error {call.status}", "a status below 500", call.status)
    else:
        yield ok(rule)


@check("{P}-REJECTS-INVALID-REQUEST")
def rejects_invalid_request(call: Call, state: ApiState) -> Iterator[Result]:
    """A request breaking one documented rule is answered 4xx, never 2xx, never 5xx."""
    if call.intent != "invalid" or call.status is None:
        return
    rule = state.view.rule("{P}-REJECTS-INVALID-REQUEST")
    if 400 <= call.status < 500:
        yield ok(rule)
    else:
        yield violation(rule, f"Invalid request answered {call.status}",
                        f"4xx (breaks `{call.invalid_keyword or 'a rule'}`)", call.status)


@check("{P}-AUTH-ENFORCED")
def auth_enforced(call: Call, state: ApiState) -> Iterator[Result]:
    """A missing, malformed, expired or wrong-scope credential is refused with the documented status."""
    if call.intent != "auth" or call.status is None:
        return
    rule = state.view.rule("{P}-AUTH-ENFORCED")
    if call.status in call.expected_statuses:
        yield ok(rule)
    else:
        yield violation(rule, f"Bad credential answered {call.status}", list(call.expected_statuses), call.status)


def _sensitive_values(call: Call, state: ApiState) -> list[tuple[str, str, str]]:
    """(field name, value, format) of card numbers and writeOnly secrets the request carried."""
    pointer = state.view.request_schema(call.operation_id)
    if pointer is None or not isinstance(call.request_body, dict):
        return []
    found = []
    for field_pointer, fmt in state.view.sensitive_fields(pointer):
        name = split_pointer(field_pointer)[-1] if field_pointer else ""
        for value in resolve_all(call.request_body, field_pointer):
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                found.append((name, str(value), fmt))
    return found


@check("{P}-NO-CARD-DATA")
def no_card_data(call: Call, state: ApiState) -> Iterator[Result]:
    """No answer carries a full card number or a CVV that was sent."""
    secrets = _sensitive_values(call, state)
    if not secrets or call.status is None:
        return
    rule = state.view.rule("{P}-NO-CARD-DATA")
    leaked = []
    digits_only = "".join(ch for ch in call.response_text if ch.isdigit())
    for name, value, fmt in secrets:
        if fmt == "pan" or (value.isdigit() and len(value) >= 12 and luhn_valid(value)):
            if value in call.response_text or (len(value) >= 12 and value in digits_only):
                leaked.append(f"{name} (full card number {value[:6]}...{value[-4:]})")
        elif call.response_body not in (MISSING, NOT_JSON):
            for path, leaf in leaves(call.response_body):
                if path and path[-1] == name and str(leaf) == value:
                    leaked.append(f"{name} at /{'/'.join(map(str, path))}")
    if leaked:
        yield violation(rule, "Card data sent back", "no full PAN, no CVV in any answer", "; ".join(leaked))
    else:
        yield ok(rule)


def _same(left: Any, right: Any) -> bool:
    if left == right:
        return True
    try:
        return not isinstance(left, bool) and not isinstance(right, bool) and Decimal(str(left)) == Decimal(str(right))
    except (InvalidOperation, ValueError):
        return False


@check("table:echoes")
def echoes_request(call: Call, state: ApiState) -> Iterator[Result]:
    """The answer echoes the request where the rules table says so (requestId, amount, currency, ids)."""
    if not _success(call):
        return
    for entry in state.view.rules.echoes:
        if call.operation_id not in entry.operations:
            continue
        sent = evaluate_one(entry.request, request=call.request)
        if sent is MISSING:
            continue
        got = evaluate_one(entry.response, request=call.request, response=call.response_body)
        if got is MISSING:
            if entry.presence == "required":
                yield violation(entry.id, "Answer does not echo the request", sent, "absent")
            else:
                yield ok(entry.id)
        elif not _same(sent, got):
            yield violation(entry.id, "Answer does not echo the request", sent, got)
        else:
            yield ok(entry.id)


@check("table:masked_pans")
def masked_pan_matches_card(call: Call, state: ApiState) -> Iterator[Result]:
    """A masked PAN in an answer is the PAN sent: first six and last four kept, the rest X."""
    if not _success(call):
        return
    for entry in state.view.rules.masked_pans:
        if call.operation_id not in entry.operations:
            continue
        pan = evaluate_one(entry.request, request=call.request)
        masked = evaluate_one(entry.response, request=call.request, response=call.response_body)
        if not isinstance(pan, str) or masked is MISSING:
            continue
        expected = pan[:6] + "X" * (len(pan) - 10) + pan[-4:]
        if masked != expected:
            yield violation(entry.id, "Masked PAN does not match the card sent", expected, masked)
        else:
            yield ok(entry.id)


@check("table:limits")
def within_response_limits(call: Call, state: ApiState) -> Iterator[Result]:
    """A value never exceeds another in the same answer (remainingRefundableAmount <= amount)."""
    if not _success(call):
        return
    for entry in state.view.rules.limits:
        if entry.kind != "within-response" or call.operation_id not in entry.operations:
            continue
        value = decimal_of(evaluate_one(entry.value or "", request=call.request, response=call.response_body))
        limit = decimal_of(evaluate_one(entry.at_most or "", request=call.request, response=call.response_body))
        if value is None or limit is None:
            continue
        if value > limit:
            yield violation(entry.id, "Value above its limit", f"at most {limit}", str(value))
        else:
            yield ok(entry.id)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def records_of(item: Item, observed_in: tuple[Observation, ...]) -> list[Any]:
    """The records an answer or callback carries for a rules-table observation list."""
    found: list[Any] = []
    for seen in observed_in:
        if isinstance(item, Delivery):
            if seen.webhook == item.webhook:
                found.extend(resolve_all(item.body, seen.records))
        elif seen.operation == item.operation_id and _success(item):
            found.extend(resolve_all(item.response_body, seen.records))
    return [record for record in found if isinstance(record, dict)]


@check("table:time_order", on=("answer", "callback"))
def time_order(item: Item, state: ApiState) -> Iterator[Result]:
    """A timestamp is never after another it must precede (createdAt <= statusUpdatedAt)."""
    for entry in state.view.rules.time_order:
        for record in records_of(item, entry.observed_in):
            earlier = _timestamp(evaluate_one(f"$response.body#{entry.earlier}", request={}, response=record))
            later = _timestamp(evaluate_one(f"$response.body#{entry.later}", request={}, response=record))
            if earlier is None or later is None:
                continue
            if earlier > later:
                yield violation(entry.id, "Timestamps out of order", f"{entry.earlier} <= {entry.later}",
                                f"{earlier.isoformat()} > {later.isoformat()}")
            else:
                yield ok(entry.id)


