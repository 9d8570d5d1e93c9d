"""One API as the mock serves it: every operation of its document, driven by the document and its rules table.

Each operation gets a role from the document's paths (`_resources`): a *create* makes a record (its
outcome from the scenario triggers, its keys minted or taken from the request, its lifecycle from
the state machine), a *lookup* finds records by the identity or keys its parameters name, an
*action* changes the record its path names (the transition must be one the state machine allows),
and any other operation answers its documented template. Limits, preconditions and idempotency
come from the rules table; answers, callbacks and errors are built from the document's schemas.
A per-API module (`MODULES`) may take over operations whose effect no table says (Online Payments'
nested authorizations, captures and refunds; the token endpoint).
"""

from __future__ import annotations

import copy
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .. import pointers
from .._specs import Kind, Spec
from .._specs._rules import Observation, StateMachine
from ..formats import decimal_of
from ._answers import AnswerBuilder
from ._common import MISSING, Call
from ._errors import ErrorBodies
from ._faults import Replace, apply_change
from ._idempotency import IdempotencyStore
from ._records import Record, RecordStore
from ._scenarios import Scenario, ScenarioBook
from ._validation import Problem

if TYPE_CHECKING:
    from ._app import MockContext

logger = logging.getLogger("conformance.mock")

Handler = Callable[[Call], Awaitable["Answer"]]

LIST_LIMIT = 100
"""The most records a list answer carries (the newest)."""

_AUTH_MESSAGES = {
    "missing_token": "A bearer token is required",
    "invalid_token": "The bearer token is not valid",
    "expired_token": "The bearer token has expired",
    "wrong_scope": "The bearer token lacks the scope this operation needs",
}


@dataclass
class Answer:
    """What a handler answers: a status, a JSON body (or its bytes), extra headers."""

    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    records: str = ""
    """Where the records are in the body (for faults that change records)."""
    invalid_request: bool = False


class Api:
    """The generic behaviour of one spec; `MODULES` may replace the handlers of some operations."""

    raw_operations: frozenset[str] = frozenset()
    """Operations whose handler checks credentials and reads the body itself (the token endpoint)."""

    def __init__(self, spec: Spec, context: MockContext) -> None:
        self.spec = spec
        self.rules = spec.rules
        self.name = spec.name
        self.context = context
        self.faults = context.faults
        self.answers = AnswerBuilder(spec)
        self.errors = ErrorBodies(spec, self.answers)
        self.scenarios = ScenarioBook(spec)
        self.idempotency = IdempotencyStore(spec.rules, context.store_limit)
        self.store = RecordStore(context.store_limit)
        self.kinds = {kind.name: kind for kind in spec.resources}
        self.machines = {kind.name: kind.machine for kind in self.kinds.values()}
        self.handlers: dict[str, Handler] = {}
        self._roles: dict[str, tuple[str, Kind, Any]] = {}
        for kind in self.kinds.values():
            for operation_id in kind.create:
                self._roles[operation_id] = ("create", kind, None)
            for operation_id, lookup in kind.lookups.items():
                self._roles[operation_id] = ("lookup", kind, lookup)
            for operation_id, parameter in kind.actions.items():
                self._roles[operation_id] = ("action", kind, parameter)
        for operation in spec.client_operations():
            role = self._roles.get(operation.operation_id, ("static", None, None))[0]
            self.handlers[operation.operation_id] = getattr(self, role)
        self._counter = itertools.count(1)
        self._callback_templates: dict[tuple[str, str | None], Any] = {}

    # -- errors -------------------------------------------------------------------------------------------

    def error_answer(self, operation_id: str | None, status: int, message: str, problems: list[Problem] = (),
                     code: str | None = None, headers: list[tuple[str, str]] | None = None) -> Answer:
        return Answer(status, self.errors.body(operation_id, status, message, problems, code), headers or [])

    def validation_answer(self, operation_id: str, problems: list[Problem]) -> Answer:
        answer = self.error_answer(operation_id, self.rules.errors.validation_status, problems[0].message, problems)
        answer.invalid_request = True
        return answer

    def business_answer(self, operation_id: str, message: str) -> Answer:
        return self.error_answer(operation_id, self.rules.errors.validation_status, message,
                                 code=self.rules.errors.business)

    def conflict_answer(self, operation_id: str, status: int, code: str | None) -> Answer:
        return self.error_answer(operation_id, status, "The idempotency key was used before with another request",
                                 code=code or self.rules.errors.idempotency_conflict)

    def auth_answer(self, operation_id: str, problem: str) -> Answer:
        status = self.rules.errors.auth_status(problem)
        headers = [("www-authenticate", 'Bearer realm="conformance-mock", error="invalid_token"')] if status == 401 \
            else []
        return self.error_answer(operation_id, status, _AUTH_MESSAGES.get(problem, "Not authorized"), headers=headers)

    def not_found(self, operation_id: str, what: str = "resource") -> Answer:
        documented = "404" in self.spec.documented_statuses(operation_id)
        status = 404 if documented else self.rules.errors.validation_status
        return self.error_answer(operation_id, status, f"No {what} with that identifier")

    def scenario_error(self, operation_id: str, scenario: Scenario) -> Answer:
        """The error a scenario asks for, with the table's body subset applied."""
        answer = self.error_answer(operation_id, scenario.status, scenario.description)
        if isinstance(answer.body, dict) and scenario.body:
            from ._common import overlay

            overlay(answer.body, dict(scenario.body))
            answer.body = self.answers.repair(self.errors.schema_for(operation_id, scenario.status) or "", answer.body,
                                              answer.body) if self.errors.schema_for(operation_id, scenario.status) \
                else answer.body
        if scenario.status == 401:
            answer.headers.append(("www-authenticate", 'Bearer realm="conformance-mock"'))
        return answer

    # -- scenarios, records -------------------------------------------------------------------------------

    def choose(self, call: Call) -> Scenario | None:
        return self.scenarios.choose(call, self.origin_of)

    def origin_of(self, identity: Any) -> Any:
        record = self.find_any(identity)
        return record.request.get("body") if record else None

    def find_any(self, value: Any) -> Record | None:
        """The record any kind knows by this identity (scenario `given`s and limits name their parent so)."""
        for kind in self.kinds.values():
            record = self.store.find(kind.name, kind.identity, value)
            if record is not None:
                return record
        return None

    def success_status(self, operation_id: str, scenario: Scenario | None = None) -> int:
        if scenario is not None and 200 <= scenario.status < 300:
            return scenario.status
        for code in self.spec.documented_statuses(operation_id):
            if code.isdigit() and 200 <= int(code) < 300:
                return int(code)
        return 200

    def mint(self, kind: Kind, key: str, pointer: str, operation_id: str, status: int) -> str:
        """A fresh value for a key the provider makes up, valid where the create answer shows it."""
        schema_pointer = self.spec.response_schema(operation_id, status)
        candidates = [str(uuid.uuid4()), uuid.uuid4().hex, f"{int(time.time() * 1000)}{next(self._counter):06d}"]
        if schema_pointer is None:
            return candidates[0]
        where = self.spec.canonical(schema_pointer) + pointer
        try:
            validator = self.answers.validator(self.spec.canonical(where))
        except Exception:  # noqa: BLE001 - the place is not a schema of its own (inside an allOf): any id will do
            return candidates[0]
        return next((value for value in candidates if validator.is_valid(value)), candidates[0])

    def new_record(self, kind: Kind, call: Call, scenario: Scenario | None, status_code: int) -> Record:
        request = call.snapshot()
        keys: dict[str, Any] = {}
        for name, expression in kind.keys.items():
            if expression.startswith("$response.body"):
                keys[name] = self.mint(kind, name, expression.partition("#")[2], call.operation_id, status_code)
            else:
                value = pointers.evaluate_one(expression, request=request)
                if value is not MISSING:
                    keys[name] = value
        return Record(kind=kind.name, keys=keys, request=request, operation=call.operation_id,
                      packer=self.store.packer(kind.name))

    # -- handlers -----------------------------------------------------------------------------------------

    async def create(self, call: Call) -> Answer:
        role, kind, _ = self._roles[call.operation_id]
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300 and self._business_refusal(scenario):
            scenario = None  # the table's preconditions and limits decide it, below (and a fault may lift them)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(call.operation_id, scenario)
        refusal = self.preconditions(call) or self.limits(call)
        if refusal is not None:
            return self.business_answer(call.operation_id, refusal)
        if self.faults.server_error(self.name, call.operation_id):
            return self.error_answer(call.operation_id, 500, "Internal error")
        status = self.success_status(call.operation_id, scenario)
        record = self.new_record(kind, call, scenario, status)
        statuses = self.lifecycle_statuses(kind.machine, scenario)
        record.status = statuses[0] if statuses else None
        if scenario is not None:
            record.answered = _without_status(dict(scenario.body), kind.machine, call.operation_id)
        self.store.add(record, self.machines)
        self.account_limits(call)
        body = self.view(call.operation_id, status, record, created=True,
                         answer_of=dict(scenario.body) if scenario is not None else None)
        if len(statuses) > 1 or self._webhooks(kind):
            self.context.lifecycles.start(self, kind, record, statuses, scenario)
        return Answer(status, body)

    async def lookup(self, call: Call) -> Answer:
        _, kind, lookup = self._roles[call.operation_id]
        given = {}
        for parameter, key in lookup.by.items():
            where, _, name = parameter.partition(".")
            value = (call.path if where == "path" else call.query if where == "query" else call.headers).get(
                name.lower() if where == "header" else name)
            if value not in (None, ""):
                given[key] = value
        if not given and lookup.one_required:
            names = " or ".join(p.partition(".")[2] for p in lookup.by)
            return self.error_answer(call.operation_id, lookup.missing_status or self.rules.errors.validation_status,
                                     f"{names} is required", code=lookup.missing_code)
        records = self._matching(kind, given)
        status = self.success_status(call.operation_id)
        if lookup.many:
            if given and not records and "404" in self.spec.documented_statuses(call.operation_id):
                return self.not_found(call.operation_id, kind.name)
            return Answer(status, self.list_view(call.operation_id, status, records[-LIST_LIMIT:]))
        if not records:
            if lookup.unknown_status is not None:
                return self.error_answer(call.operation_id, lookup.unknown_status,
                                         f"No {kind.name} with that identifier", code=lookup.unknown_code)
            return self.not_found(call.operation_id, kind.name)
        return Answer(status, self.view(call.operation_id, status, records[-1]))

    def _matching(self, kind: Kind, given: dict[str, Any]) -> list[Record]:
        if not given:
            return self.store.all(kind.name)
        first_key, first_value = next(iter(given.items()))
        if len(given) == 1:
            if first_key == kind.identity or first_key in kind.keys:
                found = self.store.find(kind.name, first_key, first_value)
                if found is not None:
                    return [found]
            return [r for r in self.store.all(kind.name) if str(r.keys.get(first_key)) == str(first_value)]
        return [r for r in self.store.all(kind.name)
                if all(str(r.keys.get(key)) == str(value) for key, value in given.items())]

    async def action(self, call: Call) -> Answer:
        _, kind, parameter = self._roles[call.operation_id]
        record = self.store.find(kind.name, kind.identity, call.path.get(parameter, ""))
        if record is None:
            return self.not_found(call.operation_id, kind.name)
        scenario = self.choose(call)
        if scenario is not None and scenario.status >= 300:
            return self.scenario_error(call.operation_id, scenario)
        machine = kind.machine
        if machine is not None and scenario is not None:
            seen = machine.observation(operation=call.operation_id)
            target = pointers.resolve(dict(scenario.body), machine.field_in(seen) if seen else machine.field)
            if isinstance(target, str) and record.status is not None:
                if target not in machine.transitions.get(record.status, ()):
                    return self.business_answer(call.operation_id,
                                                f"A resource in status {record.status} cannot move to {target}")
                record.status = target
        record.updated = time.time()
        status = self.success_status(call.operation_id, scenario)
        return Answer(status, self.view(call.operation_id, status, record,
                                        answer_of=dict(scenario.body) if scenario is not None else None))

    async def static(self, call: Call) -> Answer:
        status = self.success_status(call.operation_id)
        pointer, template = self.answers.answer_template(call.operation_id, status)
        return Answer(status, template)

    # -- rules-table duties -------------------------------------------------------------------------------

    def _business_refusal(self, scenario: Scenario) -> bool:
        """A scenario documenting a refusal by business rule (its body names the table's business code)."""
        code = self.rules.errors.business
        return bool(code) and code in str(dict(scenario.body))

    def preconditions(self, call: Call) -> str | None:
        """Why the request breaks a precondition of the table (the resource it names is not ready), or None."""
        request = call.snapshot()
        for entry in self.rules.preconditions:
            if entry.operation != call.operation_id:
                continue
            parent_id = pointers.evaluate_one(entry.parent, request=request)
            parent = self.find_any(parent_id) if parent_id is not MISSING else None
            if parent is None:
                return f"{entry.parent.rpartition('/')[2] or 'the resource named'} names no resource"
            if entry.status_in and parent.status not in entry.status_in:
                return f"{entry.description} (it is {parent.status})"
            for mine, theirs in entry.same:
                theirs_value = pointers.evaluate_one(theirs, request=parent.request)
                if pointers.evaluate_one(mine, request=request) != theirs_value:
                    return f"{entry.description} ({mine.partition('#')[2]} differs)"
        return None

    def limits(self, call: Call) -> str | None:
        """Why an amount is above what its parent allows (across-calls limits), or None."""
        if self.faults.off(self.name, "limits"):
            return None
        request = call.snapshot()
        for entry in self.rules.limits:
            child, parent = entry.child, entry.parent
            if entry.kind != "across-calls" or child is None or parent is None or child.operation != call.operation_id:
                continue
            parent_id = pointers.evaluate_one(child.parent_id, request=request)
            record = self.find_any(parent_id) if parent_id is not MISSING else None
            amount = decimal_of(pointers.evaluate_one(child.amount, request=request))
            if record is None or amount is None:
                continue
            values = [decimal_of(v) for v in pointers.evaluate(parent.limit, request=record.request,
                                                             response=record.view)]
            values = [v for v in values if v is not None]
            if not values:
                continue
            limit = sum(values, Decimal(0)) if parent.aggregate == "sum" else values[0]
            spent = record.fields.get(f"limit:{entry.id}", Decimal(0))
            if spent + amount > limit:
                return f"{entry.description} ({spent + amount} above {limit})"
        return None

    def account_limits(self, call: Call) -> None:
        request = call.snapshot()
        for entry in self.rules.limits:
            child = entry.child
            if entry.kind != "across-calls" or child is None or child.operation != call.operation_id:
                continue
            parent_id = pointers.evaluate_one(child.parent_id, request=request)
            record = self.find_any(parent_id) if parent_id is not MISSING else None
            amount = decimal_of(pointers.evaluate_one(child.amount, request=request))
            if record is not None and amount is not None:
                key = f"limit:{entry.id}"
                record.set_field(key, record.fields.get(key, Decimal(0)) + amount)

    # -- views --------------------------------------------------------------------------------------------

    def observation(self, machine: StateMachine | None, *, operation: str | None = None,
                    webhook: str | None = None) -> Observation | None:
        return machine.observation(operation=operation, webhook=webhook) if machine else None

    def view(self, operation_id: str, status: int, record: Record, created: bool = False,
             answer_of: dict[str, Any] | None = None) -> Any:
        """The record as this operation's answer shows it (`answer_of`: the scenario's body for this answer)."""
        kept = record.view  # a fresh copy
        if kept is not None:  # a module keeps this kind's full answer
            return kept
        pointer, template = self.answers.answer_template(operation_id, status)
        if pointer is None:
            return None
        kind = self.kinds[record.kind]
        seen = self.observation(kind.machine, operation=operation_id)
        set_at = {}
        if created:
            set_at = {place: record.keys[name] for name, place in kind.minted().items() if name in record.keys}
        same_shape = not created and self._same_answer(record.operation, operation_id, status)
        overlays = [record.answered if same_shape else {},
                    {k: v for k, v in record.fields.items() if not k.startswith("limit:")}, answer_of or {}]
        last = [self._last_in_read(kind.machine, seen, pointer, record.last)] \
            if seen is not None and record.last and record.status == record.last_status else []
        request = record.request  # unpacked once for the whole view
        body = self.answers.build(pointer, template, record, request=request, machine=kind.machine,
                                  observation=seen, overlays=overlays, set_at=set_at, record_overlays=last)
        if same_shape:  # a read shows what the create answered: its echoes and masked PANs too
            body = self._table_values(record.operation, body, record, request)
        return self._table_values(operation_id, body, record, request)

    def _last_in_read(self, machine: StateMachine, seen: Observation, pointer: str,
                      last: dict[str, Any]) -> dict[str, Any]:
        """The fields the last status carries (`expect.callbacks.last`, next to the status in the callback record)
        as a read shows them: next to the read's status field, each under the read's property of the same schema
        (Global Payments: a callback's `exceptions` are a status read's `paymentStatus.exception`)."""
        callback = next((s for s in machine.observed_in if s.webhook in self.spec.webhooks), None)
        body = self.spec.request_schema(self.spec.webhooks[callback.webhook]) if callback is not None else None
        if body is None:
            return last
        source = self.spec.schema_at(body, callback.records + pointers.join(
            pointers.split(machine.field_in(callback))[:-1]))
        beside = pointers.split(machine.field_in(seen))[:-1]
        target = self.spec.schema_at(pointer, seen.records + pointers.join(beside))
        if source is None or target is None:
            return last
        theirs = self.answers._properties(self.answers.instances.node(source))
        mine = self.answers._properties(self.answers.instances.node(target))
        placed: dict[str, Any] = {}
        for name, value in last.items():
            same = [own for own, schema in mine.items() if schema == theirs.get(name)]
            if name in mine or len(same) != 1:
                placed[name] = value
            else:
                placed[same[0]] = value
        for part in reversed(beside):
            placed = {part: placed}
        return placed

    def _same_answer(self, created_by: str, operation_id: str, status: int) -> bool:
        """Whether a read answers with the schema the create answered with (OP's transaction reads do)."""
        if not created_by or created_by == operation_id:
            return False
        mine = self.spec.response_schema(operation_id, status)
        theirs = self.spec.response_schema(created_by, self.success_status(created_by))
        return mine is not None and theirs is not None and self.spec.canonical(mine) == self.spec.canonical(theirs)

    def list_view(self, operation_id: str, status: int, records: list[Record]) -> Any:
        pointer, template = self.answers.answer_template(operation_id, status)
        if pointer is None:
            return None
        node = self.answers.instances.node(pointer)
        items_pointer, holder_path = _list_place(self.answers, pointer, node)
        if items_pointer is None:
            return template if not records else self.view(operation_id, status, records[-1])
        item_template = self.answers.template(items_pointer)
        items = []
        for record in records:
            kind = self.kinds[record.kind]
            items.append(self.answers.build(items_pointer, item_template, record, machine=kind.machine,
                                            observation=None, overlays=[dict(record.fields)]))
        if not holder_path:
            return items
        body = template if isinstance(template, dict) else {}
        pointers.set_value(body, pointers.join(holder_path), items)
        return self.answers.repair(pointer, body, template)

    def _table_values(self, operation_id: str, body: Any, record: Record,
                      request: dict[str, Any] | None = None) -> Any:
        """Echoes and masked PANs of the rules table, written where the table says (`request`: the record's,
        if the caller has it unpacked)."""
        from ._common import mask_pan

        request = request if request is not None else record.request
        for entry in self.rules.echoes:
            if operation_id in entry.operations and entry.response.startswith("$response.body"):
                value = pointers.evaluate_one(entry.request, request=request)
                if value is not MISSING and isinstance(body, dict):
                    pointers.set_value(body, entry.response.partition("#")[2], value)
        for entry in self.rules.masked_pans:
            if operation_id in entry.operations and isinstance(body, dict):
                pan = pointers.evaluate_one(entry.request, request=request)
                if isinstance(pan, str) and len(pan) >= 12:
                    pointers.set_value(body, entry.response.partition("#")[2], mask_pan(pan))
        return body

    # -- lifecycles ---------------------------------------------------------------------------------------

    def lifecycle_statuses(self, machine: StateMachine | None, scenario: Scenario | None) -> list[str]:
        """The statuses a new resource goes through: the scenario's callbacks, else the machine's first path."""
        if machine is None:
            return []
        if scenario is not None and scenario.callbacks is not None:
            statuses = list(scenario.callbacks.statuses)
        else:
            seen = [s for s in machine.observed_in if s.operation]
            from_body = [pointers.resolve(dict(scenario.body), machine.field_in(s)) for s in seen] if scenario else []
            stated = next((value for value in from_body if isinstance(value, str)), None)
            if stated is not None:
                return [stated]
            first = machine.first_callback.statuses[0] if machine.first_callback else machine.initial[0]
            statuses = machine.path_from(first) if self._webhooks_of(machine) else [first]
        documented = self.spec.machine_states(machine)
        if documented is not None and any(status not in documented for status in statuses):
            # A status the document has no value for (the table's WAREHOUSED in the provider's document): the
            # resource takes the machine's first path through statuses the document has instead.
            statuses = [s for s in statuses if s in documented]
            first = next((s for s in machine.initial if s in documented), None)
            if not statuses and first is not None:
                statuses = machine.path_from(first) if self._webhooks_of(machine) else [first]
        return self.faults.lifecycle(self.name, statuses)

    def _webhooks(self, kind: Kind) -> list[str]:
        return self._webhooks_of(kind.machine) if kind.machine else []

    def _webhooks_of(self, machine: StateMachine) -> list[str]:
        return [seen.webhook for seen in machine.observed_in if seen.webhook and seen.webhook in self.spec.webhooks]

    def callback_body(self, webhook: str, record: Record, final: bool) -> tuple[Any, str]:
        """(body, records pointer) of a callback about the record in its current status."""
        operation_id = self.spec.webhooks[webhook]
        pointer = self.spec.request_schema(operation_id)
        kind = self.kinds[record.kind]
        seen = self.observation(kind.machine, webhook=webhook)
        records = seen.records if seen else ""
        template = self._callback_template(operation_id, pointer, kind.machine, seen, record.status)
        _ensure_records(self.answers, pointer, template, records)
        last = [record.last] if final and record.last else []
        body = self.answers.build(pointer, template, record, machine=kind.machine, observation=seen,
                                  record_overlays=last)
        return body, records

    def _callback_template(self, operation_id: str, pointer: str, machine: StateMachine | None,
                           seen: Observation | None, status: str | None) -> Any:
        """The callback's template: a valid example showing the record's status (a REJECTED one carries its
        exceptions), else the first valid example, else a minimal body."""
        key = (operation_id, status)
        if key not in self._callback_templates:
            examples = list(self.spec.examples(operation_id).values())
            showing = [example for example in examples if machine is not None and seen is not None and status in
                       pointers.resolve_all(example, seen.records + machine.field_in(seen))]
            validator = self.answers.validator(pointer)
            chosen = next((example for example in showing if validator.is_valid(example)), None)
            self._callback_templates[key] = chosen if chosen is not None else self.answers.template(pointer, examples)
        return copy.deepcopy(self._callback_templates[key])

    def callback_variant(self, body: Any, records: str, change: Replace) -> Any:
        body = copy.deepcopy(body)
        for holder in pointers.resolve_all(body, records) if records else [body]:
            if isinstance(holder, dict):
                apply_change(change, holder, {})
        return body


def _without_status(subset: dict[str, Any], machine: StateMachine | None, operation_id: str) -> dict[str, Any]:
    """A scenario's answer subset without the state machine's field (the lifecycle moves it on)."""
    seen = machine.observation(operation=operation_id) if machine else None
    if seen is None:
        return subset
    subset = copy.deepcopy(subset)
    try:
        pointers.delete_path(subset, pointers.split(seen.records) + pointers.split(machine.field_in(seen)))
    except (KeyError, IndexError, TypeError):
        pass
    return subset


def _list_place(answers: AnswerBuilder, pointer: str, node: Any) -> tuple[str | None, list[str]]:
    """(items schema pointer, path to the array) of the list in a list answer."""
    node = answers.instances.deref(node)
    if isinstance(node, dict) and node.get("type") == "array":
        return answers.spec.canonical(f"{pointer}/items"), []
    for name, sub in (node.get("properties") or {}).items() if isinstance(node, dict) else ():
        sub = answers.instances.deref(sub)
        if isinstance(sub, dict) and sub.get("type") == "array" and isinstance(sub.get("items"), dict):
            return answers.spec.canonical(f"{pointer}/properties/{pointers.escape(name)}/items"), [name]
    return None, []


def _ensure_records(answers: AnswerBuilder, pointer: str, template: Any, records: str) -> None:
    """Make sure a callback template has one record where `records` (e.g. /callbacks/*) points."""
    if not records.endswith("/*"):
        return
    holder_pointer = records[:-2]
    holder = pointers.resolve(template, holder_pointer)
    if isinstance(holder, list) and holder:
        return
    items = answers.instances.deref(answers.instances.node(answers.spec.canonical(pointer)))
    for part in pointers.split(holder_pointer):
        items = answers.instances.deref((items.get("properties") or {}).get(part, {}))
    item = answers.instances.build(items.get("items", {}))
    pointers.set_value(template, holder_pointer, [item])
