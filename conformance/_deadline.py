"""A total deadline per HTTP exchange, for every client this tool runs.

The timeouts of requests and httpx bound each read, not the exchange: a peer that trickles its
answer one byte every half second never trips them, and a run waits for ever. Here an exchange (a
request, its answer and the whole body, redirects included) gets a wall-clock deadline. The sockets
it uses are watched while it runs, and a single watchdog thread shuts them down when the deadline
passes: the blocked read returns at once, and the client raises its own timeout error
(`requests.Timeout`, `httpx.TimeoutException`), which every caller already turns into "no answer in
time" (a failure, or exit 3 on first contact).

    session = deadline_session(5.0)          # requests, for Schemathesis' case.call(session=...)
    client = deadline_client(5.0, verify=ctx)  # httpx, for the token client, the sender, probes

A watched socket is a duplicate of the connection's descriptor (`socket.fromfd`), so it stays valid
while a library wraps the original in TLS, and shutting it down ends the TLS handshake too.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Exchange:
    """One exchange under a deadline: the sockets it used, shut down if it is not over in time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._finished = False
        self._watched: dict[int, socket.socket] = {}
        self._lock = threading.Lock()

    def watch(self, sock: Any) -> None:
        """Shut this socket down too if the deadline passes (at once, if it already has)."""
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self._finished:
                return
            try:
                key = sock.fileno()
                if key < 0 or key in self._watched:
                    return
                # fromfd duplicates the descriptor (SSLSocket.dup() is not allowed)
                self._watched[key] = socket.fromfd(key, sock.family, sock.type)
            except OSError:
                return
            if self.expired:
                _shut(self._watched[key])

    def expire(self) -> None:
        """The deadline passed: end every exchange-owned connection now (the watchdog calls this)."""
        with self._lock:
            if self._finished:
                return
            self.expired = True
            for sock in self._watched.values():
                _shut(sock)

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            watched, self._watched = list(self._watched.values()), {}
        for sock in watched:
            sock.close()

    @property
    def finished(self) -> bool:
        return self._finished

    def message(self) -> str:
        return f"no complete answer within {self.seconds:g} s"


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread per process, expiring exchanges in deadline order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Exchange]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, exchange: Exchange) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (exchange.deadline, next(self._order), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="conformance-deadlines", daemon=True)
                self._thread.start()
            self._wakeup.notify()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wakeup.wait()
                    continue
                deadline, _, exchange = self._heap[0]
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._wakeup.wait(remaining)
                    continue
                heapq.heappop(self._heap)
            exchange.expire()


_WATCHDOG = _Watchdog()
_CURRENT: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar("conformance_exchange", default=None)


@contextlib.contextmanager
def exchange(seconds: float) -> Iterator[Exchange]:
    """Run one exchange under a deadline: sockets the clients below use in this block are watched."""
    current = Exchange(seconds)
    token = _CURRENT.set(current)
    _WATCHDOG.arm(current)
    try:
        yield current
    finally:
        current.finish()
        _CURRENT.reset(token)


def _watch(sock: Any) -> None:
    current = _CURRENT.get()
    if current is not None:
        current.watch(sock)


# -- requests (urllib3) -----------------------------------------------------------------------------------


class _Watched:
    """A urllib3 connection whose socket is watched by the exchange using it (new or kept alive)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(getattr(self, "sock", None))
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class DeadlineSession(requests.Session):
    """A requests Session whose every request, answer and body are over within `seconds` in all."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        adapter = _WatchedAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        with exchange(self.seconds) as current:
            try:
                response = super().request(method, url, *args, **kwargs)
                response.content  # noqa: B018 - the whole body, within the deadline (also when streamed)
            except Exception as exc:
                if current.expired:
                    raise requests.exceptions.ReadTimeout(current.message()) from exc
                raise
        return response


def deadline_session(seconds: float) -> DeadlineSession:
    return DeadlineSession(seconds)


# -- httpx (httpcore) -------------------------------------------------------------------------------------


class _WatchedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        _watch(stream.get_extra_info("socket"))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        _watch(self._stream.get_extra_info("socket"))
        return self._stream.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _watch(self._stream.get_extra_info("socket"))
        self._stream.write(buffer, timeout)

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _WatchedStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _WatchedBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _WatchedStream(self._backend.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _WatchedStream(self._backend.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineBody(httpx.SyncByteStream):
    """A response body read under its exchange's deadline; the exchange ends when the body is closed."""

    def __init__(self, stream: Any, current: Exchange, request: httpx.Request) -> None:
        self._stream, self._exchange, self._request = stream, current, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except httpx.TransportError as exc:
            if self._exchange.expired:
                raise httpx.ReadTimeout(self._exchange.message(), request=self._request) from exc
            raise

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._exchange.finish()


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport, with a total deadline per exchange (request, answer and body)."""

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds
        # httpx offers no public way to give its connection pool a network backend (httpcore does):
        # the pool reads this attribute for every connection it opens.
        pool = self._pool
        pool._network_backend = _WatchedBackend(pool._network_backend)  # type: ignore[attr-defined]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        current = Exchange(self.seconds)
        _WATCHDOG.arm(current)
        token = _CURRENT.set(current)
        try:
            response = super().handle_request(request)
        except httpx.TransportError as exc:
            current.finish()
            if current.expired:
                raise httpx.ReadTimeout(current.message(), request=request) from exc
            raise
        except BaseException:
            current.finish()
            raise
        finally:
            _CURRENT.reset(token)
        response.stream = _DeadlineBody(response.stream, current, request)
        return response


def deadline_client(seconds: float, *, verify: Any = True, cert: Any = None, timeout: Any = None,
                    **options: Any) -> httpx.Client:
    """An httpx Client whose every exchange is over within `seconds` in all (each read within `timeout`)."""
    transport = DeadlineTransport(seconds, verify=verify, cert=cert)
    return httpx.Client(transport=transport, timeout=seconds if timeout is None else timeout, **options)
