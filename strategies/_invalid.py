"""Invalid-by-rule examples: a valid example with exactly one documented rule broken.

For a rule, a valid example is drawn from a base in which the rule's field is present (and, for a
conditional, in which the condition holds or fails as the branch needs); then a few mutations that
break the rule's keyword are proposed (a field removed, a value just past a bound, a value off its
pattern or format, an unknown field added, a forbidden field added) and the spec's own validator
picks one whose violations are exactly that rule. Where the spec makes keywords of one field
inseparable (a pattern that restates the format), the example breaks them together and the Rule's
`keywords` lists each; nothing elsewhere in the example is ever broken.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from conformance import pointers
from conformance._errors import UsageError

from . import formats
from ._catalog import Rule, RuleDef, TargetModel
from ._generation import Overlay, presence
from ._judge import violations
from ._valid import Request, valid_strategy

UNKNOWN_FIELD = "unexpectedField"
"""Name of the field added to break a closed object (a suffix is drawn so it never clashes)."""

_BODY_CHARACTERS = " _#<>{}!%~.,;:*-aZ09é"
_HEADER_CHARACTERS = "_#<>{}!%~.,;:*@ aZ09"
_PATH_CHARACTERS = "_!~.,;:*@$aZ09"


def _value_candidates(draw: st.DrawFn, keyword: str, bound: Any, current: Any, alphabet: str) -> list[Any]:
    """Values of the current value's type that break `keyword` (the validator decides which break only it)."""
    found: list[Any] = []
    if keyword in ("enum", "const"):
        allowed = list(bound) if keyword == "enum" else [bound]
        if isinstance(current, str):
            found = [current.lower(), current + "_X", "UNKNOWN_VALUE", current[::-1], "x" + current]
        elif isinstance(current, bool):
            found = [not current]
        elif isinstance(current, int | float):
            numbers = [value for value in allowed if isinstance(value, int | float) and not isinstance(value, bool)]
            found = [max(numbers, default=0) + 1, min(numbers, default=0) - 1, current + 1000]
        return [value for value in found if value not in allowed]
    if keyword == "pattern" and isinstance(current, str):
        compiled = re.compile(bound)
        position = draw(st.integers(0, len(current)))
        found = [current[:position] + char + current[position:] for char in alphabet]
        if current:  # replacing a character keeps the length, so length bounds stay met
            spot = min(position, len(current) - 1)
            found += [current[:spot] + char + current[spot + 1:] for char in alphabet]
        found += [current.swapcase(), current * 2 + current[:1], "", current[:-1]]
        return [value for value in found if not compiled.search(value)]
    if keyword == "format":
        near = formats.invalid(str(bound))
        if near is None:
            return [f"not-a-{bound}", "?"]
        return [draw(near) for _ in range(4)]
    if keyword == "minLength" and isinstance(current, str) and bound >= 1:
        return [current[: bound - 1]]
    if keyword == "maxLength" and isinstance(current, str):
        filler = current[-1] if current else "a"
        return [current + filler * (bound + 1 - len(current)), (current or "a") * (bound + 1)]
    if keyword in ("minimum", "exclusiveMinimum") and isinstance(current, int | float):
        below = bound - 1 if isinstance(bound, int) else bound - 0.5
        return [bound, below] if keyword == "exclusiveMinimum" else [below, bound - 1000]
    if keyword in ("maximum", "exclusiveMaximum") and isinstance(current, int | float):
        above = bound + 1 if isinstance(bound, int) else bound + 0.5
        return [bound, above] if keyword == "exclusiveMaximum" else [above, bound + 1000]
    if keyword == "multipleOf" and isinstance(current, int | float):
        return [current + bound / 2, current + 1]
    if keyword == "minItems" and isinstance(current, list) and bound >= 1:
        return [current[: bound - 1]]
    if keyword == "maxItems" and isinstance(current, list) and current:
        return [current + [copy.deepcopy(current[-1]) for _ in range(bound + 1 - len(current))]]
    if keyword == "minProperties" and isinstance(current, dict) and bound >= 1:
        return [dict(list(current.items())[: bound - 1]), {}]
    if keyword == "maxProperties" and isinstance(current, dict):
        extra = {f"{UNKNOWN_FIELD}{index}": "x" for index in range(bound + 1 - len(current))}
        return [{**current, **extra}]
    return found


# -- applying a mutation to an example -----------------------------------------------------------


def _body_of(example: Any) -> Any:
    return example.body if isinstance(example, Request) else example


def _with_body(example: Any, body: Any) -> Any:
    return example.replace(body=body) if isinstance(example, Request) else body


def _pick_path(draw: st.DrawFn, body: Any, place: str, objects_only: bool = False) -> list[str | int] | None:
    """The concrete path of one existing value at `place` (one record, when the place runs through an array)."""
    paths = pointers.concrete_paths(body, place)
    if objects_only:
        paths = [path for path in paths if isinstance(pointers.get_path(body, path), dict)]
    if not paths:
        return None
    return paths[draw(st.integers(0, len(paths) - 1))] if len(paths) > 1 else paths[0]


def _parameter_container(example: Request, location: str) -> tuple[str, dict[str, Any]]:
    field = {"header": "headers", "query": "query", "path": "path_parameters"}[location]
    return field, dict(getattr(example, field) or {})


def _parameter_key(container: dict[str, Any], name: str, location: str) -> str | None:
    if location != "header":
        return name if name in container else None
    return next((key for key in container if key.lower() == name.lower()), None)


def _mutations(draw: st.DrawFn, model: TargetModel, definition: RuleDef, example: Any,
               donor: Any) -> list[tuple[Any, str]]:
    """(mutated example, branch keyword) proposals that break the rule's keyword."""
    proposals: list[tuple[Any, str]] = []
    if definition.parameter is not None:
        parameter = definition.parameter
        field, container = _parameter_container(example, parameter.location)
        key = _parameter_key(container, parameter.name, parameter.location)
        if definition.keyword == "required":
            if key is not None:
                del container[key]
            return [(example.replace(**{field: container}), "required")]
        if key is None:
            return []
        alphabet = _HEADER_CHARACTERS if parameter.location != "path" else _PATH_CHARACTERS
        for value in _value_candidates(draw, definition.keyword, definition.value, container[key], alphabet):
            if isinstance(value, str) and value != value.strip():
                continue  # HTTP clients strip surrounding whitespace from parameter values
            if parameter.location == "path" and value == "":
                continue  # an empty segment is another URL, not a bad id
            proposals.append((example.replace(**{field: {**container, key: value}}), definition.keyword))
        return proposals

    body = copy.deepcopy(_body_of(example))
    if definition.keyword == "required":
        path = _pick_path(draw, body, definition.place)
        if path is not None:
            pointers.delete_path(body, path)
            proposals.append((_with_body(example, body), "required"))
        return proposals
    if definition.keyword in ("additionalProperties", "unevaluatedProperties"):
        path = _pick_path(draw, body, definition.place, objects_only=True)
        if path is not None:
            holder = pointers.get_path(body, path)
            name = UNKNOWN_FIELD + draw(st.sampled_from(["", "1", "X", "_v2"]))
            holder[name] = draw(st.sampled_from(["unexpected", 42, True, None, {"nested": "value"}]))
            proposals.append((_with_body(example, body), definition.keyword))
        return proposals
    if definition.keyword == "if":
        branch, schema = draw(st.sampled_from(definition.branches))
        path = _pick_path(draw, body, definition.place, objects_only=True)
        if path is None:
            return proposals
        holder = pointers.get_path(body, path)
        if "required" in schema:
            for name in schema["required"]:
                holder.pop(name, None)
            proposals.append((_with_body(example, body), "required"))
        elif donor is not None:
            donor_body = _body_of(donor)
            donor_path = _pick_path(draw, donor_body, definition.place, objects_only=True)
            source = pointers.get_path(donor_body, donor_path) if donor_path is not None else {}
            for name in schema["not"]["required"]:
                if name in source:
                    holder[name] = copy.deepcopy(source[name])
            proposals.append((_with_body(example, body), "not"))
        return proposals
    path = _pick_path(draw, body, definition.place)
    if path is None:
        return proposals
    current = pointers.get_path(body, path)
    for value in _value_candidates(draw, definition.keyword, definition.value, current, _BODY_CHARACTERS):
        mutated = copy.deepcopy(body)
        if path:
            pointers.set_path(mutated, path, value)
        else:
            mutated = value
        proposals.append((_with_body(example, mutated), definition.keyword))
    return proposals


# -- choosing the example that breaks exactly the rule ----------------------------------------------


def _expected_at(definition: RuleDef) -> str:
    if definition.parameter is not None:
        return f"{definition.parameter.location}.{definition.parameter.name}"
    if definition.keyword == "required":
        return pointers.join(pointers.split(definition.place)[:-1])
    return definition.place


def _choose(model: TargetModel, definition: RuleDef, proposals: list[tuple[Any, str]]) -> tuple[Any, Rule] | None:
    """The first proposal breaking only the rule; else one breaking it with other keywords of the same field."""
    expected_at = _expected_at(definition)
    shared: tuple[Any, Rule] | None = None
    for example, branch_keyword in proposals:
        found = violations(model, example)
        names = {violation.name for violation in found}
        if names == {definition.name}:
            keywords = tuple(dict.fromkeys(v.keyword for v in found))
            keyword = branch_keyword if definition.keyword == "if" else definition.keyword
            return example, definition.rule(keyword, keywords)
        if (shared is None and definition.keyword != "if" and definition.name in names
                and all(v.at == expected_at and not v.name.startswith("conditional:") for v in found)):
            keywords = (definition.keyword, *sorted({v.keyword for v in found} - {definition.keyword}))
            shared = example, definition.rule(definition.keyword, keywords)
    return shared


# -- strategies ------------------------------------------------------------------------------------


def _implied(model: TargetModel, overlay: Overlay) -> bool:
    """True when the spec already demands what a presence overlay asks (so bases can be shared)."""
    wanted = json.loads(overlay.schema_json)
    schema = model.field_schema(overlay.place)
    if "required" in wanted:
        return set(wanted["required"]) <= set(schema.get("required") or [])
    return int(schema.get("minItems", 0)) >= int(wanted.get("minItems", 0))


def _base_overlays(model: TargetModel, definition: RuleDef,
                   branch: tuple[str, dict[str, Any]] | None = None) -> tuple[Overlay, ...]:
    if definition.parameter is not None:
        return ()
    overlays = tuple(overlay for overlay in presence(definition.place) if not _implied(model, overlay))
    if branch is not None:
        condition = definition.condition or {}
        overlays += (Overlay.of(definition.place, condition if branch[0] == "then" else {"not": condition}),)
    return overlays


def _donor_overlays(definition: RuleDef, branch: tuple[str, dict[str, Any]]) -> tuple[Overlay, ...]:
    """A base in which the fields the branch forbids are present (the other side of the condition)."""
    condition = definition.condition or {}
    other = condition if branch[0] == "else" else {"not": condition}
    names = branch[1].get("not", {}).get("required", [])
    overlays = presence(definition.place) + (Overlay.of(definition.place, other),)
    return overlays + tuple(Overlay.of(definition.place, {"required": [name]}) for name in names)


_cache: dict[tuple[int, str], SearchStrategy[tuple[Any, Rule]]] = {}


def rule_strategy(model: TargetModel, name: str) -> SearchStrategy[tuple[Any, Rule]]:
    """Examples breaking exactly the named rule of a target, each with the Rule it breaks."""
    definition = model.rules.get(name)
    if definition is None:
        raise UsageError(f"{model.api}: {model.name} has no rule {name!r} "
                         f"(`conformance examples --list --api {model.api}` lists its rules)")
    key = (id(model), name)
    if key in _cache:
        return _cache[key]
    if definition.keyword == "if":
        if not definition.branches:
            raise UsageError(f"{model.api}: {name} has no branch this package can break "
                             "(supported: required: [...] and not: {required: [...]})")
        strategies = [_branch_strategy(model, definition, branch) for branch in definition.branches]
        strategy = st.one_of(strategies)
    else:
        parameter = definition.parameter
        required = (f"{parameter.location}.{parameter.name}",) if parameter and not parameter.required else ()
        base = valid_strategy(model, _base_overlays(model, definition), required)
        strategy = _broken(model, definition, base, st.none())
    _cache[key] = strategy
    return strategy


def _branch_strategy(model: TargetModel, definition: RuleDef, branch: tuple[str, dict[str, Any]]
                     ) -> SearchStrategy[tuple[Any, Rule]]:
    one = dataclasses.replace(definition, branches=(branch,))
    # Where the condition must hold it may need a value a scenario triggers on (Hong Kong's debtor agent, a
    # push to card's CARD account): excluding trigger values there would leave nothing to draw.
    holds_in_base = branch[0] == "then"
    base = valid_strategy(model, _base_overlays(model, definition, branch), exclude_triggers=not holds_in_base)
    donor = (valid_strategy(model, _donor_overlays(definition, branch), exclude_triggers=holds_in_base)
             if "not" in branch[1] else st.none())
    return _broken(model, one, base, donor)


def _broken(model: TargetModel, definition: RuleDef, base: SearchStrategy[Any], donors: SearchStrategy[Any]
            ) -> SearchStrategy[tuple[Any, Rule]]:
    """Draw a base example (and a donor), propose mutations, keep the one the validator says breaks only the rule."""

    @st.composite
    def broken(draw: st.DrawFn) -> tuple[Any, Rule]:  # a closure: its repr stays short, unlike the schemas'
        example = draw(base)
        donor = draw(donors)
        chosen = _choose(model, definition, _mutations(draw, model, definition, example, donor))
        if chosen is None:
            reject()
        return chosen

    return broken()


def any_rule_strategy(model: TargetModel) -> SearchStrategy[tuple[Any, Rule]]:
    if not model.rules:
        raise UsageError(f"{model.api}: {model.name} has no documented rule to break")
    return st.one_of([rule_strategy(model, name) for name in model.rules])
