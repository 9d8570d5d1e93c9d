"""A loaded spec: the document (as OpenAPI 3.1), its typed rules, its findings, and the views every consumer needs.

This is the one public way into a document: operations and callbacks by id, `$ref`s followed
(`deref`, `resolve`, `canonical`), the security an operation asks for, the schema of each request
and answer, validators that honour readOnly/writeOnly, and a Schemathesis schema. The checks, the
strategies, the callbacks sender and the mock read documents through it and nothing else.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .. import pointers
from .._errors import SpecError
from ..formats import format_checker
from ._findings import Finding
from ._rules import Rules

if TYPE_CHECKING:
    from ._resources import Kind
    from ._rules import StateMachine

Direction = Literal["request", "response", "any"]
"""Which side a schema is judged for: readOnly properties leave requests, writeOnly ones answers; "any" keeps both."""

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

MAX_REF_HOPS = 32


def strip_flagged(node: Any, flag: str, deref: Callable[[Any], Any] = lambda node: node) -> Any:
    """A copy where every property marked `flag` (readOnly/writeOnly) is forbidden and not required.

    OpenAPI: a writeOnly property is not sent in answers (and a readOnly one not in requests), even when
    `required` lists it. A property marked through its `$ref` (`accountNumber: {$ref: ...}` whose target
    is writeOnly) counts: `deref` follows it.
    """
    if isinstance(node, list):
        return [strip_flagged(item, flag, deref) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: strip_flagged(value, flag, deref) for key, value in node.items()}
    properties = result.get("properties")
    if isinstance(properties, dict):
        dropped = {name for name, schema in properties.items()
                   if isinstance(schema, dict) and _flagged(schema, flag, deref)}
        if dropped:
            result["properties"] = {k: (False if k in dropped else v) for k, v in properties.items()}
            if isinstance(result.get("required"), list):
                result["required"] = [name for name in result["required"] if name not in dropped]
    return result


def _flagged(schema: dict[str, Any], flag: str, deref: Callable[[Any], Any]) -> bool:
    if schema.get(flag) is True:
        return True
    try:
        target = deref(schema) if "$ref" in schema else schema
    except SpecError:
        return False
    return isinstance(target, dict) and target.get(flag) is True


@dataclass(frozen=True)
class Operation:
    """One operation the client calls, or one callback the provider sends (`webhook` set)."""

    operation_id: str
    method: str
    path: str
    """The path template under the base path ("/payments/{id}"); "" for a callback."""
    pointer: str
    """JSON pointer of the operation object in the document."""
    webhook: str | None = None
    """The callback's name (a 3.1 webhook's key, or an operation callback's name)."""
    callback_path: str = ""
    """For an operation callback, what its URL expression adds after the receiver's URL ("/status")."""
    owner: str | None = None
    """For an operation callback, the operationId of the operation whose resources it reports on."""

    @property
    def is_callback(self) -> bool:
        return self.webhook is not None


def _status_matches(documented: str, status: int) -> bool:
    documented = str(documented).upper()
    if documented == str(status):
        return True
    return len(documented) == 3 and documented.endswith("XX") and documented[0] == str(status)[0]


@dataclass(frozen=True, eq=False)
class Spec:
    """A loaded spec with its rules. Build it with `load_spec`."""

    name: str
    path: Path
    document: dict[str, Any]
    """The document as OpenAPI 3.1 (a 3.0 document is rewritten once by the loader)."""
    rules: Rules
    sha256: str
    findings: tuple[Finding, ...] = ()
    """What the loader found wrong with the document itself (warnings; the document is still usable)."""
    rules_path: Path | None = None
    """The rules table used (None: the generic rules only)."""
    source_version: str = "3.1.0"
    """The `openapi` version the file declared."""
    patterns: dict[str, str] = field(default_factory=dict, repr=False)
    """Rewritten pattern -> the pattern as the document wrote it (for messages)."""
    base_path: str = ""
    """The path every operation hangs under ("/api/v2"), from servers[0].url, relative or absolute."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- identity ---------------------------------------------------------------------------------------

    @property
    def prefix(self) -> str:
        """The rule-ID prefix of this API (OP, GP, PBB, OAUTH)."""
        return self.rules.prefix

    @property
    def title(self) -> str:
        return str((self.document.get("info") or {}).get("title") or self.name)

    @property
    def uri(self) -> str:
        return f"urn:payments-conformance:spec:{self.name}:{self.sha256[:12]}"

    def rule(self, template: str) -> str:
        """A generic rule ID for this API: "{P}-ERROR-SHAPE" -> "PBB-ERROR-SHAPE"."""
        return template.replace("{P}", self.prefix)

    # -- operations -------------------------------------------------------------------------------------

    @cached_property
    def operations(self) -> dict[str, Operation]:
        """Every operation and callback by operationId, in document order (callbacks without one by their name)."""
        found: dict[str, Operation] = {}
        for key, item in (self.document.get("paths") or {}).items():
            for method, operation in self._methods(item):
                escaped = pointers.escape(key)
                op_id = _operation_id(operation, f"{method}{key}")
                found[op_id] = Operation(op_id, method.upper(), key, f"/paths/{escaped}/{method}")
                for name, callback in (operation.get("callbacks") or {}).items():
                    callback = self.deref(callback)
                    for expression, callback_item in (callback or {}).items():
                        for cb_method, cb_operation in self._methods(self.deref(callback_item)):
                            cb_id = _operation_id(cb_operation, name)
                            if cb_id in found:
                                cb_id = f"{name}Callback"
                            pointer = (f"/paths/{escaped}/{method}/callbacks/{pointers.escape(name)}/"
                                       f"{pointers.escape(expression)}/{cb_method}")
                            found[cb_id] = Operation(cb_id, cb_method.upper(), "", pointer, webhook=name,
                                                     callback_path=_callback_suffix(expression), owner=op_id)
        for key, item in (self.document.get("webhooks") or {}).items():
            for method, operation in self._methods(self.deref(item)):
                op_id = _operation_id(operation, key)
                found[op_id] = Operation(op_id, method.upper(), "", f"/webhooks/{pointers.escape(key)}/{method}",
                                         webhook=key)
        return found

    def _methods(self, item: Any) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(item, dict):
            return []
        return [(m, item[m]) for m in HTTP_METHODS if isinstance(item.get(m), dict)]

    @cached_property
    def webhooks(self) -> dict[str, str]:
        """Callback name -> its operationId."""
        return {op.webhook: op_id for op_id, op in self.operations.items() if op.webhook}

    def operation(self, operation_id: str) -> dict[str, Any]:
        """The operation object."""
        return self.resolve(self.operations[operation_id].pointer)

    @cached_property
    def resources(self) -> list[Kind]:
        """The kinds of resource this API creates, with how its requests name them (`_resources`)."""
        from ._resources import infer_kinds

        return infer_kinds(self)

    def machine_states(self, machine: StateMachine) -> frozenset[str] | None:
        """The statuses of a state machine the document allows everywhere the machine's status is shown.

        A table may name a status the document has no value for (WAREHOUSED of seed 002 in the provider's
        Global Payments document): the mock never sends it there and the suites do not ask for it. None
        when no place restricts the values.
        """
        cache = self.__dict__.setdefault("_states_by_machine", {})
        if machine.id not in cache:
            cache[machine.id] = self._machine_states(machine)
        return cache[machine.id]

    def _machine_states(self, machine: StateMachine) -> frozenset[str] | None:
        allowed: set[str] | None = None
        for seen in machine.observed_in:
            if seen.webhook:
                operation_id = self.webhooks.get(seen.webhook)
                body = self.request_schema(operation_id) if operation_id else None
            else:
                status = next((int(c) for c in self.documented_statuses(seen.operation)
                               if c.isdigit() and 200 <= int(c) < 300), 200) if seen.operation in self.operations \
                    else 200
                body = self.response_schema(seen.operation, status) if seen.operation in self.operations else None
            place = self.schema_at(body, seen.records + machine.field_in(seen)) if body else None
            node = self.deref(self.resolve(place)) if place else None
            enum = node.get("enum") if isinstance(node, dict) else None
            if isinstance(enum, list):
                values = {value for value in enum if isinstance(value, str)}
                allowed = values if allowed is None else allowed & values
        return frozenset(allowed) if allowed is not None else None

    def client_operations(self) -> list[Operation]:
        """The operations a client calls (callbacks left out), in document order."""
        return [op for op in self.operations.values() if not op.webhook]

    # -- references -------------------------------------------------------------------------------------

    def deref(self, node: Any) -> Any:
        """The node a `{"$ref": "#/..."}` points at (followed until it is no reference); other nodes as they are."""
        for _ in range(MAX_REF_HOPS):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")):
                return node
            node = self.resolve(node["$ref"])
        raise SpecError(f"{self.path}: $ref chain longer than {MAX_REF_HOPS} hops")

    def resolve(self, pointer: str) -> Any:
        """The node at a JSON pointer ("#/components/..." or "/paths/..."), $refs followed on the way and at the end."""
        node: Any = self.document
        for part in pointers.split(pointer):
            node = self.deref(node)
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise SpecError(f"{self.path}: no node at {pointer}") from None
        return self.deref(node)

    def canonical(self, pointer: str) -> str:
        """The pointer ("#/...") of where the node really lives, every $ref on the way followed."""
        key = "canonical:" + pointer
        if key in self._cache:
            return self._cache[key]
        node: Any = self.document
        path: list[str] = []
        for part in pointers.split(pointer):
            for _ in range(MAX_REF_HOPS):
                if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                    break
                path = pointers.split(node["$ref"])
                node = self.resolve(node["$ref"])
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError):
                raise SpecError(f"{self.path}: no node at {pointer}") from None
            path.append(part)
        for _ in range(MAX_REF_HOPS):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str) and set(node) == {"$ref"}):
                break
            path = pointers.split(node["$ref"])
            node = self.resolve(node["$ref"])
        result = "#" + pointers.join(path)
        self._cache[key] = result
        return result

    def branches(self, pointer: str, conditional: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
        """A schema and every allOf/anyOf/oneOf branch below it (with `conditional`, then/else too), each once,
        at its canonical pointer."""

        def children(where: str, node: dict[str, Any]) -> Iterator[str]:
            for combinator in ("allOf", "anyOf", "oneOf"):
                yield from (f"{where}/{combinator}/{index}" for index, _ in enumerate(node.get(combinator) or []))
            for keyword in ("then", "else") if conditional else ():
                if isinstance(node.get(keyword), dict):
                    yield f"{where}/{keyword}"

        return self._walk(pointer, children)

    def subschemas(self, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every schema reachable from one (properties, items, branches), each once, at its canonical pointer."""

        def children(where: str, node: dict[str, Any]) -> Iterator[str]:
            yield from (f"{where}/properties/{pointers.escape(name)}" for name in node.get("properties") or {})
            if isinstance(node.get("items"), dict):
                yield f"{where}/items"
            for combinator in ("allOf", "anyOf", "oneOf"):
                yield from (f"{where}/{combinator}/{index}" for index, _ in enumerate(node.get(combinator) or []))

        return self._walk(pointer, children)

    def schema_at(self, schema: str, instance_pointer: str) -> str | None:
        """The canonical pointer of the subschema a place of an instance lands in ("*" steps into items), looking
        through allOf/anyOf/oneOf branches; None when the schema does not reach it."""
        current = schema
        for part in pointers.split(instance_pointer):
            following = None
            for where, node in self.branches(current):
                if part == "*" and isinstance(node.get("items"), dict):
                    following = f"{where}/items"
                elif part in (node.get("properties") or {}):
                    following = f"{where}/properties/{pointers.escape(part)}"
                if following:
                    break
            if following is None:
                return None
            current = following
        return self.canonical(current)

    def _walk(self, pointer: str, children: Callable[[str, dict[str, Any]], Iterator[str]]
              ) -> Iterator[tuple[str, dict[str, Any]]]:
        stack, seen = [pointer], set()
        while stack:
            where = self.canonical(stack.pop())
            if where in seen:
                continue
            seen.add(where)
            node = self.resolve(where)
            if isinstance(node, dict):
                yield where, node
                stack.extend(children(where, node))

    # -- security ---------------------------------------------------------------------------------------

    def security(self, operation_id: str) -> list[dict[str, list[str]]]:
        """The operation's security requirements (its own, else the document's); [] or [{}] means none needed."""
        node = self.operation(operation_id)
        requirements = node.get("security", self.document.get("security"))
        return list(requirements or [])

    def security_schemes(self, operation_id: str) -> dict[str, dict[str, Any]]:
        """Scheme name -> its definition, for the first requirement of the operation."""
        requirements = self.security(operation_id)
        if not requirements or not requirements[0]:
            return {}
        schemes = (self.document.get("components") or {}).get("securitySchemes") or {}
        return {name: self.deref(schemes.get(name) or {}) for name in requirements[0]}

    def required_scopes(self, operation_id: str) -> frozenset[str] | None:
        """The scopes a token must carry (empty for a bearer scheme without scopes); None when no token is needed."""
        requirements = self.security(operation_id)
        if not requirements or not requirements[0]:
            return None
        return frozenset(scope for scopes in requirements[0].values() for scope in scopes or ())

    # -- requests and answers ---------------------------------------------------------------------------

    def parameters(self, operation_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(canonical pointer, parameter) of every parameter (path item's, then the operation's overriding)."""
        key = "parameters:" + operation_id
        if key not in self._cache:
            pointer = self.operations[operation_id].pointer
            item_pointer = pointer.rsplit("/", 1)[0]
            found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
            for owner in (item_pointer, pointer):
                for index, _ in enumerate(self.resolve(owner).get("parameters") or []):
                    where = self.canonical(f"{owner}/parameters/{index}")
                    parameter = self.resolve(where)
                    if isinstance(parameter, dict) and "name" in parameter and "in" in parameter:
                        name = parameter["name"].lower() if parameter["in"] == "header" else parameter["name"]
                        found[(parameter["in"], name)] = (where, parameter)
            self._cache[key] = list(found.values())
        return self._cache[key]

    def request_body(self, operation_id: str) -> dict[str, Any]:
        return self.deref(self.operation(operation_id).get("requestBody") or {})

    def request_media(self, operation_id: str) -> dict[str, str]:
        """Media type -> canonical schema pointer of the request body ("" when a media type has no schema)."""
        key = "request:" + operation_id
        if key not in self._cache:
            pointer = self.operations[operation_id].pointer
            found = {}
            for media, content in (self.request_body(operation_id).get("content") or {}).items():
                has_schema = isinstance(content, dict) and "schema" in content
                found[media] = self.canonical(f"{pointer}/requestBody/content/{pointers.escape(media)}/schema") \
                    if has_schema else ""
            self._cache[key] = found
        return self._cache[key]

    def request_schema(self, operation_id: str) -> str | None:
        """Canonical pointer of the request (or callback) body schema: the JSON one, else the first."""
        media = self.request_media(operation_id)
        return next((p for m, p in media.items() if p and "json" in m), None) or next((p for p in media.values() if p),
                                                                                      None)

    def documented_statuses(self, operation_id: str) -> list[str]:
        return [str(code) for code in (self.operation(operation_id).get("responses") or {})]

    def response_key(self, operation_id: str, status: int) -> str | None:
        """The documented response key ("200", "4XX", "default") that covers a status, or None."""
        documented = self.documented_statuses(operation_id)
        for code in documented:
            if code == str(status):
                return code
        for code in documented:
            if _status_matches(code, status):
                return code
        return "default" if "default" in documented else None

    def response(self, operation_id: str, status: int) -> dict[str, Any]:
        code = self.response_key(operation_id, status)
        if code is None:
            return {}
        return self.resolve(f"{self.operations[operation_id].pointer}/responses/{pointers.escape(code)}")

    def response_media(self, operation_id: str, status: int) -> dict[str, str]:
        """Media type -> canonical schema pointer of the documented answer to a status ("" without a schema)."""
        key = f"media:{operation_id}:{status}"
        if key not in self._cache:
            found: dict[str, str] = {}
            code = self.response_key(operation_id, status)
            if code is not None:
                pointer = f"{self.operations[operation_id].pointer}/responses/{pointers.escape(code)}"
                for media, content in (self.resolve(pointer).get("content") or {}).items():
                    has_schema = isinstance(content, dict) and "schema" in content
                    found[media] = self.canonical(f"{pointer}/content/{pointers.escape(media)}/schema") \
                        if has_schema else ""
            self._cache[key] = found
        return self._cache[key]

    def response_schema(self, operation_id: str, status: int) -> str | None:
        media = self.response_media(operation_id, status)
        return next((p for m, p in media.items() if p and "json" in m), None) or next((p for p in media.values() if p),
                                                                                      None)

    def response_headers(self, operation_id: str, status: int) -> dict[str, dict[str, Any]]:
        headers = self.response(operation_id, status).get("headers") or {}
        return {name: self.deref(value) for name, value in headers.items()}

    def examples(self, operation_id: str) -> dict[str, Any]:
        """The request-body examples of an operation or callback, by example name (a lone `example` as "example")."""
        for media in (self.request_body(operation_id).get("content") or {}).values():
            if not isinstance(media, dict):
                continue
            found = {}
            for name, example in (media.get("examples") or {}).items():
                example = self.deref(example)
                if isinstance(example, dict) and "value" in example:
                    found[name] = example["value"]
            if not found and "example" in media:
                found["example"] = media["example"]
            return found
        return {}

    def example_request(self, operation_id: str, preferred: tuple[str, ...] = ()) -> Any:
        """The request example a scenario starts from: the first of `preferred` the document has, else its first.

        A rules table may name an example of ours and the provider's name for the same request, so it
        fits both documents; None when the operation has no example.
        """
        examples = self.examples(operation_id)
        chosen = next((examples[name] for name in preferred if name in examples), None)
        if chosen is None:
            chosen = next(iter(examples.values()), None)
        return copy.deepcopy(chosen)

    # -- validation -------------------------------------------------------------------------------------

    def _registry(self, direction: Direction) -> Registry:
        key = f"registry:{direction}"
        if key not in self._cache:
            if direction == "any":
                contents = self.document
            else:
                flag = "writeOnly" if direction == "response" else "readOnly"
                contents = strip_flagged(self.document, flag, self.deref)
            resource = Resource(contents=contents, specification=DRAFT202012)
            self._cache[key] = Registry().with_resource(self.uri, resource)
        return self._cache[key]

    def direction_document(self, direction: Direction) -> dict[str, Any]:
        """The document as one direction sees it: readOnly properties gone for requests, writeOnly for answers."""
        return self._registry(direction).contents(self.uri)

    def validator(self, pointer: str, direction: Direction = "response") -> Draft202012Validator:
        """A jsonschema validator for the schema at `pointer`, honouring readOnly/writeOnly for `direction`.

        For an answer, writeOnly properties (a card's PAN) are neither expected nor required; for a
        request, readOnly ones are. Formats are checked, the payment-domain ones included.
        """
        key = f"validator:{direction}:{pointer}"
        if key not in self._cache:
            where = self.canonical(pointer)
            ref = {"$ref": f"{self.uri}#{where.lstrip('#')}"}
            self._cache[key] = Draft202012Validator(
                ref, registry=self._registry(direction), format_checker=format_checker()
            )
        return self._cache[key]

    def schemathesis(self, base_url: str | None = None):
        """This spec as a Schemathesis schema (loaded from the same document, so both agree)."""
        import schemathesis

        schema = schemathesis.openapi.from_dict(copy.deepcopy(self.document))
        if base_url is not None:
            schema.config.update(base_url=base_url)
        return schema

    def display_pattern(self, pattern: str) -> str:
        """A pattern as the document wrote it (the loader rewrites Unicode property classes)."""
        return self.patterns.get(pattern, pattern)

    def __repr__(self) -> str:
        return f"<Spec {self.name} {self.path}>"


def _operation_id(operation: dict[str, Any], fallback: str) -> str:
    """The operationId, or a stand-in when the document gives none (or not a string: a finding says so)."""
    value = operation.get("operationId")
    return value if isinstance(value, str) and value else fallback


def _callback_suffix(expression: str) -> str:
    """What an operation callback's URL expression adds after the receiver's URL: "{client-url}/status" -> "/status"."""
    text = expression.strip()
    if text.startswith("{") and "}" in text:
        return text[text.index("}") + 1:]
    return ""
