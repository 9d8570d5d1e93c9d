"""The callback sink: receives the provider's callbacks during `certify`, records and judges each one.

Every delivery is written to callbacks.ndjson as it arrives (through the Recorder) and judged by the
same checks as the answers (schema, conditional fields, transitions, final states, first callback,
correlation). To prove retries, the sink answers 500 on purpose to the first callback of each webhook,
`refusals` times; the retries must come back with growing gaps, and stop once a 2xx is given. A delivery
is answered before it is judged (judging runs on one thread of its own, in arrival order): a sender
times its retries from our answer, so a slow judgement would otherwise stretch the first gap it measures.

Anyone who can reach the sink could otherwise change a verdict with forged callbacks, so everything
it serves lives under an unguessable per-run token (`/<token>/{api}/{webhook}`), which the mock is
given and forgers are not: any other path is 404 and never judged. It runs on the project's hardened
server (conformance.serving): bodies and headers are capped, slow and idle peers are cut off,
malformed framing is a 400. What is kept and served is redacted on the way in (card numbers masked,
CVVs and expiry dates dropped, credentials replaced): judging sees the callback as it came.

Workers of a parallel run read what arrived over HTTP: `GET /<token>/_sink/deliveries`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson

from .._errors import UsageError
from .._specs import Spec, load_all
from ..checks import Delivery, Judge, Result, callback_retry, parse_body, view
from ..redaction import Redactor
from ..serving import BackgroundServer, BodyTooLarge, ClientGone, ServerLimits, read_body, too_deep
from ._routing import Router

TOKEN_ENVIRONMENT = "CONFORMANCE_SINK_TOKEN"
"""Where `certify --callback-listen` takes a fixed token from (a URL registered once with a sandbox)."""
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
JSON = [(b"content-type", b"application/json")]


def sink_token(given: str | None = None) -> str:
    """The token the sink's paths start with: `given`, else $CONFORMANCE_SINK_TOKEN, else a random one."""
    token = given or os.environ.get(TOKEN_ENVIRONMENT) or secrets.token_urlsafe(18)
    if not _TOKEN.match(token):
        raise UsageError(f"the callback sink's token must be 16 to 128 letters, digits, '-' or '_' "
                         f"(check {TOKEN_ENVIRONMENT})")
    return token


async def _answer(send: Any, status: int, body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*JSON, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _error(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class CallbackSink:
    """A real HTTP server on a free port that receives, records and judges callbacks.

        with CallbackSink(host="127.0.0.1", port=0, recorder=None) as sink:
            sink.url            # register this as the callback URL (or sink.url_for(api, webhook))
            sink.deliveries     # every delivery, in arrival order
            sink.results        # (api, webhook operation, Result) judgements so far (waits for those due)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, recorder: Any = None,
                 specs: Iterable[Spec] | None = None, refusals: int = 3, token: str | None = None,
                 limits: ServerLimits | None = None, max_judgements_due: int = 256) -> None:
        self.token = sink_token(token)
        self.limits = limits or ServerLimits()
        self.server = BackgroundServer(self._asgi, host, port, self.limits, name="callback sink", lifespan="off",
                                       listening_as="listen for callbacks")
        self.redactor = Redactor()
        self.recorder = recorder
        self.specs = list(specs) if specs is not None else load_all()
        self.router = Router(self.specs)
        self.judge = Judge(self.specs)
        self.refusals = refusals
        self.deliveries: list[Delivery] = []
        self._results: list[tuple[str, str, Result, Delivery | None]] = []
        self._seen: dict[str, dict[str, set[str]]] = {}
        self._attempts: dict[str, list[tuple[float, int]]] = {}
        self._refused: dict[str, tuple[str, str]] = {}
        """content key -> (api, webhook) of the callbacks refused on purpose."""
        self._lock = threading.RLock()
        """Guards what arrived: deliveries, attempts, refusals."""
        self._arrived = threading.Condition(self._lock)
        self._judging = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sink-judge")
        """Judges deliveries one at a time, in arrival order, after they were answered."""
        self._due = threading.BoundedSemaphore(max_judgements_due)
        """Deliveries waiting to be judged: past the bound a new one waits for its answer (a sender faster than
        the judging is slowed down, not held in memory)."""
        self._judge_lock = threading.RLock()
        """Guards what is judged: the judge's state, results, statuses seen."""

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> CallbackSink:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self._judging.shutdown(wait=True)

    def __enter__(self) -> CallbackSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def base(self) -> str:
        """Origin and token: every URL of this sink starts so (a secret: it is redacted from reports)."""
        return f"{self.origin}/{self.token}"

    @property
    def url(self) -> str:
        """The URL to register with a provider that expands {api} and {webhook} (the embedded mock does)."""
        return self.base + "/{api}/{webhook}"

    def url_for(self, api: str, webhook: str) -> str:
        """The URL to register for one webhook (the path names it)."""
        return f"{self.base}/{api}/{webhook}"

    # -- serving --------------------------------------------------------------------------------------

    async def _asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        arrived = time.time()  # before any wait of ours: retry gaps are judged on these times
        prefix = f"/{self.token}/"
        path = scope["path"]
        if not path.startswith(prefix):
            await _answer(send, 404, _error("not found"))
            return
        rest = path[len(prefix):]
        method = scope["method"]
        if rest == "_sink/deliveries":
            if method not in ("GET", "HEAD"):
                await _answer(send, 405, _error("use GET"))
                return
            await self._serve_deliveries(scope, send)
            return
        route = self.router.route(rest)
        if route is None:
            await _answer(send, 404, _error("no webhook of the specs at this path"))
            return
        if method != "POST":
            await _answer(send, 405, _error("callbacks are POSTed"))
            return
        try:
            raw = await read_body(scope, receive, self.limits.max_body_bytes)
        except BodyTooLarge as exc:
            await _answer(send, 413, _error(str(exc)))
            return
        except ClientGone:
            return
        if self._too_deep(raw):
            await _answer(send, 400, _error(f"the body nests more than {self.limits.max_json_depth} levels deep"))
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        status = await asyncio.to_thread(self._receive, route, path, headers, raw, arrived)
        await _answer(send, status, b"" if status < 300 else _error("refused on purpose, to test retries"))

    async def _serve_deliveries(self, scope: dict[str, Any], send: Any) -> None:
        query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        unknown = set(query) - {"api", "webhook", "since"}
        since = query.get("since", "0")
        if unknown or not since.isdigit():
            await _answer(send, 400, _error("query: api, webhook, since (a delivery number, 0 or more)"))
            return
        body = await asyncio.to_thread(self.snapshot, query.get("api"), query.get("webhook"), int(since))
        await _answer(send, 200, orjson.dumps(body))

    def _too_deep(self, raw: bytes) -> bool:
        """JSON deeper than the limit is refused before the checks' recursive code meets it."""
        limit = self.limits.max_json_depth
        if raw.count(b"[") + raw.count(b"{") <= limit:
            return False
        try:
            return too_deep(raw, orjson.loads(raw), limit)
        except orjson.JSONDecodeError:
            return raw.count(b"[") + raw.count(b"{") > 1000  # the checks' own parser would recurse that deep

    # -- receiving ----------------------------------------------------------------------------------

    def _receive(self, route: Any, path: str, headers: dict[str, str], raw: bytes, arrived: float) -> int:
        body = parse_body(raw)
        key = route.api + "/" + route.webhook + "/" + hashlib.sha256(raw).hexdigest()
        self._due.acquire()
        judging = False
        try:
            with self._lock:
                answered, judging = self._record(route, path, headers, raw, arrived, body, key)
            return answered
        finally:
            if not judging:  # nothing queued: the place is free again (a judgement frees its own)
                self._due.release()

    def _record(self, route: Any, path: str, headers: dict[str, str], raw: bytes, arrived: float, body: Any,
                key: str) -> tuple[int, bool]:
        """Keep the delivery (under the lock) and queue its judgement if it is the first attempt.

        Returns the status to answer and whether a judgement was queued."""
        attempts = self._attempts.setdefault(key, [])
        first_of_webhook = not any(v == (route.api, route.webhook) for v in self._refused.values())
        if first_of_webhook and not attempts and self.refusals > 0:
            self._refused[key] = (route.api, route.webhook)
        refuse = key in self._refused and len(attempts) < self.refusals
        answered = 500 if refuse else 200
        attempts.append((arrived, answered))
        sequence = len(self.deliveries) + 1
        received = Delivery(api=route.api, webhook=route.webhook, operation_id=route.operation_id, body=body,
                            text=raw.decode("utf-8", "replace"), headers=headers, path=path,
                            received_at=arrived, answered=answered, sequence=sequence)
        delivery = self._redacted(received)
        self.deliveries.append(delivery)
        if self.recorder is not None:
            self.recorder.callback({
                "direction": "received", "api": route.api, "webhook": route.webhook, "path": delivery.path,
                "attempt": len(attempts), "answered": answered, "body": delivery.body
                if isinstance(delivery.body, (dict, list)) else delivery.text, "received_at": arrived,
            })
        if len(attempts) == 1:
            self._judging.submit(self._judge, received, delivery)
        self._arrived.notify_all()
        return answered, len(attempts) == 1

    def _redacted(self, delivery: Delivery) -> Delivery:
        """What is kept of a delivery: the same, with card data and credentials redacted, the token hidden."""
        body = delivery.body
        redacted_body = self.redactor.data(body) if isinstance(body, (dict, list)) else body
        text = json.dumps(redacted_body) if redacted_body is not body else self.redactor.text(delivery.text)
        return Delivery(api=delivery.api, webhook=delivery.webhook, operation_id=delivery.operation_id,
                        body=redacted_body, text=text, headers=self.redactor.headers(delivery.headers),
                        path=delivery.path.replace(self.token, "[REDACTED]"), received_at=delivery.received_at,
                        answered=delivery.answered, sequence=delivery.sequence)

    def _judge(self, received: Delivery, kept: Delivery) -> None:
        """Judge the delivery as it came; report with what is kept (redacted)."""
        try:
            self._judge_now(received, kept)
        finally:
            self._due.release()

    def _judge_now(self, received: Delivery, kept: Delivery) -> None:
        with self._judge_lock:
            for result in self.judge.callback(received):
                self._report(kept.api, kept.operation_id, result, kept)
            for label, value in self.judge.statuses(received):
                self._seen.setdefault(received.api, {}).setdefault(label, set()).add(value)
                if self.recorder is not None:
                    self.recorder.saw_status(received.api, label, value)

    def _judged(self) -> None:
        """Wait until every delivery that arrived so far has been judged."""
        try:
            self._judging.submit(lambda: None).result()
        except RuntimeError:  # stopped: shutting the judging thread down waited for every judgement
            pass

    @property
    def results(self) -> list[tuple[str, str, Result, Delivery | None]]:
        """(api, operation, Result, delivery) of every judgement so far."""
        self._judged()
        return self._results

    @property
    def seen(self) -> dict[str, dict[str, set[str]]]:
        """Statuses (by coverage label) the callbacks so far carried, per API."""
        self._judged()
        return self._seen

    def _report(self, api: str, operation: str, result: Result, delivery: Delivery | None) -> None:
        self._results.append((api, operation, result, delivery))
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
        with self._judge_lock:
            self.judge.add_source(api, correlation_id, keys)

    def snapshot(self, api: str | None = None, webhook: str | None = None, since: int = 0) -> list[dict]:
        """Deliveries as plain data (what `GET /_sink/deliveries` answers)."""
        with self._lock:
            return [
                {"api": d.api, "webhook": d.webhook, "body": d.body if d.body else None, "received_at": d.received_at,
                 "answered": d.answered, "sequence": d.sequence}
                for d in self.deliveries
                if (api is None or d.api == api) and (webhook is None or d.webhook == webhook)
                and d.sequence > since
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
        self._judged()
        made: list[tuple[str, str, Result, Delivery | None]] = []
        with self._lock, self._judge_lock:
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
