"""Walking a spec's schema: which schema nodes apply at which place of a value.

A body schema is a tree of `$ref`, `allOf`, `properties` and `items`. Walking it yields, for every
place a value can have (a JSON pointer, "*" for array items), the schema nodes that apply there,
with their own pointer in the spec. The rules, the amount/currency pairs and the generation hints
are all read off this one walk, so they agree on what a place is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from conformance import pointers

Direction = Literal["request", "response"]


@dataclass(frozen=True)
class Node:
    """One schema node applying at one place of a value."""

    place: str
    """JSON pointer of the place in the value ("" is the whole value, "*" an array item)."""
    pointer: str
    """JSON pointer of the node in the spec ("#/components/schemas/Money")."""
    schema: dict[str, Any]


def raw(document: dict[str, Any], pointer: str) -> Any:
    """The node at a pointer, without following a final $ref (unlike Spec.resolve)."""
    node: Any = document
    for part in pointers.split(pointer.lstrip("#")):
        while isinstance(node, dict) and "$ref" in node and part not in node:
            node = raw(document, node["$ref"])
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def ref_pointer(reference: str) -> str:
    if not reference.startswith("#"):
        raise ValueError(f"only local $refs are supported, found {reference!r}")
    return reference


def hidden_flag(direction: Direction) -> str:
    """The flag marking properties absent in this direction: readOnly in requests, writeOnly in responses."""
    return "readOnly" if direction == "request" else "writeOnly"


def walk(document: dict[str, Any], pointer: str, direction: Direction, place: str = "") -> Iterator[Node]:
    """Every (place, schema node) under the schema at `pointer`, following $ref, allOf, properties, items.

    Conditions (if/then/else, not) are not entered: they say when a rule applies, they are not places.
    Properties hidden in this direction (readOnly in requests, writeOnly in responses) are skipped.
    """
    yield from _walk(document, pointer, direction, place, ())


def _walk(document: dict[str, Any], pointer: str, direction: Direction, place: str,
          trail: tuple[str, ...]) -> Iterator[Node]:
    if pointer in trail:  # a recursive schema: each place is walked once per path through it
        return
    trail = (*trail, pointer)
    schema = raw(document, pointer)
    if not isinstance(schema, dict):
        return
    yield Node(place, pointer, schema)
    if isinstance(schema.get("$ref"), str):
        yield from _walk(document, ref_pointer(schema["$ref"]), direction, place, trail)
    for index, _ in enumerate(schema.get("allOf") or []):
        yield from _walk(document, f"{pointer}/allOf/{index}", direction, place, trail)
    flag = hidden_flag(direction)
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and sub.get(flag) is True:
            continue
        yield from _walk(document, pointers.child(f"{pointer}/properties", name), direction,
                         pointers.child(place, name), trail)
    if isinstance(schema.get("items"), dict):
        yield from _walk(document, f"{pointer}/items", direction, f"{place}/*", trail)


def hidden_properties(schema: dict[str, Any], direction: Direction) -> set[str]:
    """Property names this node hides in this direction (dropped from `required` too, as validation does)."""
    flag = hidden_flag(direction)
    return {name for name, sub in (schema.get("properties") or {}).items() if isinstance(sub, dict) and sub.get(flag)}


def merged(nodes: list[Node], place: str) -> dict[str, Any]:
    """The keywords every node at a place states, merged (first wins); `required` lists are joined."""
    result: dict[str, Any] = {}
    required: list[str] = []
    for node in nodes:
        if node.place != place:
            continue
        for key, value in node.schema.items():
            if key == "required" and isinstance(value, list):
                required.extend(name for name in value if name not in required)
            elif key not in result:
                result[key] = value
    if required:
        result["required"] = required
    return result
