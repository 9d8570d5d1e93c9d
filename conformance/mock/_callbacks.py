"""Callback delivery: at-least-once, per-resource order, exponential back-off, a log of every attempt.

Each status change of a Global Payments or Pay By Bank resource becomes one callback, bound to the
callback URL registered at that moment. Callbacks of one resource go out one after another: a
later status is not sent before the earlier one was delivered or given up, so a receiver sees them
in order. A non-2xx answer, a timeout or a refused connection is tried again after
base * factor^(n-1) seconds (at most `cap`), up to `attempts` tries; then the callback is recorded
in `given_up`. Nothing is dropped while attempts remain.

Delivery is kept apart from serving, so that a receiver that never answers cannot slow the API
down for anyone: it runs on its own thread and event loop; at most `concurrency` attempts are in
flight at once (a callback waiting for its back-off holds no slot); each attempt has a total deadline
(`timeout`: connecting, sending and the whole answer, so a receiver trickling its answer byte by byte
is cut off too); and at most `max_pending` callbacks wait at once: beyond that a new callback is
dropped, logged and recorded in `given_up` as dropped, rather than queued without bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from .._errors import UsageError
from ._common import dumps, iso_timestamp
from ._targets import expand, resolved_problem

logger = logging.getLogger("conformance.mock")

CertSpec = str | os.PathLike[str] | tuple[str, str] | tuple[str, str, str]
"""A PEM file holding certificate and key, or (certificate, key), or (certificate, key, password)."""

ANSWER_READ_LIMIT = 65_536
"""Bytes of a receiver's answer read at most (only its status matters)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a callback is delivered. The defaults are fast, for tests."""

    base: float = 0.05
    """Seconds to wait after the first failed attempt."""
    factor: float = 2.0
    """Each further wait is this many times the previous one..."""
    cap: float = 1.0
    """...but never longer than this."""
    attempts: int = 6
    """Tries in all, the first included; then the callback is given up."""
    timeout: float = 2.0
    """Seconds one attempt may take in all (connect, send, the whole answer) before it counts as failed."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise UsageError("retry attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.factor < 1 or self.timeout <= 0:
            raise UsageError("retry base and cap must be >= 0, factor >= 1 and timeout > 0")

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after `failed_attempts` failures (1, 2, ...)."""
        return min(self.cap, self.base * self.factor ** (failed_attempts - 1))


@dataclass(frozen=True)
class DeliveryLimits:
    """How much of the machine callback delivery may take, whatever the receivers do."""

    concurrency: int = 16
    """Delivery attempts in flight at once."""
    max_pending: int = 10_000
    """Callbacks waiting (queued, in flight or between attempts) at once; beyond, new ones are dropped."""
    log_limit: int = 10_000
    """Entries kept in the attempt log and in the given-up list (the oldest go first)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_pending < 1 or self.log_limit < 1:
            raise UsageError("callback concurrency, queue and log limits must be at least 1")


def client_ssl_context(client_cert: CertSpec | None, ca: str | os.PathLike[str] | None) -> ssl.SSLContext:
    """TLS settings for the callback channel: the receiver is verified (against `ca` when given),
    and the client certificate, when given, is presented for mutual TLS."""
    try:
        context = ssl.create_default_context(cafile=os.fspath(ca)) if ca else httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the callback CA bundle {ca}: {exc}") from None
    if client_cert is not None:
        parts = (client_cert,) if isinstance(client_cert, str | os.PathLike) else tuple(client_cert)
        try:
            context.load_cert_chain(*[os.fspath(part) for part in parts[:2]], *parts[2:3])
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot load the callback client certificate {parts[0]}: {exc}") from None
    return context


@dataclass
class _Delivery:
    resource: str
    webhook: str
    api: str
    url: str
    body: dict[str, Any]
    attempts: int
    suffix: str = ""
    """What the document's callback expression adds after the registered URL ("/status")."""
    tried: int = 0
    status: int | None = None
    error: str | None = None
    content: bytes = field(default=b"", repr=False)


class CallbackDispatcher:
    """Sends callbacks from a thread of its own. `send` may be called from any thread."""

    def __init__(self, retry: RetryPolicy, ssl_context: ssl.SSLContext, url: str | None = None,
                 limits: DeliveryLimits | None = None) -> None:
        self.retry = retry
        self.url = url
        self.limits = limits or DeliveryLimits()
        self.log: deque[dict[str, Any]] = deque(maxlen=self.limits.log_limit)
        self.given_up: deque[dict[str, Any]] = deque(maxlen=self.limits.log_limit)
        self.dropped = 0
        self._ssl = ssl_context
        self._lock = threading.Lock()
        self._outstanding = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Owned by the delivery loop:
        self._client: httpx.AsyncClient | None = None
        self._queues: dict[str, deque[_Delivery]] = {}
        self._ready: asyncio.Queue[str] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.TimerHandle] = set()

    # -- what the rest of the mock sees ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a callback is waiting or being delivered."""
        return self._outstanding > 0

    def snapshot(self) -> dict[str, Any]:
        """The URL, every attempt logged and every callback given up or dropped, as plain data."""
        with self._lock:
            return {"url": self.url, "attempts": list(self.log), "given_up": list(self.given_up),
                    "dropped": self.dropped}

    def send(self, resource: str, webhook: str, body: dict[str, Any], attempts: int | None = None,
             api: str = "", suffix: str = "") -> None:
        """Queue one callback for `resource` of `api`, to the URL registered now."""
        url = self.url
        loop = self._loop
        with self._lock:
            if not url or loop is None:
                self.log.append({
                    "time": iso_timestamp(), "url": None, "webhook": webhook, "resource": resource, "attempt": 0,
                    "status": None, "error": "no callback URL registered" if not url else "the mock is stopping",
                    "body": body,
                })
                return
            if self._outstanding >= self.limits.max_pending:
                self.dropped += 1
                self.given_up.append({
                    "time": iso_timestamp(), "url": expand(url, api, webhook, suffix), "webhook": webhook,
                    "resource": resource, "attempts": 0, "last_status": None, "dropped": True,
                    "last_error": f"dropped: {self.limits.max_pending} callbacks were already waiting",
                    "body": body,
                })
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    logger.warning("callback queue full (%d waiting): dropped %d callback(s) so far",
                                   self.limits.max_pending, self.dropped)
                return
            self._outstanding += 1
        delivery = _Delivery(resource, webhook, api, url, body, attempts or self.retry.attempts, suffix)
        try:
            loop.call_soon_threadsafe(self._enqueue, delivery)
        except RuntimeError:  # the delivery loop closed in between: the mock is stopping
            with self._lock:
                self._outstanding -= 1

    # -- lifecycle (called from the serving loop's lifespan) -------------------------------------------------------

    async def start(self) -> None:
        ready = threading.Event()
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="mock-callbacks", daemon=True)
        self._thread.start()
        ready.wait()
        asyncio.run_coroutine_threadsafe(self._open(), loop).result()
        self._loop = loop

    async def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._close(), loop))
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(self._thread.join, 5)  # type: ignore[union-attr]

    async def _open(self) -> None:
        limits = httpx.Limits(max_connections=self.limits.concurrency,
                              max_keepalive_connections=self.limits.concurrency)
        self._client = httpx.AsyncClient(verify=self._ssl, timeout=self.retry.timeout, limits=limits,
                                         trust_env=False)
        self._ready = asyncio.Queue()
        self._workers = [asyncio.get_running_loop().create_task(self._work()) for _ in range(self.limits.concurrency)]

    async def _close(self) -> None:
        for handle in self._retries:
            handle.cancel()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    # -- the delivery loop ---------------------------------------------------------------------------------------

    def _enqueue(self, delivery: _Delivery) -> None:
        queue = self._queues.setdefault(delivery.resource, deque())
        queue.append(delivery)
        if len(queue) == 1:  # nothing of this resource is in flight or waiting to be retried
            self._ready.put_nowait(delivery.resource)  # type: ignore[union-attr]

    async def _work(self) -> None:
        assert self._ready is not None
        while True:
            resource = await self._ready.get()
            try:
                await self._attempt(resource)
            except Exception:  # noqa: BLE001 - a bug in one delivery must not stop the others
                logger.exception("callback delivery for %s failed unexpectedly", resource)
                self._finish(resource)

    async def _attempt(self, resource: str) -> None:
        delivery = self._queues[resource][0]
        delivery.tried += 1
        url = expand(delivery.url, delivery.api, delivery.webhook, delivery.suffix)
        status, error = await self._post(url, delivery)
        with self._lock:
            self.log.append({
                "time": iso_timestamp(), "url": url, "webhook": delivery.webhook, "resource": resource,
                "attempt": delivery.tried, "status": status, "error": error, "body": delivery.body,
            })
        delivery.status, delivery.error = status, error
        if status is not None and 200 <= status < 300:
            self._finish(resource)
            return
        logger.info("callback %s for %s, attempt %d of %d: %s", delivery.webhook, resource, delivery.tried,
                    delivery.attempts, error or f"answered {status}")
        if delivery.tried >= delivery.attempts:
            with self._lock:
                self.given_up.append({
                    "time": iso_timestamp(), "url": url, "webhook": delivery.webhook, "resource": resource,
                    "attempts": delivery.attempts, "last_status": status, "last_error": error, "body": delivery.body,
                })
            logger.warning("gave up a %s callback for %s after %d attempts (last: %s)", delivery.webhook, resource,
                           delivery.attempts, error or f"answered {status}")
            self._finish(resource)
            return
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def again() -> None:
            self._retries.discard(handle)  # type: ignore[arg-type]
            self._ready.put_nowait(resource)  # type: ignore[union-attr]

        handle = loop.call_later(self.retry.delay(delivery.tried), again)
        self._retries.add(handle)

    def _finish(self, resource: str) -> None:
        """The head callback of `resource` is done (delivered, given up or broken): on to the next."""
        queue = self._queues.get(resource)
        if queue:
            queue.popleft()
        with self._lock:
            self._outstanding -= 1
        if queue:
            self._ready.put_nowait(resource)  # type: ignore[union-attr]
        else:
            self._queues.pop(resource, None)

    async def _post(self, url: str, delivery: _Delivery) -> tuple[int | None, str | None]:
        """One attempt: (status, None) when the receiver answered in time, else (None, why not)."""
        assert self._client is not None
        timeout = self.retry.timeout
        try:
            async with asyncio.timeout(timeout):
                refused = await resolved_problem(url, timeout)
                if refused:
                    return None, f"not sent: the URL points at {refused}"
                if not delivery.content:
                    delivery.content = dumps(delivery.body)
                async with self._client.stream(
                    "POST", url, content=delivery.content,
                    headers={"content-type": "application/json", "user-agent": "conformance-mock"},
                ) as answer:
                    read = 0
                    async for chunk in answer.aiter_raw():
                        read += len(chunk)
                        if read > ANSWER_READ_LIMIT:
                            break
                    return answer.status_code, None
        except (TimeoutError, httpx.TimeoutException):
            return None, f"timed out after {timeout:g} s without a complete answer"
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
