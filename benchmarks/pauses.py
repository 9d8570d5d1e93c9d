"""Pauses of a process: moments when none of its threads could run, and what the main thread was doing.

Timing rules (CALLBACK-RETRY) and waits (scenario callbacks) are judged in a process whose threads all
stop for a full garbage collection or a C call that holds the interpreter. This pytest plugin measures
those pauses where they hurt: a watcher thread sleeps 5 ms at a time, and a wake-up later than the
threshold is a pause, logged with the garbage collections that ended in it and every thread's stack.

    PYTHONPATH=benchmarks .venv/bin/python -m pytest -p pauses -n 2 -q     # the whole test run
    PYTHONPATH=benchmarks .venv/bin/python -m pytest -p pauses --pyargs conformance.suites   # a certify-like run

Each process appends to $PAUSES_LOG (default /tmp/pauses.log) and prints its longest pauses at the end.
Results go to docs/benchmarks.md ("Pauses"). Not for CI: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
from pathlib import Path

LOG = Path(os.environ.get("PAUSES_LOG", "/tmp/pauses.log"))
THRESHOLD = float(os.environ.get("PAUSES_THRESHOLD", "0.25"))
"""Seconds a 5 ms sleep may overrun before it counts as a pause."""

_collections: list[tuple[float, int, float]] = []
"""(end, generation, seconds) of every collection longer than 50 ms."""
_pauses: list[tuple[float, str]] = []
_test = ["(collecting)"]


def _on_collection(phase: str, info: dict) -> None:
    if phase == "start":
        _on_collection.started = time.perf_counter()  # type: ignore[attr-defined]
        return
    took = time.perf_counter() - getattr(_on_collection, "started", time.perf_counter())
    if took > 0.05:
        _collections.append((time.perf_counter(), info["generation"], took))


def _stacks(skip: int) -> list[str]:
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    lines = []
    for ident, frame in sys._current_frames().items():
        if ident == skip:
            continue
        calls = traceback.extract_stack(frame)[-5:]
        lines.append(f"  [{names.get(ident, '?')}] " + " <- ".join(
            f"{Path(call.filename).name}:{call.lineno}:{call.name}" for call in reversed(calls)))
    return lines


def _watch() -> None:
    me = threading.get_ident()
    last = time.perf_counter()
    while True:
        time.sleep(0.005)
        now = time.perf_counter()
        paused = now - last - 0.005
        if paused > THRESHOLD:
            collections = [(generation, round(took, 3)) for end, generation, took in _collections if end > last]
            _pauses.append((paused, _test[0]))
            with LOG.open("a") as log:
                log.write(f"{os.getpid()} paused {paused:.3f}s in {_test[0]}; collections {collections}\n"
                          + "\n".join(_stacks(me)) + "\n")
        last = now


def pytest_configure(config) -> None:
    gc.callbacks.append(_on_collection)
    threading.Thread(target=_watch, name="pause-watcher", daemon=True).start()


def pytest_runtest_setup(item) -> None:
    _test[0] = item.nodeid


def pytest_unconfigure(config) -> None:
    if _pauses:
        worst = sorted(_pauses, reverse=True)[:5]
        sys.stderr.write(f"pauses over {THRESHOLD:g} s in process {os.getpid()}: {len(_pauses)}; longest "
                         + ", ".join(f"{seconds:.2f} s ({test})" for seconds, test in worst) + "\n")
