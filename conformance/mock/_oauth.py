"""The token endpoint: client credentials over HTTP Basic, RFC 6749 errors with their statuses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._common import Call
from ._family import Answer, Family
from ._validation import OperationValidator, Problem

_NO_CACHE = [("cache-control", "no-store"), ("pragma", "no-cache")]


class OAuth(Family):
    """Issues bearer tokens from the operation the oauth spec documents."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        self.status_by_code: dict[str, int] = dict(spec.rules.errors.status_by_code)
        self.raw_operations = frozenset(spec.operations)
        for operation_id in spec.operations:
            self.handlers[operation_id] = self.token

    def error(self, status: int, message: str, problems: Iterable[Problem] = (), code: str | None = None) -> Any:
        if code is None:
            code = next((name for name, value in self.status_by_code.items() if value == status), "invalid_request")
        return {"error": code, "error_description": message}

    def _rfc_error(self, code: str, message: str) -> Answer:
        status = int(self.status_by_code.get(code, 400))
        headers = list(_NO_CACHE)
        if status == 401 and not self.faults.fire("no-www-authenticate", self.api):
            headers.append(("www-authenticate", 'Basic realm="conformance-mock"'))
        return Answer(status, {"error": code, "error_description": message}, headers)

    async def token(self, call: Call, raw: bytes = b"", validator: OperationValidator | None = None) -> Answer:
        authority = self.context.authority
        if not authority.client_matches(call.headers.get("authorization")):
            return self._rfc_error("invalid_client", "Client authentication failed")
        assert validator is not None
        form, problems = validator.parse_body(call.headers.get("content-type"), raw)
        if problems:
            return self._rfc_error("invalid_request", problems[0].message)
        form = form if isinstance(form, dict) else {}
        problems = validator.problems(call.headers, call.path, call.query, form)
        if problems:
            unsupported = any(p.field == "grant_type" or p.field == "/grant_type" for p in problems
                              if p.keyword in ("enum", "const"))
            if unsupported:
                return self._rfc_error("unsupported_grant_type", "Only the client_credentials grant is supported")
            return self._rfc_error("invalid_request", problems[0].message)
        scopes = authority.grantable(form.get("scope"))
        if scopes is None:
            return self._rfc_error("invalid_scope", "The requested scope is not allowed for this client")
        return Answer(200, authority.issue(scopes), list(_NO_CACHE))
