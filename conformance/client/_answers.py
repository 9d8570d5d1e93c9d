"""Answers the proxy makes up (an injected 503 or 429, a refusal of a revoked token), in the API's own shape.

Built from the document like the embedded mock's error bodies (conformance.mock's ErrorBodies: the
schema of the documented answer for that status, else the rules table's error schema), so that a
client parsing its provider's errors reads an injected one the same way.
"""

from __future__ import annotations

import json
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


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
