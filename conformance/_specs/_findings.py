"""Findings about a document itself: where the provider's own document contradicts itself.

Published documents have defects (examples that break their own schemas, `$ref`s to nothing,
required fields the same schema marks writeOnly, patterns no engine can compile). None of them
stops the suite: the loader mends what it must so every consumer can run (a dangling `$ref` becomes
a schema that accepts anything, an uncompilable pattern is dropped), and says so here, with the
location, so nobody blames the provider's sandbox for the document's own defects. `conformance specs`
prints them; every certification report carries them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .. import pointers
from . import _patterns

if TYPE_CHECKING:
    from ._spec import Spec

Severity = Literal["warning", "error"]

MAX_PER_KIND = 200
"""Findings of one kind kept per document (a systematic defect would otherwise drown the rest)."""


@dataclass(frozen=True)
class Finding:
    """One inconsistency of a document, at a JSON pointer ("#/components/schemas/address/properties/city/pattern")."""

    kind: str
    location: str
    message: str
    severity: Severity = "warning"

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "location": self.location, "message": self.message, "severity": self.severity}


def _where(path: list[Any]) -> str:
    return "#" + pointers.join(path)


# -- mending while loading ------------------------------------------------------------------------------------


def mend_refs(document: dict[str, Any]) -> list[Finding]:
    """Replace every `$ref` that resolves to nothing (or outside the document) by a node accepting anything."""
    found: list[Finding] = []
    for path, node in _nodes(document):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str):
            continue
        if not ref.startswith("#"):
            problem = f"$ref {ref!r} points outside the document (not supported); treated as an empty schema"
        elif pointers.resolve(document, ref[1:]) is pointers.MISSING and ref not in ("#", "#/"):
            problem = f"$ref {ref!r} points at nothing; treated as an empty schema"
        else:
            continue
        found.append(Finding("dangling-ref", _where(path), problem))
        node.clear()
        node["x-dangling-ref"] = ref
    return found


def mend_patterns(document: dict[str, Any], originals: dict[str, str]) -> list[Finding]:
    """Rewrite Unicode property classes in every schema `pattern`; drop (and report) what cannot compile."""
    found: list[Finding] = []
    for path, node in _nodes(document):
        if not isinstance(node, dict) or not isinstance(node.get("pattern"), str) or not _in_schema(path):
            continue
        original = node["pattern"]
        try:
            rewritten = _patterns.translate(original)
            _patterns.compile_check(rewritten)
        except _patterns.PatternError as exc:
            del node["pattern"]
            node["x-unusable-pattern"] = original
            found.append(Finding("pattern", _where([*path, "pattern"]),
                                 f"pattern {original!r} cannot be used ({exc}); not enforced"))
            continue
        if rewritten != original:
            node["pattern"] = rewritten
            originals[rewritten] = original
    for path, node in _nodes(document):
        fmt = node.get("format") if isinstance(node, dict) and _in_schema(path) else None
        if isinstance(fmt, str) and any(ch in fmt for ch in "^$[]*+\\"):
            found.append(Finding("format", _where([*path, "format"]),
                                 f"format {fmt!r} looks like a regular expression (meant as `pattern`?); not enforced"))
    return found


def mend_keys(document: dict[str, Any]) -> list[Finding]:
    """Mapping keys that are not strings (YAML reads `on:`, `yes:`, `404:` as booleans and numbers) become the
    strings JSON would have; a boolean key is reported, since its original spelling is lost."""
    found: list[Finding] = []
    for path, node in list(_nodes(document)):
        if not isinstance(node, dict) or all(isinstance(key, str) for key in node):
            continue
        for key in [key for key in node if not isinstance(key, str)]:
            text = str(key).lower() if isinstance(key, bool) else str(key)
            node[text] = node.pop(key)
            if isinstance(key, bool):
                found.append(Finding("key", _where([*path, text]),
                                     f"a key YAML reads as the boolean {key} (`on`, `yes`, ...); read as {text!r}"))
    return found


def stray_keys(document: dict[str, Any]) -> list[Finding]:
    """Keys with no value whose name is a phrase: what `{description: a, b}` in a YAML flow mapping leaves
    (the description cut at the comma, the rest become keys). Reported; harmless to every consumer."""
    found: list[Finding] = []
    for path, node in _nodes(document):
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None and isinstance(key, str) and " " in key.strip() and not key.startswith("x-"):
                    found.append(Finding("yaml", _where([*path, key]), f"a key with no value, {key[:60]!r}: "
                                         "a description cut at an unquoted comma in a YAML flow mapping?"))
    return found


def mend_parameters(document: dict[str, Any]) -> list[Finding]:
    """A parameter with neither `schema` nor `content` (OpenAPI requires one) is read as a string, and reported."""
    found: list[Finding] = []
    for path, node in _nodes(document):
        if not (isinstance(node, dict) and isinstance(node.get("name"), str) and node.get("in") in (
                "query", "header", "path", "cookie")):
            continue
        if "schema" not in node and "content" not in node and _in_schema(path):
            node["schema"] = {"type": "string"}
            found.append(Finding("parameter", _where(path),
                                 f"parameter {node['name']!r} has no schema; read as a string"))
    return found


def _in_schema(path: list[Any]) -> bool:
    """Whether a node sits where a schema keyword means something (not inside an example value)."""
    return not any(part in ("example", "examples", "x-examples") for part in path)


def _nodes(document: Any) -> Iterator[tuple[list[Any], Any]]:
    stack: list[tuple[list[Any], Any]] = [([], document)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            stack.extend(([*path, key], value) for key, value in reversed(list(node.items()))
                         if isinstance(value, dict | list))
        elif isinstance(node, list):
            stack.extend(([*path, index], value) for index, value in reversed(list(enumerate(node)))
                         if isinstance(value, dict | list))


# -- consistency of the loaded document -----------------------------------------------------------------------


def consistency(spec: Spec) -> list[Finding]:
    """Examples that break their own schemas, and required properties a direction can never carry."""
    found: list[Finding] = []
    counts: dict[str, int] = {}
    for finding in [*_examples(spec), *_flag_conflicts(spec), *_auth_statuses(spec)]:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
        if counts[finding.kind] <= MAX_PER_KIND:
            found.append(finding)
    return list(dict.fromkeys(found))


def _examples(spec: Spec) -> Iterator[Finding]:
    for operation_id, operation in spec.operations.items():
        node = spec.operation(operation_id)
        request_direction = "response" if operation.webhook else "request"
        media = spec.request_media(operation_id)
        body = spec.request_body(operation_id)
        for media_type, schema in media.items():
            content = (body.get("content") or {}).get(media_type) or {}
            base = f"{operation.pointer}/requestBody/content/{pointers.escape(media_type)}"
            yield from _media_examples(spec, content, schema, base, request_direction)
        for code in spec.documented_statuses(operation_id):
            response = spec.deref((node.get("responses") or {}).get(code) or {})
            for media_type, content in (response.get("content") or {}).items():
                if not isinstance(content, dict) or "schema" not in content:
                    continue
                base = f"{operation.pointer}/responses/{pointers.escape(code)}/content/{pointers.escape(media_type)}"
                schema = spec.canonical(f"{base}/schema")
                direction = "request" if operation.webhook else "response"
                yield from _media_examples(spec, content, schema, base, direction)
        for where, parameter in spec.parameters(operation_id):
            if "schema" not in parameter:
                continue
            schema = spec.canonical(f"{where}/schema")
            values = [(f"{where}/example", parameter["example"])] if "example" in parameter else []
            for name, example in (parameter.get("examples") or {}).items():
                example = spec.deref(example)
                if isinstance(example, dict) and "value" in example:
                    values.append((f"{where}/examples/{pointers.escape(name)}/value", example["value"]))
            for location, value in values:
                yield from _judge(spec, schema, value, location, "request")
    for name, schema in ((spec.document.get("components") or {}).get("schemas") or {}).items():
        yield from _schema_examples(spec, f"#/components/schemas/{pointers.escape(name)}", schema)


def _media_examples(spec: Spec, content: dict[str, Any], schema: str, base: str, direction: str) -> Iterator[Finding]:
    if not schema:
        return
    if "example" in content:
        yield from _judge(spec, schema, content["example"], f"#{base}/example", direction)
    for name, example in (content.get("examples") or {}).items():
        target = example.get("$ref") if isinstance(example, dict) else None
        example = spec.deref(example)
        if isinstance(example, dict) and "value" in example:
            location = f"#{base}/examples/{pointers.escape(name)}/value"
            if target:
                location += f" ({target})"
            yield from _judge(spec, schema, example["value"], location, direction)


def _schema_examples(spec: Spec, pointer: str, schema: Any) -> Iterator[Finding]:
    """`examples` written on a schema or any of its properties, judged against that schema as written."""
    stack = [(pointer, schema)]
    while stack:
        where, node = stack.pop()
        if not isinstance(node, dict) or "$ref" in node:
            continue
        for index, value in enumerate(node.get("examples") or [] if isinstance(node.get("examples"), list) else []):
            yield from _judge(spec, where, value, f"{where}/examples/{index}", "any")
        for name, sub in (node.get("properties") or {}).items():
            stack.append((f"{where}/properties/{pointers.escape(name)}", sub))
        if isinstance(node.get("items"), dict):
            stack.append((f"{where}/items", node["items"]))
        for combinator in ("allOf", "anyOf", "oneOf"):
            for index, sub in enumerate(node.get(combinator) or []):
                stack.append((f"{where}/{combinator}/{index}", sub))


def _judge(spec: Spec, schema: str, value: Any, location: str, direction: str) -> Iterator[Finding]:
    try:
        validator = spec.validator(schema, direction)  # type: ignore[arg-type]
        errors = list(validator.iter_errors(value))
    except Exception as exc:  # noqa: BLE001 - a schema jsonschema cannot use is itself a finding
        yield Finding("schema", location, f"the schema at {schema} cannot be used to judge it: {_one_line(exc)}")
        return
    for error in errors[:3]:
        inside = pointers.join(list(error.absolute_path)) or "/"
        if error.schema is False:  # a property this direction forbids (jsonschema reports it at its parent)
            parent = pointers.resolve(value, inside) if inside != "/" else value
            names = [k for k, v in parent.items() if v is error.instance] if isinstance(parent, dict) else []
            place = f"{inside.rstrip('/')}/{names[0]}" if names else inside
            flag = "writeOnly" if direction == "response" else "readOnly"
            side = "answers" if direction == "response" else "requests"
            yield Finding("example", location, f"example carries {place}, which is {flag}: {side} must not carry it")
            continue
        yield Finding("example", location, f"example breaks its own schema at {inside}: {_one_line(error.message)}")
    if not errors:
        for inside, names in _undeclared(spec, schema, value):
            yield Finding("example", location, f"example carries fields its schema does not declare at "
                                               f"{inside or '/'}: {', '.join(sorted(names))}")


def _undeclared(spec: Spec, schema: str, value: Any, inside: str = "", depth: int = 0) -> Iterator[tuple[str, set]]:
    """Object keys an (open) schema does not name: valid, but in an example a sign it documents something else."""
    if depth > 20 or not isinstance(value, dict | list):
        return
    branches = list(spec.branches(schema))
    if isinstance(value, list):
        items = [f"{where}/items" for where, node in branches if isinstance(node.get("items"), dict)]
        for index, item in enumerate(value):
            for pointer in items[:1]:
                yield from _undeclared(spec, pointer, item, f"{inside}/{index}", depth + 1)
        return
    declared: dict[str, str] = {}
    open_ended = False
    for where, node in branches:
        for name in node.get("properties") or {}:
            declared.setdefault(name, f"{where}/properties/{pointers.escape(name)}")
        if node.get("patternProperties") or isinstance(node.get("additionalProperties"), dict):
            open_ended = True
    if not declared:
        return
    unknown = set(value) - set(declared)
    if unknown and not open_ended:
        yield inside, unknown
    for name, pointer in declared.items():
        if name in value:
            yield from _undeclared(spec, pointer, value[name], f"{inside}/{pointers.escape(name)}", depth + 1)


def _auth_statuses(spec: Spec) -> Iterator[Finding]:
    """Secured operations that document no answer for a missing or bad credential."""
    for operation in spec.client_operations():
        if not spec.security(operation.operation_id) or not any(spec.security(operation.operation_id)):
            continue
        status = spec.rules.errors.auth_status("missing_token")
        if spec.response_key(operation.operation_id, status) is None:
            yield Finding("auth-status", f"#{operation.pointer}/responses",
                          f"{operation.operation_id} requires credentials but documents no {status} answer; "
                          "refusals of bad credentials are judged by the AUTH-ENFORCED rule only")


def _flag_conflicts(spec: Spec) -> Iterator[Finding]:
    """Required properties marked writeOnly in a schema an answer uses (or readOnly in one a request uses)."""
    used: dict[str, set[str]] = {}
    for operation_id, operation in spec.operations.items():
        request_pointer = spec.request_schema(operation_id)
        if request_pointer:
            used.setdefault(request_pointer, set()).add("response" if operation.webhook else "request")
        for code in spec.documented_statuses(operation_id):
            if code.isdigit() and int(code) < 400:
                pointer = spec.response_schema(operation_id, int(code))
                if pointer:
                    used.setdefault(pointer, set()).add("request" if operation.webhook else "response")
    reported: set[tuple[str, str]] = set()
    for root, directions in used.items():
        for where, node in spec.subschemas(root):
            required = node.get("required") if isinstance(node.get("required"), list) else []
            for name in required:
                prop = spec.deref((node.get("properties") or {}).get(name) or {})
                if not isinstance(prop, dict):
                    continue
                for direction, flag, text in (("response", "writeOnly", "answers"),
                                              ("request", "readOnly", "requests")):
                    if direction in directions and prop.get(flag) is True and (where, name) not in reported:
                        reported.add((where, name))
                        yield Finding("read-write", f"{where}/required",
                                      f"{name!r} is required but {flag}, and the schema is used in {text}: "
                                      f"{text} are not required to carry it")


def _one_line(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:300] + "..."
