"""certification.html: the certification record as one self-contained page for people.

Everything is inline (CSS, a few lines of script, SVG charts); a Content-Security-Policy of
`default-src 'none'` with hashes for the inline style and script makes the browser itself refuse
any fetch, so the page provably loads nothing, works offline and can be archived as one file.
Failures are <details> elements: folded on screen, unfolded when printed (a print stylesheet and
a beforeprint handler). The page is a pure function of certification.json, so `conformance
report` re-renders it byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from typing import Any

_STYLE = """
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #59636e; --line: #d0d7de; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; color: #1f2328; background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, pre, .mono { font-size: 12.5px;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 4px 0 10px;
  white-space: pre-wrap; word-break: break-all; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; } thead { display: table-header-group; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
.verdict { border-radius: 8px; padding: 16px 20px; color: #fff; }
.verdict, .matrix td.cell { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.verdict-conforms { background: var(--ok); } .verdict-nonconformant { background: var(--bad); }
.verdict-incomplete { background: var(--warn); }
.verdict-word { font-size: 30px; font-weight: 700; letter-spacing: .04em; }
.verdict p { margin: 4px 0 0; font-size: 15px; }
.incomplete-note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 12px;
  margin-top: 12px; }
.meta th { width: 14em; }
.matrix td.cell { text-align: center; white-space: nowrap; }
.matrix td.rule { white-space: nowrap; }
.passed { background: #dafbe1; color: #116329; } .failed { background: #ffebe9; color: #a40e26; font-weight: 600; }
.skipped { background: #fff8c5; color: #7d4e00; } .none { color: var(--muted); }
.matrix a { color: inherit; }
.api-result { font-weight: 400; font-size: 12px; display: block; }
.chart { margin: 6px 0 18px; } .chart svg { max-width: 100%; height: auto; }
.legend { color: var(--muted); font-size: 12.5px; }
.failure { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 0 12px; break-inside: auto; }
.failure > summary { cursor: pointer; padding: 8px 0; font-weight: 600; }
.failure[open] > summary { border-bottom: 1px solid var(--line); margin-bottom: 8px; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 4px; padding: 0 6px; margin-right: 6px;
  font-weight: 400; }
.label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; margin-top: 6px; }
.controls button { font: inherit; padding: 3px 10px; margin-right: 6px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--soft); cursor: pointer; }
.rules-list td:first-child { white-space: nowrap; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11.5px; }
  .controls { display: none; }
  details::details-content { content-visibility: visible; display: block; }
  .failure > summary::marker { content: ""; }
  h2 { break-after: avoid; } tr, .verdict { break-inside: avoid; }
  a { text-decoration: none; }
}
@page { margin: 14mm; }
"""

_SCRIPT = """
(function () {
  var all = function () { return document.querySelectorAll("details.failure, details.rules"); };
  var remembered = [];
  function setAll(open) { all().forEach(function (d) { d.open = open; }); }
  document.querySelectorAll("[data-expand]").forEach(function (button) {
    button.addEventListener("click", function () { setAll(button.getAttribute("data-expand") === "all"); });
  });
  window.addEventListener("beforeprint", function () {
    remembered = Array.prototype.map.call(all(), function (d) { return d.open; });
    setAll(true);
  });
  window.addEventListener("afterprint", function () {
    all().forEach(function (d, i) { if (i < remembered.length) { d.open = remembered[i]; } });
  });
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }
})();
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_hash(_STYLE)}; script-src {_hash(_SCRIPT)}; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
"""No fetch of any kind is allowed; only our own inline style and script (by hash) may run."""

_RESULT_MARK = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _pretty(body: Any) -> str:
    """Bodies and evidence for reading: JSON indented, anything else as it is."""
    if body is None:
        return ""
    if isinstance(body, str):
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            return body
    return json.dumps(body, indent=2, ensure_ascii=False)


def _inline(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _verdict(document: dict[str, Any]) -> str:
    summary = document["summary"]
    verdict = document["verdict"]
    failures = summary["failures"]
    failed_rules = summary["rules_failed"]
    line = (
        f'<span id="failure-count" data-count="{failures}">{_e(_plural(failures, "failure"))}</span> '
        f"in {failed_rules} of {_plural(summary['rules'], 'rule')} · {_plural(summary['apis'], 'API')} · "
        f"{summary['checks_passed']} checks passed · statuses covered "
        f"{summary['statuses_seen']}/{summary['statuses_documented']}"
    )
    note = ""
    if not document["complete"]:
        note = (
            '<div class="incomplete-note" id="incomplete"><strong>This run did not complete</strong> '
            f"({_e(document['incomplete_reason'])}). The report holds what was recorded until then; "
            "rules not reached are missing or show fewer checks.</div>"
        )
    return (
        f'<header id="verdict" class="verdict verdict-{_e(verdict)}" data-verdict="{_e(verdict)}">'
        f"<h1>Certification · {_e(document['command'])} · {_e(_target_name(document['target']))}</h1>"
        f'<div class="verdict-word">{_e(verdict.upper())}</div><p>{line}</p></header>{note}'
    )


def _target_name(target: dict[str, Any]) -> str:
    for key in ("name", "origin", "base_url", "url"):
        if target.get(key):
            return str(target[key])
    return "target"


def _run(document: dict[str, Any]) -> str:
    rows = [
        ("Verdict", document["verdict"]),
        ("Command", f"conformance {document['command']}"),
        ("Tool", f"{document['tool']['name']} {document['tool']['version']}"),
        ("Profile", document["profile"] or "—"),
        ("Seed", "—" if document["seed"] is None else document["seed"]),
        ("Started", document["started_at"]),
        ("Finished", document["finished_at"]),
        ("Duration", f"{document['duration_seconds']:.1f} s"),
        ("Complete", "yes" if document["complete"] else f"no — {document['incomplete_reason']}"),
    ]
    callbacks = document["callbacks"]
    rows.append(("Callbacks", f"{callbacks['count']} in {callbacks['file']}" if callbacks else "none"))
    body = "".join(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>" for name, value in rows)
    target = "".join(
        f'<tr><th>Target: {_e(key)}</th><td class="mono">{_e(_inline(value))}</td></tr>'
        for key, value in document["target"].items()
    )
    specs = "".join(
        f"<tr><td>{_e(spec['name'])}</td><td>{_e(spec.get('title') or '')}</td><td>{_e(spec.get('version') or '')}</td>"
        f'<td class="mono">{_e(spec["sha256"])}</td></tr>'
        for spec in document["specs"]
    )
    specs_table = (
        "<h3>Specs</h3><table><thead><tr><th>name</th><th>title</th><th>version</th><th>sha256</th></tr></thead>"
        f"<tbody>{specs}</tbody></table>"
        if specs
        else ""
    )
    meta = f'<table class="meta"><tbody>{body}{target}</tbody></table>'
    return f'<section id="run"><h2>Run</h2>{meta}{specs_table}</section>'


def _row_key(rule_id: str, prefix: str | None) -> str:
    return rule_id[len(prefix) + 1 :] if prefix and rule_id.startswith(prefix + "-") else rule_id


def _matrix(document: dict[str, Any]) -> str:
    apis = document["apis"]
    if not apis:
        return '<section id="matrix"><h2>Rules by API</h2><p>No rules were recorded.</p></section>'
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for api in apis:
        for rule in api["rules"]:
            rows.setdefault(_row_key(rule["id"], api["prefix"]), {})[api["name"]] = rule
    order = sorted(rows, key=lambda key: (-len(rows[key]), key))
    head = "".join(
        f'<th>{_e(api["name"])}<span class="api-result">{_e(api["result"])} · '
        f"{api['counts']['rules_failed']} failed / {len(api['rules'])}</span></th>"
        for api in apis
    )
    body = []
    for key in order:
        cells = []
        for api in apis:
            rule = rows[key].get(api["name"])
            if rule is None:
                cells.append('<td class="cell none" title="not applicable">·</td>')
                continue
            checks = rule["checks"]
            if rule["result"] == "failed":
                label = (
                    f'<a href="#{_e(rule["failures"][0])}">FAIL {len(rule["failures"])}</a>'
                    if rule["failures"]
                    else "FAIL"
                )
            elif rule["result"] == "skipped":
                label = "SKIP"
            else:
                label = f"PASS {checks['passed']}" if checks["passed"] else "PASS"
            counted = f"{checks['passed']} passed, {checks['failed']} failed, {checks['skipped']} skipped"
            title = f"{rule['id']}: {rule['description']} ({counted})"
            cells.append(
                f'<td class="cell {_e(rule["result"])}" data-rule="{_e(rule["id"])}" title="{_e(title)}">{label}</td>'
            )
        body.append(f'<tr><td class="rule mono">{_e(key)}</td>{"".join(cells)}</tr>')
    prefixes = ", ".join(f"{api['prefix']}- for {api['name']}" for api in apis if api["prefix"])
    legend = (
        '<p class="legend">Rows are rule IDs without their API prefix'
        f"{' (' + _e(prefixes) + ')' if prefixes else ''}. PASS n: n checks passed; FAIL n: n failures, linked below; "
        "SKIP: could not be checked; ·: the rule does not apply to that API.</p>"
    )
    return (
        f'<section id="matrix"><h2>Rules by API</h2>{legend}'
        f'<table class="matrix"><thead><tr><th>rule</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></section>"
    )


def _coverage_chart(api: dict[str, Any]) -> str:
    """One SVG per API: a row per status field, a box per status, filled when it was seen."""
    fields = api["coverage"]
    label_width = max(120, max(len(field["field"]) for field in fields) * 7 + 16)
    row_height, gap = 26, 6
    rows_svg = []
    width = label_width
    for index, field in enumerate(fields):
        y = index * (row_height + gap)
        x = label_width
        rows_svg.append(
            f'<text x="0" y="{y + 17}" font-size="12" font-family="monospace" fill="#1f2328">'
            f"{_e(field['field'])}</text>"
        )
        for status in field["statuses"]:
            box = max(44, len(status["value"]) * 7 + 14)
            if not status["documented"]:
                fill, stroke, ink, state = "#ffebe9", "#cf222e", "#a40e26", f"undocumented, seen {status['seen']}×"
            elif status["seen"]:
                fill, stroke, ink, state = "#2da44e", "#1a7f37", "#ffffff", f"seen {status['seen']}×"
            else:
                fill, stroke, ink, state = "#ffffff", "#8c959f", "#59636e", "not seen"
            dash = ' stroke-dasharray="4 3"' if not status["seen"] else ""
            rows_svg.append(
                f'<g class="status" data-seen="{"true" if status["seen"] else "false"}"><title>{_e(field["field"])} = '
                f"{_e(status['value'])}: {_e(state)}</title>"
                f'<rect x="{x}" y="{y}" width="{box - 4}" height="{row_height}" rx="4" fill="{fill}" '
                f'stroke="{stroke}"{dash}/>'
                f'<text x="{x + (box - 4) / 2:.1f}" y="{y + 17}" font-size="11" font-family="monospace" '
                'text-anchor="middle" '
                f'fill="{ink}">{_e(status["value"])}</text></g>'
            )
            x += box
        share = f"{field['seen']}/{field['documented']}"
        rows_svg.append(
            f'<text x="{x + 6}" y="{y + 17}" font-size="12" font-family="monospace" fill="#1f2328">{_e(share)}</text>'
        )
        width = max(width, x + 60)
    height = len(fields) * (row_height + gap)
    counts = api["counts"]
    return (
        f'<div class="chart" data-api="{_e(api["name"])}"><h3>{_e(api["name"])} · '
        f"{counts['statuses_seen']}/{counts['statuses_documented']} documented statuses seen</h3>"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="status coverage of {_e(api["name"])}">'
        f"{''.join(rows_svg)}</svg></div>"
    )


def _coverage(document: dict[str, Any]) -> str:
    charts = [_coverage_chart(api) for api in document["apis"] if api["coverage"]]
    if not charts:
        return (
            '<section id="coverage"><h2>Status coverage</h2><p>No status fields were tracked in this run.</p></section>'
        )
    legend = (
        '<p class="legend">Each box is a documented status value: filled when the run saw it, dashed when it did not; '
        "red: seen but not documented.</p>"
    )
    return f'<section id="coverage"><h2>Status coverage</h2>{legend}{"".join(charts)}</section>'


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


def _failure(failure: dict[str, Any]) -> str:
    where = " · ".join(part for part in (failure["api"], failure["operation"]) if part)
    parts = [
        f'<details class="failure" id="{_e(failure["id"])}" data-rule="{_e(failure["rule_id"])}">'
        f'<summary><span class="tag">{_e(failure["id"])}</span><span class="tag mono">{_e(failure["rule_id"])}</span>'
        f'<span class="tag">{_e(where)}</span>{_e(failure["title"])}</summary>',
        f'<div class="label">Expected</div><pre>{_e(_pretty(failure["expected"]))}</pre>',
        f'<div class="label">Observed</div><pre>{_e(_pretty(failure["observed"]))}</pre>',
    ]
    if failure["exchange"]:
        request, response = _exchange_text(failure["exchange"])
        parts.append(f'<div class="label">Request</div><pre class="request">{_e(request)}</pre>')
        parts.append(f'<div class="label">Response</div><pre class="response">{_e(response)}</pre>')
    if failure["reproduction"]:
        parts.append(
            '<div class="label">Reproduction (secrets redacted: supply your own credentials and test card)</div>'
            f'<pre class="reproduction">{_e(failure["reproduction"])}</pre>'
        )
    parts.append("</details>")
    return "".join(parts)


def _failures(document: dict[str, Any]) -> str:
    failures = document["failures"]
    if not failures:
        return '<section id="failures"><h2>Failures (0)</h2><p>No rule failed.</p></section>'
    controls = (
        '<p class="controls"><button type="button" data-expand="all">Expand all</button>'
        '<button type="button" data-expand="none">Collapse all</button></p>'
    )
    listed = "".join(_failure(failure) for failure in failures)
    return f'<section id="failures"><h2>Failures ({len(failures)})</h2>{controls}{listed}</section>'


def _rules(document: dict[str, Any]) -> str:
    blocks = []
    for api in document["apis"]:
        rows = []
        for rule in api["rules"]:
            checks = rule["checks"]
            reasons = (
                f' <span class="legend">({_e("; ".join(rule["skip_reasons"]))})</span>' if rule["skip_reasons"] else ""
            )
            rows.append(
                f'<tr><td class="mono">{_e(rule["id"])}</td>'
                f'<td class="{_e(rule["result"])}">{_RESULT_MARK[rule["result"]]}</td>'
                f"<td>{checks['passed']}/{checks['failed']}/{checks['skipped']}</td>"
                f"<td>{_e(rule['description'])}{reasons}</td></tr>"
            )
        table = (
            '<table class="rules-list"><thead><tr><th>rule</th><th>result</th><th>checks passed/failed/skipped</th>'
            f"<th>verifies</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            if rows
            else "<p>No rules were recorded for this API.</p>"
        )
        blocks.append(
            f'<details class="rules"><summary><strong>{_e(api["name"])}</strong>: '
            f"{_plural(len(api['rules']), 'rule')}, "
            f"{api['counts']['rules_failed']} failed</summary>{table}</details>"
        )
    return f'<section id="rules"><h2>Rules</h2>{"".join(blocks)}</section>'


def render_html(document: dict[str, Any]) -> str:
    """The self-contained HTML page of a certification record."""
    title = f"{document['verdict'].upper()} · conformance {document['command']} · {_target_name(document['target'])}"
    footer = (
        f"<footer>Generated by {_e(document['tool']['name'])} {_e(document['tool']['version'])} "
        f"from certification.json (format {_e(document['format_version'])}). "
        "Regenerate with <code>conformance report certification.json</code>. "
        "Card numbers show the first six and last four digits only; "
        "CVVs, expiry dates, tokens and secrets are redacted.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light"><link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n"
        + "\n".join(
            (
                _verdict(document),
                _run(document),
                _matrix(document),
                _coverage(document),
                _failures(document),
                _rules(document),
                footer,
            )
        )
        + f"\n<script>{_SCRIPT}</script>\n</body></html>\n"
    )
