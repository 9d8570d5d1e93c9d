"""Probe classes 8 and 15, the mock's callback delivery facing receivers that misbehave: one that trickles
its answer is cut off at the attempt's total deadline (logged, a failed attempt), and receivers that
never answer hold at most `concurrency` deliveries while the API keeps serving; beyond `max_pending`
waiting callbacks, new ones are dropped and reported."""

from __future__ import annotations

import socket
import threading
import time

import httpx
from hostile_support import LIMITS, PATIENCE, example, token

from conformance.mock import DeliveryLimits, MockServer, RetryPolicy


class BadReceiver:
    """A TCP server that reads each request, then either trickles an answer or never answers."""

    def __init__(self, trickle: float | None) -> None:
        self.trickle = trickle
        self.open = 0
        self.most_open = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/callbacks"
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
        try:
            conn.settimeout(PATIENCE)
            conn.recv(65536)
            if self.trickle is None:
                self._stop.wait(PATIENCE)  # never answers
                return
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n":
                conn.sendall(bytes([byte]))
                time.sleep(self.trickle)
        except OSError:
            pass
        finally:
            with self._lock:
                self.open -= 1
            conn.close()

    def __enter__(self) -> BadReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._acceptor.join()
        self.listener.close()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline():
    retry = RetryPolicy(base=0.01, factor=1, cap=0.01, attempts=2, timeout=0.5)
    with BadReceiver(trickle=0.1) as receiver, MockServer(limits=LIMITS, retry=retry, callback_url=receiver.url,
                                                          callback_interval=30) as mock:
        created = httpx.post(mock.base_url("pay-by-bank") + "/payments", json=example("pay-by-bank", "createPayment"),
                             headers={"authorization": f"Bearer {token(mock)}", "Idempotency-Key": "trickle"},
                             timeout=PATIENCE)
        assert created.status_code == 201
        wait_for(lambda: mock.given_up, "the first callback to be given up")
        attempts = [entry for entry in mock.callback_log if entry["resource"] == created.json()["id"]]
    assert [entry["attempt"] for entry in attempts] == [1, 2]
    assert all(entry["status"] is None and "timed out" in entry["error"] for entry in attempts)


def test_receivers_that_never_answer_hold_a_bounded_number_of_deliveries():
    retry = RetryPolicy(base=0.01, factor=1, cap=0.01, attempts=1, timeout=2)
    delivery = DeliveryLimits(concurrency=2, max_pending=4)
    with BadReceiver(trickle=None) as receiver, MockServer(limits=LIMITS, retry=retry, callback_url=receiver.url,
                                                           delivery=delivery, callback_interval=30) as mock:
        bearer = f"Bearer {token(mock)}"
        for number in range(8):
            created = httpx.post(mock.base_url("pay-by-bank") + "/payments", timeout=PATIENCE,
                                 json=example("pay-by-bank", "createPayment"),
                                 headers={"authorization": bearer, "Idempotency-Key": f"dead-{number}"})
            assert created.status_code == 201
        wait_for(lambda: receiver.most_open == 2, "two deliveries in flight")
        dropped = [entry for entry in mock.given_up if entry.get("dropped")]
        snapshot = httpx.get(mock.origin + "/_mock/callbacks", auth=("conformance-mock", "conformance-mock-secret"),
                             timeout=PATIENCE).json()
    assert receiver.most_open == 2
    assert len(dropped) == 4 and all("dropped" in entry["last_error"] for entry in dropped)
    assert snapshot["dropped"] == 4
