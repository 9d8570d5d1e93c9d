"""Certification reports: the evidence a run of `certify` or `callbacks` leaves behind.

    from conformance.reporting import Recorder, Exchange, Failure

    with Recorder("reports", command="certify", target={...}, specs=specs, secrets=(secret,)) as rec:
        rec.rule("online-payments", "OP-DOCUMENTED-STATUS", "The HTTP status is documented")
        rec.passed("online-payments", "OP-DOCUMENTED-STATUS", "V2PaymentPost")
        rec.failed(Failure(api=..., rule_id=..., title=..., expected=..., observed=..., exchange=Exchange(...)))
        verdict = rec.finish()

writes junit.xml, certification.json (format: certification.schema.json, docs/reports.md) and
certification.html, plus callbacks.ndjson as callbacks happen. Redaction (conformance.redaction)
is applied to everything recorded. `load_report` + `render_html` / `render_text` re-render a
report from its JSON alone.
"""

from ._document import ReportError, certification_schema, load_report
from ._html import render_html
from ._junit import render_junit
from ._model import Exchange, Failure, Verdict
from ._recorder import (
    CALLBACKS_FILE,
    FORMAT_VERSION,
    HTML_FILE,
    JSON_FILE,
    JUNIT_FILE,
    Recorder,
    ReportWriteError,
    write_stopped_report,
)
from ._text import render_text

__all__ = [
    "CALLBACKS_FILE",
    "FORMAT_VERSION",
    "HTML_FILE",
    "JSON_FILE",
    "JUNIT_FILE",
    "Exchange",
    "Failure",
    "Recorder",
    "ReportError",
    "ReportWriteError",
    "Verdict",
    "certification_schema",
    "load_report",
    "render_html",
    "render_junit",
    "render_text",
    "write_stopped_report",
]
