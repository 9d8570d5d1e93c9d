"""Stopping a run on Ctrl-C (SIGINT) or SIGTERM (what CI sends to cancel a job), the same way.

While `stop_signals()` is active both raise KeyboardInterrupt in the main thread (SIGTERM as its
subclass Terminated), so every path that handles Ctrl-C (pytest's, the Recorder's, the CLI's) also
handles a cancelled CI job: an incomplete report, then exit 130 (SIGINT) or 143 (SIGTERM).

Python loses an exception a signal handler raises while the main thread runs a finalizer, a
weakref or a gc callback (Hypothesis and Schemathesis run many): it prints "Exception ignored" and
the run goes on as if nothing had happened. So the signal is also remembered: `check()` raises it
again at the next safe point (each request, each test), and a lost interruption is not printed.
`deferred()` holds a signal back while the report is written, so the set is never half old, half new.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REASONS = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled everywhere as Ctrl-C is."""


_received: int | None = None
_deferring = 0
_held = False


def received() -> int | None:
    """The first stop signal received while `stop_signals()` is active (None: none)."""
    return _received


def reason() -> str:
    """Why the run stopped, for the report: "interrupted (Ctrl-C)" or "terminated (SIGTERM)"."""
    return REASONS.get(_received or signal.SIGINT, "interrupted")


def exit_code(default: int = 130) -> int:
    """The shell's code for the signal received: 128 + its number (130 SIGINT, 143 SIGTERM)."""
    return 128 + _received if _received is not None else default


def _interruption(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def check() -> None:
    """Raise the stop signal again if one was received (its first exception may have been lost)."""
    if _received is not None and not _deferring:
        raise _interruption(_received)


def _handler(signum: int, frame: Any) -> None:
    global _received, _held
    if _received is None:
        _received = signum
    if _deferring:
        _held = True
        return
    raise _interruption(signum)


def _unraisable(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            return  # our own interruption, lost in a finalizer: check() raises it again
        previous(unraisable)

    return hook


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Handle SIGINT and SIGTERM as described above for the duration (main thread only)."""
    global _received, _held
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received, _held = None, False
    previous = {number: signal.signal(number, _handler) for number in STOP_SIGNALS}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(previous_hook)
    try:
        yield
    finally:
        sys.unraisablehook = previous_hook
        for number, handler in previous.items():
            signal.signal(number, handler)


def drop_lineless_frames(exc: BaseException | None) -> None:
    """Cut frames without a line number from an interruption's tracebacks (and its chain's).

    A signal can land on an instruction that has no line (tb_lineno is None); pytest, formatting the
    KeyboardInterrupt it caught, then fails with a TypeError of its own and a traceback of its own."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        head, last, tb = None, None, exc.__traceback__
        while tb is not None:
            if tb.tb_lineno is not None:
                if last is None:
                    head = tb
                else:
                    last.tb_next = tb
                last = tb
            tb = tb.tb_next
        if last is not None:
            last.tb_next = None
        exc.__traceback__ = head
        exc = exc.__cause__ or exc.__context__


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a stop signal back until the block is done (writing the report), then raise it."""
    global _deferring, _held
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    if not _deferring and _held:
        _held = False
        raise _interruption(_received or signal.SIGINT)
