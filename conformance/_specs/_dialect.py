"""One dialect for every consumer: OpenAPI 3.0 documents are rewritten as 3.1, once, when loaded.

Providers publish OpenAPI 3.0 (the Online Payments and Global Payments documents are 3.0.1 and
3.0.0); the checks, the strategies and the mock all read JSON Schema 2020-12 as OpenAPI 3.1 has it.
The differences that change what a schema means are rewritten here and nowhere else:

- `nullable: true` -> `null` added to `type` (and to `enum`, which would otherwise refuse it);
- boolean `exclusiveMinimum`/`exclusiveMaximum` -> the numeric form, taking `minimum`/`maximum`'s place;
- a schema's `example` -> `examples: [example]` (media types and parameters keep `example`: 3.1 has it there).

Everything else in 3.0 schemas already means the same in 2020-12. In every version, OpenAPI's integer
formats `int32` and `int64` bound the value (JSON Schema validators treat formats of numbers as
annotations): `bound_integer_formats` writes the bounds as `minimum`/`maximum` where none is given, so the
mock refuses, the checks judge and the strategies generate as Schemathesis and the provider read them.

`servers[0].url` gives the base path whether it is relative or absolute (`https://host/api/v2` ->
`/api/v2`), server variables taking their defaults.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_SCHEMA_KEYS_WITH_SCHEMA = ("items", "not", "additionalProperties", "additionalItems", "contains",
                            "propertyNames", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems")
_SCHEMA_KEYS_WITH_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_KEYS_WITH_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def version_of(document: dict[str, Any]) -> str:
    return str(document.get("openapi", ""))


def is_30(document: dict[str, Any]) -> bool:
    return version_of(document).startswith("3.0")


def to_31(document: dict[str, Any]) -> dict[str, Any]:
    """The same API as OpenAPI 3.1 (the document is changed in place and returned)."""
    for schema in _schemas_of(document):
        _normalise_schema(schema)
    document["openapi"] = "3.1.0"
    return document


def _normalise_schema(schema: Any) -> None:
    """Rewrite one schema object and every schema below it (iteratively: published schemas nest deeply)."""
    for node in _walk(schema):
        if node.get("nullable") is True:
            _allow_null(node)
        node.pop("nullable", None)
        for keyword, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(node.get(keyword), bool):
                if node.pop(keyword) and bound in node:
                    node[keyword] = node.pop(bound)
        if "example" in node and "examples" not in node:
            node["examples"] = [node.pop("example")]


_INTEGER_BOUNDS = {"int32": (-(2 ** 31), 2 ** 31 - 1), "int64": (-(2 ** 63), 2 ** 63 - 1)}


def bound_integer_formats(document: dict[str, Any]) -> None:
    """`minimum`/`maximum` from `format: int32|int64` on integer schemas that state no bound of their own."""
    for schema in _schemas_of(document):
        for node in _walk(schema):
            bounds = _INTEGER_BOUNDS.get(node.get("format")) if isinstance(node.get("format"), str) else None
            kinds = node.get("type")
            if bounds is None or not (kinds == "integer" or isinstance(kinds, list) and "integer" in kinds):
                continue
            if "minimum" not in node and "exclusiveMinimum" not in node:
                node["minimum"] = bounds[0]
            if "maximum" not in node and "exclusiveMaximum" not in node:
                node["maximum"] = bounds[1]


def _walk(schema: Any) -> list[dict[str, Any]]:
    """Every schema object from `schema` down (iteratively), each once."""
    found, stack, seen = [], [schema], set()
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        for key in _SCHEMA_KEYS_WITH_SCHEMA:
            if isinstance(node.get(key), dict):
                stack.append(node[key])
        for key in _SCHEMA_KEYS_WITH_LISTS:
            if isinstance(node.get(key), list):
                stack.extend(node[key])
        for key in _SCHEMA_KEYS_WITH_MAPS:
            if isinstance(node.get(key), dict):
                stack.extend(node[key].values())
        if isinstance(node.get("items"), list):
            stack.extend(node["items"])
    return found


def _allow_null(node: dict[str, Any]) -> None:
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        node["type"] = [*kind, "null"]
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    if "$ref" in node:
        ref = node.pop("$ref")
        node.setdefault("anyOf", []).extend([{"$ref": ref}, {"type": "null"}])


def _schemas_of(document: dict[str, Any]) -> list[Any]:
    """Every schema object of an OpenAPI document: components, parameters, bodies, responses, headers, callbacks."""
    found: list[Any] = []
    components = document.get("components") or {}
    found.extend((components.get("schemas") or {}).values())
    for parameter in (components.get("parameters") or {}).values():
        found.extend(_parameter_schemas(parameter))
    for header in (components.get("headers") or {}).values():
        found.extend(_parameter_schemas(header))
    for body in (components.get("requestBodies") or {}).values():
        found.extend(_content_schemas(body))
    for response in (components.get("responses") or {}).values():
        found.extend(_response_schemas(response))
    for callback in (components.get("callbacks") or {}).values():
        found.extend(_path_item_schemas_of_map(callback))
    found.extend(_path_item_schemas_of_map(document.get("paths")))
    found.extend(_path_item_schemas_of_map(document.get("webhooks")))
    return found


def _path_item_schemas_of_map(items: Any) -> list[Any]:
    found: list[Any] = []
    for item in (items or {}).values() if isinstance(items, dict) else ():
        if not isinstance(item, dict):
            continue
        for parameter in item.get("parameters") or []:
            found.extend(_parameter_schemas(parameter))
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation and "requestBody" not in operation:
                continue
            for parameter in operation.get("parameters") or []:
                found.extend(_parameter_schemas(parameter))
            found.extend(_content_schemas(operation.get("requestBody")))
            for response in (operation.get("responses") or {}).values():
                found.extend(_response_schemas(response))
            for callback in (operation.get("callbacks") or {}).values():
                found.extend(_path_item_schemas_of_map(callback))
    return found


def _parameter_schemas(parameter: Any) -> list[Any]:
    if not isinstance(parameter, dict):
        return []
    return [parameter["schema"]] if isinstance(parameter.get("schema"), dict) else _content_schemas(parameter)


def _content_schemas(holder: Any) -> list[Any]:
    if not isinstance(holder, dict):
        return []
    return [media["schema"] for media in (holder.get("content") or {}).values()
            if isinstance(media, dict) and isinstance(media.get("schema"), dict)]


def _response_schemas(response: Any) -> list[Any]:
    found = _content_schemas(response)
    if isinstance(response, dict):
        for header in (response.get("headers") or {}).values():
            found.extend(_parameter_schemas(header))
    return found


_VARIABLE = re.compile(r"\{([^{}]+)\}")


def base_path(document: dict[str, Any]) -> str:
    """The path every operation hangs under, from servers[0].url: "/api/v2" (also from an absolute URL); "" for "/"."""
    servers = document.get("servers") or [{"url": "/"}]
    server = servers[0] if isinstance(servers[0], dict) else {"url": "/"}
    variables = server.get("variables") or {}
    def default(match: re.Match[str]) -> str:
        return str((variables.get(match.group(1)) or {}).get("default", ""))

    url = _VARIABLE.sub(default, str(server.get("url", "/")))
    path = urlsplit(url).path if "://" in url else url
    return "/" + path.strip("/") if path.strip("/") else ""
