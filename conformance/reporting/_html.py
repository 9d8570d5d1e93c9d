"""certification.html: the certification record as one self-contained page for people.

The page is the Jinja2 template templates/certification.html.j2 (autoescaped), filled from a view of
certification.json prepared here; it is a pure function of the JSON, so `conformance report`
re-renders it byte for byte. Failures come first, grouped by rule and linked from the verdict banner;
each shows the chain of exchanges that led to it and, for callbacks, the sequence of statuses it broke.
Everything is inline (CSS, a few lines of script, SVG charts); a Content-Security-Policy of
`default-src 'none'` with hashes for the inline style and script makes the browser itself refuse
any fetch, so the page provably loads nothing, works offline and can be archived as one file.
Failures are <details> elements: folded on screen, unfolded when printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

import jinja2

_TEMPLATES = resources.files(__package__) / "templates"
_RESULT_MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "warning": "WARN"}


def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


_STYLE = _asset("certification.css")
_SCRIPT = _asset("certification.js")


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_hash(_STYLE)}; script-src {_hash(_SCRIPT)}; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""No fetch of any kind is allowed; only our own inline style and script (by hash) may run."""


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _asset(name)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return environment.get_template("certification.html.j2")


def render_html(document: dict[str, Any]) -> str:
    """The self-contained HTML page of a certification record."""
    target_name = _target_name(document["target"])
    summary = document["summary"]
    return _template().render(
        doc=document,
        summary=summary,
        blocking={"failures": summary["failures"] - summary.get("warnings", 0),
                  "rules": summary["rules_failed"] - summary.get("rules_warned", 0)},
        warnings=summary.get("warnings", 0),
        failed_and_warned=_failed_and_warned,
        shown=_shown_result,
        title=f"{document['verdict'].upper()} · conformance {document['command']} · {target_name}",
        target_name=target_name,
        csp=CONTENT_SECURITY_POLICY,
        style=_STYLE,
        script=_SCRIPT,
        plural=_plural,
        marks=_RESULT_MARK,
        json_file="certification.json",
        groups=_failure_groups(document),
        run_rows=_run_rows(document),
        target_rows=[(key, _inline(value)) for key, value in document["target"].items()],
        matrix=_matrix(document),
        prefixes=", ".join(f"{api['prefix']}- for {api['name']}" for api in document["apis"] if api["prefix"]),
        charts=[_coverage_chart(api) for api in document["apis"] if api["coverage"]],
        client=_client_view(document.get("client")),
    )


# -- failures -------------------------------------------------------------------------------------------


def _failure_groups(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Failures grouped by rule, in the order each rule first failed."""
    descriptions = {rule["id"]: rule["description"] for api in document["apis"] for rule in api["rules"]}
    groups: dict[str, dict[str, Any]] = {}
    for failure in document["failures"]:
        group = groups.setdefault(failure["rule_id"], {
            "rule_id": failure["rule_id"], "anchor": f"rule-{failure['rule_id']}",
            "description": descriptions.get(failure["rule_id"], ""), "failures": [],
            "severity": failure.get("severity", "must")})
        group["failures"].append(_failure_view(failure))
    return list(groups.values())


def _failure_view(failure: dict[str, Any]) -> dict[str, Any]:
    exchange = failure.get("exchange")
    steps = [*failure.get("chain", []), exchange] if exchange else []
    views = [_step_view(step, failing=index == len(steps) - 1) for index, step in enumerate(steps)]
    sequence = []
    if sum(1 for step in steps if step.get("statuses")) >= 2:
        for view in views:
            for status in view["statuses"]:
                if not sequence or sequence[-1]["text"] != status or view["failing"]:
                    sequence.append({"text": status, "failing": view["failing"]})
    return {
        "id": failure["id"],
        "rule_id": failure["rule_id"],
        "where": " · ".join(part for part in (failure["api"], failure["operation"]) if part),
        "title": failure["title"],
        "expected": _pretty(failure["expected"]),
        "observed": _pretty(failure["observed"]),
        "steps": views,
        "sequence": sequence,
        "reproduction": failure.get("reproduction"),
        "trouble": failure.get("trouble"),
    }


def _step_view(exchange: dict[str, Any], failing: bool) -> dict[str, Any]:
    request, response = _exchange_text(exchange)
    status = exchange["status"]
    return {
        "method": exchange["method"],
        "url": exchange["url"],
        "answer": "no answer" if status is None else f"HTTP {status}",
        "operation": exchange.get("operation"),
        "statuses": exchange.get("statuses") or [],
        "request": request,
        "response": response,
        "curl": exchange.get("curl"),
        "failing": failing,
        "trouble": exchange.get("trouble"),
    }


def _exchange_text(exchange: dict[str, Any]) -> tuple[str, str]:
    request = [f"{exchange['method']} {exchange['url']}"]
    request += [f"{name}: {value}" for name, value in exchange["request_headers"].items()]
    if exchange["request_body"] is not None:
        request += ["", _pretty(exchange["request_body"])]
    if exchange["status"] is None:
        response = ["(no answer)"]
    else:
        elapsed = f" ({exchange['elapsed_ms']} ms)" if exchange["elapsed_ms"] is not None else ""
        response = [f"HTTP {exchange['status']}{elapsed}"]
    response += [f"{name}: {value}" for name, value in exchange["response_headers"].items()]
    if exchange["response_body"] is not None:
        response += ["", _pretty(exchange["response_body"])]
    return "\n".join(request), "\n".join(response)


# -- run, matrix, coverage --------------------------------------------------------------------------------


def _client_view(client: dict[str, Any] | None) -> dict[str, Any] | None:
    """`conformance client`: what ran, each injected trouble and what it met, the operations called."""
    if client is None:
        return None
    command = " ".join(client.get("command") or []) or "—"
    status = client.get("exit_status")
    rows = [("Mode", client["mode"]), ("Command", command),
            ("Command exit status", "—" if status is None else f"{status} (reported, not judged)"),
            ("Upstream", client["upstream"]), ("Recording proxy", client.get("proxy") or "—"),
            ("Exchanges", client["exchanges"])]
    if client.get("stopped"):
        rows.append(("Stopped", client["stopped"]))
    troubles = []
    for trouble in client["troubles"]:
        met = trouble["met"]
        where = f"#{met['exchange']} {met['method']} {met['url']}" + (
            f" ({met['operation']})" if met.get("operation") else "") if met else "not met"
        action = ", ".join(f"{key} {value}" if value is not True else key for key, value in trouble["action"].items()
                           if key != "forward") or "forward"
        if trouble.get("scenario"):
            action += f" ({trouble['scenario']})"
        troubles.append({"id": trouble["id"], "kind": trouble["kind"], "slot": trouble["slot"], "action": action,
                         "processed": "yes" if trouble["action"].get("forward") else "no", "met": where,
                         "was_met": bool(met), "description": trouble["description"]})
    operations = [{"api": op["api"] or "—", "operation": op["operation"] or "(undocumented)",
                   "requests": op["requests"],
                   "statuses": ", ".join(f"{key} ×{count}" for key, count in sorted(op["statuses"].items()))}
                  for op in client["operations"]]
    return {"rows": rows, "troubles": troubles, "operations": operations,
            "met": sum(1 for trouble in troubles if trouble["was_met"])}


def _run_rows(document: dict[str, Any]) -> list[tuple[str, Any]]:
    callbacks = document["callbacks"]
    return [
        ("Verdict", document["verdict"]),
        ("Command", f"conformance {document['command']}"),
        ("Tool", f"{document['tool']['name']} {document['tool']['version']}"),
        ("Profile", document["profile"] or "—"),
        ("Seed", "—" if document["seed"] is None else document["seed"]),
        ("Requests sent", "—" if document.get("requests") is None else document["requests"]),
        ("Started", document["started_at"]),
        ("Finished", document["finished_at"]),
        ("Duration", f"{document['duration_seconds']:.1f} s"),
        ("Complete", "yes" if document["complete"] else f"no — {document['incomplete_reason']}"),
        ("Callbacks", f"{callbacks['count']} in {callbacks['file']}" if callbacks else "none"),
    ]


def _shown_result(rule: dict[str, Any]) -> str:
    """passed, failed, skipped, or warning for a failed rule of severity should."""
    return "warning" if rule["result"] == "failed" and rule.get("severity") == "should" else rule["result"]


def _failed_and_warned(counts: dict[str, int]) -> str:
    """ "2 failed", or "1 failed, 1 warned" when should rules failed."""
    warned = counts.get("rules_warned", 0)
    return f"{counts['rules_failed'] - warned} failed" + (f", {warned} warned" if warned else "")


def _row_key(rule_id: str, prefix: str | None) -> str:
    return rule_id[len(prefix) + 1 :] if prefix and rule_id.startswith(prefix + "-") else rule_id


def _matrix(document: dict[str, Any]) -> list[dict[str, Any]]:
    apis = document["apis"]
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for api in apis:
        for rule in api["rules"]:
            rows.setdefault(_row_key(rule["id"], api["prefix"]), {})[api["name"]] = rule
    matrix = []
    for key in sorted(rows, key=lambda key: (-len(rows[key]), key)):
        cells: list[dict[str, Any] | None] = []
        for api in apis:
            rule = rows[key].get(api["name"])
            if rule is None:
                cells.append(None)
                continue
            checks = rule["checks"]
            link = None
            result = _shown_result(rule)
            if result in ("failed", "warning"):
                mark = _RESULT_MARK[result]
                label = f"{mark} {len(rule['failures'])}" if rule["failures"] else mark
                link = rule["failures"][0] if rule["failures"] else None
            elif rule["result"] == "skipped":
                label = "SKIP"
            else:
                label = f"PASS {checks['passed']}" if checks["passed"] else "PASS"
            counted = f"{checks['passed']} passed, {checks['failed']} failed, {checks['skipped']} skipped"
            level = rule.get("severity", "must")
            cells.append({"result": result, "rule_id": rule["id"], "label": label, "link": link, "severity": level,
                          "title": f"{rule['id']} ({level.upper()}): {rule['description']} ({counted})"})
        matrix.append({"key": key, "cells": cells})
    return matrix


def _coverage_chart(api: dict[str, Any]) -> dict[str, Any]:
    """One SVG per API: a row per status field, a box per status, filled when it was seen."""
    fields = api["coverage"]
    label_width = max(120, max(len(field["field"]) for field in fields) * 7 + 16)
    row_height, gap = 26, 6
    rows = []
    width = label_width
    for index, field in enumerate(fields):
        y = index * (row_height + gap)
        x = label_width
        boxes = []
        for status in field["statuses"]:
            box = max(44, len(status["value"]) * 7 + 14)
            if not status["documented"]:
                fill, stroke, ink, state = "#ffebe9", "#cf222e", "#a40e26", f"undocumented, seen {status['seen']}×"
            elif status["seen"]:
                fill, stroke, ink, state = "#2da44e", "#1a7f37", "#ffffff", f"seen {status['seen']}×"
            else:
                fill, stroke, ink, state = "#ffffff", "#8c959f", "#59636e", "not seen"
            boxes.append({"x": x, "width": box - 4, "text_x": f"{x + (box - 4) / 2:.1f}", "value": status["value"],
                          "seen": bool(status["seen"]), "fill": fill, "stroke": stroke, "ink": ink, "state": state})
            x += box
        rows.append({"y": y, "field": field["field"], "boxes": boxes, "share_x": x + 6,
                     "share": f"{field['seen']}/{field['documented']}"})
        width = max(width, x + 60)
    counts = api["counts"]
    return {"api": api["name"], "rows": rows, "width": width, "height": len(fields) * (row_height + gap),
            "seen": counts["statuses_seen"], "documented": counts["statuses_documented"]}


# -- text -------------------------------------------------------------------------------------------------


def _pretty(body: Any) -> str:
    """Bodies and evidence for reading: JSON indented, anything else as it is."""
    if body is None:
        return ""
    if isinstance(body, str):
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to indent: shown as it is
            return body
    return json.dumps(body, indent=2, ensure_ascii=False)


def _inline(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _target_name(target: dict[str, Any]) -> str:
    for key in ("name", "origin", "base_url", "url"):
        if target.get(key):
            return str(target[key])
    return "target"
