"""The rules table of a spec as small frozen dataclasses, parsed once by the loader.

A rules table holds what JSON Schema cannot say (state machines, echoes, limits, idempotency,
correlations, scenarios; `specs/README.md`). It is validated against `specs/rules.schema.yaml`, then
parsed here, so that checks, strategies, the callbacks sender and the mock all read one typed model
and none of them reads the YAML's dicts. A document without a table gets `Rules.generic(...)`: no
table-driven rules, only the generic ones every API has.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

TOKEN_ENDPOINT_ROLE = "token-endpoint"

Presence = Literal["required", "optional"]


def _t(values: Any) -> tuple[Any, ...]:
    return tuple(values or ())


@dataclass(frozen=True)
class Severity:
    """How much a rule weighs: must (a failure fails the run) or should (a warning: shown, counted, exit 0)."""

    level: Literal["must", "should"] = "must"
    reason: str = ""

    @property
    def blocking(self) -> bool:
        """Whether a failure of the rule fails the run."""
        return self.level == "must"


MUST = Severity()


@dataclass(frozen=True)
class Described:
    id: str
    description: str


@dataclass(frozen=True)
class Observation:
    """Where a state machine's resource is seen: an operation's answer or a webhook's body, at `records`."""

    operation: str | None
    webhook: str | None
    records: str
    """Pointer to the records in the body ("" the body itself; "/callbacks/*" each item)."""
    field: str | None = None
    """Where the status is inside a record here, when not where the machine says (a read nesting it deeper)."""
    identity: str | None = None
    """Where the identity is inside a record here, when not where the machine says; or a `$request.` expression
    when the answer does not carry it (a status read by id)."""


@dataclass(frozen=True)
class FirstCallback(Described):
    webhook: str
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class StateMachine(Described):
    field: str
    """Pointer to the status inside a record."""
    identity: str
    """Pointer to the resource's identity inside a record."""
    observed_in: tuple[Observation, ...]
    initial: tuple[str, ...]
    transitions: Mapping[str, tuple[str, ...]]
    final: tuple[str, ...]
    first_callback: FirstCallback | None = None

    def allows(self, before: str, after: str) -> bool:
        return before == after or after in self.transitions.get(before, ())

    def path_from(self, status: str) -> list[str]:
        """The statuses a resource goes through from `status` along each first listed transition to a final state."""
        path = [status]
        while status not in self.final and self.transitions.get(status):
            status = self.transitions[status][0]
            if status in path:
                break
            path.append(status)
        return path

    def reachable(self, start: str, end: str) -> bool:
        """Whether `end` lies one or more transitions after `start`."""
        seen, frontier = {start}, [start]
        while frontier:
            for following in self.transitions.get(frontier.pop(), ()):
                if following == end:
                    return True
                if following not in seen:
                    seen.add(following)
                    frontier.append(following)
        return False

    @property
    def states(self) -> tuple[str, ...]:
        """Every status the machine names, in a stable order (initial ones first)."""
        found = dict.fromkeys(self.initial)
        for before, afters in self.transitions.items():
            found.setdefault(before)
            found.update(dict.fromkeys(afters))
        found.update(dict.fromkeys(self.final))
        return tuple(found)

    def edges(self) -> list[tuple[str, str]]:
        """Every allowed move (earlier, later), in table order."""
        return [(before, after) for before, afters in self.transitions.items() for after in afters]

    def path_to(self, status: str) -> tuple[str, ...]:
        """The shortest run of statuses from an initial state to `status`, both included."""
        queue = deque((start,) for start in self.initial)
        seen = set(self.initial)
        while queue:
            path = queue.popleft()
            if path[-1] == status:
                return path
            for after in self.transitions.get(path[-1], ()):
                if after not in seen:
                    seen.add(after)
                    queue.append((*path, after))
        return (status,)

    def lifecycles(self) -> list[tuple[str, ...]]:
        """Every status sequence a resource can live through: simple paths from an initial state to an end."""
        found: list[tuple[str, ...]] = []

        def walk(path: tuple[str, ...]) -> None:
            following = [after for after in self.transitions.get(path[-1], ()) if after not in path]
            if not following or path[-1] in self.final:
                found.append(path)
                return
            for after in following:
                walk((*path, after))

        for start in self.initial:
            walk((start,))
        return found

    def observed_by(self, *, operation: str | None = None, webhook: str | None = None) -> str | None:
        """The records pointer where an operation or webhook shows this machine's resource, else None."""
        seen = self.observation(operation=operation, webhook=webhook)
        return seen.records if seen else None

    def observation(self, *, operation: str | None = None, webhook: str | None = None) -> Observation | None:
        for seen in self.observed_in:
            if (operation and seen.operation == operation) or (webhook and seen.webhook == webhook):
                return seen
        return None

    def field_in(self, seen: Observation) -> str:
        return seen.field if seen.field is not None else self.field

    def identity_in(self, seen: Observation) -> str:
        return seen.identity if seen.identity is not None else self.identity


@dataclass(frozen=True)
class Echo(Described):
    operations: tuple[str, ...]
    request: str
    response: str
    presence: Presence


@dataclass(frozen=True)
class MaskedPan(Described):
    operations: tuple[str, ...]
    request: str
    response: str


@dataclass(frozen=True)
class LimitChild:
    operation: str
    amount: str
    parent_id: str
    accepted_when: Mapping[str, Any]


@dataclass(frozen=True)
class LimitParent:
    operation: str
    id: str
    limit: str
    aggregate: Literal["sum", "single"]


@dataclass(frozen=True)
class Limit(Described):
    kind: Literal["within-response", "across-calls"]
    operations: tuple[str, ...] = ()
    value: str | None = None
    at_most: str | None = None
    child: LimitChild | None = None
    parent: LimitParent | None = None


@dataclass(frozen=True)
class Idempotency(Described):
    operations: tuple[str, ...]
    key: str
    """A runtime expression on the request."""
    conflict_status: int
    conflict_code: str | None = None


@dataclass(frozen=True)
class TimeOrder(Described):
    observed_in: tuple[Observation, ...]
    earlier: str
    later: str


@dataclass(frozen=True)
class Correlation(Described):
    source_operation: str
    source_keys: Mapping[str, str]
    """Key name -> runtime expression on the creating exchange."""
    target_webhook: str
    target_records: str
    target_keys: Mapping[str, str]
    """Key name -> pointer inside a callback record."""


@dataclass(frozen=True)
class Coverage:
    field: str
    schema: str | None
    """The enum's schema; when the table leaves it out, the loader finds it along `field` (portable tables)."""
    webhook: str | None = None
    operation: str | None = None

    @property
    def label(self) -> str:
        """The name reports give the field: its enum schema's name ("Capture.transactionStatusCode")."""
        parts = [part for part in (self.schema or self.field).lstrip("#").split("/") if part]
        if parts[:2] == ["components", "schemas"]:
            parts = parts[2:]
        return ".".join(part for part in parts if part != "properties")


@dataclass(frozen=True)
class NotDrivable:
    field: str
    schema: str
    why: str


@dataclass(frozen=True)
class Given:
    operation: str
    when: Mapping[str, Any]


@dataclass(frozen=True)
class ExpectedCallbacks:
    webhook: str
    statuses: tuple[str, ...]
    last: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario(Described):
    operation: str
    when: Mapping[str, Any]
    status: int
    body: Mapping[str, Any] = field(default_factory=dict)
    callbacks: ExpectedCallbacks | None = None
    given: Given | None = None
    path: Mapping[str, str] = field(default_factory=dict)
    example: tuple[str, ...] = ()
    """Names of the request example the scenario starts from, the first the document has (else its first)."""
    has_body: bool = False
    """Whether `expect.body` was given (an empty subset still says "a body")."""

    @property
    def expect(self) -> dict[str, Any]:
        """The table's `expect`, as plain data (what reports and matching read)."""
        found: dict[str, Any] = {"status": self.status}
        if self.has_body:
            found["body"] = dict(self.body)
        if self.callbacks is not None:
            found["callbacks"] = {"webhook": self.callbacks.webhook, "statuses": list(self.callbacks.statuses)}
            if self.callbacks.last:
                found["callbacks"]["last"] = dict(self.callbacks.last)
        return found


@dataclass(frozen=True)
class ResourceLookup:
    """How one operation's request names a resource: parameter ("path.id", "query.endToEndId") -> key."""

    operation: str
    by: Mapping[str, str]
    missing_status: int | None = None
    """When none of the parameters is given: refused with this status (and code), e.g. 400 GCA-095."""
    missing_code: str | None = None
    unknown_status: int | None = None
    """When they name no resource: this status (and code) instead of the documented not-found (400 10009)."""
    unknown_code: str | None = None
    many: bool = False
    """A list of every resource matching (else the one named)."""


@dataclass(frozen=True)
class Resource:
    """A kind of resource as the mock keeps it: what creates it, its identity and keys, how reads name it."""

    create: tuple[str, ...]
    identity: str
    keys: Mapping[str, str]
    """Key -> runtime expression on the creating exchange ($response.body#/p: minted by the provider, shown at p)."""
    lookups: tuple[ResourceLookup, ...] = ()


@dataclass(frozen=True)
class Precondition(Described):
    """A request that names another resource is accepted only when that resource is as described."""

    operation: str
    parent: str
    """Runtime expression on the request naming the other resource (by its identity)."""
    status_in: tuple[str, ...] = ()
    same: tuple[tuple[str, str], ...] = ()
    """(expression on this request, expression on the other resource's creating request) that must be equal."""


@dataclass(frozen=True)
class Errors:
    """How the API reports a request it refuses."""

    schema: str | None
    """Pointer to the error body schema (None when the document declares none)."""
    validation_status: int = 400
    code_at: tuple[str, ...] = ()
    """Where an error body carries its codes (several shapes, several pointers)."""
    codes: Mapping[str, str] = field(default_factory=dict)
    """JSON Schema keyword -> the numbered code a request breaking it gets ("other" for the rest)."""
    idempotency_conflict: str | None = None
    business: str | None = None
    message: str | None = None
    """How an error body describes a problem ("Error occurred on {pointer}"); None: the problem's own text."""
    auth: Mapping[str, int] = field(default_factory=dict)
    status_by_code: Mapping[str, int] = field(default_factory=dict)

    def auth_status(self, problem: str) -> int:
        """The status a credential problem gets (missing_token, invalid_token, expired_token, wrong_scope)."""
        return int(self.auth.get(problem, 403 if problem == "wrong_scope" else 401))


@dataclass(frozen=True)
class Rules:
    """A spec's rules table, typed. `Rules.generic` stands in when a document comes without one."""

    api: str
    prefix: str
    errors: Errors
    role: str = "api"
    state_machines: tuple[StateMachine, ...] = ()
    echoes: tuple[Echo, ...] = ()
    masked_pans: tuple[MaskedPan, ...] = ()
    limits: tuple[Limit, ...] = ()
    idempotency: tuple[Idempotency, ...] = ()
    time_order: tuple[TimeOrder, ...] = ()
    correlations: tuple[Correlation, ...] = ()
    coverage: tuple[Coverage, ...] = ()
    not_drivable: tuple[NotDrivable, ...] = ()
    business_rules: tuple[Described, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    resources: tuple[Resource, ...] = ()
    preconditions: tuple[Precondition, ...] = ()
    severities: Mapping[str, Severity] = field(default_factory=dict)
    """Rule ID -> level, for every rule the table gives one (on its entry, or in `severities`)."""
    from_table: bool = True
    """False for the generic stand-in of a document without a rules table."""

    @property
    def is_token_endpoint(self) -> bool:
        return self.role == TOKEN_ENDPOINT_ROLE

    def severity(self, rule_id: str) -> Severity | None:
        """The level the table gives a rule, None when it says nothing (the rule's own level stands)."""
        return self.severities.get(rule_id)

    def scenario(self, scenario_id: str) -> Scenario:
        return next(s for s in self.scenarios if s.id == scenario_id)

    def idempotency_rule(self, rule_id: str) -> Idempotency:
        return next(e for e in self.idempotency if e.id == rule_id)

    def idempotency_for(self, operation_id: str) -> Idempotency | None:
        return next((e for e in self.idempotency if operation_id in e.operations), None)

    def machines_for(self, *, operation: str | None = None, webhook: str | None = None
                     ) -> list[tuple[StateMachine, str]]:
        """(state machine, records pointer) for each machine observed in an operation or webhook."""
        found = []
        for machine in self.state_machines:
            records = machine.observed_by(operation=operation, webhook=webhook)
            if records is not None:
                found.append((machine, records))
        return found

    def machine_with_first_callback(self, webhook: str) -> StateMachine | None:
        return next((m for m in self.state_machines if m.first_callback and m.first_callback.webhook == webhook), None)

    def correlations_from(self, operation_id: str) -> list[Correlation]:
        return [c for c in self.correlations if c.source_operation == operation_id]

    def correlation(self, operation_id: str, webhook: str) -> Correlation | None:
        return next((c for c in self.correlations
                     if c.source_operation == operation_id and c.target_webhook == webhook), None)

    def described(self) -> list[tuple[str, str]]:
        """(rule ID, description) of every rule the table itself defines, in a stable order."""
        found: dict[str, str] = {}
        for section in (self.echoes, self.masked_pans, self.limits, self.idempotency, self.time_order,
                        self.correlations, self.scenarios):
            for entry in section:
                found.setdefault(entry.id, entry.description)
        for machine in self.state_machines:
            found.setdefault(machine.id, machine.description)
            if machine.first_callback:
                found.setdefault(machine.first_callback.id, machine.first_callback.description)
        return list(found.items())

    @staticmethod
    def generic(api: str, prefix: str, error_schema: str | None) -> Rules:
        return Rules(api=api, prefix=prefix, errors=Errors(schema=error_schema), from_table=False)


# -- parsing --------------------------------------------------------------------------------------------------


def _observations(rows: Any) -> tuple[Observation, ...]:
    return tuple(Observation(row.get("operation"), row.get("webhook"), row.get("records", ""), row.get("field"),
                             row.get("identity")) for row in rows or ())


def _described(row: Mapping[str, Any]) -> dict[str, str]:
    return {"id": row["id"], "description": row["description"]}


def _severities(table: Mapping[str, Any]) -> dict[str, Severity]:
    """Every level the table states: `severity` on an entry (or a state machine's first_callback), then the
    `severities` section for rules with no entry (generic and receiver rules)."""
    found: dict[str, Severity] = {}
    for rows in table.values():
        for row in rows if isinstance(rows, list) else ():
            for described in (row, row.get("first_callback") or {}) if isinstance(row, dict) else ():
                if "severity" in described:
                    found[described["id"]] = Severity(described["severity"], described.get("severity_reason", ""))
    for rule_id, given in (table.get("severities") or {}).items():
        found.setdefault(rule_id, Severity(given["severity"], given["severity_reason"]))
    return found


def parse(table: Mapping[str, Any]) -> Rules:
    """A validated rules table (see rules.schema.yaml) as Rules."""
    errors = table.get("errors") or {}
    validation = errors.get("validation") or {}
    machines = []
    for row in table.get("state_machines") or ():
        first = row.get("first_callback")
        machines.append(StateMachine(
            **_described(row), field=row["field"], identity=row["identity"],
            observed_in=_observations(row["observed_in"]), initial=_t(row["initial"]),
            transitions={status: _t(nexts) for status, nexts in (row.get("transitions") or {}).items()},
            final=_t(row.get("final")),
            first_callback=FirstCallback(**_described(first), webhook=first["webhook"],
                                         statuses=_t(first["statuses"])) if first else None,
        ))
    limits = []
    for row in table.get("limits") or ():
        child, parent = row.get("child"), row.get("parent")
        limits.append(Limit(
            **_described(row), kind=row["kind"], operations=_t(row.get("operations")), value=row.get("value"),
            at_most=row.get("at_most"),
            child=LimitChild(child["operation"], child["amount"], child["parent_id"],
                             dict(child.get("accepted_when") or {})) if child else None,
            parent=LimitParent(parent["operation"], parent["id"], parent["limit"], parent["aggregate"])
            if parent else None,
        ))
    scenarios = []
    for row in table.get("scenarios") or ():
        expect = row["expect"]
        callbacks = expect.get("callbacks")
        given = row.get("given")
        scenarios.append(Scenario(
            **_described(row), operation=row["operation"], when=dict(row.get("when") or {}),
            status=int(expect["status"]), body=dict(expect.get("body") or {}), has_body="body" in expect,
            callbacks=ExpectedCallbacks(callbacks["webhook"], _t(callbacks["statuses"]),
                                        dict(callbacks.get("last") or {})) if callbacks else None,
            given=Given(given["operation"], dict(given.get("when") or {})) if given else None,
            path=dict(row.get("path") or {}), example=_names(row.get("example")),
        ))
    return Rules(
        api=table["api"],
        prefix=table["prefix"],
        role=table.get("role", "api"),
        errors=Errors(
            schema=errors.get("schema"), validation_status=int(validation.get("status", 400)),
            code_at=_t([validation["code_at"]] if isinstance(validation.get("code_at"), str)
                       else validation.get("code_at")),
            codes=dict(validation.get("codes") or {}),
            idempotency_conflict=validation.get("idempotency_conflict"), business=validation.get("business"),
            message=validation.get("message"),
            auth={k: int(v) for k, v in (errors.get("auth") or {}).items()},
            status_by_code={k: int(v) for k, v in (errors.get("status_by_code") or {}).items()},
        ),
        state_machines=tuple(machines),
        echoes=tuple(Echo(**_described(r), operations=_t(r["operations"]), request=r["request"],
                          response=r["response"], presence=r["presence"]) for r in table.get("echoes") or ()),
        masked_pans=tuple(MaskedPan(**_described(r), operations=_t(r["operations"]), request=r["request"],
                                    response=r["response"]) for r in table.get("masked_pans") or ()),
        limits=tuple(limits),
        idempotency=tuple(Idempotency(**_described(r), operations=_t(r["operations"]), key=r["key"],
                                      conflict_status=int(r["conflict"]["status"]),
                                      conflict_code=r["conflict"].get("code"))
                          for r in table.get("idempotency") or ()),
        time_order=tuple(TimeOrder(**_described(r), observed_in=_observations(r["observed_in"]),
                                   earlier=r["earlier"], later=r["later"]) for r in table.get("time_order") or ()),
        correlations=tuple(Correlation(**_described(r), source_operation=r["source"]["operation"],
                                       source_keys=dict(r["source"]["keys"]), target_webhook=r["target"]["webhook"],
                                       target_records=r["target"]["records"], target_keys=dict(r["target"]["keys"]))
                           for r in table.get("correlations") or ()),
        coverage=tuple(Coverage(r["field"], r.get("schema"), r.get("webhook"), r.get("operation"))
                       for r in table.get("coverage") or ()),
        not_drivable=tuple(NotDrivable(r["field"], r["schema"], r["why"]) for r in table.get("not_drivable") or ()),
        business_rules=tuple(Described(**_described(r)) for r in table.get("business_rules") or ()),
        scenarios=tuple(scenarios),
        resources=tuple(
            Resource(create=_t(r["create"]), identity=r["identity"], keys=dict(r["keys"]),
                     lookups=tuple(ResourceLookup(u["operation"], dict(u["by"]), (u.get("missing") or {}).get("status"),
                                                  (u.get("missing") or {}).get("code"),
                                                  (u.get("unknown") or {}).get("status"),
                                                  (u.get("unknown") or {}).get("code"), bool(u.get("list")))
                                   for u in r.get("lookups") or ()))
            for r in table.get("resources") or ()),
        preconditions=tuple(
            Precondition(**_described(r), operation=r["operation"], parent=r["parent"],
                         status_in=_t(r.get("status_in")), same=tuple(tuple(pair) for pair in r.get("same") or ()))
            for r in table.get("preconditions") or ()),
        severities=_severities(table),
    )


def _names(value: Any) -> tuple[str, ...]:
    """A name or a list of names, as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
