"""Invalid-by-rule examples break their rule and nothing else, judged by the spec's jsonschema validators."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from strategies_support import SETTINGS, body_schema_pointer, escape, header, parameters, place_of

import strategies
from conformance import SPEC_NAMES, load_spec

SPECS = {name: load_spec(name) for name in SPEC_NAMES}

def _distinct_rules() -> list[tuple[str, str, str]]:
    """(api, target, rule) for each distinct rule of each API, in the first operation or callback that has it.

    A rule is its keyword and place (`pattern:/accountHolder/billingAddress/city`) in a schema. Online
    Payments' 19 operations repeat their account holder, address and merchant schemas: of its 1,015 rules
    about 550 are the same place in the same schema as a rule of an earlier operation. Those are proven
    once (this module was about half of the whole test run); a rule at the same place in a schema that
    differs (a capture's `paymentMethodType` is not a payment's) is proven again.
    """
    seen: set[tuple[str, str, str]] = set()
    found = []
    for target in strategies.targets():
        for rule in target.rules:
            key = (target.api, rule, _schema_of(target, rule))
            if key not in seen:
                seen.add(key)
                found.append((target.api, target.name, rule))
    return found


def _schema_of(target, rule: str) -> str:
    """The schema a body rule's place has, as canonical JSON; for a parameter's rule, the target's name."""
    spec = SPECS[target.api]
    place = rule.partition(":")[2]
    pointer = body_schema_pointer(spec, target.operation_id) if place.startswith("/") else None
    if pointer is None:
        return target.name
    try:
        node = spec.schema_at(pointer, place)
        return json.dumps(spec.resolve(node) if isinstance(node, str) else node, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - a place the lookup cannot follow is simply not shared
        return target.name


RULES = _distinct_rules()


def _errors(spec, target, example: Any) -> list[tuple[str, str, bool]]:
    """(where, keyword, under a conditional) of every error, straight from jsonschema."""
    found = []
    if target.kind == "operation":
        for parameter, schema_pointer in parameters(spec, target.operation_id):
            where = f"{parameter['in']}.{parameter['name']}"
            values = example.query if parameter["in"] == "query" else example.path_parameters
            value = (header(example.headers, parameter["name"]) if parameter["in"] == "header"
                     else values.get(parameter["name"]))
            if value is None:
                if parameter.get("required"):
                    found.append((where, "required", False))
                continue
            found += [(where, str(e.validator), False)
                      for e in spec.validator(schema_pointer, "request").iter_errors(value)]
        body, direction = example.body, "request"
    else:
        body, direction = example, "response"
    pointer = body_schema_pointer(spec, target.operation_id)
    if pointer is not None and body is not None:
        for error in spec.validator(pointer, direction).iter_errors(body):
            conditional = _under_a_ruled_conditional(spec, pointer, list(error.absolute_schema_path))
            found.append((place_of(list(error.absolute_path)), str(error.validator), conditional))
    return found


def _under_a_ruled_conditional(spec, pointer: str, schema_path: list[Any]) -> bool:
    """True when the error comes from a `then`/`else` whose `if` carries an `x-rule-id`.

    A conditional without one only picks a field's format or bound (specs/README.md): its failure is that
    keyword's, as if the keyword stood beside the field.
    """
    branches = [index for index, part in enumerate(schema_path) if part in ("then", "else")]
    if not branches:
        return False
    holder = pointer + "".join(f"/{escape(str(part))}" for part in schema_path[:branches[-1]])
    return "x-rule-id" in spec.deref(spec.resolve(holder))


def _expected_place(rule) -> str:
    if rule.location != "body":
        return f"{rule.location}.{rule.pointer}"
    if rule.name.startswith("required:"):
        return rule.pointer.rsplit("/", 1)[0]  # jsonschema reports a missing field at its object
    return rule.pointer


@pytest.mark.parametrize(("api", "name", "rule_name"), RULES, ids=[f"{a}:{n}:{r}" for a, n, r in RULES])
def test_every_rule_has_examples_breaking_exactly_it(api: str, name: str, rule_name: str) -> None:
    spec = SPECS[api]
    target = next(t for t in strategies.targets(api) if t.name == name)
    examples = strategies.sample(strategies.invalid(api, name, rule_name), 2, seed=21)
    assert len(examples) == 2, "no invalid variant"
    for example, rule in examples:
        assert str(rule) == rule_name and rule.keyword in rule.keywords
        errors = _errors(spec, target, example)
        assert errors, f"{rule_name}: the example is valid"
        assert {place for place, _, _ in errors} == {_expected_place(rule)}, (rule_name, errors)
        if rule.rule_id:
            assert all(conditional for _, _, conditional in errors), errors
            assert {keyword for _, keyword, _ in errors} == {rule.keyword}
        else:
            assert not any(conditional for _, _, conditional in errors), errors
            assert {keyword for _, keyword, _ in errors} == set(rule.keywords), (rule_name, errors, rule.keywords)
        assert rule_name in strategies.violations(api, name, example)


@pytest.mark.parametrize("api", SPEC_NAMES)
def test_any_rule_pairs_each_example_with_the_rule_it_breaks(api: str) -> None:
    target = next(t for t in strategies.targets(api) if t.rules)

    @settings(SETTINGS, max_examples=30)
    @given(strategies.invalid(api, target.name))
    def check(pair) -> None:
        example, rule = pair
        assert rule.name in target.rules
        assert rule.name in strategies.violations(api, target.name, example)

    check()


def test_rules_carry_their_keyword_for_numbered_error_codes() -> None:
    """Pay By Bank maps keywords to numbered codes (rules table); every rule's keyword is in that table."""
    codes = SPECS["pay-by-bank"].rules.errors.codes
    for target in strategies.targets("pay-by-bank"):
        if target.kind != "operation":
            continue
        for rule_name in target.rules:
            for _, rule in strategies.sample(strategies.invalid("pay-by-bank", target.name, rule_name), 1, seed=22):
                assert rule.keyword in codes, rule


def test_both_branches_of_a_conditional_are_broken() -> None:
    rule = "conditional:PBB-PAYMENT-STATUS-MESSAGE-CONDITIONAL"
    pairs = strategies.sample(strategies.invalid("pay-by-bank", "payments", rule), 30, seed=23)
    by_keyword = {r.keyword: example for example, r in pairs}
    assert by_keyword["required"]["status"] == "FAILED" and "statusMessage" not in by_keyword["required"]
    assert by_keyword["not"]["status"] != "FAILED" and "statusMessage" in by_keyword["not"]


def test_unknown_rule_is_a_usage_error() -> None:
    from conformance import UsageError

    with pytest.raises(UsageError, match="has no rule"):
        strategies.invalid("pay-by-bank", "payments", "enum:/nope")
