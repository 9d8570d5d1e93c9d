"""Callback delivery: at-least-once, per-resource order, exponential back-off, a log of every attempt.

Each status change of a Global Payments or Pay By Bank resource becomes one callback, bound to the
callback URL registered at that moment. Callbacks of one resource go out one after another: a
later status is not sent before the earlier one was delivered or given up, so a receiver sees them
in order. A non-2xx answer, a timeout or a refused connection is tried again after
base * factor^(n-1) seconds (at most `cap`), up to `attempts` tries; then the callback is recorded
in `given_up`. Nothing is dropped while attempts remain.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from .._errors import UsageError
from ._common import dumps, iso_timestamp

logger = logging.getLogger("conformance.mock")

CertSpec = str | os.PathLike[str] | tuple[str, str] | tuple[str, str, str]
"""A PEM file holding certificate and key, or (certificate, key), or (certificate, key, password)."""


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
    """Seconds to wait for a receiver's answer before counting the attempt as failed."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise UsageError("retry attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.factor < 1 or self.timeout <= 0:
            raise UsageError("retry base and cap must be >= 0, factor >= 1 and timeout > 0")

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after `failed_attempts` failures (1, 2, ...)."""
        return min(self.cap, self.base * self.factor ** (failed_attempts - 1))


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
    url: str
    body: dict[str, Any]
    attempts: int


class CallbackDispatcher:
    """Sends callbacks from the server's event loop. `send` is called on that loop only."""

    def __init__(self, retry: RetryPolicy, ssl_context: ssl.SSLContext, url: str | None = None,
                 log_limit: int = 10_000) -> None:
        self.retry = retry
        self.url = url
        self.log: deque[dict[str, Any]] = deque(maxlen=log_limit)
        self.given_up: list[dict[str, Any]] = []
        self._ssl = ssl_context
        self._client: httpx.AsyncClient | None = None
        self._queues: dict[str, deque[_Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    @property
    def busy(self) -> bool:
        """Whether a callback is waiting or being delivered."""
        return bool(self._workers)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(verify=self._ssl, timeout=self.retry.timeout, trust_env=False)

    async def stop(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        for task in list(self._workers.values()):
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
        if self._client is not None:
            await self._client.aclose()

    def send(self, resource: str, webhook: str, body: dict[str, Any], attempts: int | None = None) -> None:
        """Queue one callback for `resource`, to the URL registered now."""
        url = self.url
        if not url:
            self.log.append({
                "time": iso_timestamp(), "url": None, "webhook": webhook, "resource": resource, "attempt": 0,
                "status": None, "error": "no callback URL registered", "body": body,
            })
            return
        queue = self._queues.setdefault(resource, deque())
        queue.append(_Delivery(resource, webhook, url, body, attempts or self.retry.attempts))
        if resource not in self._workers:
            self._workers[resource] = asyncio.get_running_loop().create_task(self._work(resource))

    async def _work(self, resource: str) -> None:
        queue = self._queues[resource]
        try:
            while queue:
                await self._deliver(queue[0])
                queue.popleft()
        finally:
            if not queue:
                self._queues.pop(resource, None)
            self._workers.pop(resource, None)

    async def _deliver(self, delivery: _Delivery) -> None:
        assert self._client is not None
        content = dumps(delivery.body)
        status: int | None = None
        error: str | None = None
        for attempt in range(1, delivery.attempts + 1):
            status, error = None, None
            try:
                answer = await self._client.post(
                    delivery.url, content=content,
                    headers={"content-type": "application/json", "user-agent": "conformance-mock"},
                )
                status = answer.status_code
            except httpx.TimeoutException:
                error = f"timed out after {self.retry.timeout:g} s"
            except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except Exception as exc:  # noqa: BLE001 - whatever broke, this attempt failed; the next may not
                logger.exception("callback delivery to %s failed unexpectedly", delivery.url)
                error = f"{type(exc).__name__}: {exc}"
            self.log.append({
                "time": iso_timestamp(), "url": delivery.url, "webhook": delivery.webhook,
                "resource": delivery.resource, "attempt": attempt, "status": status, "error": error,
                "body": delivery.body,
            })
            if status is not None and 200 <= status < 300:
                return
            if attempt < delivery.attempts:
                await asyncio.sleep(self.retry.delay(attempt))
        self.given_up.append({
            "time": iso_timestamp(), "url": delivery.url, "webhook": delivery.webhook, "resource": delivery.resource,
            "attempts": delivery.attempts, "last_status": status, "last_error": error, "body": delivery.body,
        })
        logger.warning("gave up a %s callback for %s after %d attempts", delivery.webhook, delivery.resource,
                       delivery.attempts)

