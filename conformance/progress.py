"""Progress while a run works, and the one-screen summary at its end.

Three modes, chosen from the stream and `quiet`:
- a terminal: rich progress bars per API and suite (checks done of total, passed, failed, elapsed);
- not a terminal (a CI log): plain lines, no control codes: one when a suite starts, at most one
  every `interval` seconds while it runs, one when it ends;
- quiet: nothing until the summary.
Everything printed goes through conformance.redaction (pass the Recorder's redactor, so the
run's secrets are known here too). Progress goes to stderr, the summary to stdout, by default.

    with Progress(quiet=args.quiet, redactor=recorder.redactor) as progress:
        progress.start("online-payments", total=40, suite="schema")
        progress.advance("online-payments", suite="schema", passed=1)
        progress.done("online-payments", suite="schema")
    progress.summary(recorder.document())
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from .redaction import RedactingStream, Redactor
from .reporting._text import api_table, details, facts, headline, render_text

SUMMARY_FAILURES = 10
"""At most this many failed rules (each with its count and first failure) are listed in the one-screen
summary; the report has every failure."""


@dataclass
class _Task:
    name: str
    total: int | None
    started: float = field(default_factory=time.monotonic)
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    last_line: float = field(default_factory=time.monotonic)
    finished: bool = False
    rich_id: Any = None

    @property
    def done_count(self) -> int:
        return self.passed + self.failed + self.skipped

    def counts(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


class Progress:
    """Progress per API and suite, then the summary; see the module docstring for the modes."""

    def __init__(
        self,
        quiet: bool = False,
        stream: TextIO | None = None,
        summary_stream: TextIO | None = None,
        redactor: Redactor | None = None,
        interval: float = 10.0,
    ) -> None:
        self.quiet = quiet
        self.redactor = redactor or Redactor()
        raw = stream if stream is not None else sys.stderr
        self.stream = RedactingStream(raw, self.redactor)
        self.summary_stream = RedactingStream(
            summary_stream if summary_stream is not None else sys.stdout, self.redactor
        )
        self.interactive = not quiet and _is_terminal(raw)
        self.interval = interval
        self._clock = time.monotonic()
        self._tasks: dict[str, _Task] = {}
        self._rich: Any = None
        self._console: Any = None

    # -- progress ----------------------------------------------------------------------------------

    def start(self, api: str, total: int | None = None, suite: str | None = None) -> None:
        """A suite of an API begins, with `total` checks if known."""
        name = _name(api, suite)
        task = self._tasks[name] = _Task(name, total)
        if self.interactive:
            task.rich_id = self._bars().add_task(self.redactor.text(name), total=total, passed=0, failed=0)
        elif not self.quiet:
            size = f" ({total} check{'s' if total != 1 else ''})" if total is not None else ""
            self._line(f"{name}: started{size}")

    def advance(self, api: str, suite: str | None = None, passed: int = 0, failed: int = 0, skipped: int = 0) -> None:
        """Checks finished in a suite (started implicitly if `start` was not called)."""
        name = _name(api, suite)
        task = self._tasks.get(name)
        if task is None:
            self.start(api, suite=suite)
            task = self._tasks[name]
        task.passed += passed
        task.failed += failed
        task.skipped += skipped
        if self.interactive:
            self._bars().update(task.rich_id, completed=task.done_count, passed=task.passed, failed=task.failed)
        elif not self.quiet and time.monotonic() - task.last_line >= self.interval:
            task.last_line = time.monotonic()
            of = f"/{task.total}" if task.total is not None else ""
            self._line(f"{name}: {task.done_count}{of} checks ({task.counts()})")

    def done(self, api: str, suite: str | None = None) -> None:
        """A suite ended."""
        task = self._tasks.get(_name(api, suite))
        if task is None or task.finished:
            return
        task.finished = True
        elapsed = time.monotonic() - task.started
        if self.interactive:
            self._bars().update(
                task.rich_id, total=task.done_count or task.total or 1, completed=task.done_count or task.total or 1
            )
        elif not self.quiet:
            self._line(f"{task.name}: done, {task.counts()} in {elapsed:.1f} s")

    def log(self, message: str) -> None:
        """A note for the person watching (not in quiet mode), above the bars on a terminal."""
        if self.quiet:
            return
        message = self.redactor.text(message)  # before rich wraps it: a token cut in two is no longer recognisable
        if self.interactive:
            self._terminal().print(message, markup=False, highlight=False, soft_wrap=True)
        else:
            self._line(message)

    def echo(self, line: str) -> None:
        """A line asked for (--verbose), printed even in quiet mode, above the bars on a terminal."""
        line = self.redactor.text(line)
        if self.interactive:
            self._terminal().print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End every suite still open (the run is over), stop the bars (they stay on screen as they ended)."""
        for task in list(self._tasks.values()):
            if not task.finished:
                api, _, suite = task.name.partition("/")
                self.done(api, suite or None)
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- summary -----------------------------------------------------------------------------------

    def summary(self, document: dict[str, Any], report_dir: str | None = None) -> str:
        """Print the one-screen summary of a finished run (a certification record) and return its text:
        the verdict, per API rules passed and failed and statuses covered, gaps, the first failures."""
        self.close()
        text = render_text(document, detail=False, max_failures=SUMMARY_FAILURES)
        if report_dir:
            text += f"report: {report_dir}/certification.html (and certification.json, junit.xml)\n"
        if _is_terminal(self.summary_stream.stream):
            self._rich_summary(document, report_dir)
        else:
            self.summary_stream.write(text)
            self.summary_stream.flush()
        return self.redactor.text(text)

    def _rich_summary(self, document: dict[str, Any], report_dir: str | None) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.summary_stream, highlight=False)
        colour = {"conforms": "green", "nonconformant": "red", "incomplete": "yellow"}[document["verdict"]]
        console.print(headline(document), style=f"bold {colour}", markup=False)
        rows = api_table(document)
        table = Table(*rows[0], box=None, pad_edge=False)
        for column in table.columns[1:]:
            column.justify = "right"
        for row in rows[1:]:
            table.add_row(*row, style="red" if row[2] != "0" else None)
        console.print(facts(document), markup=False)
        console.print(table)
        for line in details(document, detail=False, max_failures=SUMMARY_FAILURES):
            console.print(line, markup=False)
        if report_dir:
            console.print(f"report: {report_dir}/certification.html (and certification.json, junit.xml)", markup=False)
        self.summary_stream.flush()

    # -- internals ---------------------------------------------------------------------------------

    def _line(self, message: str) -> None:
        message = self.redactor.text(message)
        self.stream.write(f"[{time.monotonic() - self._clock:7.1f}s] {message}\n")
        self.stream.flush()

    def _terminal(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False)
        return self._console

    def _bars(self) -> Any:
        if self._rich is None:
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._rich = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[green]{task.fields[passed]} passed[/] [red]{task.fields[failed]} failed[/]"),
                TimeElapsedColumn(),
                console=self._terminal(),
                transient=False,
            )
            self._rich.start()
        return self._rich


def _name(api: str, suite: str | None) -> str:
    return f"{api}/{suite}" if suite else api


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
