"""junit.xml for CI dashboards: one test suite per API, one test case per rule and operation.

Test case names carry the rule ID ("OP-DOCUMENTED-STATUS[V2PaymentPost]"), so a dashboard's
history follows a rule across runs. A case's time is what the exchanges it judged took; a suite's,
what every exchange with its API took (each once). A failed case says each distinct failure once,
with what was observed, and how many times it was seen. An incomplete run adds an erroring "RUN-COMPLETE" case, so
no dashboard shows an interrupted run as green. A failed `should` rule is a warning: a skipped case
(type "warning", its failures in the message) with a `severity` property, so the build stays green.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: Any) -> str:
    """Text XML 1.0 can carry (control characters in a captured body would make the file invalid)."""
    return _NOT_XML.sub("\ufffd", str(text))


MESSAGE_LIMIT = 1000
"""A failure message longer than this is cut (the element's text has every distinct failure in full)."""


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _evidence(failure: dict[str, Any], also: list[str]) -> str:
    lines = [f"[{failure['id']}] {failure['title']}"]
    if also:
        lines[0] += f" (also {', '.join(also)})"
    for key in ("expected", "observed"):
        lines.append(f"{key}: {_value(failure[key])}")
    exchange = failure["exchange"]
    if exchange:
        lines.append(f"answer: HTTP {exchange['status'] if exchange['status'] is not None else '(none)'}")
    if failure["reproduction"]:
        lines.append(f"reproduce:\n{failure['reproduction']}")
    return "\n".join(lines)


def distinct(failures: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Failures that say the same (title and observed alike) once: (the first, the IDs of the others)."""
    groups: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
    for failure in failures:
        key = (failure["title"], _value(failure["observed"]))
        if key in groups:
            groups[key][1].append(failure["id"])
        else:
            groups[key] = (failure, [])
    return list(groups.values())


def _message(failures: list[dict[str, Any]]) -> str:
    """One entry per distinct failure, with what was observed: "2 failures: Required field missing
    (observed /responseMessage absent) x2; ..."."""
    if not failures:
        return "failed"
    entries = [
        f"{first['title']} (observed {_value(first['observed'])})" + (f" x{len(others) + 1}" if others else "")
        for first, others in distinct(failures)
    ]
    message = "; ".join(entries)
    if len(failures) > 1:
        message = f"{len(failures)} failures: {message}"
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."


def _seconds(value: Any) -> str:
    return f"{float(value or 0.0):.3f}"


def _case(
    parent: ET.Element, api: str, name: str, failures: list[dict[str, Any]], counts: dict[str, Any],
    rule: dict[str, Any],
) -> str:
    """One test case; returns its outcome (passed, failed, warning, skipped)."""
    case = ET.SubElement(
        parent, "testcase", classname=f"conformance.{api}", name=_clean(name), time=_seconds(counts.get("seconds"))
    )
    severity = rule.get("severity", "must")
    if severity != "must":
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="severity", value=severity)
        ET.SubElement(properties, "property", name="severity_reason", value=_clean(rule.get("severity_reason", "")))
    if failures or counts["failed"]:
        evidence = _clean("\n\n".join(_evidence(first, others) for first, others in distinct(failures)))
        if severity == "should":  # a warning: dashboards show it with its message, the build stays green
            element = ET.SubElement(case, "skipped", type="warning",
                                    message=_clean(f"warning (should): {_message(failures)}"))
            element.text = evidence
            return "warning"
        element = ET.SubElement(case, "failure", message=_clean(_message(failures)), type=name.split("[")[0])
        element.text = evidence
        return "failed"
    if counts["skipped"] and not counts["passed"]:
        ET.SubElement(case, "skipped", message=_clean("; ".join(rule["skip_reasons"]) or "skipped"))
        return "skipped"
    return "passed"


def render_junit(document: dict[str, Any]) -> str:
    """The JUnit XML of a certification record."""
    summary = document["summary"]
    root = ET.Element(
        "testsuites",
        name=f"payments-conformance {document['command']}",
        time=f"{document['duration_seconds']:.3f}",
        timestamp=document["started_at"],
    )
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    by_case: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for failure in document["failures"]:
        by_case.setdefault((failure["api"], failure["rule_id"], failure["operation"] or ""), []).append(failure)

    for api in document["apis"]:
        suite = ET.SubElement(
            root, "testsuite", name=api["name"], timestamp=document["started_at"], time=_seconds(api.get("seconds"))
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("verdict", document["verdict"]),
            ("profile", document["profile"]),
            ("seed", document["seed"]),
            ("tool_version", document["tool"]["version"]),
            ("statuses_covered", f"{api['counts']['statuses_seen']}/{api['counts']['statuses_documented']}"),
        ):
            ET.SubElement(properties, "property", name=name, value=_clean("" if value is None else value))
        for spec in document["specs"]:
            if spec["name"] == api["name"]:
                ET.SubElement(properties, "property", name="spec_sha256", value=spec["sha256"])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for rule in api["rules"]:
            operations = rule["operations"] or [{"operation": None, "passed": 0, "failed": 0, "skipped": 0}]
            for entry in operations:
                operation = entry["operation"]
                name = f"{rule['id']}[{operation}]" if operation else rule["id"]
                failures = by_case.get((api["name"], rule["id"], operation or ""), [])
                outcome = _case(suite, api["name"], name, failures, entry, rule)
                counts["tests"] += 1
                if outcome == "failed":
                    counts["failures"] += 1
                elif outcome in ("skipped", "warning"):
                    counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value

    if not document["complete"]:
        suite = ET.SubElement(root, "testsuite", name="run", tests="1", failures="0", errors="1", skipped="0", time="0")
        case = ET.SubElement(suite, "testcase", classname="conformance.run", name="RUN-COMPLETE", time="0")
        error = ET.SubElement(
            case, "error", message=_clean(document["incomplete_reason"] or "incomplete"), type="incomplete"
        )
        error.text = _clean(
            f"The run did not complete; the report holds what it had ({summary['failures']} failures so far)."
        )
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
