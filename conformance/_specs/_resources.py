"""The kinds of resource an API creates and how its requests name them: facts of the document, derived once.

The mock keeps records of these kinds; the suites create one and read it back (read-your-writes).
Read off the document and its rules table, never off an API's name:

- a *kind* is created by a POST on a collection path (`POST /payments`); its identity is the key its
  state machine or correlations name (`transactionId`, `firmRootId`), else the read operation's path
  parameter when the created answer has a property of that name, else the answer's one `...Id`
  property that is readOnly;
- its *keys* are the identity plus every value a correlation, an echo-free lookup or the rules table's
  `resources` entry names (`endToEndId` from the request body, `requestIdentifier` from the
  `request-id` header); values the provider mints go where `$response.body#/...` says;
- *lookups*: `GET /payments/{id}` names the identity by its path parameter, `GET /payments?endToEndId=`
  a key by a query parameter; a GET on the collection path lists (filtered by the query keys given);
  the rules table's `resources` may add lookups and say what a lookup without any key gets;
- *actions* on one resource: any other operation under the item path (`PATCH /payments/{id}`,
  `POST /payments/{id}/captures`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import pointers
from ._rules import StateMachine

if TYPE_CHECKING:
    from ._spec import Spec

_PARAMETER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Lookup:
    """How one operation's request names records of a kind: parameter ("path.id", "query.endToEndId") -> key."""

    operation_id: str
    by: dict[str, str]
    many: bool = False
    """A list: every record matching the keys given (all of the kind when none is given)."""
    one_required: bool = False
    """Without any of the parameters the request is refused (a read that needs one of several ids)."""
    missing_status: int | None = None
    missing_code: str | None = None
    unknown_status: int | None = None
    unknown_code: str | None = None
    """The status (and code) of that refusal, when the rules table says (else the validation status)."""


@dataclass(frozen=True)
class Kind:
    """A kind of resource: created by `create`, named by `keys`, found by `lookups`, changed by `actions`."""

    name: str
    create: tuple[str, ...]
    identity: str
    """The key that is the resource's identity."""
    keys: dict[str, str]
    """Key -> runtime expression on the creating exchange; `$response.body#/p` keys are minted by the mock."""
    lookups: dict[str, Lookup]
    actions: dict[str, str]
    """Operation acting on one record -> the path parameter naming it."""
    machine: StateMachine | None = None

    def minted(self) -> dict[str, str]:
        """Keys the mock makes up, with the pointer of the created answer that shows them."""
        return {name: expr.partition("#")[2] for name, expr in self.keys.items() if expr.startswith("$response.body")}


def _collection(path: str) -> str | None:
    """The collection an item path belongs to: "/payments/{id}" -> "/payments"; None for a path without parameters."""
    if "{" not in path:
        return None
    return path[: path.index("{")].rstrip("/") or "/"


def infer_kinds(spec: Spec) -> list[Kind]:
    """Every kind of resource the document creates, with what its rules table says about it."""
    operations = spec.client_operations()
    creates: dict[str, list[str]] = {}
    for operation in operations:
        if operation.method == "POST" and "{" not in operation.path and _answers_json(spec, operation.operation_id):
            creates.setdefault(operation.path, []).append(operation.operation_id)
    kinds = []
    for path, create_ids in creates.items():
        name = path.rstrip("/").rsplit("/", 1)[-1] or "resources"
        item_ops = [op for op in operations if _collection(op.path) == path]
        machine = _machine(spec, create_ids, item_ops)
        keys = _keys(spec, create_ids, machine)
        identity = _identity(spec, create_ids, machine, keys, item_ops)
        if identity is None:
            continue
        keys.setdefault(identity[0], identity[1])
        lookups: dict[str, Lookup] = {}
        actions: dict[str, str] = {}
        for operation in item_ops:
            parameter = _PARAMETER.search(operation.path).group(1)  # type: ignore[union-attr]
            if operation.method == "GET" and operation.path.count("{") == 1 and operation.path.endswith("}"):
                lookups[operation.operation_id] = Lookup(operation.operation_id, {f"path.{parameter}": identity[0]})
            else:
                actions[operation.operation_id] = parameter
        shown = answer_properties(spec, create_ids[0])
        for operation in operations:
            if operation.method != "GET" or "{" in operation.path:
                continue
            if operation.path != path and not operation.path.startswith(path + "/"):
                continue
            query = [p["name"] for _, p in spec.parameters(operation.operation_id) if p["in"] == "query"]
            for parameter in query:  # a read by a value the create's answer shows: a key, sent or minted
                if parameter not in keys and parameter in shown:
                    sent = _from_request(spec, create_ids[0], parameter)
                    keys[parameter] = f"$request.body#{sent}" if sent else f"$response.body#{shown[parameter][0]}"
            by = {f"query.{parameter}": parameter for parameter in query if parameter in keys}
            if operation.path == path:
                lookups[operation.operation_id] = Lookup(operation.operation_id, by, many=not _single(spec, operation),
                                                         one_required=bool(by) and _single(spec, operation))
            elif by:
                lookups[operation.operation_id] = Lookup(operation.operation_id, by, one_required=True)
        _table_lookups(spec, create_ids, lookups, actions)
        kinds.append(Kind(name, tuple(create_ids), identity[0], keys, lookups, actions, machine))
    covered = {op_id for kind in kinds for op_id in kind.create}
    for resource in spec.rules.resources:  # kinds the paths do not show: a capture made on a payment's path
        if set(resource.create) & covered or resource.identity not in resource.keys:
            continue
        path = spec.operations[resource.create[0]].path
        name = [part for part in path.split("/") if part and "{" not in part][-1]
        lookups, actions = {}, {}
        for operation in operations:
            item_read = operation.method == "GET" and operation.path.endswith("}")
            if item_read and _collection(operation.path) == f"/{name}":
                parameter = _PARAMETER.search(operation.path).group(1)  # type: ignore[union-attr]
                by = {f"path.{parameter}": resource.identity}
                lookups[operation.operation_id] = Lookup(operation.operation_id, by)
        _table_lookups(spec, list(resource.create), lookups, actions)
        machine = _machine(spec, list(resource.create), [])
        kinds.append(Kind(name, tuple(resource.create), resource.identity, dict(resource.keys), lookups, actions,
                          machine))
    return kinds


def _table_lookups(spec: Spec, create_ids: list[str], lookups: dict[str, Lookup], actions: dict[str, str]) -> None:
    """The lookups the rules table's `resources` adds (or says more about) for the kind these operations create."""
    for resource in spec.rules.resources:
        if not set(create_ids) & set(resource.create):
            continue
        for entry in resource.lookups:
            lookups[entry.operation] = Lookup(entry.operation, dict(entry.by), many=entry.many,
                                              one_required=entry.missing_status is not None,
                                              missing_status=entry.missing_status, missing_code=entry.missing_code,
                                              unknown_status=entry.unknown_status, unknown_code=entry.unknown_code)
            actions.pop(entry.operation, None)


def _answers_json(spec: Spec, operation_id: str) -> bool:
    return any(code.isdigit() and 200 <= int(code) < 300 and spec.response_schema(operation_id, int(code))
               for code in spec.documented_statuses(operation_id))


def _success_schema(spec: Spec, operation_id: str) -> str | None:
    for code in spec.documented_statuses(operation_id):
        if code.isdigit() and 200 <= int(code) < 300:
            found = spec.response_schema(operation_id, int(code))
            if found:
                return found
    return None


def _single(spec: Spec, operation) -> bool:
    """A GET on the collection whose answer is one resource (a read by query), not a list of them."""
    schema = _success_schema(spec, operation.operation_id)
    if schema is None:
        return False
    node = spec.resolve(schema)
    if node.get("type") == "array":
        return False
    return not any(spec.deref(prop).get("type") == "array" for prop in (node.get("properties") or {}).values()
                   if isinstance(prop, dict)) or bool(spec.rules.machines_for(operation=operation.operation_id))


def _machine(spec: Spec, create_ids: list[str], item_ops) -> StateMachine | None:
    for operation_id in [*create_ids, *(op.operation_id for op in item_ops)]:
        found = spec.rules.machines_for(operation=operation_id)
        if found:
            return found[0][0]
    for operation_id in create_ids:
        for correlation in spec.rules.correlations_from(operation_id):
            found = spec.rules.machines_for(webhook=correlation.target_webhook)
            if found:
                return found[0][0]
    return None


def _keys(spec: Spec, create_ids: list[str], machine: StateMachine | None) -> dict[str, str]:
    """Key -> expression. A key the answer shows but an echo rule says comes from the request is the request's."""
    keys: dict[str, str] = {}
    for operation_id in create_ids:
        for correlation in spec.rules.correlations_from(operation_id):
            keys.update(correlation.source_keys)
        for resource in spec.rules.resources:
            if operation_id in resource.create:
                keys.update(resource.keys)
        echoed = {echo.response: echo.request for echo in spec.rules.echoes if operation_id in echo.operations}
        keys = {name: echoed.get(expression, expression) for name, expression in keys.items()}
    return keys


def _identity(spec: Spec, create_ids: list[str], machine: StateMachine | None, keys: dict[str, str],
              item_ops) -> tuple[str, str] | None:
    """(key name, expression) of the identity."""
    for resource in spec.rules.resources:
        if set(create_ids) & set(resource.create) and resource.identity in keys:
            return resource.identity, keys[resource.identity]
    if machine is not None:
        name = pointers.split(machine.identity)[-1] if machine.identity else None
        if name and name in keys:
            return name, keys[name]
        for operation_id in create_ids:
            records = machine.observed_by(operation=operation_id)
            if records is not None:
                return name or "id", f"$response.body#{records}{machine.identity}"
    properties = answer_properties(spec, create_ids[0])
    for operation in item_ops:
        parameter = _PARAMETER.search(operation.path).group(1)  # type: ignore[union-attr]
        if parameter in properties:
            return parameter, f"$response.body#{properties[parameter][0]}"
    echoed = {echo.response.partition("#")[2] for echo in spec.rules.echoes
              if set(create_ids) & set(echo.operations) and echo.response.startswith("$response.body#/")}
    ids = [k for k, (where, _) in properties.items() if k.lower().endswith("id") and where not in echoed
           and not _from_request(spec, create_ids[0], k)]
    candidates = [k for k in ids if properties[k][1].get("readOnly")] or [k for k in properties if k == "id"] or ids
    if candidates:
        return candidates[0], f"$response.body#{properties[candidates[0]][0]}"
    for name, expression in keys.items():
        return name, expression
    return None


def answer_properties(spec: Spec, operation_id: str, depth: int = 2) -> dict[str, tuple[str, dict]]:
    """Scalar properties of an operation's success answer by name: (pointer, schema); nested objects too
    (`{"paymentInitiationResponse": {"firmRootId": ...}}`), the shallowest place of a name winning."""
    schema = _success_schema(spec, operation_id)
    return _properties_by_name(spec, schema, depth) if schema else {}


def _properties_by_name(spec: Spec, pointer: str, depth: int) -> dict[str, tuple[str, dict]]:
    found: dict[str, tuple[str, dict]] = {}
    queue = [("", spec.resolve(pointer), 0)]
    while queue:
        where, node, level = queue.pop(0)
        for branch in [node, *(spec.deref(b) for b in node.get("allOf") or [] if isinstance(b, dict))]:
            for name, sub in (branch.get("properties") or {}).items() if isinstance(branch, dict) else ():
                sub = spec.deref(sub)
                if not isinstance(sub, dict):
                    continue
                place = f"{where}/{pointers.escape(name)}"
                if sub.get("type") == "object" or "properties" in sub:
                    if level < depth:
                        queue.append((place, sub, level + 1))
                elif sub.get("type") in ("string", "integer", None):
                    found.setdefault(name, (place, sub))
    return found


def _from_request(spec: Spec, operation_id: str, name: str) -> str | None:
    """The pointer of a same-named property in the request body (depth 4), when the client sends that value."""
    pointer = spec.request_schema(operation_id)
    if pointer is None:
        return None
    found = _properties_by_name(spec, pointer, 4).get(name)
    return found[0] if found else None
