"""JSON pointers with a "*" segment for "every array item", as the rules tables write them.

The rules tables locate a callback's records ("/callbacks/*" or "" for the body itself) and, inside a
record, its status and identity ("/paymentStatus", "/firmRootId"). These helpers read and write there.
"""

from __future__ import annotations

from typing import Any


def _parts(pointer: str) -> list[str]:
    if not pointer or pointer == "/":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]


def select(document: Any, pointer: str) -> list[Any]:
    """Every node the pointer reaches ("*" fans out over array items); missing branches are skipped."""
    nodes = [document]
    for part in _parts(pointer):
        following: list[Any] = []
        for node in nodes:
            if part == "*" and isinstance(node, list):
                following.extend(node)
            elif isinstance(node, dict) and part in node:
                following.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                following.append(node[int(part)])
        nodes = following
    return nodes


def get(document: Any, pointer: str, default: Any = None) -> Any:
    """The single node at a pointer without "*", or `default`."""
    found = select(document, pointer)
    return found[0] if found else default


def put(document: dict[str, Any], pointer: str, value: Any) -> None:
    """Set the value at a pointer without "*", creating objects on the way."""
    parts = _parts(pointer)
    if not parts:
        raise ValueError("cannot replace the whole document")
    node: Any = document
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
