"""A certification record as plain text: the one-screen summary and `conformance report --text`.

Plain characters only, no colour or control codes, so it reads the same in a terminal, a CI log
and an e-mail.
"""

from __future__ import annotations

import json
from typing import Any

OTHERS_LISTED = 20
"""IDs of a rule's other failures listed after its first one (the report lists them all)."""


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def api_table(document: dict[str, Any]) -> list[list[str]]:
    """Rows of the per-API table: api, rules passed, failed, warned, skipped, statuses covered (header first)."""
    rows = [["api", "rules passed", "failed", "warned", "skipped", "statuses covered"]]
    for api in document["apis"]:
        counts = api["counts"]
        covered = f"{counts['statuses_seen']}/{counts['statuses_documented']}" if counts["statuses_documented"] else "-"
        rows.append(
            [
                api["name"],
                str(counts["rules_passed"]),
                str(counts["rules_failed"] - counts.get("rules_warned", 0)),
                str(counts.get("rules_warned", 0)),
                str(counts["rules_skipped"]),
                covered,
            ]
        )
    return rows


def coverage_gaps(document: dict[str, Any]) -> list[str]:
    """One line per status field with documented values not seen ("api field: A, B")."""
    gaps = []
    for api in document["apis"]:
        for field in api["coverage"]:
            missing = [status["value"] for status in field["statuses"] if status["documented"] and not status["seen"]]
            if missing:
                gaps.append(f"{api['name']} {field['field']}: {', '.join(missing)}")
    return gaps


def headline(document: dict[str, Any]) -> str:
    """ "conformance certify: NONCONFORMANT (2 failures in 1 rule)", "... CONFORMS (40 rules passed, 1 warning)"."""
    summary = document["summary"]
    warnings = summary.get("warnings", 0)
    failures, rules = summary["failures"] - warnings, summary["rules_failed"] - summary.get("rules_warned", 0)
    detail = f"{failures} failure{'s' if failures != 1 else ''} in {rules} rule{'s' if rules != 1 else ''}"
    if not failures:
        passed = summary["rules_passed"]
        detail = f"{passed} rule{'s' if passed != 1 else ''} passed"
    if warnings:
        detail += f", {warnings} warning{'s' if warnings != 1 else ''}"
    if not document["complete"]:
        detail = f"{document['incomplete_reason']}; {detail} so far"
    return f"conformance {document['command']}: {document['verdict'].upper()} ({detail})"


def facts(document: dict[str, Any]) -> str:
    """ "target http://...  profile quick  seed 123  230 requests  4.2 s"."""
    target = document["target"]
    where = next((str(target[key]) for key in ("name", "origin", "base_url", "url") if target.get(key)), None)
    parts = [
        f"target {where}" if where else None,
        f"profile {document['profile']}" if document["profile"] else None,
        f"seed {document['seed']}" if document["seed"] is not None else None,
        f"{document['requests']} requests" if document.get("requests") is not None else None,
        f"{document['duration_seconds']:.1f} s",
    ]
    return "  ".join(part for part in parts if part)


def details(document: dict[str, Any], detail: bool = True, max_failures: int | None = None) -> list[str]:
    """The lines after the per-API table: totals, statuses not seen, failures."""
    summary = document["summary"]
    lines = [
        f"total: {summary['rules_passed']} rules passed, "
        f"{summary['rules_failed'] - summary.get('rules_warned', 0)} failed, "
        f"{summary.get('rules_warned', 0)} warned (should), "
        f"{summary['rules_skipped']} skipped; {summary['checks_passed']} checks passed; "
        f"statuses covered {summary['statuses_seen']}/{summary['statuses_documented']}"
    ]
    client = document.get("client")
    if client is not None:
        troubles = client["troubles"]
        unmet = [f"{t['id']} {t['kind']}" for t in troubles if not t["met"]]
        lines.append(f"injected troubles met: {len(troubles) - len(unmet)} of {len(troubles)}"
                     + (f" (not met: {', '.join(unmet)})" if unmet else ""))
    gaps = coverage_gaps(document)
    if gaps:
        lines.append("statuses not seen:")
        lines += [f"  {gap}" for gap in gaps]
    for spec in document.get("specs") or []:
        findings = spec.get("findings") or []
        if findings:
            lines.append(f"document {spec['name']}: {len(findings)} findings about the document itself "
                         "(its defects, not the target's; see certification.html)")
            if detail:
                lines += [f"  {finding['location']}: {finding['message']}" for finding in findings]
    groups = by_rule(document["failures"])
    if groups:
        lines.append("failures by rule:")
        shown = groups if max_failures is None else groups[:max_failures]
        for rule_id, failures in shown:
            first = failures[0]
            operations = sorted({failure["operation"] for failure in failures if failure["operation"]})
            where = f" [{', '.join(operations)}]" if operations else ""
            warning = " (warning: should)" if first.get("severity") == "should" else ""
            count = f"{len(failures)} failure{'s' if len(failures) != 1 else ''}"
            lines.append(f"  {rule_id}{where}{warning}: {count}; first {first['id']}: {first['title']}")
            if detail:
                lines.append(f"      expected: {_value(first['expected'])}")
                lines.append(f"      observed: {_value(first['observed'])}")
                if first.get("trouble"):
                    trouble = first["trouble"]
                    lines.append(f"      after injected trouble {trouble['id']} {trouble['kind']}"
                                 f" (exchange {trouble.get('exchange', '?')})")
                if first["reproduction"]:
                    lines += [f"      {line}" for line in first["reproduction"].splitlines()]
                if len(failures) > 1:
                    others = [failure["id"] for failure in failures[1:]]
                    listed = ", ".join(others[:OTHERS_LISTED]) + (" ..." if len(others) > OTHERS_LISTED else "")
                    lines.append(f"      also: {listed}")
        if len(shown) < len(groups):
            rest = groups[len(shown):]
            more = sum(len(failures) for _, failures in rest)
            lines.append(f"  ... and {len(rest)} more rule{'s' if len(rest) != 1 else ''} "
                         f"({more} failure{'s' if more != 1 else ''}; see certification.html)")
    return lines


def by_rule(failures: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Failures grouped by rule ID, rules in the order they first failed."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        groups.setdefault(failure["rule_id"], []).append(failure)
    return list(groups.items())


def render_text(document: dict[str, Any], detail: bool = True, max_failures: int | None = None) -> str:
    """The record as text. Failures are grouped by rule: count, operations, and the first example;
    `detail` adds its expected/observed, its reproduction and the IDs of the others; `max_failures`
    cuts the list of rules (the one-screen summary), saying how many were left out."""
    lines = [headline(document), facts(document), ""]
    rows = api_table(document)
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    lines += details(document, detail, max_failures)
    return "\n".join(lines) + "\n"
