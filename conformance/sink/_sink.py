"""The callback sink: receives the provider's callbacks during `certify`, records and judges each one.

Every delivery is written to callbacks.ndjson as it arrives (through the Recorder) and judged by the
same checks as the answers (schema, conditional fields, transitions, final states, first callback,
correlation). To prove retries, the sink answers 500 on purpose to the first callback of each webhook,
`refusals` times; the retries must come back with growing gaps, and stop once a 2xx is given.

Workers of a parallel run read what arrived over HTTP: `GET /_sink/deliveries`.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .._errors import UsageError
from .._specs import Spec, load_all
from ..checks import Delivery, Judge, Result, callback_retry, parse_body, view
from ._routing import PREFIX, Router


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: without this, keep-alive clients wait 40 ms
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status = self.server.sink._receive(urlsplit(self.path).path, dict(self.headers.items()), raw)
        self._answer(status, b"" if status < 300 else b'{"error": "refused on purpose, to test retries"}')

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path == "/_sink/deliveries":
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            body = json.dumps(self.server.sink.snapshot(**query)).encode()
            self._answer(200, body, "application/json")
        else:
            self._answer(404, b'{"error": "not found"}', "application/json")

    def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sink: CallbackSink

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that hung up mid-answer (a run stopping, a provider giving up) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class CallbackSink:
    """A real HTTP server on a free port that receives, records and judges callbacks.

        with CallbackSink(host="127.0.0.1", port=0, recorder=None) as sink:
            sink.url            # register this as the callback URL (or sink.url_for(api, webhook))
            sink.deliveries     # every delivery, in arrival order
            sink.results        # (api, webhook operation, Result) judgements so far
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, recorder: Any = None,
                 specs: Iterable[Spec] | None = None, refusals: int = 3) -> None:
        self.host, self.port = host, port
        self.recorder = recorder
        self.specs = list(specs) if specs is not None else load_all()
        self.router = Router(self.specs)
        self.judge = Judge(self.specs)
        self.refusals = refusals
        self.deliveries: list[Delivery] = []
        self.results: list[tuple[str, str, Result, Delivery | None]] = []
        self.seen: dict[str, dict[str, set[str]]] = {}
        self._attempts: dict[str, list[tuple[float, int]]] = {}
        self._refused: dict[str, tuple[str, str]] = {}
        """content key -> (api, webhook) of the callbacks refused on purpose."""
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> CallbackSink:
        try:
            server = _Server((self.host, self.port), _Handler)
        except OSError as exc:
            raise UsageError(f"cannot listen for callbacks on {self.host}:{self.port}: {exc.strerror or exc}") from None
        server.sink = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="callback-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> CallbackSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The one URL to register when the provider posts every callback to the same place."""
        return self.origin + PREFIX

    def url_for(self, api: str, webhook: str) -> str:
        """The URL to register for one webhook (the path names it)."""
        return f"{self.origin}{PREFIX}/{api}/{webhook}"

    # -- receiving ----------------------------------------------------------------------------------

    def _receive(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        arrived = time.time()
        body = parse_body(raw)
        route = self.router.route(path, body)
        if route is None:
            return 404
        key = route.api + "/" + route.webhook + "/" + hashlib.sha256(raw).hexdigest()
        with self._lock:
            attempts = self._attempts.setdefault(key, [])
            first_of_webhook = not any(v == (route.api, route.webhook) for v in self._refused.values())
            if first_of_webhook and not attempts and self.refusals > 0:
                self._refused[key] = (route.api, route.webhook)
            refuse = key in self._refused and len(attempts) < self.refusals
            answered = 500 if refuse else 200
            attempts.append((arrived, answered))
            delivery = Delivery(api=route.api, webhook=route.webhook, operation_id=route.operation_id, body=body,
                                text=raw.decode("utf-8", "replace"), headers=headers, path=path,
                                received_at=arrived, answered=answered, sequence=len(self.deliveries) + 1)
            self.deliveries.append(delivery)
            if self.recorder is not None:
                self.recorder.callback({
                    "direction": "received", "api": route.api, "webhook": route.webhook, "path": path,
                    "attempt": len(attempts), "answered": answered, "body": body if isinstance(body, (dict, list))
                    else delivery.text, "received_at": arrived,
                })
            if len(attempts) == 1:
                self._judge(delivery)
            self._arrived.notify_all()
        return answered

    def _judge(self, delivery: Delivery) -> None:
        for result in self.judge.callback(delivery):
            self._report(delivery.api, delivery.operation_id, result, delivery)
        for label, value in self.judge.statuses(delivery):
            self.seen.setdefault(delivery.api, {}).setdefault(label, set()).add(value)
            if self.recorder is not None:
                self.recorder.saw_status(delivery.api, label, value)

    def _report(self, api: str, operation: str, result: Result, delivery: Delivery | None) -> None:
        self.results.append((api, operation, result, delivery))
        if self.recorder is None:
            return
        if result.passed:
            self.recorder.passed(api, result.rule_id, operation)
        else:
            from ..reporting import Failure
            from ..reporting._chain import chain_of

            exchange, chain = None, []
            if delivery is not None:
                # The callbacks about the same resource before this one: the sequence it broke.
                earlier = [self._exchange(d) for d in self.deliveries[-50:] if d.api == api and d is not delivery]
                exchange = self._exchange(delivery)
                chain = chain_of(earlier, exchange)
            self.recorder.failed(Failure(api=api, rule_id=result.rule_id, operation=operation, title=result.title,
                                         expected=result.expected, observed=result.observed, exchange=exchange,
                                         chain=chain))

    def _exchange(self, delivery: Delivery) -> Any:
        """A callback received, as report evidence: the provider's request and the sink's answer."""
        from ..reporting import Exchange

        started = datetime.fromtimestamp(delivery.received_at, UTC).isoformat(timespec="milliseconds")
        return Exchange(method="POST", url=self.origin + delivery.path, request_headers=delivery.headers,
                        request_body=delivery.text, status=delivery.answered, api=delivery.api,
                        operation=delivery.operation_id, intent="callback",
                        statuses=tuple(value for _, value in self.judge.statuses(delivery)),
                        started_at=started.replace("+00:00", "Z"))

    # -- what the suites and the plugin ask -----------------------------------------------------------

    def add_source(self, api: str, correlation_id: str, keys: Iterable[Iterable[str]]) -> None:
        """A resource the suite created: callbacks naming it correlate."""
        with self._lock:
            self.judge.add_source(api, correlation_id, keys)

    def snapshot(self, api: str | None = None, webhook: str | None = None, since: str | int = 0) -> list[dict]:
        """Deliveries as plain data (what `GET /_sink/deliveries` answers)."""
        with self._lock:
            return [
                {"api": d.api, "webhook": d.webhook, "body": d.body if d.body else None, "received_at": d.received_at,
                 "answered": d.answered, "sequence": d.sequence}
                for d in self.deliveries
                if (api is None or d.api == api) and (webhook is None or d.webhook == webhook)
                and d.sequence > int(since)
            ]

    def wait_for(self, predicate, timeout: float) -> bool:
        """Block until predicate(deliveries) is true or the timeout passes."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate(self.deliveries):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._arrived.wait(remaining)
            return True

    def finish(self, timeout: float = 5.0, settle: float = 0.3,
               patience: float | None = None) -> list[tuple[str, str, Result, Delivery | None]]:
        """Judge what needs the whole run: retries of the refused callbacks, late correlations.

        Waits (up to `timeout`) for each refused callback to be accepted, then `settle` seconds more
        to see that no delivery follows the acceptance. A refused callback not delivered again within
        `patience` seconds (default: `timeout`) of its last attempt is taken as never retried; once
        retries came, a quiet spell four times the last gap ends the wait. Returns the judgements made now.
        """
        first_retry = timeout if patience is None else patience

        def settled(key: str) -> bool:
            attempts = self._attempts[key]
            if any(200 <= status < 300 for _, status in attempts):
                return True
            gap = attempts[-1][0] - attempts[-2][0] if len(attempts) > 1 else 0.0
            quiet = max(1.0, 4 * gap) if gap else first_retry
            return time.time() - attempts[-1][0] > quiet

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(settled(key) for key in self._refused):
                    break
            time.sleep(0.05)
        time.sleep(settle)
        made: list[tuple[str, str, Result, Delivery | None]] = []
        with self._lock:
            for key, (api, webhook) in self._refused.items():
                known = view(next(spec for spec in self.specs if spec.name == api))
                for result in callback_retry(known, list(self._attempts[key]), self.refusals, settled=True):
                    made.append((api, known.webhooks[webhook], result, None))
            for api in self.judge.apis:
                for result in self.judge.settle(api):
                    made.append((api, "", result, None))
            for api, operation, result, delivery in made:
                self._report(api, operation, result, delivery)
        return made

    def refused_webhooks(self) -> set[tuple[str, str]]:
        with self._lock:
            return set(self._refused.values())

    @property
    def violations(self) -> list[Result]:
        return [result for _, _, result, _ in self.results if not result.passed]
