"""Which rules an example breaks, according to the spec's own validators (Spec.validator).

Every jsonschema error is named the way the catalog names rules: `required:/a/b` for a missing
field, `conditional:ID` for an error under an if/then/else carrying an x-rule-id, `KEYWORD:/place`
otherwise; parameters are checked with their own schema and named `KEYWORD:location.name`. The
invalid strategies keep only the examples whose violations are exactly the rule they target, and
the tests use the same naming to prove it, so "breaks exactly that rule" has one meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from conformance import pointers

from ._catalog import Parameter, TargetModel, rule_name
from ._schema import raw


@dataclass(frozen=True)
class Violation:
    name: str
    """The rule broken, named as the catalog names it."""
    keyword: str
    """The JSON Schema keyword that failed."""
    at: str
    """Where the validator reported it: the instance's place, or `location.name` for a parameter."""


def _header(headers: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return _MISSING


_MISSING = object()


def parameter_value(example: Any, parameter: Parameter) -> Any:
    """The value an example carries for a parameter, or _MISSING."""
    if parameter.location == "header":
        return _header(example.headers or {}, parameter.name)
    container = example.query if parameter.location == "query" else example.path_parameters
    return (container or {}).get(parameter.name, _MISSING)


def violations(model: TargetModel, example: Any) -> list[Violation]:
    """Every rule the example breaks (an operation's Request, or a callback's body)."""
    found: list[Violation] = []
    if model.kind == "operation":
        for parameter in model.parameters:
            value = parameter_value(example, parameter)
            where = f"{parameter.location}.{parameter.name}"
            if value is _MISSING:
                if parameter.required:
                    found.append(Violation(rule_name("required", "", parameter), "required", where))
                continue
            validator = model.spec.validator(parameter.schema_pointer, "request")
            for error in validator.iter_errors(value):
                found.append(Violation(rule_name(error.validator, "", parameter), str(error.validator), where))
        body = example.body
    else:
        body = example
    if model.body_pointer is not None and body is not None:
        validator = model.spec.validator(model.body_pointer, model.direction)
        for error in validator.iter_errors(body):
            found.extend(_named(model, error))
    return list(dict.fromkeys(found))  # one error per missing field names them all; keep each once


def _named(model: TargetModel, error: ValidationError) -> list[Violation]:
    at = pointers.instance_pointer(list(error.absolute_path))
    keyword = str(error.validator)
    rule_id = _conditional(model, list(error.absolute_schema_path))
    if rule_id is not None:
        return [Violation(f"conditional:{rule_id}", keyword, at)]
    if keyword == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [Violation(rule_name("required", pointers.child(at, name)), keyword, at) for name in missing]
    return [Violation(rule_name(keyword, at), keyword, at)]


def _conditional(model: TargetModel, schema_path: list[Any]) -> str | None:
    """The x-rule-id of the if/then/else an error came from, replaying its schema path over the document.

    jsonschema leaves `$ref` out of schema paths, so a step the current node lacks follows its $ref.
    """
    document = model.spec.document
    node: Any = {"$ref": model.body_pointer}
    found = None
    for step in schema_path:
        while isinstance(node, dict) and step not in node and isinstance(node.get("$ref"), str):
            node = raw(document, "#" + node["$ref"].partition("#")[2])
        if step in ("then", "else") and isinstance(node, dict) and isinstance(node.get("x-rule-id"), str):
            found = node["x-rule-id"]
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return found
    return found
