"""What the suites do, driven by the rules tables: scenarios, flows to a final state, idempotency,
credentials, invalid requests and generated valid requests. No API is named here.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from .._specs import Spec
from .._specs._rules import Given, Scenario, StateMachine
from ..checks import MISSING, Call, evaluate_one, ok, resolve, resolve_all, scenario_outcome, view, violation
from ._parameters import probe_operation
from ._requests import NotDrivable, build, idempotency_keys, mutated, read_request
from ._runtime import Target

# -- scenarios and the state they lead to -------------------------------------------------------------


def scenario(target: Target, api: str, scenario_id: str) -> None:
    """Drive one scenario trigger and judge its answer and callbacks against `expect`."""
    spec = target.specs[api]
    entry = spec.rules.scenario(scenario_id)
    missing = undocumented_statuses(spec, entry)
    if missing:
        raise NotDrivable(f"the document has no status {', '.join(missing)} (the rules table's)")
    given_call = run_given(target, api, entry)
    if given_call is not None and not _success(given_call):
        target.collector.result(api, entry.operation, violation(
            scenario_id, "The scenario's `given` step failed", "a 2xx answer to the given request",
            given_call.status), given_call)
        return
    request = build(spec, entry.operation, entry.when, entry.path,
                    given_call.response_body if given_call else MISSING, example=entry.example)
    call = target.send(request, expected=(entry.status,))
    callbacks, silence = None, None
    if entry.callbacks and call.status == entry.status:
        if target.settings.sink:
            started = time.monotonic()
            callbacks = wait_for_callbacks(target, call, entry.callbacks.webhook, list(entry.callbacks.statuses))
            if not callbacks:
                silence = _silence(target, call, entry.callbacks.webhook, time.monotonic() - started)
        else:
            target.collector.skipped(api, scenario_id, entry.operation, "callbacks not received "
                                     "(no --callback-listen): the scenario's callbacks not judged")
    for result in scenario_outcome(entry, call.status, call.response_body, callbacks, silence):
        target.collector.result(api, entry.operation, result, call)
    if _success(call):
        last = entry.callbacks.statuses[-1] if entry.callbacks else None
        follow_to_rest(target, call, last)


def undocumented_statuses(spec: Spec, entry: Scenario) -> list[str]:
    """Statuses a scenario expects that the document has no value for where they would be shown."""
    asked: list[tuple[StateMachine, Any]] = []
    for machine in spec.rules.state_machines:
        if entry.callbacks and machine.observation(webhook=entry.callbacks.webhook):
            asked += [(machine, status) for status in entry.callbacks.statuses]
        seen = machine.observation(operation=entry.operation)
        if seen is not None and not seen.records:
            asked.append((machine, resolve(dict(entry.body), machine.field_in(seen))))
    missing = []
    for machine, status in asked:
        documented = spec.machine_states(machine)
        if isinstance(status, str) and documented is not None and status not in documented:
            missing.append(status)
    return list(dict.fromkeys(missing))


def run_given(target: Target, api: str, entry: Scenario) -> Call | None:
    """Send a scenario's `given` request and let its resource come to rest.

    When the resource's way to rest is told by callbacks and a sink receives them, the run waits for
    the last one before reading: the reads are then the same whatever the provider's pace, so the
    same seed sends the same requests (docs/certify.md, "Same seed, same requests")."""
    given = entry.given
    if not given:
        return None
    spec = target.specs[api]
    call = target.send(build(spec, given.operation, given.when))
    if _success(call):
        callbacks = _resting_callbacks(spec, given)
        if callbacks and target.settings.sink:
            wait_for_callbacks(target, call, callbacks.webhook, list(callbacks.statuses))
        follow_to_rest(target, call, callbacks.statuses[-1] if callbacks else None)
    return call


def _resting_callbacks(spec, given: Given):
    """The callbacks that bring the given's resource to rest: those of the scenario that `given` repeats."""
    for other in spec.rules.scenarios:
        if other.operation == given.operation and other.when == given.when and not other.given and other.callbacks:
            return other.callbacks
    return None


def follow_to_rest(target: Target, call: Call, resting: str | None = None) -> None:
    """Read a created resource until it reaches `resting` or a final state, then read it once more.

    The reads feed the checks (statuses sampled along the transitions, limits learned from the parent);
    the last read after a final state proves the final state does not change. Without a state machine,
    or when the answer already rests where its scenario says, one read suffices.
    """
    spec = target.specs[call.api]
    for machine, _records in view(spec).machines_for(operation=call.operation_id) or \
            [(m, None) for m, _ in _machines_for_source(spec, call.operation_id)]:
        identity = resolve(call.response_body, machine.identity)
        if identity is MISSING:
            continue
        request = read_request(spec, machine, str(identity))
        if request is None:
            continue
        deadline = time.monotonic() + target.profile.callback_timeout
        delay = 0.02
        while True:
            read = target.send(request.copy())
            status = resolve(read.response_body, machine.field) if _success(read) else MISSING
            at_rest = status in machine.final or (resting is not None and status == resting) or \
                (resting is None and status is not MISSING and _rests_without_action(machine, status, spec))
            if not _success(read) or at_rest or time.monotonic() > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        if _success(read) and status in machine.final:
            target.send(request.copy())


def _rests_without_action(machine: StateMachine, status: str, spec) -> bool:
    """A status a resource keeps until someone acts on it: the answer of a scenario with no callbacks."""
    return any(not entry.callbacks and resolve(entry.body, machine.field) == status for entry in spec.rules.scenarios)


def _machines_for_source(spec, operation_id: str) -> list[tuple[StateMachine, str]]:
    """State machines whose resource an operation creates without reporting its status (an acknowledgement)."""
    found = []
    for correlation in spec.rules.correlations_from(operation_id):
        found.extend(spec.rules.machines_for(webhook=correlation.target_webhook))
    return found


def _silence(target: Target, call: Call, webhook: str, waited: float) -> str:
    """What a scenario saw when no callback about its resource came: none at all, or only about others."""
    spec = target.specs[call.api]
    correlation = spec.rules.correlation(call.operation_id, webhook)
    named = [evaluate_one(expression, request=call.request, response=call.response_body)
             for expression in (correlation.source_keys.values() if correlation else ())]
    about = ", ".join(str(value) for value in named if value is not MISSING) or "the resource created"
    others = len(target.deliveries(call.api, webhook))
    if target.sink_problem:
        seen = f"the sink could not be read ({target.sink_problem})"
    else:
        seen = f"the sink received {others} about other resources" if others else "the sink received none at all"
    return f"no {webhook} callback about {about} in {waited:.1f} s; {seen}"


def wait_for_callbacks(target: Target, call: Call, webhook: str, expected: list[str]) -> list[tuple[str, Any]]:
    """The statuses (deduplicated: retries repeat them) the sink received about the resource `call` created.

    The wait ends once the expected statuses came (or a final one, or more than expected), or when the
    provider has been quiet about the resource for the profile's callback timeout: counted from the
    create's answer, and again from each delivery about it, refused ones included (a provider backing off
    after the sink refused a callback on purpose is making progress). It never lasts more than three
    callback timeouts in all.
    """
    spec = target.specs[call.api]
    correlation = spec.rules.correlation(call.operation_id, webhook)
    machines = spec.rules.machines_for(webhook=webhook)
    if correlation is None or not machines:
        return []
    machine = machines[0][0]
    # Follow the resource by its identity alone: whether the other keys match is the correlation check's job.
    names = [name for name, pointer in correlation.target_keys.items() if pointer == machine.identity]
    wanted = {name: evaluate_one(expression, request=call.request, response=call.response_body)
              for name, expression in correlation.source_keys.items() if not names or name in names}
    patience = target.profile.callback_timeout
    started = time.monotonic()
    quiet_until, attempts = started + patience, 0
    found: list[tuple[str, Any]] = []
    while True:
        found, about = [], 0
        for delivery in target.deliveries(call.api, webhook):
            for record in resolve_all(delivery["body"], correlation.target_records):
                if not isinstance(record, dict):
                    continue
                if all(str(resolve(record, correlation.target_keys[name])) == str(value)
                       for name, value in wanted.items()):
                    about += 1
                    status = resolve(record, machine.field)
                    if not found or found[-1][0] != status:
                        found.append((status, record))
        now = time.monotonic()
        if about > attempts:
            attempts, quiet_until = about, now + patience
        statuses = [status for status, _ in found]
        done = statuses == expected or len(statuses) > len(expected) or (
            statuses and (statuses[-1] in machine.final or statuses[-1] == expected[-1]))
        if done or now > quiet_until or now - started > 3 * patience:
            return found
        time.sleep(0.05)


# -- read your writes ---------------------------------------------------------------------------------------


def read_your_writes(target: Target, api: str, operation_id: str) -> None:
    """Create a resource (the canonical request), then read it back by the identity its answer gave."""
    from ..checks import read_your_writes as judge

    spec = target.specs[api]
    kind = next(k for k in spec.resources if operation_id in k.create)
    rule = spec.rule("{P}-READ-YOUR-WRITES")
    base = next((s for s in spec.rules.scenarios if s.operation == operation_id and 200 <= s.status < 300), None)
    given_call = run_given(target, api, base) if base else None
    if given_call is not None and not _success(given_call):
        target.collector.skipped(api, rule, operation_id, f"its `given` request was answered {given_call.status}")
        return
    request = build(spec, operation_id, base.when if base else None, base.path if base else None,
                    given_call.response_body if given_call else MISSING, example=base.example if base else ())
    if request.body is None and spec.request_schema(operation_id):
        import strategies

        request = strategies.sample(strategies.requests(spec, operation_id), 1, seed=target.settings.seed)[0]
        request = as_case(target, api, operation_id, request)
    created = target.send(request)
    if not _success(created):
        target.collector.skipped(api, rule, operation_id, f"the create was answered {created.status}")
        return
    identity = evaluate_one(kind.keys[kind.identity], request=created.request, response=created.response_body)
    reads = 0
    for lookup in (found for found in kind.lookups.values() if not found.many):
        for parameter, key in lookup.by.items():  # each way the document reads it: by id, by request-id, ...
            value = identity if key == kind.identity else evaluate_one(
                kind.keys.get(key, ""), request=created.request, response=created.response_body)
            if value is MISSING or not kind.keys.get(key):
                continue
            where, _, name = parameter.partition(".")
            read = build(spec, lookup.operation_id)
            if where == "path":
                read.path_parameters[name] = value
            elif where == "query":
                read.query = {**read.query, name: value}
            answer = target.send(read)
            named = value if _answer_names(spec, lookup.operation_id, key) else None
            for result in judge(view(spec), answer.status, named, answer.response_body, lookup.operation_id):
                target.collector.result(api, lookup.operation_id, result, answer)
            reads += 1
    if not reads:
        target.collector.skipped(api, rule, operation_id, "the create's answer names no identity to read it by")


def _answer_names(spec: Spec, operation_id: str, key: str) -> bool:
    """Whether the read's answer has a property of the key's name (a status read may name no payment)."""
    status = next((int(code) for code in spec.documented_statuses(operation_id)
                   if code.isdigit() and 200 <= int(code) < 300), 200)
    schema = spec.response_schema(operation_id, status)
    return schema is not None and spec.schema_at(schema, "/" + key) is not None


# -- a final state never changes ------------------------------------------------------------------------


def final_state_holds(target: Target, api: str, scenario_id: str) -> None:
    """After a follow-up brought a resource to a final state, the same follow-up again must not move it."""
    spec = target.specs[api]
    entry = spec.rules.scenario(scenario_id)
    given_call = run_given(target, api, entry)
    if given_call is None or not _success(given_call):
        return
    request = build(spec, entry.operation, entry.when, entry.path, given_call.response_body, example=entry.example)
    first = target.send(request)
    if not _success(first):
        return
    again = build(spec, entry.operation, entry.when, entry.path, given_call.response_body, example=entry.example)
    second = target.send(again, expected=(400, 404, 409, 412, 422))
    for machine, _ in spec.rules.machines_for(operation=entry.operation):
        before, after = resolve(first.response_body, machine.field), resolve(second.response_body, machine.field)
        if before not in machine.final:
            continue
        if _success(second) and after is not MISSING and after != before:
            target.collector.result(api, entry.operation, violation(
                machine.id, "Final state left", f"{machine.field} stays {before}", after), second)
        else:
            target.collector.result(api, entry.operation, ok(machine.id), second)


# -- idempotency ------------------------------------------------------------------------------------------


def idempotency(target: Target, api: str, rule_id: str, operation_id: str) -> None:
    """Same key and payload: the original answer again. Same key, another payload: refused as the table says."""
    spec = target.specs[api]
    entry = spec.rules.idempotency_rule(rule_id)
    base = next((s for s in spec.rules.scenarios if s.operation == operation_id and 200 <= s.status < 300), None)
    given_call = run_given(target, api, base) if base else None
    if given_call is not None and not _success(given_call):
        target.collector.skipped(api, rule_id, operation_id, "the request it repeats could not be prepared")
        return
    given_body = given_call.response_body if given_call else MISSING
    request = build(spec, operation_id, base.when if base else None, base.path if base else None, given_body,
                    example=base.example if base else ())
    first = target.send(request.copy())
    if not _success(first):
        target.collector.skipped(api, rule_id, operation_id, f"the original request was answered {first.status}")
        return
    replay = target.send(request.copy())
    target.collector.result(api, operation_id, repeat_outcome(spec, rule_id, operation_id, first, replay), replay)
    keep = {expr.partition("#")[2] for expr in idempotency_keys(spec, operation_id) if "#" in expr}
    keep |= set(base.when) if base else set()
    other = mutated(spec, request, keep)
    if other is None:
        return
    conflict = target.send(other, expected=(entry.conflict_status,))
    target.collector.result(api, operation_id, conflict_outcome(spec, entry, conflict), conflict)


def repeat_outcome(spec, rule_id: str, operation_id: str, first: Call, replay: Call) -> Any:
    """A write repeated with the same key and payload must get the original answer (same status and resource)."""
    identity = _identity_pointer(spec, operation_id)
    same = replay.status == first.status and (
        resolve(replay.response_body, identity) == resolve(first.response_body, identity) if identity
        else replay.response_body == first.response_body)
    if same:
        return ok(rule_id)
    return violation(rule_id, "Repeated request not answered with the original result",
                     {"status": first.status, "body": first.response_body},
                     {"status": replay.status, "body": replay.response_body})


def conflict_outcome(spec, entry: Any, conflict: Call) -> Any:
    """The same key with another payload must be refused with the rules table's status (and error code)."""
    problems = []
    if conflict.status != entry.conflict_status:
        problems.append(f"HTTP {conflict.status}")
    code = entry.conflict_code
    codes = [str(c) for place in spec.rules.errors.code_at for c in resolve_all(conflict.response_body, place)]
    if code and spec.rules.errors.code_at and code not in codes:
        problems.append(f"codes {codes}")
    if problems:
        return violation(entry.id, "Key reused with another payload not refused",
                         f"HTTP {entry.conflict_status}" + (f" with code {code}" if code else ""), ", ".join(problems))
    return ok(entry.id)


def _identity_pointer(spec, operation_id: str) -> str | None:
    machines = spec.rules.machines_for(operation=operation_id)
    return machines[0][0].identity if machines else None


# -- credentials ------------------------------------------------------------------------------------------

_AUTH_KEYS = {"missing": "missing_token", "malformed": "invalid_token", "expired": "expired_token",
              "wrong_scope": "wrong_scope"}


def forged_expired_token(client_id: str, scope: str) -> str:
    """A JWT-shaped token whose `exp` passed an hour ago, signed by nobody: what an expired token looks like."""
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    now = int(time.time())
    return ".".join([part({"alg": "RS256", "typ": "JWT"}),
                     part({"sub": "conformance-expired", "scope": scope, "iat": now - 7200, "exp": now - 3600}),
                     base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")])


def credentials(target: Target, api: str, kind: str) -> None:
    """A missing, malformed, expired or wrong-scope credential must be refused with the documented status."""
    spec = target.specs[api]
    operation_id = probe_operation(spec)
    rule = view(spec).rule("{P}-AUTH-ENFORCED")
    expected = spec.rules.errors.auth_status(_AUTH_KEYS[kind])
    bearer = bool({"oauth2", "bearer"} & set(target.security(api, operation_id)))
    if kind == "missing":
        authorization = None
    elif kind == "malformed":
        authorization = "Bearer not-a-token!" if bearer else "Basic " + base64.b64encode(
            f"{target.settings.client_id}:not-the-secret".encode()).decode()
    elif kind == "expired":
        authorization = "Bearer " + expired_token(target)
    else:
        token = wrong_scope_token(target)
        if token is None:
            target.collector.skipped(api, rule, operation_id, "the token endpoint issues no token for another scope "
                                     f"({target.settings.wrong_scope or 'none configured'})")
            return
        authorization = "Bearer " + token
    request = build(spec, operation_id)
    target.send(request, intent="auth", expected=(expected,), authorization=authorization)


def expired_token(target: Target) -> str:
    """A token this run was issued, once its lifetime is over (waiting if that is soon), else a forged expired one."""
    target.token()
    first = target.first_token
    if first is not None and first.surely_expired_at is not None:
        # From the token's answer, not its request: the provider may have issued it a moment (a stall) later.
        remaining = first.surely_expired_at - target.client.clock()
        if remaining <= target.profile.token_wait:
            if remaining > -0.2:
                time.sleep(max(0.0, remaining) + 0.2)
            return first.access_token
    return forged_expired_token(target.settings.client_id, target.settings.scope)


def wrong_scope_token(target: Target) -> str | None:
    if not target.settings.wrong_scope:
        return None
    try:
        return target.client.fetch(scope=target.settings.wrong_scope).access_token
    except Exception:
        return None


# -- invalid and generated requests -----------------------------------------------------------------------


def _success(call: Call) -> bool:
    return call.status is not None and 200 <= call.status < 300


def as_case(target: Target, api: str, operation_id: str, value: Any) -> Any:
    """A generated request (the strategies' Request) as a Schemathesis Case on this run's schema."""
    if hasattr(value, "case"):
        return value.case(target.schema(api))
    from ._requests import Request

    return target.case(Request(api, operation_id, body=value))


def _hypothesis_run(target: Target, strategy: Any, examples: int, body: Any) -> None:
    """Run `body` on `examples` draws of a strategy, seeded by the run's seed (no shrinking: findings are recorded)."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis.errors import Unsatisfiable

    @seed(target.settings.seed)
    @settings(max_examples=max(1, examples), deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(value: Any) -> None:
        body(value)

    try:
        run()
    except Unsatisfiable:  # nothing of that kind exists (an operation without parameters has no negative data)
        pass


def generated(target: Target, api: str, operation_id: str) -> None:
    """Valid requests from the strategies, then Schemathesis' negative mode, each judged by every check."""
    import strategies

    _hypothesis_run(target, strategies.requests(target.specs[api], operation_id), target.profile.examples,
                    lambda value: target.send(as_case(target, api, operation_id, value)))
    if target.profile.negative_examples:
        from schemathesis import GenerationMode

        operation = target.operation(api, operation_id)
        _hypothesis_run(target, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
                        target.profile.negative_examples, lambda case: target.send(case, intent="negative"))


def invalid_requests(target: Target, api: str, operation_id: str) -> None:
    """Invalid-by-rule variants of the operation's request (every one, or a seeded selection covering the
    most JSON Schema keywords when the profile caps them), `invalid_per_rule` examples each."""
    import strategies

    found = [t for t in strategies.targets(target.specs[api])
             if t.kind == "operation" and t.operation_id == operation_id]
    rules = select_rules(list(found[0].rules) if found else [], target.profile.invalid_rules,
                         f"{target.settings.seed}:{api}:{operation_id}")
    from hypothesis.errors import HypothesisException

    for rule in rules:
        try:
            examples = invalid_examples(target.specs[api], operation_id, rule, target.profile.invalid_per_rule,
                                        target.settings.seed, target.profile.rule_budget)
        except HypothesisException:  # the document leaves no room to break this rule alone
            examples = []
        if not examples:
            target.collector.skipped(api, target.specs[api].rule("{P}-REJECTS-INVALID-REQUEST"), operation_id,
                                     f"no request breaking only {rule} could be made within "
                                     f"{target.profile.rule_budget:g} s")
            continue
        for example, broken in examples:
            target.send(as_case(target, api, operation_id, example), intent="invalid",
                        keyword=getattr(broken, "keyword", None))


def select_rules(rules: list[str], limit: int | None, seed: str) -> list[str]:
    """At most `limit` rules, as many different keywords as possible, chosen by the seed (all when no limit).

    Within a keyword the shallowest places go first: a field deep in a branch of a `oneOf` can seldom be
    broken alone (the branch then fails too), and drawing one that is costs the whole rule budget.
    """
    if limit is None or len(rules) <= limit:
        return rules
    import random

    chooser = random.Random(seed)
    by_keyword: dict[str, list[str]] = {}
    for rule in rules:
        by_keyword.setdefault(rule.split(":", 1)[0], []).append(rule)
    for group in by_keyword.values():
        chooser.shuffle(group)
        group.sort(key=lambda rule: -rule.split(":", 1)[-1].count("/"))  # stable: the seed orders equal depths
    keywords = sorted(by_keyword)
    chooser.shuffle(keywords)
    chosen: list[str] = []
    while len(chosen) < limit:
        for keyword in keywords:
            if by_keyword[keyword] and len(chosen) < limit:
                chosen.append(by_keyword[keyword].pop())
    return chosen


_EXAMPLES: dict[tuple[str, str, str, str, int, int], list[Any]] = {}


def invalid_examples(spec: Spec, operation_id: str, rule: str, n: int, seed: int,
                     budget: float | None = None) -> list[Any]:
    """Examples breaking one rule, drawn with the run's seed; the same draw is reused within a process."""
    import strategies

    key = (spec.name, spec.sha256, operation_id, rule, n, seed)  # the budget only bounds the drawing
    if key not in _EXAMPLES:
        _EXAMPLES[key] = strategies.sample(strategies.invalid(spec, operation_id, rule), n=n, seed=seed, budget=budget)
    return _EXAMPLES[key]
