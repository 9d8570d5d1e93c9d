"""The Recorder: collects what a run finds and leaves the evidence in the report directory.

Suites call it as they go (rule declared, check passed, failed, skipped; statuses seen; callbacks),
and `finish()` writes junit.xml, certification.json and certification.html, each atomically.
A run's files are one set: a fresh Recorder replaces the previous run's set at once with a record
of this run marked incomplete ("not finished"), so a run killed before `finish()` never leaves an
earlier run's verdict beside its own callbacks.ndjson. A report directory that cannot be written
(full, read-only) is a ReportWriteError: one line, exit code 2.
Everything handed in is redacted on the way in, so nothing unredacted is ever held, merged or
written. Results are plain data (`to_dict`), so pytest-xdist workers can each record their share
and the controller `merge`s them (directly, through pytest user_properties, or via
`save_partial` / `merge_partials` files).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._errors import UsageError
from .._signals import Terminated
from ..redaction import Redactor, hidden_fields
from ._curl import chain_script, curl_command
from ._exchanges import ExchangeLog
from ._files import append_line, write_atomically
from ._model import Exchange, Failure, Verdict

FORMAT_VERSION = "1.5"
"""certification.json format: MAJOR.MINOR (docs/reports.md says what each change may do)."""

JSON_FILE = "certification.json"
HTML_FILE = "certification.html"
JUNIT_FILE = "junit.xml"
CALLBACKS_FILE = "callbacks.ndjson"
PARTIALS_DIR = ".partials"

_PARTIAL_KIND = "payments-conformance/partial-results"
NOT_FINISHED = "the run has not finished (it is still running, or it was killed)"
"""The reason a run's record gives until the run writes its own verdict."""


class ReportWriteError(UsageError):
    """The report directory cannot be written (disk full, read-only, not a directory)."""


def _unwritable(directory: Path, exc: OSError) -> ReportWriteError:
    return ReportWriteError(f"cannot write reports to {directory}: {exc.strerror or exc}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _spec_entry(spec: Any) -> dict[str, Any]:
    """A spec as the report names it: a loaded Spec, or a mapping already in report form."""
    if isinstance(spec, Mapping):
        entry = dict(spec)
        keys = ("name", "path", "sha256", "title", "version", "prefix", "openapi", "rules_table", "findings")
        return {key: entry.get(key) for key in keys if key in entry or key in keys[:6]}
    info = (getattr(spec, "document", None) or {}).get("info", {})
    return {
        "name": spec.name,
        "path": str(spec.path) if getattr(spec, "path", None) else None,
        "sha256": spec.sha256,
        "title": info.get("title"),
        "version": str(info["version"]) if "version" in info else None,
        "prefix": spec.prefix,
        "openapi": spec.source_version,
        "rules_table": str(spec.rules_path) if spec.rules_path else None,
        "findings": [finding.to_dict() for finding in spec.findings],
    }


class Recorder:
    """Collects one run's results and writes its report files.

    `secrets` are the run's known secrets (client secret, tokens): scrubbed wherever they appear,
    besides the pattern-based redaction of conformance.redaction. `fresh=False` is for a worker
    that adds to a run its controller started (it keeps the shared callbacks.ndjson). A rule's
    `severity` (must, should) decides whether its failures fail the run or are warnings.
    """

    def __init__(
        self,
        report_dir: str | os.PathLike[str],
        *,
        command: str,
        target: Mapping[str, Any] | None = None,
        specs: Iterable[Any] = (),
        profile: str | None = None,
        seed: int | str | None = None,
        secrets: Iterable[str | None] = (),
        fresh: bool = True,
        judged: Callable[[str], bool] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.report_dir = Path(report_dir)
        self.redactor = redactor if redactor is not None else Redactor()
        for secret in secrets:
            self.redactor.add_secret(secret)
        self.judged = judged or (lambda rule_id: True)
        """Which rules this run judges (--include/--exclude): results of others are not recorded."""
        self.command = command
        self.target = self.redactor.data(dict(target or {}))
        self.specs = [_spec_entry(spec) for spec in specs]
        self.profile = profile
        self.seed = seed
        self.started_at = _now()
        self._clock = time.monotonic()
        self._lock = threading.RLock()
        self._apis: dict[str, dict[str, Any]] = {}
        self._failures: list[dict[str, Any]] = []
        self._callbacks = 0
        self._finished: dict[str, Any] | None = None
        self._sections: dict[str, Any] = {}
        self.exchanges: ExchangeLog | None = None
        self._write_failure: OSError | None = None
        self._lines_lost = 0
        self.requests: int | None = None
        """Requests the run sent to its target, when the caller counts them (shown in the report)."""
        for spec in self.specs:
            self._api(spec["name"])
        try:
            self.report_dir.mkdir(parents=True, exist_ok=True)
            if fresh:
                (self.report_dir / CALLBACKS_FILE).unlink(missing_ok=True)
                shutil.rmtree(self.report_dir / PARTIALS_DIR, ignore_errors=True)
                self._write(self.document(complete=False, reason=NOT_FINISHED))
        except OSError as exc:
            raise _unwritable(self.report_dir, exc) from None

    # -- recording ------------------------------------------------------------------------------

    def add_secret(self, secret: str | None) -> None:
        """A secret learned during the run (an issued token): scrubbed from everything recorded after."""
        self.redactor.add_secret(secret)

    def rule(self, api: str, rule_id: str, description: str = "", severity: str = "must",
             severity_reason: str = "") -> None:
        """Declare a rule, so that it is reported even if no check of it fails (it shows as passed)."""
        if not self.judged(rule_id):
            return
        with self._lock:
            rule = self._rule(api, rule_id)
            if description and not rule["description"]:
                rule["description"] = self.redactor.text(description)
            if severity != "must" or severity_reason:
                rule["severity"], rule["severity_reason"] = severity, self.redactor.text(severity_reason)

    def passed(
        self, api: str, rule_id: str, operation: str | None = None, count: int = 1, seconds: float = 0.0
    ) -> None:
        """One check (or `count` checks) of a rule passed; `seconds`: the exchanges they judged took."""
        if not self.judged(rule_id):
            return
        with self._lock:
            entry = self._operation(api, rule_id, operation)
            entry["passed"] += count
            entry["seconds"] += seconds

    def skipped(self, api: str, rule_id: str, operation: str | None = None, reason: str = "") -> None:
        """A check of a rule could not run (and why): it neither passes nor fails the rule."""
        if not self.judged(rule_id):
            return
        with self._lock:
            self._operation(api, rule_id, operation)["skipped"] += 1
            reasons = self._rule(api, rule_id)["skip_reasons"]
            reason = self.redactor.text(reason)
            if reason and reason not in reasons:
                reasons.append(reason)

    def failed(self, failure: Failure) -> None:
        """A rule broken, with its evidence; redacted now, with a curl reproduction when there is an exchange."""
        if not self.judged(failure.rule_id):
            return
        stored = self._redacted_failure(failure)
        with self._lock:
            entry = self._operation(stored["api"], stored["rule_id"], stored["operation"])
            entry["failed"] += 1
            entry["seconds"] += ((stored["exchange"] or {}).get("elapsed_ms") or 0.0) / 1000
            self._failures.append(stored)

    def spent(self, api: str, seconds: float) -> None:
        """Time the exchanges with an API took (each exchange counted once: the JUnit suite's time)."""
        with self._lock:
            entry = self._api(api)
            entry["seconds"] = entry.get("seconds", 0.0) + seconds

    def record_exchanges(self, log: str | os.PathLike[str] | None = None, har: str | os.PathLike[str] | None = None,
                         echo: Any = None) -> None:
        """Keep every exchange from now on: redacted lines in `log` (NDJSON), a HAR written by finish(),
        and `echo(line)` called with a one-line account of each (--verbose)."""
        self.exchanges = ExchangeLog(self.report_dir, log=log, har=har, echo=echo)

    def exchange(self, exchange: Exchange) -> None:
        """One exchange of the run (whatever its outcome): to the exchange log, when one is kept."""
        if self.exchanges is not None:
            self.exchanges.write(self._redacted_exchange(exchange, with_curl=False), self.redactor.secrets_only)

    def attach(self, section: str, data: Mapping[str, Any]) -> None:
        """A top-level section of the record only one command writes (`client`: the troubles and the command)."""
        with self._lock:
            self._sections[section] = _jsonable(self.redactor.data(dict(data)))

    def expect_statuses(self, api: str, field: str, values: Iterable[str]) -> None:
        """The documented values of a status field, each of which a complete run should see."""
        with self._lock:
            documented = self._coverage(api, field)["documented"]
            for value in values:
                if str(value) not in documented:
                    documented.append(str(value))

    def saw_status(self, api: str, field: str, value: Any) -> None:
        """A status value seen in an answer or a callback."""
        with self._lock:
            seen = self._coverage(api, field)["seen"]
            key = self.redactor.text(str(value))
            seen[key] = seen.get(key, 0) + 1

    def callback(self, event: Mapping[str, Any]) -> None:
        """Append one callback sent or received to callbacks.ndjson at once (redacted, one line)."""
        line = dict(self.redactor.data(dict(event)))
        line.setdefault("recorded_at", _now())
        # Scrubbed as data above; only the known secrets here, so a number can never break the JSON.
        # ASCII-only, so no U+2028 inside a string can split the line for a reader using splitlines().
        text = self.redactor.secrets_only(json.dumps(line, ensure_ascii=True, default=str, separators=(",", ":")))
        with self._lock:
            self._callbacks += 1
            try:
                append_line(self.report_dir / CALLBACKS_FILE, text)
            except OSError as exc:  # often in the sink's thread: kept for finish() to report, in one line
                self._write_failure = self._write_failure or exc
                self._lines_lost += 1

    # -- results as data, for pytest-xdist ---------------------------------------------------------

    def _run_facts(self) -> dict[str, Any]:
        """What the run was (not what it found): carried by partial results and by the final record alike."""
        return {
            "command": self.command,
            "target": self.target,
            "specs": self.specs,
            "profile": self.profile,
            "seed": self.seed,
            "requests": self.requests,
            "started_at": self.started_at,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything recorded, as plain JSON-able data (already redacted; no secrets carried)."""
        with self._lock:
            return json.loads(
                json.dumps(
                    {
                        "kind": _PARTIAL_KIND,
                        "meta": {"report_dir": str(self.report_dir), **self._run_facts()},
                        "apis": self._apis,
                        "failures": self._failures,
                        "callbacks": self._callbacks,
                    },
                    default=str,
                )
            )

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], report_dir: str | os.PathLike[str] | None = None, secrets: Iterable[str] = ()
    ) -> Recorder:
        """A Recorder holding what `to_dict` returned (it keeps the callbacks file it finds)."""
        _check_partial(data)
        meta = data["meta"]
        recorder = cls(
            report_dir if report_dir is not None else meta["report_dir"],
            command=meta["command"],
            target=meta.get("target"),
            specs=meta.get("specs") or (),
            profile=meta.get("profile"),
            seed=meta.get("seed"),
            secrets=secrets,
            fresh=False,
        )
        recorder.started_at = meta.get("started_at") or recorder.started_at
        return recorder.merge(data)

    def merge(self, *others: Recorder | Mapping[str, Any]) -> Recorder:
        """Add other recorders' results (or their `to_dict()`) to this one; returns self."""
        for other in others:
            data = other.to_dict() if isinstance(other, Recorder) else other
            _check_partial(data)
            with self._lock:
                for api, content in data["apis"].items():
                    for rule_id, rule in content["rules"].items():
                        self.rule(api, rule_id, rule.get("description", ""), rule.get("severity", "must"),
                                  rule.get("severity_reason", ""))
                        mine = self._rule(api, rule_id)
                        for name, counts in rule["operations"].items():
                            target = mine["operations"].setdefault(name, _counts())
                            for key in target:
                                target[key] += type(target[key])(counts.get(key, 0))
                        for reason in rule.get("skip_reasons", []):
                            if reason not in mine["skip_reasons"]:
                                mine["skip_reasons"].append(reason)
                    if content.get("seconds"):
                        self.spent(api, float(content["seconds"]))
                    for field, coverage in content["coverage"].items():
                        self.expect_statuses(api, field, coverage["documented"])
                        seen = self._coverage(api, field)["seen"]
                        for value, count in coverage["seen"].items():
                            seen[value] = seen.get(value, 0) + int(count)
                self._failures.extend(dict(failure) for failure in data["failures"])
                self._callbacks += int(data.get("callbacks", 0))
        return self

    def save_partial(self, name: str) -> Path:
        """Write this (worker's) results to report_dir/.partials/NAME.json for the controller to merge."""
        path = self.report_dir / PARTIALS_DIR / f"{name}.json"
        write_atomically(path, json.dumps(self.to_dict(), ensure_ascii=False))
        return path

    def merge_partials(self) -> Recorder:
        """Merge every saved partial result in the report directory, then remove them; returns self."""
        directory = self.report_dir / PARTIALS_DIR
        for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
            self.merge(json.loads(path.read_text(encoding="utf-8")))
        shutil.rmtree(directory, ignore_errors=True)
        return self

    # -- the report -------------------------------------------------------------------------------

    @property
    def verdict(self) -> Verdict:
        """The verdict so far (conforms until a failure; incomplete only once finished incomplete)."""
        if self._finished is not None:
            return Verdict(self._finished["verdict"])
        with self._lock:
            return Verdict.NONCONFORMANT if any(self._blocking(f) for f in self._failures) else Verdict.CONFORMS

    def document(self, complete: bool = True, reason: str | None = None) -> dict[str, Any]:
        """The certification record as it stands (the content of certification.json)."""
        from .. import __version__

        with self._lock:
            if self._finished is not None:
                return self._finished
            failures = [{"id": f"F{number}", **failure, "severity": self._severity(failure)}
                        for number, failure in enumerate(self._failures, 1)]
            # An API is reported once something was recorded for it; a spec loaded but not run stays in `specs`.
            apis = [
                self._api_document(name, failures)
                for name, content in self._apis.items()
                if content["rules"] or content["coverage"]
            ]
            blocking = [failure for failure in failures if failure["severity"] == "must"]
            verdict = Verdict.INCOMPLETE if not complete else Verdict.NONCONFORMANT if blocking else Verdict.CONFORMS
            document = {
                "format_version": FORMAT_VERSION,
                "tool": {"name": "payments-conformance", "version": __version__},
                **self._run_facts(),
                "finished_at": _now(),
                "duration_seconds": round(time.monotonic() - self._clock, 3),
                "complete": complete,
                "incomplete_reason": None if complete else self.redactor.text(reason or "interrupted"),
                "verdict": verdict.value,
                "summary": _summary(apis, failures, self._callbacks),
                "apis": apis,
                "failures": failures,
                "callbacks": {"file": CALLBACKS_FILE, "count": self._callbacks} if self._callbacks else None,
                **self._sections,
            }
            # What is written is exactly what re-rendering from the file would read.
            return json.loads(json.dumps(document, ensure_ascii=False, default=str))

    def finish(self, complete: bool = True, reason: str | None = None) -> Verdict:
        """Write certification.json, junit.xml and certification.html (each atomically); the verdict.

        `complete=False` marks an interrupted run: the report holds what was recorded, verdict
        "incomplete". Calling finish again rewrites the files (e.g. after a late merge). When the
        files cannot be written, ReportWriteError is raised; the record stays in `document()`."""
        with self._lock:
            self._finished = None
            document = self.redactor.secrets_only_in(self.document(complete=complete, reason=reason))
            self._finished = document
            try:
                self._write(document)
                if self.exchanges is not None:
                    self.exchanges.finish(self.redactor.secrets_only)
            except OSError as exc:
                raise _unwritable(self.report_dir, exc) from None
            if self._write_failure is not None:
                error = _unwritable(self.report_dir, self._write_failure)
                raise ReportWriteError(f"{error} ({self._lines_lost} line(s) of {CALLBACKS_FILE} lost)")
            return Verdict(document["verdict"])

    def _write(self, document: dict[str, Any]) -> None:
        """The set of report files for a record: JSON last, so a reader that finds it finds the others."""
        from ._html import render_html
        from ._junit import render_junit

        scrub = self.redactor.secrets_only
        document = self.redactor.secrets_only_in(document)
        write_atomically(self.report_dir / JUNIT_FILE, scrub(render_junit(document)))
        write_atomically(self.report_dir / HTML_FILE, scrub(render_html(document)))
        write_atomically(self.report_dir / JSON_FILE, scrub(json.dumps(document, indent=2, ensure_ascii=False)) + "\n")

    @property
    def finished(self) -> bool:
        return self._finished is not None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if self._finished is not None:
            return False
        if exc_type is None:
            self.finish()
            return False
        if issubclass(exc_type, Terminated):
            reason = "terminated (SIGTERM)"
        elif issubclass(exc_type, KeyboardInterrupt):
            reason = "interrupted (Ctrl-C)"
        elif issubclass(exc_type, SystemExit):
            reason = f"exited early (code {getattr(exc, 'code', None)})"
        else:
            reason = f"stopped by an error: {exc_type.__name__}: {exc}"
        try:
            self.finish(complete=False, reason=reason)
        except Exception:  # never hide the original error behind a reporting one
            pass
        return False

    # -- internals -------------------------------------------------------------------------------

    def _api(self, api: str) -> dict[str, Any]:
        return self._apis.setdefault(api, {"rules": {}, "coverage": {}})

    def _rule(self, api: str, rule_id: str) -> dict[str, Any]:
        return self._api(api)["rules"].setdefault(rule_id, {"description": "", "operations": {}, "skip_reasons": [],
                                                            "severity": "must", "severity_reason": ""})

    def _severity(self, failure: Mapping[str, Any]) -> str:
        rule = self._apis.get(failure["api"], {}).get("rules", {}).get(failure["rule_id"])
        return rule["severity"] if rule else "must"

    def _blocking(self, failure: Mapping[str, Any]) -> bool:
        return self._severity(failure) == "must"

    def _operation(self, api: str, rule_id: str, operation: str | None) -> dict[str, Any]:
        operations = self._rule(api, rule_id)["operations"]
        return operations.setdefault(operation or "", _counts())

    def _coverage(self, api: str, field: str) -> dict[str, Any]:
        return self._api(api)["coverage"].setdefault(field, {"documented": [], "seen": {}})

    def _redacted_failure(self, failure: Failure) -> dict[str, Any]:
        redactor = self.redactor
        exchange = self._redacted_exchange(failure.exchange) if failure.exchange is not None else None
        chain = [self._redacted_exchange(step) for step in failure.chain] if exchange is not None else []
        title = redactor.text(str(failure.title or failure.rule_id))
        reproduction = None
        if exchange is not None:
            where = f"{failure.rule_id} [{failure.operation}]" if failure.operation else failure.rule_id
            reproduction = chain_script(where, [*chain, exchange])
        stored = {
            "api": failure.api,
            "rule_id": failure.rule_id,
            "operation": failure.operation or None,
            "title": title,
            "expected": _jsonable(redactor.data(failure.expected)),
            "observed": _jsonable(redactor.data(failure.observed)),
            "exchange": exchange,
            "chain": chain,
            "reproduction": reproduction,
        }
        if failure.trouble is not None:
            stored["trouble"] = _jsonable(redactor.data(dict(failure.trouble)))
        return stored

    def _redacted_exchange(self, exchange: Exchange, with_curl: bool = True) -> dict[str, Any]:
        redactor = self.redactor
        status = exchange.status
        elapsed = exchange.elapsed_ms
        stored = {
            "method": str(exchange.method).upper(),
            "url": redactor.text(str(exchange.url)),
            "request_headers": redactor.headers(exchange.request_headers),
            "request_body": redactor.body(exchange.request_body),
            "status": int(status) if status is not None else None,
            "response_headers": redactor.headers(exchange.response_headers),
            "response_body": redactor.body(exchange.response_body),
            "elapsed_ms": round(float(elapsed), 1) if elapsed is not None else None,
            "started_at": exchange.started_at,
            "api": exchange.api,
            "operation": exchange.operation,
            "intent": exchange.intent,
            "expected_statuses": [int(code) for code in exchange.expected_statuses or ()],
            "credential": exchange.credential,
            "statuses": [redactor.text(str(value)) for value in exchange.statuses or ()],
            "redacted_fields": hidden_fields(_structured(exchange.request_body)),
        }
        if exchange.trouble is not None:
            stored["trouble"] = _jsonable(redactor.data(dict(exchange.trouble)))
        if with_curl:
            stored["curl"] = curl_command(stored["method"], stored["url"], stored["request_headers"],
                                          stored["request_body"], redactor, exchange.credential)
        return stored

    def _api_document(self, name: str, failures: list[dict[str, Any]]) -> dict[str, Any]:
        content = self._apis[name]
        prefix = next((spec.get("prefix") for spec in self.specs if spec["name"] == name), None)
        rules = []
        for rule_id, rule in content["rules"].items():
            operations = [
                {"operation": operation or None, **counts, "seconds": round(counts.get("seconds", 0.0), 4)}
                for operation, counts in rule["operations"].items()
            ]
            checks = {key: sum(op[key] for op in operations) for key in ("passed", "failed", "skipped")}
            own = [failure["id"] for failure in failures if failure["api"] == name and failure["rule_id"] == rule_id]
            result = (
                "failed"
                if own or checks["failed"]
                else "skipped"
                if not checks["passed"]
                else "passed"
            )
            reasons = list(rule["skip_reasons"])
            if result == "skipped" and not reasons:
                reasons = ["nothing in this run exercised it"]  # a rule that judged nothing did not pass
            rules.append(
                {
                    "id": rule_id,
                    "description": rule["description"],
                    "severity": rule["severity"],
                    "severity_reason": rule["severity_reason"],
                    "result": result,
                    "checks": checks,
                    "operations": operations,
                    "skip_reasons": reasons,
                    "failures": own,
                }
            )
        coverage = [_coverage_document(field, entry) for field, entry in content["coverage"].items()]
        counts = {
            f"rules_{result}": sum(rule["result"] == result for rule in rules)
            for result in ("passed", "failed", "skipped")
        }
        counts["rules_warned"] = sum(rule["result"] == "failed" and rule["severity"] == "should" for rule in rules)
        counts.update(
            {f"checks_{key}": sum(rule["checks"][key] for rule in rules) for key in ("passed", "failed", "skipped")}
        )
        counts["statuses_documented"] = sum(entry["documented"] for entry in coverage)
        counts["statuses_seen"] = sum(entry["seen"] for entry in coverage)
        result = (
            "failed"
            if counts["rules_failed"] > counts["rules_warned"]
            else "skipped"
            if rules and counts["rules_skipped"] == len(rules)
            else "passed"
        )
        return {
            "name": name,
            "prefix": prefix,
            "result": result,
            "counts": counts,
            "seconds": round(content.get("seconds", 0.0), 4),
            "rules": rules,
            "coverage": coverage,
        }


def _counts() -> dict[str, Any]:
    return {"passed": 0, "failed": 0, "skipped": 0, "seconds": 0.0}


def _structured(body: Any) -> Any:
    """A request body as data (JSON, or a form's fields), to find what redaction hides in it."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body).decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
            return dict(urllib.parse.parse_qsl(body)) if "=" in body else body
    return body


def write_stopped_report(report_dir: str | os.PathLike[str], *, command: str, reason: str, **facts: Any) -> None:
    """A run stopped before it could open its Recorder (Ctrl-C while loading): an incomplete report says
    so, in place of the previous run's. Nothing is written if the directory cannot be (the stop is what counts)."""
    try:
        Recorder(report_dir, command=command, **facts).finish(complete=False, reason=reason)
    except UsageError:
        pass


def _coverage_document(field: str, entry: dict[str, Any]) -> dict[str, Any]:
    documented = entry["documented"]
    seen = entry["seen"]
    statuses = [{"value": value, "documented": True, "seen": seen.get(value, 0)} for value in documented]
    statuses += [
        {"value": value, "documented": False, "seen": count}
        for value, count in sorted(seen.items())
        if value not in documented
    ]
    return {
        "field": field,
        "documented": len(documented),
        "seen": sum(1 for value in documented if seen.get(value)),
        "statuses": statuses,
    }


def _summary(apis: list[dict[str, Any]], failures: list[dict[str, Any]], callbacks: int) -> dict[str, int]:
    def total(key: str) -> int:
        return sum(api["counts"][key] for api in apis)

    return {
        "apis": len(apis),
        "rules": sum(len(api["rules"]) for api in apis),
        "rules_passed": total("rules_passed"),
        "rules_failed": total("rules_failed"),
        "rules_skipped": total("rules_skipped"),
        "rules_warned": total("rules_warned"),
        "checks_passed": total("checks_passed"),
        "checks_failed": total("checks_failed"),
        "checks_skipped": total("checks_skipped"),
        "failures": len(failures),
        "warnings": sum(failure["severity"] == "should" for failure in failures),
        "statuses_documented": total("statuses_documented"),
        "statuses_seen": total("statuses_seen"),
        "callbacks": callbacks,
    }


def _jsonable(value: Any) -> Any:
    """Evidence as JSON data; anything JSON cannot hold (bytes, objects) becomes its text."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _check_partial(data: Any) -> None:
    if not isinstance(data, Mapping) or data.get("kind") != _PARTIAL_KIND:
        raise UsageError("not a payments-conformance partial result (expected the output of Recorder.to_dict())")
