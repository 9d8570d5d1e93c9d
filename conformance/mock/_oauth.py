"""The token endpoint: client credentials over HTTP Basic, RFC 6749 errors with their statuses."""

from __future__ import annotations

from collections.abc import Iterable

from ._api import Answer, Api
from ._common import Call
from ._validation import OperationValidator, Problem

_NO_CACHE = [("cache-control", "no-store"), ("pragma", "no-cache")]


class OAuth(Api):
    """Issues bearer tokens from the operation the token-endpoint spec documents (RFC 6749 errors)."""

    def __init__(self, spec, context) -> None:
        super().__init__(spec, context)
        self.status_by_code: dict[str, int] = dict(spec.rules.errors.status_by_code)
        self.raw_operations = frozenset(op.operation_id for op in spec.client_operations())
        for operation_id in self.raw_operations:
            self.handlers[operation_id] = self.token

    def error_answer(self, operation_id: str | None, status: int, message: str, problems: Iterable[Problem] = (),
                     code: str | None = None, headers: list[tuple[str, str]] | None = None) -> Answer:
        if code is None:
            code = next((name for name, value in self.status_by_code.items() if value == status), "invalid_request")
        return Answer(status, {"error": code, "error_description": message}, headers or [])

    def _rfc_error(self, code: str, message: str) -> Answer:
        status = int(self.status_by_code.get(code, 400))
        headers = list(_NO_CACHE)
        if status == 401:
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
