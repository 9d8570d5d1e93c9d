"""What every API family of the mock shares: answers, error bodies, scenarios, background progress.

A family is the mock's behaviour for one spec (its rules table's `api`): the handler of each
operation, the API's error body, and how a resource's status moves on after it is created. What
can be read from the spec and its rules table (statuses, triggers, error statuses and codes,
idempotency keys, state machines) is read from there; a family's code fills in the generic parts
of an answer (identifiers, timestamps, masked PANs, the shape of nested records).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._specs import Spec
from ._common import Call, overlay
from ._idempotency import IdempotencyStore
from ._scenarios import Scenario, ScenarioBook
from ._validation import Problem

if TYPE_CHECKING:
    from ._app import MockContext

logger = logging.getLogger("conformance.mock")

Handler = Callable[[Call], Awaitable["Answer"]]


@dataclass
class Answer:
    """What a handler answers: a status, a JSON body (or its bytes), extra headers."""

    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


class Family:
    """Base of the per-API behaviours. Subclasses fill `handlers` and define `error`."""

    raw_operations: frozenset[str] = frozenset()
    """Operations whose handler checks credentials and reads the body itself (the token endpoint)."""

    def __init__(self, spec: Spec, context: MockContext) -> None:
        self.spec = spec
        self.context = context
        self.api: str = spec.rules.api
        self.faults = context.faults
        self.scenarios = ScenarioBook(spec)
        self.idempotency = IdempotencyStore(spec.rules)
        errors = spec.rules.errors
        self.validation_status = errors.validation_status
        self.validation_codes: dict[str, str] = dict(errors.codes)
        self.business_code: str | None = errors.business
        self.auth_statuses: dict[str, int] = dict(errors.auth)
        self.handlers: dict[str, Handler] = {}

    # -- error bodies -------------------------------------------------------------------------------------------

    def error(self, status: int, message: str, problems: Iterable[Problem] = (), code: str | None = None) -> Any:
        """The API's error body for `status`."""
        raise NotImplementedError

    def error_answer(self, status: int, message: str, problems: Iterable[Problem] = (), code: str | None = None,
                     headers: list[tuple[str, str]] | None = None) -> Answer:
        return Answer(status, self.error(status, message, list(problems), code), headers or [])

    def validation_answer(self, problems: list[Problem]) -> Answer:
        """The answer to a request that breaks its spec."""
        return self.error_answer(self.validation_status, problems[0].message, problems)

    def business_answer(self, message: str) -> Answer:
        """The answer to a request that is well formed but breaks a business rule (a limit, a state)."""
        return self.error_answer(self.validation_status, message, code=self.business_code)

    def conflict_answer(self, status: int, code: str | None) -> Answer:
        return self.error_answer(status, "The idempotency key was used before with a different request", code=code)

    def auth_answer(self, problem: str) -> Answer:
        status = int(self.auth_statuses.get(problem, 401))
        message = {
            "missing_token": "A bearer token is required",
            "invalid_token": "The bearer token is not valid",
            "expired_token": "The bearer token has expired",
            "wrong_scope": "The bearer token lacks the scope this operation needs",
        }.get(problem, "Not authorized")
        headers = []
        if status == 401:
            headers.append(("www-authenticate", 'Bearer realm="conformance-mock", error="invalid_token"'))
        return self.error_answer(status, message, headers=headers)

    async def accept_invalid(self, call: Call) -> Answer | None:
        """With the invalid-request-accepted fault: the 2xx answer an invalid request gets (None: not supported)."""
        return None

    # -- scenarios ------------------------------------------------------------------------------------------------

    def choose(self, call: Call) -> Scenario | None:
        return self.scenarios.choose(call, self.context.origins.get)

    def scenario_error(self, scenario: Scenario) -> Answer:
        """The error a scenario asks for, with the table's body subset applied."""
        body = self.error(scenario.status, scenario.description)
        if isinstance(body, dict):
            overlay(body, scenario.body)
        headers = [("www-authenticate", 'Bearer realm="conformance-mock"')] if scenario.status == 401 else []
        return Answer(scenario.status, body, headers)

    def natural_statuses(self, webhook: str) -> list[str]:
        """The statuses a resource goes through when no scenario says otherwise: the state machine of
        `webhook` from its first-callback status along the first listed transition to a final state."""
        machine = self.spec.rules.machine_with_first_callback(webhook)
        if machine is None or machine.first_callback is None:
            return []
        return machine.path_from((machine.first_callback.statuses or machine.initial)[0])

    # -- background progress -------------------------------------------------------------------------------------

    def progress(self, steps: list[Callable[[], None]]) -> None:
        """Run the first step now and each further one `callback_interval` seconds after the previous."""
        if not steps:
            return
        steps[0]()
        if len(steps) == 1:
            return

        async def run() -> None:
            for step in steps[1:]:
                await asyncio.sleep(self.context.callback_interval)
                try:
                    step()
                except Exception:  # noqa: BLE001 - a bug in one resource must not stop the server
                    logger.exception("a status step failed")

        task = asyncio.get_running_loop().create_task(run())
        self.context.tasks.add(task)
        task.add_done_callback(self.context.tasks.discard)

    def send_callback(self, resource: str, webhook: str, body: dict[str, Any]) -> None:
        attempts = 1 if self.faults.active("callback-not-retried", self.api) else None
        self.context.dispatcher.send(resource, webhook, body, attempts)
