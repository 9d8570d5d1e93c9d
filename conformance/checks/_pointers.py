"""JSON pointers with a `*` wildcard, and the OpenAPI runtime expressions the rules tables use.

A rules table says where a value lives ("$request.header.request-id", "$response.body#/amount",
"/callbacks/*/paymentStatus"); these helpers read it out of an exchange. Absent values are MISSING,
never None, because null is a value a provider can send.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""What a pointer or expression yields when nothing is there."""


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def split_pointer(pointer: str) -> list[str]:
    """"/a/b~1c" -> ["a", "b/c"]; "" -> []."""
    pointer = pointer.lstrip("#")
    if not pointer or pointer == "/":
        return []
    return [_unescape(part) for part in pointer.lstrip("/").split("/")]


def resolve_all(document: Any, pointer: str) -> list[Any]:
    """Every value at a pointer; a `*` segment fans out over the items of a list (or values of a dict)."""
    nodes = [document]
    for part in split_pointer(pointer):
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


def set_pointer(document: Any, pointer: str, value: Any) -> None:
    """Set a value in place, creating objects on the way (how a scenario's `when` is applied)."""
    parts = split_pointer(pointer)
    if not parts:
        raise ValueError("cannot replace the whole document through a pointer")
    node = document
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


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


def as_pointer(path: tuple[Any, ...] | list[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
