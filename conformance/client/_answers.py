"""Answers the proxy makes up (an injected 503 or 429, a refusal of a revoked token), in the API's own shape.

Built from the document like the embedded mock's error bodies (conformance.mock's ErrorBodies: the
schema of the documented answer for that status, else the rules table's error schema), so that a
client parsing its provider's errors reads an injected one the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from http import HTTPStatus

from .._specs import Spec


@cache
def _bodies(spec: Spec):
    from ..mock._answers import AnswerBuilder
    from ..mock._errors import ErrorBodies

    return ErrorBodies(spec, AnswerBuilder(spec))


def made_up_answer(spec: Spec | None, operation: str | None, status: int, message: str,
                   headers: list[tuple[str, str]] = ()) -> tuple[list[tuple[str, str]], bytes]:
    """(headers, body) of an answer with `status` in the API's documented error shape."""
    body: object = {"message": message}
    if spec is not None:
        try:
            body = _bodies(spec).body(operation, status, message)
        except Exception:  # noqa: BLE001 - a document whose error schema cannot be filled: a plain message
            body = {"message": message}
    content = json.dumps(body, separators=(",", ":")).encode()
    return [("content-type", "application/json"), *headers], content


def prepare(specs: Iterable[Spec], statuses: Iterable[int]) -> None:
    """Make each answer the proxy may have to make up once, before the client's first request: the first of an
    API builds its document's error templates, which can take longer than a client waits for an answer (a
    client that gave up would be judged on a 429 it never read)."""
    for spec in specs:
        for operation in spec.client_operations():
            for status in statuses:
                made_up_answer(spec, operation.operation_id, status, reason(status))


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
