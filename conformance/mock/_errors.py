"""Error bodies in each API's documented shape, built from its error schema, not written per API.

The schema of the documented answer for that status (else the rules table's `errors.schema`) gives
a template. Its list of problems (the array at `errors.code_at`, else the first array of objects in
the schema) gets one item per problem; string properties are filled by what their names say
(`...code` the code, `...message` / `...description` the text, `field` / `entity` / `path` the
place); enums take a value that reads as an error (`ERROR`, `DENIED`). Codes come from the rules
table (`errors.codes` by JSON Schema keyword, `business`, `idempotency_conflict`), else the HTTP
reason (`BAD_REQUEST`). The result is validated like every answer.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from .. import pointers
from .._specs import Spec
from ._answers import AnswerBuilder
from ._validation import Problem

_ERROR_WORDS = ("ERROR", "FAIL", "DENIED", "INVALID", "REJECT", "DECLIN")


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "ERROR"


def json_path(pointer: str) -> str:
    """"/paymentAmount/value" -> "$.paymentAmount.value", the notation data dictionaries use."""
    return "$" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in pointers.split(pointer))


class ErrorBodies:
    """The error bodies of one API."""

    def __init__(self, spec: Spec, answers: AnswerBuilder) -> None:
        self.spec = spec
        self.answers = answers
        self.errors = spec.rules.errors

    def schema_for(self, operation_id: str | None, status: int) -> str | None:
        if operation_id is not None and operation_id in self.spec.operations:
            pointer = self.spec.response_schema(operation_id, status)
            if pointer:
                return pointer
        return self.spec.canonical(self.errors.schema) if self.errors.schema else None

    def code_for(self, problem: Problem | None, status: int, code: str | None) -> str:
        if code is not None:
            return code
        if problem is not None and self.errors.codes:
            return self.errors.codes.get(problem.keyword, self.errors.codes.get("other", str(status)))
        return reason(status)

    def body(self, operation_id: str | None, status: int, message: str, problems: Iterable[Problem] = (),
             code: str | None = None) -> Any:
        problems = list(problems)
        pointer = self.schema_for(operation_id, status)
        if pointer is None:
            return {"message": message}
        examples = self.answers.response_examples(operation_id, status) if operation_id in self.spec.operations \
            else []
        template = self.answers.template(pointer, examples)
        body = copy.deepcopy(template)
        schema = self.answers.instances.node(pointer)
        summary_code = self.code_for(problems[0] if problems else None, status, code)
        if isinstance(body, dict):
            self._fill(body, schema, message, summary_code, "")
        holder, items_schema, key = self._problem_list(body, schema)
        if holder is not None:
            entries = problems or [None]
            item_template = self.answers.instances.build(items_schema)
            filled = []
            for problem in entries:
                item = copy.deepcopy(item_template) if isinstance(item_template, dict) else {}
                place = (json_path(problem.field) if problem.location == "body" else problem.field) if problem else ""
                text = self.describe(problem) if problem else message
                self._fill(item, items_schema, text, self.code_for(problem, status, code), place,
                           rule=problem.message if problem else "")
                filled.append(item)
            holder[key] = filled
        return self.answers.repair(pointer, body, template)

    def describe(self, problem: Problem) -> str:
        """A problem as the API's error bodies word it (the rules table's `errors.validation.message`)."""
        if not self.errors.message:
            return problem.message
        pointer = problem.field if problem.location == "body" else f"/{problem.field}"
        path = json_path(problem.field) if problem.location == "body" else problem.field
        return self.errors.message.format(pointer=pointer or "/", path=path, text=problem.message)

    def _problem_list(self, body: Any, schema: Any) -> tuple[Any, Any, Any]:
        """(container, items schema, key) of the list of problems an error body holds, or (None, None, None).

        The list is the array at `errors.code_at` (rules table), else the shallowest array whose items carry a
        code or a message (`errors[].errorDetails[]` in Global Payments); containers on the way are made.
        """
        steps = self._steps_to_list(schema)
        for code_at in self.errors.code_at:
            parts = pointers.split(code_at)
            last = len(parts) - 1 - parts[::-1].index("*") if "*" in parts else -1
            found = self._steps_along(schema, parts[:last]) if last > 0 else []
            if found:
                steps = found
                break
        if not steps:
            return None, None, None
        node = body
        for index, (name, sub, is_array) in enumerate(steps):
            last = index == len(steps) - 1
            if not isinstance(node, dict):
                return None, None, None
            if last:
                return node, self.answers.instances.deref(sub.get("items", {})), name
            if is_array:
                items = self.answers.instances.deref(sub.get("items", {}))
                if not isinstance(node.get(name), list) or not node[name] or not isinstance(node[name][0], dict):
                    node[name] = [self.answers.instances.build(items) or {}]
                node = node[name][0]
            else:
                if not isinstance(node.get(name), dict):
                    node[name] = self.answers.instances.build(sub) or {}
                node = node[name]
        return None, None, None

    def _steps_to_list(self, schema: Any) -> list[tuple[str, Any, bool]]:
        queue: list[tuple[Any, list[tuple[str, Any, bool]]]] = [(schema, [])]
        while queue:
            node_schema, path = queue.pop(0)
            if len(path) > 4:
                continue
            for name, sub in self.answers._properties(node_schema).items():
                sub = self.answers.instances.deref(sub)
                if not isinstance(sub, dict):
                    continue
                if sub.get("type") == "array":
                    items = self.answers.instances.deref(sub.get("items", {}))
                    if any(word in key.lower() for key in self.answers._properties(items)
                           for word in ("code", "message", "description")):
                        return [*path, (name, sub, True)]
                    queue.append((items, [*path, (name, sub, True)]))
                elif self.answers._properties(sub):
                    queue.append((sub, [*path, (name, sub, False)]))
        return []

    def _steps_along(self, schema: Any, parts: list[str]) -> list[tuple[str, Any, bool]]:
        """The steps of a pointer with "*" (an array's items) through the schema; [] when it leaves the schema."""
        steps: list[tuple[str, Any, bool]] = []
        for part in parts:
            if part == "*":
                schema = self.answers.instances.deref(schema.get("items", {}))
                continue
            sub = self.answers.instances.deref(self.answers._properties(schema).get(part, {}))
            if not isinstance(sub, dict) or not sub:
                return []
            steps.append((part, sub, sub.get("type") == "array"))
            schema = sub
        return steps if steps and steps[-1][2] else []

    def _fill(self, target: dict[str, Any], schema: Any, text: str, code: str, place: str, rule: str = "") -> None:
        for name, sub in self.answers._properties(schema).items():
            sub = self.answers.instances.deref(sub)
            if not isinstance(sub, dict):
                continue
            lowered = name.lower()
            if isinstance(sub.get("enum"), list):
                if name in target or name in (self.answers.instances.deref(schema).get("required") or []):
                    errorish = [v for v in sub["enum"]
                                if isinstance(v, str) and any(word in v.upper() for word in _ERROR_WORDS)]
                    if code in sub["enum"]:
                        target[name] = code
                    elif errorish:
                        target[name] = errorish[-1]
                continue
            if sub.get("type") not in ("string", None) or sub.get("format"):
                continue
            if "code" in lowered:
                target[name] = code
            elif "message" in lowered or "description" in lowered or lowered in ("detail", "text", "reason"):
                target[name] = text
            elif lowered in ("field", "entity", "path", "location", "pointer", "parameter") and place:
                target[name] = place
            elif "rule" in lowered and rule:
                target[name] = rule
