"""Which webhook a callback belongs to, decided from the specs.

A sink registered per webhook receives on `/callbacks/{api}/{webhook}` and the path says it. A provider
that posts every callback to one URL (as the embedded mock and many sandboxes do) leaves the body to
tell: the webhook whose schema the body fits best (fewest top-level required properties missing, then
fewest schema failures) wins. Nothing here names an API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._specs import Spec
from ..checks import view

PREFIX = "/callbacks"


@dataclass(frozen=True)
class Route:
    api: str
    webhook: str
    operation_id: str


class Router:
    """Maps a request path and body to the webhook it is a callback of."""

    def __init__(self, specs: Iterable[Spec]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.routes = [
            Route(spec.name, webhook, operation_id)
            for spec in self.specs.values()
            for webhook, operation_id in view(spec).webhooks.items()
        ]

    def path_for(self, route: Route) -> str:
        return f"{PREFIX}/{route.api}/{route.webhook}"

    def route(self, path: str, body: Any) -> Route | None:
        by_path = {self.path_for(route): route for route in self.routes}
        if path.rstrip("/") in by_path:
            return by_path[path.rstrip("/")]
        if not self.routes:
            return None
        return min(self.routes, key=lambda route: self._distance(route, body))

    def _distance(self, route: Route, body: Any) -> tuple[int, int]:
        known = view(self.specs[route.api])
        pointer = known.request_schema(route.operation_id)
        if pointer is None:
            return (1_000, 1_000)
        schema = known.spec.resolve(pointer)
        if not isinstance(body, dict):
            return (1_000, 1_000)
        required = schema.get("required") or []
        missing = sum(1 for name in required if name not in body)
        unknown = sum(1 for name in body if name not in (schema.get("properties") or {}))
        return (missing + unknown, len(known.findings(pointer, body, "response")))
