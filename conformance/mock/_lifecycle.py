"""Lifecycles: a created resource moves through its statuses in the background, one callback per status.

The statuses come from the scenario that matched (its `expect.callbacks`), else from the state
machine (first callback status, then each first listed transition to a final state). The first
status is reached at once (the create's answer shows it, its callback is queued before the answer
leaves); each further one `callback_interval` seconds after the previous. Every callback is built
from the webhook's schema (`Api.callback_body`) and goes through the faults, then the dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from .._specs import Kind
from ._records import Record
from ._scenarios import Scenario

if TYPE_CHECKING:
    from ._api import Api
    from ._app import MockContext

logger = logging.getLogger("conformance.mock")


class Lifecycles:
    """Runs the lifecycles of one mock's resources on its event loop."""

    def __init__(self, context: MockContext) -> None:
        self.context = context
        self.tasks: set[asyncio.Task[None]] = set()

    def start(self, api: Api, kind: Kind, record: Record, statuses: list[str], scenario: Scenario | None) -> None:
        last = scenario.callbacks.last if scenario is not None and scenario.callbacks is not None else {}
        record.last = dict(last)
        record.last_status = statuses[-1] if statuses else None
        webhooks = api._webhooks(kind)
        if not statuses:
            return
        self._step(api, record, webhooks, statuses, 0)
        if len(statuses) == 1:
            return

        async def run() -> None:
            for index in range(1, len(statuses)):
                await asyncio.sleep(self.context.callback_interval)
                try:
                    self._step(api, record, webhooks, statuses, index)
                except Exception:  # noqa: BLE001 - a bug in one resource must not stop the server
                    logger.exception("a status step of %s failed", api.name)

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _step(self, api: Api, record: Record, webhooks: list[str], statuses: list[str], index: int) -> None:
        record.status = statuses[index]
        if index:
            record.updated = time.time()
        final = index == len(statuses) - 1
        for webhook in webhooks:
            body, records = api.callback_body(webhook, record, final)
            body = api.faults.callback(api.name, webhook, body, records)
            self.send(api, record, webhook, body)
            if index == 0:
                change = api.faults.extra_callback(api.name, webhook)
                if change is not None:
                    self.send(api, record, webhook, api.callback_variant(body, records, change))

    def send(self, api: Api, record: Record, webhook: str, body: Any) -> None:
        kind = api.kinds[record.kind]
        resource = str(record.keys.get(kind.identity))
        attempts = 1 if api.faults.off(api.name, "retries") else None
        suffix = api.spec.operations[api.spec.webhooks[webhook]].callback_path
        self.context.dispatcher.send(resource, webhook, body, attempts, api=api.name, suffix=suffix)

    def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()
