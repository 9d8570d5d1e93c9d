"""JSON pointers (RFC 6901) with a `*` wildcard, and the OpenAPI runtime expressions of the rules tables.

One module for the whole project: the loader, the checks, the strategies, the callbacks sender and
the mock all locate values the same way. A rules table says where a value lives
("$request.header.request-id", "$response.body#/amount", "/callbacks/*/paymentStatus"); a `*`
segment stands for every item of an array. Absent values are MISSING, never None, because null is
a value a peer can send.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:  # pickles (pytest-xdist, caches) keep the one instance
        return "MISSING"


MISSING: Any = _Missing()
"""What a pointer or expression yields when nothing is there."""


def escape(part: Any) -> str:
    """One segment, escaped for a pointer ("a/b" -> "a~1b")."""
    return str(part).replace("~", "~0").replace("/", "~1")


def unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def split(pointer: str) -> list[str]:
    """The unescaped segments of a pointer: "/a/b~1c" -> ["a", "b/c"]; "", "/", "#" and "#/" are the root."""
    pointer = pointer.lstrip("#")
    if not pointer or pointer == "/":
        return []
    return [unescape(part) for part in pointer.lstrip("/").split("/")]


def join(parts: list[Any] | tuple[Any, ...]) -> str:
    """Segments back to a pointer: ["a", "b/c"] -> "/a/b~1c"; [] -> ""."""
    return "".join("/" + escape(part) for part in parts)


def child(pointer: str, name: Any) -> str:
    return pointer + "/" + escape(name)


def display(pointer: str) -> str:
    """A pointer as messages show it: the root is "/"."""
    return pointer or "/"


def instance_pointer(path: list[Any] | tuple[Any, ...]) -> str:
    """A validation error's instance path as a rules-table pointer: array indexes become "*"."""
    return join(["*" if isinstance(part, int) else part for part in path])


# -- reading ------------------------------------------------------------------------------------------------


def resolve_all(document: Any, pointer: str) -> list[Any]:
    """Every value at a pointer; a `*` segment fans out over the items of a list (or the values of a dict)."""
    nodes = [document]
    for part in split(pointer):
        following: list[Any] = []
        for node in nodes:
            if part == "*":
                if isinstance(node, list):
                    following.extend(node)
                elif isinstance(node, dict):
                    following.extend(node.values())
            elif isinstance(node, dict):
                if part in node:
                    following.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                following.append(node[int(part)])
        nodes = following
    return nodes


def resolve(document: Any, pointer: str) -> Any:
    """The single value at a pointer (the first one for a `*` pointer), or MISSING."""
    found = resolve_all(document, pointer)
    return found[0] if found else MISSING


def resolve_split(document: Any, parts: tuple[str, ...] | list[str]) -> Any:
    """The value at an already split pointer without wildcards, or MISSING (the hot path of the mock)."""
    node = document
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                return MISSING
            node = node[part]
        elif isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return node


def locations(value: Any, pointer: str) -> Iterator[tuple[Any, str | int]]:
    """(container, key) for every place the pointer reaches whose parent exists (the key itself may not)."""
    parts = split(pointer)
    if parts:
        yield from _walk(value, parts)


def _walk(node: Any, parts: list[str]) -> Iterator[tuple[Any, str | int]]:
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, list):
            for index in range(len(node)):
                if rest:
                    yield from _walk(node[index], rest)
                else:
                    yield node, index
        return
    if isinstance(node, dict):
        if not rest:
            yield node, head
        elif head in node:
            yield from _walk(node[head], rest)
    elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
        if not rest:
            yield node, int(head)
        else:
            yield from _walk(node[int(head)], rest)


def first_location(value: Any, pointer: str) -> tuple[Any, str | int] | None:
    for container, key in locations(value, pointer):
        return container, key
    return None


def concrete_paths(value: Any, pointer: str) -> list[list[str | int]]:
    """The concrete paths (keys and indexes) of every existing value at the pointer ("*" fans out)."""
    found: list[list[str | int]] = []

    def walk(node: Any, parts: list[str], path: list[str | int]) -> None:
        if not parts:
            found.append(path)
            return
        head, rest = parts[0], parts[1:]
        if head == "*" and isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, rest, [*path, index])
        elif isinstance(node, dict) and head in node:
            walk(node[head], rest, [*path, head])
        elif isinstance(node, list) and head.isdigit() and int(head) < len(node):
            walk(node[int(head)], rest, [*path, int(head)])

    walk(value, split(pointer), [])
    return found


def leaves(document: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar in a JSON document with its path."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from leaves(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from leaves(value, (*path, index))
    else:
        yield path, document


# -- writing ------------------------------------------------------------------------------------------------


def set_value(document: Any, pointer: str, value: Any) -> None:
    """Set a value in place, creating objects on the way (how a scenario's `when` is applied)."""
    parts = split(pointer)
    if not parts:
        raise ValueError("cannot replace the whole document through a pointer")
    node = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def get_path(value: Any, path: list[str | int]) -> Any:
    for step in path:
        value = value[step]
    return value


def set_path(value: Any, path: list[str | int], new: Any) -> None:
    get_path(value, path[:-1])[path[-1]] = new


def delete_path(value: Any, path: list[str | int]) -> None:
    del get_path(value, path[:-1])[path[-1]]


# -- runtime expressions ------------------------------------------------------------------------------------


def header(headers: Mapping[str, Any], name: str) -> Any:
    """A header by case-insensitive name, or MISSING."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return MISSING


def evaluate(expression: str, *, request: Mapping[str, Any], response: Any = MISSING) -> list[Any]:
    """Values of a runtime expression against one exchange.

    `request` holds "headers", "query", "path" and "body"; `response` is the parsed response body.
    A `*` in a body pointer gives several values; a missing value gives an empty list.
    """
    if expression.startswith("$request.body"):
        return resolve_all(request.get("body", MISSING), expression.partition("#")[2])
    if expression.startswith("$response.body"):
        return resolve_all(response, expression.partition("#")[2])
    for prefix, key in (("$request.header.", "headers"), ("$request.query.", "query"), ("$request.path.", "path")):
        if expression.startswith(prefix):
            name = expression[len(prefix):]
            container = request.get(key) or {}
            value = header(container, name) if key == "headers" else container.get(name, MISSING)
            return [] if value is MISSING else [value]
    raise ValueError(f"not a runtime expression: {expression}")


def evaluate_one(expression: str, *, request: Mapping[str, Any], response: Any = MISSING) -> Any:
    found = evaluate(expression, request=request, response=response)
    return found[0] if found else MISSING


def expression_source(expression: str) -> tuple[str, str]:
    """Where an expression reads: ("body", "/p"), ("response", "/p"), ("header", "name"), ("query"|"path", "name")."""
    if expression.startswith("$request.body"):
        return "body", expression.partition("#")[2]
    if expression.startswith("$response.body"):
        return "response", expression.partition("#")[2]
    for prefix, kind in (("$request.header.", "header"), ("$request.query.", "query"), ("$request.path.", "path")):
        if expression.startswith(prefix):
            return kind, expression[len(prefix):]
    raise ValueError(f"not a runtime expression: {expression}")
