"""The run's exchanges as a HAR 1.2 file (HTTP Archive), to open in a browser's network panel or a proxy.

Built from the redacted exchange log, so it holds nothing the other artifacts would not. Fields HAR
has no place for (the API, the operation, why the request was sent) are kept as `_api`,
`_operation`, `_intent`, as the format allows for custom fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HAR_VERSION = "1.2"


def render_har(exchanges: Iterable[Mapping[str, Any]], tool_version: str) -> str:
    """A HAR document (JSON text) of redacted exchanges, in the order given."""
    entries = [_entry(exchange) for exchange in exchanges]
    document = {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "payments-conformance", "version": tool_version},
            "entries": entries,
        }
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _entry(exchange: Mapping[str, Any]) -> dict[str, Any]:
    elapsed = float(exchange.get("elapsed_ms") or 0.0)
    request_headers = exchange.get("request_headers") or {}
    response_headers = exchange.get("response_headers") or {}
    request: dict[str, Any] = {
        "method": exchange["method"],
        "url": exchange["url"],
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers(request_headers),
        "queryString": [{"name": n, "value": v} for n, v in parse_qsl(urlsplit(exchange["url"]).query)],
        "headersSize": -1,
        "bodySize": len((exchange.get("request_body") or "").encode("utf-8")),
    }
    if exchange.get("request_body") is not None:
        media = _header(request_headers, "content-type") or ""
        request["postData"] = {"mimeType": media, "text": exchange["request_body"]}
    status = exchange.get("status")
    body = exchange.get("response_body") or ""
    response = {
        "status": status or 0,
        "statusText": _reason(status),
        "httpVersion": "HTTP/1.1" if status else "",
        "cookies": [],
        "headers": _headers(response_headers),
        "content": {"size": len(body.encode("utf-8")), "mimeType": _header(response_headers, "content-type") or "",
                    "text": body},
        "redirectURL": _header(response_headers, "location") or "",
        "headersSize": -1,
        "bodySize": len(body.encode("utf-8")) if status else -1,
    }
    entry = {
        "startedDateTime": exchange.get("started_at") or "1970-01-01T00:00:00.000Z",
        "time": elapsed,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": elapsed, "receive": 0},
        "_api": exchange.get("api"),
        "_operation": exchange.get("operation"),
        "_intent": exchange.get("intent"),
    }
    if not status:
        entry["_error"] = "no answer"
    return entry


def _headers(headers: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _header(headers: Mapping[str, str], wanted: str) -> str | None:
    return next((value for name, value in headers.items() if name.lower() == wanted), None)


def _reason(status: int | None) -> str:
    try:
        return HTTPStatus(status).phrase if status else ""
    except ValueError:
        return ""
