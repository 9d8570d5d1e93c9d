"""The exchange log: every request of a run and its answer, redacted, as they happen.

`--log FILE` keeps it as NDJSON (one exchange per line, the same fields as a failure's exchange in
certification.json); `--har FILE` turns it into a HAR at the end of the run; `--verbose` prints one
line per exchange. Lines are appended whole (reporting._files.append_line), so the log of an
interrupted run holds every exchange up to the interruption.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ._files import append_line, write_atomically
from ._har import render_har

HIDDEN_LOG = ".exchanges.ndjson"
"""Where the exchanges go when only a HAR was asked for (removed once the HAR is written)."""


class ExchangeLog:
    """Writes redacted exchanges to an NDJSON file, echoes a line for each, writes the HAR at the end."""

    def __init__(
        self,
        report_dir: Path,
        log: str | os.PathLike[str] | None = None,
        har: str | os.PathLike[str] | None = None,
        echo: Callable[[str], Any] | None = None,
    ) -> None:
        self.har = Path(har) if har else None
        self.kept = log is not None
        self.path = Path(log) if log else (report_dir / HIDDEN_LOG if har else None)
        self.echo = echo
        self.count = 0
        self._lock = threading.Lock()
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.unlink(missing_ok=True)
            except OSError as exc:
                from .._errors import UsageError

                raise UsageError(f"cannot write the exchange log {self.path}: {exc.strerror or exc}") from None

    def write(self, exchange: Mapping[str, Any], scrub: Callable[[str], str] = str) -> None:
        """One redacted exchange (`scrub` removes the run's known secrets from the line)."""
        with self._lock:
            self.count += 1
            if self.path is not None:
                append_line(self.path, scrub(json.dumps(exchange, ensure_ascii=True, separators=(",", ":"))))
            if self.echo is not None:
                self.echo(scrub(one_line(exchange)))

    def finish(self, scrub: Callable[[str], str] = str) -> None:
        """Write the HAR (when asked for) from the log; remove the log if only the HAR was wanted."""
        if self.har is None or self.path is None:
            return
        from .. import __version__

        write_atomically(self.har, scrub(render_har(read_log(self.path), __version__)))
        if not self.kept:
            with contextlib.suppress(OSError):
                self.path.unlink()


def one_line(exchange: Mapping[str, Any]) -> str:
    """`POST http://host/path -> 201 in 3.2 ms (pay-by-bank createPayout)`: what --verbose prints."""
    status = exchange.get("status")
    answer = f"-> {status}" if status is not None else "-> no answer"
    elapsed = exchange.get("elapsed_ms")
    took = f" in {elapsed:g} ms" if elapsed is not None else ""
    what = " ".join(str(part) for part in (exchange.get("api"), exchange.get("operation")) if part)
    intent = exchange.get("intent")
    why = f", {intent}" if intent and intent != "valid" else ""
    return f"{exchange['method']} {exchange['url']} {answer}{took}" + (f" ({what}{why})" if what else "")


def read_log(path: Path) -> Iterator[dict[str, Any]]:
    """The exchanges of an NDJSON exchange log (a torn last line, from a crash, is skipped)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            try:
                yield json.loads(line)
            except ValueError:
                continue
