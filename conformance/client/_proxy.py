"""The recording proxy: an HTTP/1.1 server on loopback in front of the provider, that records and troubles.

Every request the integration sends passes through it: it is named (API, operation), matched against
the schedule of trouble, sent on to the provider (the embedded mock or a sandbox) or not, answered
(the provider's answer, or one made up in its place), dropped, or held past the client's timeout, and
recorded with what became of it, for the client rules to judge afterwards.

It is a hostile-peer server like every server we run: headers are capped (431), bodies too (413), a
request must arrive whole within `read_seconds` once begun (408), an idle keep-alive connection is
closed after `idle_seconds`, connections are limited (past the limit one is closed at once), every
exchange with the provider has a total deadline (504), and the recording itself is bounded.
Implemented on h11 (the sans-IO HTTP/1.1 library under uvicorn and httpcore) over asyncio streams, in
a thread of its own, so that it can sit in front of a command, a pytest session or a test.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import h11

from .._errors import UsageError
from .._listen import bind_listener
from .._specs import Spec
from .._specs._client_rules import Action, load_client_rules
from ..checks._traffic import ANSWERED, CLIENT_GONE, DROPPED, UPSTREAM_FAILED, ClientExchange
from ._answers import made_up_answer, prepare, reason
from ._injector import Injector, rewrite, triggers
from ._routes import Router
from ._schedule import Trouble
from ._upstream import Answer, Upstream, UpstreamFailure

logger = logging.getLogger("conformance.client")

ADMIN_PREFIX = "/_mock"
"""The embedded mock's admin endpoints: not the client's to call (the proxy answers 404)."""


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 1024 * 1024
    read_seconds: float = 10.0
    idle_seconds: float = 15.0
    write_seconds: float = 10.0
    max_connections: int = 256
    max_exchanges: int = 50_000


class RecordingProxy:
    """Records (and troubles) a client's traffic to `upstream`. Use as a context manager, or start() and stop()."""

    def __init__(self, specs: Mapping[str, Spec], upstream: Upstream, injector: Injector, *,
                 host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None,
                 on_trouble: Callable[[Trouble, ClientExchange], None] | None = None) -> None:
        self.specs = dict(specs)
        self.router = Router(self.specs.values())
        self.upstream = upstream
        self.injector = injector
        self.host = host
        self.port = int(port)
        self.limits = limits or Limits()
        self.on_trouble = on_trouble
        self.traffic: list[ClientExchange] = []
        self.issued: set[str] = set()
        """Every token the token endpoint issued through the proxy."""
        self.revoked: set[str] = set()
        self.notes: dict[str, dict[str, Any]] = {}
        """Trouble id -> what it did beyond its action (the scenario trigger it applied)."""
        self._lock = threading.Lock()
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # -- the contract ---------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def exchanges(self) -> list[ClientExchange]:
        with self._lock:
            return list(self.traffic)

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> RecordingProxy:
        if self._thread is not None:
            return self
        prepare(self.specs.values(), self.answer_statuses())
        sock = self._bind()
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"client-proxy-{self.port}", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._failure is not None:
            raise UsageError(f"the recording proxy could not start on {self.origin}: {self._failure}")
        return self

    def answer_statuses(self) -> set[int]:
        """The statuses the proxy may answer in the provider's place: each trouble kind's (and each scheduled
        trouble's), and 401 for a revoked token in front of a sandbox."""
        kinds = load_client_rules().troubles.values()
        scheduled = self.injector.schedule.troubles
        return {401} | {t.action.status for t in [*kinds, *scheduled] if t.action.status is not None}

    def _bind(self) -> socket.socket:
        sock = bind_listener(self.host, self.port)
        sock.listen(512)
        return sock

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._failure = exc
            self._ready.set()
        finally:
            loop.run_until_complete(self.upstream.close())
            loop.close()
            sock.close()

    async def _serve(self, sock: socket.socket) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, sock=sock, limit=self.limits.max_header_bytes * 4)
        self._ready.set()
        async with server:
            await self._stopping.wait()
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> RecordingProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one connection -------------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._open >= self.limits.max_connections:
            writer.transport.abort()
            return
        self._open += 1
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        try:
            while True:
                request = await self._read_request(conn, reader, writer)
                if request is None:
                    break
                keep = await self._exchange(conn, reader, writer, *request)
                if not keep or conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    break
                try:
                    conn.start_next_cycle()
                except h11.LocalProtocolError:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, OSError, asyncio.CancelledError):
            pass  # the client went away, or the proxy is stopping
        finally:
            self._open -= 1
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> tuple[h11.Request, bytes, float] | None:
        loop = asyncio.get_running_loop()
        begun: float | None = None
        head: h11.Request | None = None
        started = 0.0
        body = bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                await self._refuse(conn, writer, exc.error_status_hint, str(exc) or "malformed request")
                return None
            if event is h11.NEED_DATA:
                if begun is None:
                    timeout = self.limits.idle_seconds
                else:
                    timeout = max(0.0, begun + self.limits.read_seconds - loop.time())
                try:
                    data = await asyncio.wait_for(reader.read(65536), timeout)
                except TimeoutError:
                    if begun is not None:
                        await self._refuse(conn, writer, 408, "the request did not arrive in time")
                    return None
                begun = begun if begun is not None else loop.time()
                conn.receive_data(data)
                if not data and head is None:
                    return None
            elif isinstance(event, h11.Request):
                head, started = event, time.monotonic()
                size = len(event.target) + sum(len(name) + len(value) + 4 for name, value in event.headers)
                if size > self.limits.max_header_bytes:  # h11 caps only a head that arrives in pieces
                    limit = self.limits.max_header_bytes
                    await self._refuse(conn, writer, 431, f"headers are limited to {limit} bytes")
                    return None
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.limits.max_body_bytes:
                    await self._refuse(conn, writer, 413, f"bodies are limited to {self.limits.max_body_bytes} bytes")
                    return None
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return head, bytes(body), started
            elif isinstance(event, h11.ConnectionClosed):
                return None

    async def _refuse(self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, message: str) -> None:
        """Answer abuse with a 4xx and close (when the protocol state still allows an answer)."""
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        content = json.dumps({"error": reason(status), "message": message[:200]}).encode()
        try:
            writer.write(conn.send(h11.Response(status_code=status, headers=[
                ("content-type", "application/json"), ("content-length", str(len(content))), ("connection", "close")])))
            writer.write(conn.send(h11.Data(data=content)) + conn.send(h11.EndOfMessage()))
            await asyncio.wait_for(writer.drain(), self.limits.write_seconds)
        except (h11.LocalProtocolError, ConnectionError, TimeoutError, OSError):
            pass

    # -- one exchange --------------------------------------------------------------------------------------------

    async def _exchange(self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        head: h11.Request, content: bytes, started: float) -> bool:
        """Record, trouble, forward and answer one request; False when the connection must close."""
        method = head.method.decode("ascii", "replace")
        target = head.target.decode("latin-1")
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers]
        exchange = self._record(method, target, headers, content, started)
        if exchange is None:
            return await self._send(conn, writer, None, 503, *made_up_answer(
                None, None, 503, f"the recording is full ({self.limits.max_exchanges} exchanges)"), method)
        if exchange.path == ADMIN_PREFIX or exchange.path.startswith(ADMIN_PREFIX + "/"):
            return await self._send(conn, writer, exchange, 404, *made_up_answer(
                None, None, 404, "the mock's admin endpoints are not the client's"), method)
        spec = self.specs.get(exchange.api or "")
        trouble = self._meet(exchange)
        action = trouble.action if trouble is not None else Action()
        if exchange.bearer and exchange.bearer in self.revoked and self.upstream.revoke is None:
            headers_out, body = made_up_answer(spec, exchange.operation, 401, "The bearer token was revoked",
                                               [("www-authenticate", 'Bearer error="invalid_token"')])
            return await self._send(conn, writer, exchange, 401, headers_out, body, method)
        answer: Answer | None = None
        if action.forward:
            forwarded = self._rewritten(trouble, exchange, spec) if action.scenario else content
            answer, gone_at = await self._watching(conn, reader, self._forward(exchange, method, target, headers,
                                                                                forwarded))
            if gone_at is not None:
                exchange.outcome, exchange.ended = CLIENT_GONE, gone_at
                return False
        if action.status is not None:
            extra = [] if action.retry_after_seconds is None else [("retry-after", f"{action.retry_after_seconds:g}")]
            answer = Answer(action.status, *made_up_answer(spec, exchange.operation, action.status,
                                                           reason(action.status), extra))
        if action.drop:
            exchange.outcome, exchange.ended = DROPPED, time.monotonic()
            writer.transport.abort()
            return False
        if action.hold_seconds:
            _, gone_at = await self._watching(conn, reader, asyncio.sleep(action.hold_seconds), hold=True)
            if gone_at is not None:
                exchange.outcome, exchange.ended = CLIENT_GONE, gone_at
                return False
        assert answer is not None
        return await self._send(conn, writer, exchange, answer.status, answer.headers, answer.content, method)

    def _record(self, method: str, target: str, headers: list[tuple[str, str]], content: bytes,
                started: float) -> ClientExchange | None:
        """The request, named and added to the traffic; None when the recording is full."""
        path, _, query = target.partition("?")
        route = self.router.route(method, path)
        with self._lock:
            if len(self.traffic) >= self.limits.max_exchanges:
                return None
            exchange = ClientExchange(
                seq=len(self.traffic) + 1, method=method, url=self.origin + target, path=path,
                query=urllib.parse.parse_qsl(query, keep_blank_values=True),
                headers={name.lower(): value for name, value in headers}, content=content, started=started,
                started_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                api=route.api, operation=route.operation, path_parameters=route.path_parameters,
                token_endpoint=route.token_endpoint)
            self.traffic.append(exchange)
        return exchange

    def _meet(self, exchange: ClientExchange) -> Trouble | None:
        """The trouble this request meets, marked on it (tokens revoked first when it revokes them)."""
        trouble = self.injector.choose(exchange)
        if trouble is None:
            return None
        exchange.trouble = trouble.id
        if trouble.action.revoke:
            with self._lock:
                self._revoke()
        if self.on_trouble is not None:
            self.on_trouble(trouble, exchange)
        return trouble

    def _rewritten(self, trouble: Trouble | None, exchange: ClientExchange, spec: Spec | None) -> bytes:
        """The body with one of the operation's scenario triggers applied (chosen by the trouble's seeded pick)."""
        if trouble is None or spec is None or not isinstance(exchange.data, dict):
            return exchange.content
        chosen = triggers(spec, exchange.operation or "", trouble.action.exclude_statuses, exchange.data)
        scenario = chosen[trouble.pick % len(chosen)]
        exchange.forwarded_content = json.dumps(rewrite(exchange.data, scenario), separators=(",", ":")).encode()
        self.notes[trouble.id] = {"scenario": scenario.id, "expected_status": scenario.status}
        return exchange.forwarded_content

    async def _forward(self, exchange: ClientExchange, method: str, target: str, headers: list[tuple[str, str]],
                       content: bytes) -> Answer:
        try:
            answer = await self.upstream.send(method, target, headers, content)
        except UpstreamFailure as failure:
            exchange.outcome = UPSTREAM_FAILED
            spec = self.specs.get(exchange.api or "")
            headers_out, body = made_up_answer(spec, exchange.operation, failure.status, str(failure))
            return Answer(failure.status, headers_out, body)
        exchange.provider_status = answer.status
        if exchange.token_endpoint and 200 <= answer.status < 300:
            try:
                token = json.loads(answer.content).get("access_token")
            except (ValueError, AttributeError):
                token = None
            if isinstance(token, str) and token:
                with self._lock:
                    self.issued.add(token)
        return answer

    async def _watching(self, conn: h11.Connection, reader: asyncio.StreamReader, work: Awaitable[Any],
                        hold: bool = False) -> tuple[Any, float | None]:
        """Await `work` while watching the client: (its result, when the client went away or None).

        Provider work is finished even when the client leaves (the provider processes what it got); a `hold`
        ends when the client leaves. Bytes the client sends meanwhile go to h11 for the next request.
        """
        task = asyncio.ensure_future(work)
        gone_at: float | None = None
        while not task.done():
            read = asyncio.ensure_future(reader.read(65536))
            done, _ = await asyncio.wait({task, read}, return_when=asyncio.FIRST_COMPLETED)
            if read not in done:
                read.cancel()
                continue
            try:
                data = read.result()
            except (ConnectionError, OSError):
                data = b""
            if data:
                conn.receive_data(data)
                continue
            gone_at = time.monotonic()
            if hold:
                task.cancel()
                return None, gone_at
            break
        return await task, gone_at

    async def _send(self, conn: h11.Connection, writer: asyncio.StreamWriter, exchange: ClientExchange | None,
                    status: int, headers: list[tuple[str, str]], content: bytes, method: str) -> bool:
        skip = {"content-length", "transfer-encoding", "connection"}
        out = [(name, value) for name, value in headers if name.lower() not in skip]
        out.append(("content-length", str(len(content))))
        try:
            data = conn.send(h11.Response(status_code=status, headers=out))
            if method != "HEAD" and content:
                data += conn.send(h11.Data(data=content))
            data += conn.send(h11.EndOfMessage())
            writer.write(data)
            await asyncio.wait_for(writer.drain(), self.limits.write_seconds)
        except (ConnectionError, TimeoutError, OSError, h11.LocalProtocolError):
            if exchange is not None:
                exchange.outcome, exchange.ended = CLIENT_GONE, time.monotonic()
            return False
        if exchange is not None:
            exchange.status = status
            exchange.response_headers = {name.lower(): value for name, value in out}
            exchange.response_content = content
            exchange.ended = time.monotonic()
            if exchange.outcome not in (UPSTREAM_FAILED,):
                exchange.outcome = ANSWERED
        return True

    # -- tokens ----------------------------------------------------------------------------------------------------

    def _revoke(self) -> None:
        """Every token issued so far is revoked (at the mock when it is upstream; by the proxy otherwise)."""
        self.revoked |= self.issued
        if self.upstream.revoke is not None:
            self.upstream.revoke()
