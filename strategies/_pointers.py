"""JSON pointers over generated values, with "*" standing for every array item (the rules tables' notation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def split(pointer: str) -> list[str]:
    """The unescaped segments of a pointer ("" and "/" are the root)."""
    if pointer in ("", "/"):
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]


def join(parts: list[str] | tuple[str, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def child(pointer: str, name: str) -> str:
    return pointer + "/" + name.replace("~", "~0").replace("/", "~1")


def display(pointer: str) -> str:
    """A pointer as rule names show it: the root is "/"."""
    return pointer or "/"


def locations(value: Any, pointer: str) -> Iterator[tuple[Any, str | int]]:
    """(container, key) for every place the pointer reaches in `value` whose parent exists."""
    parts = split(pointer)
    if not parts:
        return
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


def values(value: Any, pointer: str) -> list[Any]:
    """Every value present at the pointer ("*" fans out)."""
    if not split(pointer):
        return [value]
    found = []
    for container, key in locations(value, pointer):
        if isinstance(container, dict) and key in container:
            found.append(container[key])
        elif isinstance(container, list):
            found.append(container[key])
    return found


def first_location(value: Any, pointer: str) -> tuple[Any, str | int] | None:
    for container, key in locations(value, pointer):
        return container, key
    return None


def instance_pointer(path: list[str | int] | tuple[str | int, ...]) -> str:
    """A jsonschema error path as a rules-table pointer: array indexes become "*"."""
    return join(["*" if isinstance(part, int) else part for part in path])


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

    walk(value, split(pointer), [])
    return found


def get_path(value: Any, path: list[str | int]) -> Any:
    for step in path:
        value = value[step]
    return value


def set_path(value: Any, path: list[str | int], new: Any) -> None:
    get_path(value, path[:-1])[path[-1]] = new


def delete_path(value: Any, path: list[str | int]) -> None:
    del get_path(value, path[:-1])[path[-1]]
