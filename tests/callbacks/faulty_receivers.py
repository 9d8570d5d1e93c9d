"""Deliberately faulty receivers: each is the reference receiver with exactly one behaviour broken.

`conformance callbacks` must flag each with the rule named in FAULTY_RECEIVERS, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from examples.receiver import CallbackReceiver, Webhook, _field


class ErrorsOnDuplicate(CallbackReceiver):
    """Refuses a callback it has already stored (409), as a bare INSERT under a unique key would."""

    def save(self, webhook: Webhook, body: Any) -> tuple[int, int]:
        new, duplicates = super().save(webhook, body)
        if duplicates:
            raise HTTPException(409, "callback already received")
        return new, duplicates


class CrashesOnUnknownField(CallbackReceiver):
    """Maps bodies onto fixed record types, so a field it does not know is an exception (500)."""

    def __init__(self, api: str):
        super().__init__(api)
        from conformance import load_spec

        self.known: set[str] = set()
        stack: list[Any] = [load_spec(api).document]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                self.known.update((node.get("properties") or {}) if isinstance(node.get("properties"), dict) else ())
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)

    def _unknown(self, node: Any) -> str | None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in self.known:
                    return key
                found = self._unknown(value)
                if found:
                    return found
        elif isinstance(node, list):
            for value in node:
                found = self._unknown(value)
                if found:
                    return found
        return None

    def problems(self, webhook: Webhook, body: Any) -> list[str]:
        unknown = self._unknown(body)
        if unknown is not None:
            raise HTTPException(500, f"TypeError: unexpected keyword argument {unknown!r}")
        return super().problems(webhook, body)


class AcceptsInvalidJson(CallbackReceiver):
    """Acknowledges a body that is not JSON ("be lenient in what you accept")."""

    async def receive(self, request: Request) -> JSONResponse:
        try:
            json.loads(await request.body())
        except ValueError:
            return JSONResponse({"stored": 0, "duplicates": 0})
        return await super().receive(request)


class AcceptsMissingRequired(CallbackReceiver):
    """Validates types and values but never checks that required fields are there."""

    def problems(self, webhook: Webhook, body: Any) -> list[str]:
        return [e.message for e in webhook.validator.iter_errors(body) if e.validator != "required"]


class AcceptsUnassignedCodes(CallbackReceiver):
    """Checks a code's shape (the schema's pattern) but not that it is in its list: "XQZ" passes as a currency."""

    def problems(self, webhook: Webhook, body: Any) -> list[str]:
        from conformance.formats import CODE_LIST_FORMATS

        return [e.message for e in webhook.validator.iter_errors(body)
                if not (e.validator == "format" and e.validator_value in CODE_LIST_FORMATS)]


class SlowOnOneStatus(CallbackReceiver):
    """Does slow work before acknowledging callbacks of one status (the first final status of the API)."""

    delay = 2.0

    def __init__(self, api: str):
        super().__init__(api)
        self.slow_status = next(machine.final[0] for machine in self._machines() if machine.final)

    def _machines(self) -> tuple[Any, ...]:
        from conformance import load_spec

        return load_spec(self.api).rules.state_machines

    async def receive(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        for webhook in self.webhooks.values():
            if any(_field(r, webhook.status) == self.slow_status for r in webhook.records_of(body) if webhook.status):
                await asyncio.sleep(self.delay)
                break
        return await super().receive(request)


class RejectsOutOfOrder(CallbackReceiver):
    """Refuses (409) a status that cannot follow the resource's current one."""

    def save(self, webhook: Webhook, body: Any) -> tuple[int, int]:
        for record in webhook.records_of(body):
            resource = (webhook.name, str(_field(record, webhook.identity)))
            current = self.store.current.get(resource)
            status = str(_field(record, webhook.status))
            if current is not None and not webhook.comes_after(current, status):
                raise HTTPException(409, f"status {status} cannot follow {current}")
        return super().save(webhook, body)


class AcceptsAnyContentType(CallbackReceiver):
    """Parses the body as JSON whatever the Content-Type says."""

    def accepts_content_type(self, content_type: str) -> bool:
        return True


class CrashesOnInvalidPayload(CallbackReceiver):
    """Lets schema problems escape as an exception (500) instead of answering 400."""

    def identify(self, body: Any, name: str | None) -> tuple[Webhook | None, list[str]]:
        webhook, problems = super().identify(body, name)
        if webhook is None:
            raise HTTPException(500, f"ValidationError: {problems[0] if problems else 'invalid'}")
        return webhook, problems


class StopsAnswering(CallbackReceiver):
    """Answers the first contact, then never acknowledges a callback in time (a stuck worker pool)."""

    async def receive(self, request: Request) -> JSONResponse:
        await asyncio.sleep(3)
        return await super().receive(request)


FAULTY_RECEIVERS: dict[str, tuple[type[CallbackReceiver], str]] = {
    "errors-on-duplicate": (ErrorsOnDuplicate, "RECEIVER-DUPLICATE"),
    "500-on-unknown-field": (CrashesOnUnknownField, "RECEIVER-UNKNOWN-FIELDS"),
    "200-on-invalid-json": (AcceptsInvalidJson, "RECEIVER-REJECTS-MALFORMED"),
    "200-on-missing-required-field": (AcceptsMissingRequired, "RECEIVER-REJECTS-MALFORMED"),
    "slower-than-deadline": (SlowOnOneStatus, "RECEIVER-DEADLINE"),
    "rejects-out-of-order-status": (RejectsOutOfOrder, "RECEIVER-OUT-OF-ORDER"),
    "200-on-wrong-content-type": (AcceptsAnyContentType, "RECEIVER-REJECTS-MALFORMED"),
    "500-on-rule-breaking-payload": (CrashesOnInvalidPayload, "RECEIVER-REJECTS-MALFORMED"),
}
"""Name -> (receiver class, the rule suffix `conformance callbacks` must report, alone)."""
