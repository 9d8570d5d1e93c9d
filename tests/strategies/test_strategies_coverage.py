"""Coverage: every spec, operation, callback, status and rule is reached, found by reading the specs here.

These tests enumerate the spec files themselves (not the package's catalog), so a new spec, a new
operation, a new status or a new constraint cannot slip in without a strategy for it.
"""

from __future__ import annotations

from typing import Any

import pytest
from strategies_support import at, body_schema_pointer, parameters

import strategies
from conformance import SPEC_NAMES, load_spec
from conformance._specs import iter_spec_files

SPECS = {name: load_spec(name) for name in SPEC_NAMES}
VALUE_KEYWORDS = {"enum", "const", "pattern", "format", "minLength", "maxLength", "minimum", "maximum",
                  "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "minProperties",
                  "maxProperties"}


def test_every_spec_file_is_bundled_and_has_targets() -> None:
    names = {path.name.removesuffix(".yaml") for path in iter_spec_files()}
    assert names == set(SPEC_NAMES), "a spec file is not in SPEC_NAMES, so the strategies never see it"
    assert {t.api for t in strategies.targets()} == names


@pytest.mark.parametrize("api", SPEC_NAMES)
def test_every_operation_and_callback_has_a_target_and_a_strategy(api: str) -> None:
    spec = SPECS[api]
    targets = {t.operation_id: t for t in strategies.targets(api)}
    for operation_id, operation in spec.operations.items():
        target = targets[operation_id]
        if operation.webhook:
            assert target.kind == "callback" and target.name == operation.webhook
            assert len(strategies.sample(strategies.callbacks(api, operation.webhook), 2)) == 2
        else:
            assert target.kind == "operation"
            assert len(strategies.sample(strategies.requests(api, operation_id), 2)) == 2


def _documented_rules(spec, node: Any, place: str, direction: str, found: set[str], trail: tuple = ()) -> None:
    """The rule names a schema documents, by walking it here ($ref, allOf, properties, items)."""
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        if node["$ref"] in trail:
            return
        _documented_rules(spec, spec.resolve(node["$ref"]), place, direction, found, (*trail, node["$ref"]))
    hidden = "readOnly" if direction == "request" else "writeOnly"
    shown = {name: sub for name, sub in (node.get("properties") or {}).items() if not sub.get(hidden)}
    for name in node.get("required") or []:
        if name in shown or name not in (node.get("properties") or {}):
            found.add(f"required:{place}/{name}")
    for keyword in VALUE_KEYWORDS & set(node):
        found.add(f"{keyword}:{place or '/'}")
    if node.get("additionalProperties") is False:
        found.add(f"additionalProperties:{place or '/'}")
    if "x-rule-id" in node and "if" in node:
        found.add(f"conditional:{node['x-rule-id']}")
    for sub in node.get("allOf") or []:
        _documented_rules(spec, sub, place, direction, found, trail)
    for name, sub in shown.items():
        _documented_rules(spec, sub, f"{place}/{name}", direction, found, trail)
    if isinstance(node.get("items"), dict):
        _documented_rules(spec, node["items"], f"{place}/*", direction, found, trail)


@pytest.mark.parametrize("api", SPEC_NAMES)
def test_every_documented_rule_has_an_invalid_variant(api: str) -> None:
    spec = SPECS[api]
    for target in strategies.targets(api):
        documented: set[str] = set()
        pointer = body_schema_pointer(spec, target.operation_id)
        if pointer is not None:
            direction = "response" if target.kind == "callback" else "request"
            _documented_rules(spec, spec.resolve(pointer), "", direction, documented)
        if target.kind == "operation":
            for parameter, schema_pointer in parameters(spec, target.operation_id):
                where = f"{parameter['in']}.{parameter['name']}"
                if parameter.get("required") and parameter["in"] != "path":
                    documented.add(f"required:{where}")
                schema = spec.resolve(schema_pointer)
                for keyword in VALUE_KEYWORDS & set(schema):
                    if not (parameter["in"] == "path" and keyword == "minLength" and schema[keyword] <= 1):
                        documented.add(f"{keyword}:{where}")
        missing = documented - set(target.rules)
        assert not missing, f"{api} {target.name}: documented rules without an invalid variant: {sorted(missing)}"
        for rule in target.rules:  # and each listed rule yields an example (the invalid tests check them in depth)
            assert strategies.invalid(api, target.name, rule) is not None


@pytest.mark.parametrize("api", [name for name in SPEC_NAMES if SPECS[name].rules.coverage])
def test_every_status_of_every_callback_is_generated(api: str) -> None:
    spec = SPECS[api]
    for entry in spec.rules.coverage:
        if not entry.webhook:
            continue
        statuses = set(spec.resolve(entry.schema)["enum"])
        seen: set[str] = set()
        for body in strategies.sample(strategies.callbacks(api, entry.webhook), 150, seed=31):
            seen.update(at(body, entry.field))
        assert seen == statuses, f"{entry.webhook}: never generated {sorted(statuses - seen)}"
