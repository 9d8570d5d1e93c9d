"""Reading a YAML (or JSON) document safely: one clear line for every way a file can be unusable.

YAML aliases let a 400-byte file stand for billions of nodes ("billion laughs"): PyYAML builds them
as shared references, and the first copy or traversal expands them. The expanded size is counted
once, on the shared graph, before anything copies it; a document past the bound, or one that
refers to itself, is refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from .._errors import SpecError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_NODES = int(os.environ.get("CONFORMANCE_SPEC_MAX_NODES", "2000000"))
"""The most JSON nodes a document may expand to (the 372 KB published document has about 60,000)."""
MAX_DEPTH = 200
"""The deepest nesting a document may have (real schemas nest a few dozen levels at most)."""


def read_text(path: Path, what: str = "spec file") -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, not a {what}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror or exc}") from None


def parse(text: str, path: Path) -> Any:
    """The document in `text` (YAML or JSON), its alias expansion bounded."""
    try:
        document = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{path}: YAML syntax error{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: YAML error: {exc}") from None
    except RecursionError:
        raise SpecError(f"{path}: nested too deeply to read") from None
    _check_size(document, path)
    return document


def read(path: Path, what: str = "spec file") -> Any:
    return parse(read_text(path, what), path)


def _check_size(document: Any, path: Path) -> None:
    """Count the nodes the document expands to, memoised per shared node, without recursion."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(document, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        if not isinstance(node, dict | list):
            continue
        key = id(node)
        if done:
            on_path.discard(key)
            children = node.values() if isinstance(node, dict) else node
            sizes[key] = 1 + sum(sizes.get(id(c), 1) for c in children)
            if sizes[key] > MAX_NODES:
                raise SpecError(f"{path}: expands to more than {MAX_NODES:,} nodes (YAML aliases?); refused")
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise SpecError(f"{path}: a YAML alias refers to the node that contains it; refused")
        if depth > MAX_DEPTH:
            raise SpecError(f"{path}: nested more than {MAX_DEPTH} levels deep; refused")
        on_path.add(key)
        stack.append((node, depth, True))
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1, False) for child in children if isinstance(child, dict | list))
