"""A reference callback receiver for the J.P. Morgan Payments callbacks. Copy it, then adapt it.

It passes `conformance callbacks` cleanly because it does the few things a receiver must do:

- answer fast: it validates, stores and answers; slow work belongs after the answer (a queue);
- validate: 415 for a content type other than JSON, 400 for invalid JSON or a body that breaks
  the callback's schema in the spec (unknown extra fields are fine: they are how APIs grow);
- be idempotent: each (callback, resource, status) is stored once; the provider retries until it
  gets a 2xx, so a duplicate is answered 200 again, never with an error;
- tolerate out-of-order delivery: a late, earlier status is stored and acknowledged, but does not
  move the resource's current status backwards;
- optionally require mutual TLS (--cert/--key/--client-ca): the TLS layer refuses senders without
  a certificate signed by your CA, before any callback is read.

What an integrator replaces: `load_spec` (this project's spec loader) by their own copy of the
callback schemas, and `CallbackStore` by a database table with a unique key on
(callback, resource, status) and an INSERT that ignores conflicts.

    python -m examples.receiver --api global-payments --port 8081     # from a checkout
    conformance receiver --api global-payments --port 8081            # the same, installed
    conformance callbacks --api global-payments --target http://127.0.0.1:8081/callbacks

Register http://HOST:PORT/callbacks as the client URL: a callback the spec declares on an operation with a URL
expression such as `{client-url}/status` (Global Payments' paymentInitiationStatus) arrives at /callbacks/status.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import ssl
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conformance import load_spec  # replace with your own copy of the callback schemas


@dataclass
class Webhook:
    """What the receiver needs to know about one callback: its schema and how to name a resource."""

    name: str
    validator: Any
    records: str = ""
    """Where the records are: "" for the body itself, "/callbacks/*" for a list of them."""
    identity: str | None = None
    status: str | None = None
    transitions: dict[str, list[str]] = field(default_factory=dict)
    path: str = ""
    """What the callback's URL expression adds after the client URL ("/status" for `{client-url}/status`)."""

    def records_of(self, body: Any) -> list[dict[str, Any]]:
        node = body
        for part in [p for p in self.records.split("/") if p and p != "*"]:
            node = node.get(part, []) if isinstance(node, dict) else []
        items = node if self.records.endswith("*") else [node]
        return [item for item in items if isinstance(item, dict)]

    def comes_after(self, current: str, new: str) -> bool:
        """True when `new` can follow `current` (the status moves forward, or stays)."""
        seen, queue = {current}, deque([current])
        while queue:
            for following in self.transitions.get(queue.popleft(), []):
                if following not in seen:
                    seen.add(following)
                    queue.append(following)
        return new in seen


def _field(record: dict[str, Any], pointer: str | None) -> Any:
    node: Any = record
    for part in [p for p in (pointer or "").split("/") if p]:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def load_webhooks(api: str) -> dict[str, Webhook]:
    """The API's callbacks from its spec (schemas) and rules table (record, identity and status fields)."""
    spec = load_spec(api)
    webhooks = {}
    for operation in spec.operations.values():
        if not operation.webhook:
            continue
        validator = spec.validator(spec.request_schema(operation.operation_id), "response")
        machines = spec.rules.machines_for(webhook=operation.webhook)
        machine, records = machines[0] if machines else (None, "")
        webhooks[operation.webhook] = Webhook(
            name=operation.webhook,
            validator=validator,
            records=records,
            identity=machine.identity if machine else None,
            status=machine.field if machine else None,
            transitions=dict(machine.transitions) if machine else {},
            path=operation.callback_path,
        )
    return webhooks


class CallbackStore:
    """Idempotent in-memory storage: each (callback, resource, status) once, and each resource's current status."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.current: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def add(self, webhook: Webhook, record: dict[str, Any]) -> bool:
        """Store one record; False when it was already stored (a duplicate delivery)."""
        identity = _field(record, webhook.identity) if webhook.identity else None
        if identity is None:  # no identity in the rules table: the content names the event
            identity = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        status = str(_field(record, webhook.status)) if webhook.status else ""
        key = (webhook.name, str(identity), status)
        with self._lock:
            if key in self.events:
                return False
            self.events[key] = record
            resource = (webhook.name, str(identity))
            current = self.current.get(resource)
            if current is None or webhook.comes_after(current, status):
                self.current[resource] = status  # a late, earlier status is kept but does not win
            return True


class CallbackReceiver:
    """The receiver: POST /callbacks (any callback of the API), /callbacks/{webhook} (one kind), or the path a
    callback's URL expression names under the client URL (/callbacks/status)."""

    def __init__(self, api: str, store: CallbackStore | None = None):
        self.api = api
        self.webhooks = load_webhooks(api)
        self.paths = {webhook.path: name for name, webhook in self.webhooks.items() if webhook.path}
        """Path under /callbacks -> the callback posted there ("/status" -> "paymentInitiationStatus")."""
        self.store = store or CallbackStore()

    # Each step is a method, so a variant can change exactly one behaviour.

    def accepts_content_type(self, content_type: str) -> bool:
        media = content_type.split(";")[0].strip().lower()
        return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))

    def parse(self, raw: bytes) -> Any:
        """The JSON body; ValueError when it is not JSON."""
        return json.loads(raw)

    def problems(self, webhook: Webhook, body: Any) -> list[str]:
        """What makes the body break its schema (empty when valid)."""
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in webhook.validator.iter_errors(body)
        ]

    def identify(self, body: Any, name: str | None) -> tuple[Webhook | None, list[str]]:
        """The callback this body is (the one named in the path, or the one whose schema it fits)."""
        candidates = [self.webhooks[name]] if name else list(self.webhooks.values())
        problems: list[str] = []
        for webhook in candidates:
            found = self.problems(webhook, body)
            if not found:
                return webhook, []
            problems.extend(found)
        return None, problems

    def save(self, webhook: Webhook, body: Any) -> tuple[int, int]:
        """Store each record once: (new, duplicates)."""
        new = sum(self.store.add(webhook, record) for record in webhook.records_of(body))
        return new, len(webhook.records_of(body)) - new

    async def receive(self, request: Request) -> JSONResponse:
        name = request.path_params.get("webhook")
        if name is not None:
            name = self.paths.get(f"/{name}", name)
        if name is not None and name not in self.webhooks:
            return JSONResponse({"error": f"no callback named {name}"}, status_code=404)
        if not self.accepts_content_type(request.headers.get("content-type", "")):
            return JSONResponse({"error": "expected Content-Type: application/json"}, status_code=415)
        try:
            body = self.parse(await request.body())
        except ValueError:
            return JSONResponse({"error": "the body is not valid JSON"}, status_code=400)
        webhook, problems = self.identify(body, name)
        if webhook is None:
            return JSONResponse(
                {"error": "the body breaks the callback schema", "details": problems[:10]}, status_code=400
            )
        new, duplicates = self.save(webhook, body)
        return JSONResponse({"stored": new, "duplicates": duplicates})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/callbacks", self.receive, methods=["POST"]),
                Route("/callbacks/{webhook:path}", self.receive, methods=["POST"]),
            ]
        )


def server(
    app: Any,
    sock: socket.socket,
    *,
    cert: str | None = None,
    key: str | None = None,
    client_ca: str | None = None,
    client_cert_required: bool = True,
) -> uvicorn.Server:
    """A uvicorn server for the app on an already bound socket; with client_ca, mutual TLS."""
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=cert,
        ssl_keyfile=key,
        ssl_ca_certs=client_ca,
        ssl_cert_reqs=(ssl.CERT_REQUIRED if client_cert_required else ssl.CERT_OPTIONAL)
        if client_ca
        else ssl.CERT_NONE,
    )
    return uvicorn.Server(config)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", required=True, help="the API whose callbacks to receive (e.g. global-payments)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on; 0 picks a free one (default 8081)")
    parser.add_argument("--cert", help="server certificate (PEM) for https")
    parser.add_argument("--key", help="its private key (PEM)")
    parser.add_argument("--client-ca", help="require client certificates signed by this CA (mutual TLS)")


def run(args: argparse.Namespace) -> int:
    if args.client_ca and not args.cert:
        print("receiver: error: --client-ca (mutual TLS) needs --cert and --key", file=sys.stderr)
        return 2
    try:
        receiver = CallbackReceiver(args.api)
        sock = socket.create_server((args.host, args.port))
    except Exception as exc:  # one readable line, not a traceback
        print(f"receiver: error: {exc}", file=sys.stderr)
        return 2
    scheme = "https" if args.cert else "http"
    host, port = sock.getsockname()[:2]
    print(f"receiving {args.api} callbacks at {scheme}://{host}:{port}/callbacks", flush=True)
    try:
        server(receiver.app(), sock, cert=args.cert, key=args.key, client_ca=args.client_ca).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.receiver", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
