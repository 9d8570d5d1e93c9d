"""Which webhook a callback belongs to, read from the path it was posted to.

The sink is registered as `http://HOST:PORT/<token>/{api}/{webhook}`: the embedded mock expands the
placeholders for each callback, and a provider's sandbox is given one such URL per webhook. So the
path after the token names the API and the webhook (`pay-by-bank/payouts`), and may go on
(`pay-by-bank/payouts/status`): nothing is guessed from the body, and a path naming no webhook of
the specs is not a callback. Nothing here names an API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .._specs import Spec
from ..checks import view


@dataclass(frozen=True)
class Route:
    api: str
    webhook: str
    operation_id: str


class Router:
    """Maps the path after the sink's token to the webhook it is a callback of."""

    def __init__(self, specs: Iterable[Spec]) -> None:
        self.routes = {
            (spec.name, webhook): Route(spec.name, webhook, operation_id)
            for spec in specs
            for webhook, operation_id in view(spec).webhooks.items()
        }

    def path_for(self, route: Route) -> str:
        return f"{route.api}/{route.webhook}"

    def route(self, path: str) -> Route | None:
        """The route of "api/webhook[/more]" (no leading slash), or None."""
        parts = path.strip("/").split("/")
        if len(parts) < 2:
            return None
        return self.routes.get((parts[0], parts[1]))
