"""Replaying a failure: its chain of exchanges sent again to a target, and the rule judged again.

The requests come from the report (certification.json), so they are redacted; replay makes them whole
again before sending, each from a documented source:

- the run's own credential ($TOKEN in the curl) is this replay's: a token from the token endpoint;
  a credential made up on purpose (an auth test's) is replaced by another invalid one of its scheme;
- card data the report masks or leaves out (redacted_fields) comes back from the documented test
  data: the documented test card whose first six and last four digits the masked PAN shows, the
  expiry and CVV of the operation's spec example;
- idempotency keys (the rules table's) are fresh, the same fresh key wherever the run reused one,
  so that a repeat stays a repeat and a fixed server is not answered from its idempotency cache;
- identifiers the target gave (a payment id) are carried forward: the new answer's value replaces
  the recorded one in every later request.

Every request goes through `Target.send`, the judging path of `certify`; reads that waited for a
status wait for it again. The failure still fails when its rule fails on any replayed exchange; it no
longer fails when the rule was judged on the failing exchange and passed.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .. import pointers
from .._errors import UsageError
from .._specs import Spec
from ..checks import MISSING, Call, Result, resolve, scenario_outcome, set_pointer
from ..formats import luhn_valid
from ..redaction import REDACTED, mask_pan
from ..reporting._chain import is_identifier
from ._flows import conflict_outcome, repeat_outcome
from ._requests import idempotency_keys
from ._runtime import Target

_NOT_REPLAYED = frozenset({"host", "content-length", "connection", "accept-encoding", "user-agent", "accept",
                           "authorization", "content-type", "x-schemathesis-testcaseid", "transfer-encoding"})
"""Headers the replaying client sets itself (the credential, the media type of the body it sends)."""

INVALID_CREDENTIAL = "conformance-replay-invalid-credential"
"""What replay sends where the run sent a credential it made up on purpose (an auth test)."""

_MASKED_PAN = re.compile(r"^\d{6}X{2,9}\d{4}$")


@dataclass
class Outcome:
    """What a replay found: still fails, no longer fails, or cannot tell (and why)."""

    verdict: str
    """"still fails", "no longer fails" or "cannot tell"."""
    reason: str = ""
    result: Result | None = None
    step: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"still fails": 1, "no longer fails": 0}.get(self.verdict, 2)


def steps_of(failure: dict[str, Any]) -> list[dict[str, Any]]:
    """The exchanges a failure's replay sends, in order; a UsageError when it has none to send."""
    exchange = failure.get("exchange")
    if not exchange:
        raise UsageError(f"{failure['id']} ({failure['rule_id']}) has no exchange to replay: "
                         "it is judged over the whole run")
    steps = [*failure.get("chain", []), exchange]
    if any(step.get("intent") == "callback" for step in steps):
        raise UsageError(f"{failure['id']} ({failure['rule_id']}) is about callbacks, which replay does not send; "
                         "send one again with `conformance callbacks --only WEBHOOK:STATUS`")
    if not all(step.get("api") and step.get("operation") for step in steps):
        raise UsageError(f"{failure['id']} was recorded by a report format before 1.1 (no operation per exchange): "
                         "certify again to replay it")
    return steps


class Replay:
    """Sends a failure's steps to a Target and judges its rule again.

    Still fails: the rule fails on a replayed exchange. No longer fails: every step before the failing
    one behaved as recorded (else the chain broke: cannot tell) and the rule did not fail."""

    def __init__(self, target: Target, failure: dict[str, Any], echo: Callable[[str], Any] = lambda line: None):
        self.target = target
        self.failure = failure
        self.steps = steps_of(failure)
        self.echo = echo
        self.substitutions: dict[str, str] = {}
        self.notes: list[str] = []

    def run(self) -> Outcome:
        rule_id = self.failure["rule_id"]
        calls: list[Call] = []
        for number, step in enumerate(self.steps, 1):
            call = self._send(number, step)
            calls.append(call)
            last = number == len(self.steps)
            if not last and _succeeded(step.get("status")) != _succeeded(call.status):
                return Outcome("cannot tell", f"the chain broke at step {number}/{len(self.steps)} "
                               f"({step['operation']} answered {call.status}, recorded {step.get('status')})",
                               step=number, notes=self.notes)
            self._learn(step, call)
        failed, passed = self._judged(rule_id, calls)
        if failed is not None:
            return Outcome("still fails", result=failed[1], step=failed[0], notes=self.notes)
        last, recorded = calls[-1], self.steps[-1].get("status")
        if passed:
            reason = f"{rule_id} passed on the answer"
        elif last.status is None:
            return Outcome("cannot tell", "the failing request got no answer", notes=self.notes)
        else:  # e.g. a limit judged on accepted answers only: the request is now refused
            reason = f"{rule_id} is not broken by the answer"
        if last.status != recorded:
            reason += f" (HTTP {last.status}; the run saw {recorded})"
        return Outcome("no longer fails", reason, notes=self.notes)

    # -- judging ------------------------------------------------------------------------------------

    def _judged(self, rule_id: str, calls: list[Call]) -> tuple[tuple[int, Result] | None, bool]:
        """(step and result of the first failure of the rule, whether the last exchange passed it)."""
        last = calls[-1]
        failures = [record for record in self.target.collector.records
                    if record["kind"] == "failed" and record["rule_id"] == rule_id]
        if failures:
            record = failures[0]
            result = Result(rule_id, False, record["title"], record["expected"], record["observed"])
            return (self._step_of(record), result), False
        spec = self.target.specs[last.api]
        for result in self._flow_results(spec, rule_id, calls):
            if not result.passed:
                return (len(calls), result), False
            return None, True
        passed = any(key[2] == rule_id and key[1] == last.operation_id for key in self.target.collector.passes)
        return None, passed

    def _flow_results(self, spec: Spec, rule_id: str, calls: list[Call]) -> Iterator[Result]:
        """Rules a suite flow judges (a scenario's outcome, idempotency), judged the same way here."""
        last = calls[-1]
        scenario = next((s for s in spec.rules.scenarios if s.id == rule_id), None)
        if scenario is not None:
            yield from (r for r in scenario_outcome(scenario, last.status, last.response_body, None)
                        if r.rule_id == rule_id)
            return
        entry = next((e for e in spec.rules.idempotency if e.id == rule_id), None)
        if entry is None:
            return
        key_of = _key_reader(spec, last.operation_id)
        earlier = [call for call in calls[:-1] if call.operation_id == last.operation_id
                   and key_of(call) == key_of(last) and _succeeded(call.status)]
        if not earlier:
            return
        first = earlier[0]
        if first.request_body == last.request_body:
            yield repeat_outcome(spec, rule_id, last.operation_id, first, last)
        else:
            yield conflict_outcome(spec, entry, last)

    def _step_of(self, record: dict[str, Any]) -> int:
        url = (record.get("exchange") or {}).get("url")
        for number, step in enumerate(self.steps, 1):
            if step["operation"] == record.get("operation") and url and self._apply(step["url"]) == url:
                return number
        return len(self.steps)

    # -- sending ------------------------------------------------------------------------------------

    def _send(self, number: int, step: dict[str, Any]) -> Call:
        target = self.target
        self._fresh_keys(step)
        case = self._case(number, step)
        credential = step.get("credential")
        authorization: Any = MISSING
        if credential == "none":
            authorization = None
        elif credential == "other":
            scheme = (step["request_headers"].get("Authorization") or "Bearer").split(" ", 1)[0]
            authorization = f"{scheme} {INVALID_CREDENTIAL}"
        expected = tuple(step.get("expected_statuses") or ())
        intent = step.get("intent") or "valid"
        call = target.send(case, intent=intent, expected=expected, authorization=authorization)
        # A read that waited for the resource to reach a status waits for it again; the polls before it do not.
        following = self.steps[number] if number < len(self.steps) else None
        polled = following is not None and (following["method"], following["url"]) == (step["method"], step["url"])
        wanted = [] if polled else list(step.get("statuses") or [])
        deadline = time.monotonic() + target.profile.callback_timeout
        delay = 0.02
        while step["method"] == "GET" and wanted and self._statuses(call) != wanted and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
            call = target.send(self._case(number, step), intent=intent, expected=expected, authorization=authorization)
        self.echo(f"{number}/{len(self.steps)} {call.method} {call.url} -> "
                  f"{call.status if call.status is not None else 'no answer'} ({step['operation']})")
        return call

    def _statuses(self, call: Call) -> list[str]:
        return [value for _, value in self.target.judge.statuses(call)]

    def _case(self, number: int, step: dict[str, Any]) -> Any:
        operation = self.target.operation(step["api"], step["operation"])
        url = urlsplit(self._apply(step["url"]))
        pattern = re.sub(r"\\\{([^}]+)\\\}", lambda m: f"(?P<{_group(m.group(1))}>[^/]+)", re.escape(operation.path))
        found = re.search(pattern + "$", url.path)
        path_parameters = {}
        if found:
            names = re.findall(r"\{([^}]+)\}", operation.path)
            path_parameters = {name: unquote(found.group(_group(name))) for name in names}
        headers = {name: self._apply(value) for name, value in step["request_headers"].items()
                   if name.lower() not in _NOT_REPLAYED}
        kwargs: dict[str, Any] = {"path_parameters": path_parameters, "query": dict(parse_qsl(url.query)),
                                  "headers": headers}
        media = next((v for k, v in step["request_headers"].items() if k.lower() == "content-type"), None)
        if step.get("request_body") is not None:
            kwargs["body"] = self._body(number, step, media)
            kwargs["media_type"] = (media or "application/json").split(";")[0].strip()
        return operation.Case(**kwargs)

    def _body(self, number: int, step: dict[str, Any], media: str | None) -> Any:
        text = step["request_body"]
        if media and "json" in media:
            try:
                body = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
                return self._apply(text)
        elif media and "form" in media:
            body = dict(parse_qsl(text))
        else:
            return self._apply(text)
        spec = self.target.specs[step["api"]]
        for pointer in step.get("redacted_fields") or []:
            value = self._documented(spec, step["operation"], pointer, resolve(body, pointer))
            if value is MISSING:
                self.notes.append(f"step {number}: {pointer} is redacted in the report and not in the documented "
                                  "test data: sent without it")
                continue
            set_pointer(body, pointer, value)
        return _map_strings(body, self._apply)

    def _documented(self, spec: Spec, operation_id: str, pointer: str, shown: Any) -> Any:
        """The value a redacted field had, from the documented test data (see the module docstring)."""
        if pointer.rsplit("/", 1)[-1].lower().replace("_", "") == "clientsecret":
            return self.target.settings.client_secret
        if isinstance(shown, str) and _MASKED_PAN.match(shown):
            pans = [value for value in _strings(spec.document) if _is_pan(value) and mask_pan(value) == shown]
            scenarios = [dict(scenario.when) for scenario in spec.rules.scenarios]
            pans += [value for value in _strings(scenarios) if _is_pan(value) and mask_pan(value) == shown]
            return pans[0] if pans else MISSING
        for example in spec.examples(operation_id).values():
            value = resolve(example, pointer)
            if value is not MISSING:
                return value
        return MISSING

    # -- carrying values forward ----------------------------------------------------------------------

    def _fresh_keys(self, step: dict[str, Any]) -> None:
        """Idempotency keys of this step get a fresh value (the same one wherever the run reused a key)."""
        spec = self.target.specs[step["api"]]
        body = _parsed(step.get("request_body"))
        for expression in idempotency_keys(spec, step["operation"]):
            if expression.startswith("$request.header."):
                name = expression.split(".", 2)[2].lower()
                old = next((v for k, v in step["request_headers"].items() if k.lower() == name), None)
            elif expression.startswith("$request.body#"):
                old = resolve(body, expression.partition("#")[2])
            else:
                continue
            if isinstance(old, str) and old and old != REDACTED and old not in self.substitutions:
                self.substitutions[old] = _fresh_like(old)

    def _learn(self, step: dict[str, Any], call: Call) -> None:
        """Identifiers the target answered with replace the recorded ones in the later requests."""
        for old, new in _pairs(_parsed(step.get("response_body")), call.response_body):
            if old != new and is_identifier(old) and old not in self.substitutions:
                self.substitutions[old] = new

    def _apply(self, text: str) -> str:
        for old, new in self.substitutions.items():
            if old in text:
                text = text.replace(old, new)
        return text


def _succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _group(name: str) -> str:
    return "p_" + re.sub(r"\W", "_", name)


def _parsed(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
            return MISSING
    return MISSING if text is None else text


def _pairs(old: Any, new: Any) -> Iterator[tuple[str, str]]:
    """(recorded, replayed) string values at the same place of two answers."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in old.items():
            if key in new:
                yield from _pairs(value, new[key])
    elif isinstance(old, list) and isinstance(new, list):
        for left, right in zip(old, new, strict=False):
            yield from _pairs(left, right)
    elif isinstance(old, str) and isinstance(new, str):
        yield old, new


def _strings(value: Any) -> Iterator[str]:
    """Every string or integer of JSON data, as text (where a documented card number may be)."""
    for _, leaf in pointers.leaves(value):
        if isinstance(leaf, str) or (isinstance(leaf, int) and not isinstance(leaf, bool)):
            yield str(leaf)


def _is_pan(value: str) -> bool:
    return value.isdigit() and 12 <= len(value) <= 19 and luhn_valid(value)


def _fresh_like(old: str) -> str:
    """A fresh key shaped like the old one (a UUID for a UUID, else hex digits of the same length)."""
    try:
        uuid.UUID(old)
        return str(uuid.uuid4())
    except ValueError:
        return (uuid.uuid4().hex * 2)[: max(1, min(len(old), 64))]


def _map_strings(value: Any, function: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {key: _map_strings(item, function) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, function) for item in value]
    return function(value) if isinstance(value, str) else value


def _key_reader(spec: Spec, operation_id: str) -> Callable[[Call], Any]:
    """How to read an operation's idempotency key from a call (its rules-table expression)."""
    from ..checks import evaluate_one

    expressions = idempotency_keys(spec, operation_id)

    def read(call: Call) -> Any:
        return tuple(str(evaluate_one(expression, request=call.request, response=call.response_body))
                     for expression in expressions)

    return read
