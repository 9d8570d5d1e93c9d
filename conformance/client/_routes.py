"""Which API and operation a request the client sent is: from the specs' base paths and path templates.

The proxy names every exchange it records this way, so that the client rules know what the client
meant to call. A path under an API's base path that matches none of its templates (or a method the
template does not take) is that API's, with no operation: the client rules say it is undocumented.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from .._specs import Spec


@dataclass(frozen=True)
class Route:
    api: str | None
    operation: str | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    token_endpoint: bool = False


def _pattern(template: str) -> tuple[re.Pattern[str], list[str]]:
    """"/api/v2/payments/{id}" -> a regex with one group per parameter, and the parameters' names in order."""
    parts = re.split(r"\{([^{}]+)\}", template)
    regex = "".join(re.escape(part) if index % 2 == 0 else "([^/]+)" for index, part in enumerate(parts))
    return re.compile(f"^{regex}$"), parts[1::2]


class Router:
    """Names requests by the operations of a set of specs."""

    def __init__(self, specs: Iterable[Spec]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        entries = []
        for spec in self.specs.values():
            for operation in spec.client_operations():
                pattern, names = _pattern(spec.base_path + operation.path)
                literal = len(re.sub(r"\{[^{}]+\}", "", operation.path))
                entries.append((literal, spec, operation.method, operation.operation_id, pattern, names))
        # Longer literal text first: /payments/status before /payments/{id}.
        self._entries = sorted(entries, key=lambda entry: -entry[0])
        self._bases = sorted(((spec.base_path, spec.name) for spec in self.specs.values()),
                             key=lambda item: -len(item[0]))

    def route(self, method: str, path: str) -> Route:
        path = path or "/"
        owner: str | None = None
        for _, spec, operation_method, operation_id, pattern, names in self._entries:
            match = pattern.match(path)
            if match is None:
                continue
            owner = owner or spec.name
            if operation_method == method.upper() or (method.upper() == "HEAD" and operation_method == "GET"):
                values = {name: urllib.parse.unquote(value) for name, value in zip(names, match.groups(), strict=True)}
                return Route(spec.name, operation_id, values, spec.rules.is_token_endpoint)
        if owner is None:
            owner = next((name for base, name in self._bases if base and (path + "/").startswith(base + "/")), None)
        return Route(owner)

    def token_path(self) -> str | None:
        """The path of the token endpoint (the spec whose rules table has role token-endpoint)."""
        for spec in self.specs.values():
            if spec.rules.is_token_endpoint:
                for operation in spec.client_operations():
                    return spec.base_path + operation.path
        return None
