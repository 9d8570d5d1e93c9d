"""certification.html in a real headless Chromium (Debian's `chromium`, installed by .ci/run).

It must render, show the verdict and failure count of its JSON, load nothing from the network
(shown twice: the DevTools network log sees only the file itself, and the page's CSP is proven to
block a fetch that a page without it would make), unfold its evidence when printed, and leave a
screenshot for a person to look at (in the test's tmp dir; also in reports/ when
CONFORMANCE_SCREENSHOTS=1).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from conformance.reporting import Exchange, Failure, load_report

from ._cdp import CHROMIUM, available, browser
from .conftest import leaks, payment_exchange, record_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not available(), reason=f"chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    ),
]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    with browser(tmp_path_factory.mktemp("chromium-profile")) as running:
        yield running


@pytest.fixture(scope="module")
def reports(tmp_path_factory, specs):
    """Three finished runs: failing, clean, interrupted."""
    from conformance.reporting import Recorder

    from .conftest import CLIENT_SECRET, TOKEN

    made = {}
    for kind in ("failing", "clean", "interrupted"):
        directory = tmp_path_factory.mktemp(kind)
        recorder = Recorder(
            directory,
            command="certify",
            target={"origin": "http://127.0.0.1:48123"},
            specs=list(specs.values()),
            profile="quick",
            seed=1,
            secrets=(CLIENT_SECRET, TOKEN),
        )
        record_run(recorder, specs, failing=kind != "clean")
        recorder.finish(complete=kind != "interrupted", reason="interrupted (Ctrl-C)")
        made[kind] = directory
    return made


def _keep(path: Path, name: str) -> None:
    if os.environ.get("CONFORMANCE_SCREENSHOTS"):
        shutil.copy(path, ROOT / "reports" / name)


def test_the_failing_report_renders_what_its_json_says_and_fetches_nothing(chromium, reports, tmp_path):
    directory = reports["failing"]
    document = load_report(directory / "certification.json")
    url = (directory / "certification.html").as_uri()
    page = chromium.new_page()
    page.open(url)

    shown = page.evaluate(
        """({
        verdict: document.getElementById("verdict").dataset.verdict,
        word: document.querySelector(".verdict-word").innerText,
        count: Number(document.getElementById("failure-count").dataset.count),
        countText: document.getElementById("failure-count").innerText,
        failures: document.querySelectorAll("details.failure").length,
        failCells: document.querySelectorAll("td.cell.failed").length,
        boxes: document.querySelectorAll("#coverage g.status").length,
        seenBoxes: document.querySelectorAll('#coverage g.status[data-seen="true"]').length,
        height: document.documentElement.scrollHeight,
        verdictOnTop: document.getElementById("verdict").getBoundingClientRect().top,
        text: document.body.innerText,
        title: document.title
    })"""
    )
    assert shown["verdict"] == document["verdict"] == "nonconformant"
    assert shown["word"] == "NONCONFORMANT"
    assert shown["count"] == shown["failures"] == len(document["failures"]) == 3
    assert shown["countText"] == "3 failures"
    assert shown["failCells"] == document["summary"]["rules_failed"]
    assert shown["boxes"] == sum(len(field["statuses"]) for api in document["apis"] for field in api["coverage"])
    assert shown["seenBoxes"] == document["summary"]["statuses_seen"]
    assert shown["height"] > 1000 and shown["verdictOnTop"] < 100
    assert shown["title"].startswith("NONCONFORMANT")
    assert leaks(shown["text"]) == []

    # Nothing but the file itself was requested; the CSP had nothing to refuse; no script error.
    assert page.requested_urls() == [url]
    assert page.evaluate("window.__cspViolations") == []
    assert not [message for message in page.messages() if "Refused" in message or "Error" in message]

    # The inline script runs under the CSP (its hash is right): the buttons unfold every failure.
    page.evaluate('document.querySelector("[data-expand=all]").click()')
    assert page.evaluate('[...document.querySelectorAll("details.failure")].every(d => d.open)')
    page.evaluate('document.querySelector("[data-expand=none]").click()')
    evidence_visible = '[...document.querySelectorAll("details.failure pre")].map(p => p.checkVisibility())'
    assert not any(page.evaluate(evidence_visible))

    screenshot = page.screenshot(tmp_path / "certification-failing.png")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    _keep(screenshot, "certification-failing.png")

    # Printed, every failure is unfolded: request, response and reproduction on paper.
    page.call("Emulation.setEmulatedMedia", media="print")
    visible = page.evaluate(evidence_visible)
    # expected/observed each; request, response, the step's curl and the reproduction for the two with exchanges
    assert len(visible) == 3 * 2 + 2 * 4 and all(visible)
    printed = page.screenshot(tmp_path / "certification-failing-print.png")
    _keep(printed, "certification-failing-print.png")
    page.call("Emulation.setEmulatedMedia", media="")
    pdf = page.print_pdf(tmp_path / "certification-failing.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
    assert page.requested_urls() == [url]  # still nothing fetched, printing included


def _callback(status: str, at: str) -> Exchange:
    body = {"callbacks": [{"endToEndId": "28176410b1a9faeaf40433cae6f4854b", "createDateTime": at,
                           "paymentStatus": status, "firmRootId": "6f99b212-dcbe-453f-a93b-68ef10cbc182"}]}
    return Exchange("POST", "http://127.0.0.1:40483/callbacks", {"content-type": "application/json"},
                    json.dumps(body), 200, api="global-payments", operation="paymentInitiationStatus",
                    intent="callback", statuses=(status,))


@pytest.fixture(scope="module")
def grouped_report(tmp_path_factory, specs):
    """A failing run with three failures of one rule and a callback failure that broke a sequence."""
    from conformance.reporting import Recorder

    from .conftest import CLIENT_SECRET, TOKEN

    directory = tmp_path_factory.mktemp("grouped")
    recorder = Recorder(directory, command="certify", target={"origin": "http://127.0.0.1:48123"},
                        specs=list(specs.values()), profile="quick", seed=1, secrets=(CLIENT_SECRET, TOKEN))
    record_run(recorder, specs, failing=True)
    for number in range(2):
        recorder.failed(Failure("online-payments", "OP-NO-CARD-DATA", "V2PaymentPost", f"Leak {number}",
                                expected="no PAN", observed="a PAN", exchange=payment_exchange()))
    recorder.failed(Failure("global-payments", "GP-PAYMENT-STATUS-TRANSITIONS", "paymentInitiationStatus",
                            "Illegal status transition", expected="PENDING -> one of ['PENDING_POSTING']",
                            observed="PENDING -> COMPLETED", exchange=_callback("COMPLETED", "2026-12-01T15:00:46Z"),
                            chain=[_callback("PENDING", "2026-12-01T15:00:45Z")]))
    recorder.finish()
    return directory


def test_failures_come_first_grouped_by_rule_linked_from_the_banner_with_their_sequence(chromium, grouped_report,
                                                                                      tmp_path):
    document = load_report(grouped_report / "certification.json")
    page = chromium.new_page()
    page.open((grouped_report / "certification.html").as_uri())
    layout = page.evaluate(
        """({
        order: [...document.querySelectorAll("body > section")].map(s => s.id),
        links: [...document.querySelectorAll("#failed-rules a")].map(a => [a.dataset.rule, a.getAttribute("href"),
                                                                            a.innerText]),
        groups: [...document.querySelectorAll("#failures .rule-group")].map(g =>
            [g.dataset.rule, g.querySelectorAll("details.failure").length]),
        failuresTop: document.getElementById("failures").getBoundingClientRect().top,
        matrixTop: document.getElementById("matrix").getBoundingClientRect().top
    })"""
    )
    assert layout["order"][:2] == ["failures", "run"] and layout["failuresTop"] < layout["matrixTop"]
    rules = list(dict.fromkeys(failure["rule_id"] for failure in document["failures"]))
    assert [link[0] for link in layout["links"]] == rules
    assert ["OP-NO-CARD-DATA", "#rule-OP-NO-CARD-DATA", "OP-NO-CARD-DATA ×3"] in layout["links"]
    assert ["OP-NO-CARD-DATA", 3] in layout["groups"] and len(layout["groups"]) == len(rules)

    # The banner's link leads to the rule's failures.
    page.evaluate('document.querySelector("#failed-rules a[data-rule=GP-PAYMENT-STATUS-TRANSITIONS]").click()')
    assert page.evaluate("location.hash") == "#rule-GP-PAYMENT-STATUS-TRANSITIONS"
    top = page.evaluate('document.getElementById("rule-GP-PAYMENT-STATUS-TRANSITIONS").getBoundingClientRect().top')
    assert abs(top) < 5

    # The callback failure shows the sequence it broke and the callbacks in order, the offending one last.
    callback = 'document.querySelector("details.failure[data-rule=GP-PAYMENT-STATUS-TRANSITIONS]")'
    page.evaluate(f"{callback}.open = true")
    sequence = page.evaluate(f"""({{
        data: {callback}.querySelector(".sequence").dataset.sequence,
        text: {callback}.querySelector(".sequence").innerText,
        breaks: [...{callback}.querySelectorAll(".sequence .breaks")].map(s => s.innerText),
        steps: [...{callback}.querySelectorAll("ol.chain > li")].map(li => [li.className, li.innerText.split("\\n")[0]])
    }})""")
    assert sequence["data"] == "PENDING -> COMPLETED" and sequence["breaks"] == ["COMPLETED"]
    assert sequence["text"].replace(" ", "") == "PENDING→COMPLETED"
    assert [step[0] for step in sequence["steps"]] == ["", "failing"]
    assert "(PENDING)" in sequence["steps"][0][1] and "(COMPLETED)" in sequence["steps"][1][1]
    assert page.evaluate("window.__cspViolations") == []
    _keep(page.screenshot(tmp_path / "certification-grouped.png"), "certification-grouped.png")


@pytest.mark.parametrize("kind, verdict", [("clean", "conforms"), ("interrupted", "incomplete")])
def test_clean_and_interrupted_reports_show_their_verdict(chromium, reports, kind, verdict, tmp_path):
    directory = reports[kind]
    document = load_report(directory / "certification.json")
    page = chromium.new_page()
    page.open((directory / "certification.html").as_uri())
    assert page.evaluate('document.getElementById("verdict").dataset.verdict') == document["verdict"] == verdict
    assert page.evaluate('Number(document.getElementById("failure-count").dataset.count)') == len(document["failures"])
    incomplete = page.evaluate(
        'document.getElementById("incomplete") ? document.getElementById("incomplete").innerText : null'
    )
    if kind == "interrupted":
        assert incomplete.startswith("This run did not complete (interrupted (Ctrl-C))")
    else:
        assert incomplete is None
    assert page.evaluate("window.__cspViolations") == []
    _keep(page.screenshot(tmp_path / f"certification-{kind}.png"), f"certification-{kind}.png")


@pytest.fixture
def probe_server():
    """A local HTTP server that counts what it is asked for: the 'network' a page must not reach."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css" if self.path.endswith(".css") else "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_csp_blocks_a_fetch_that_the_network_log_would_catch(chromium, reports, probe_server, tmp_path):
    """The two proofs above can fail: a fetch smuggled into the page is refused by its CSP; the same
    fetch without the CSP reaches the server and shows in the network log."""
    origin, hits = probe_server
    html = (reports["failing"] / "certification.html").read_text()
    smuggled = f'<img src="{origin}/probe.png" alt=""><link rel="stylesheet" href="{origin}/font.css">'
    with_csp = tmp_path / "with-csp.html"
    with_csp.write_text(html.replace("<body>", f"<body>{smuggled}", 1))
    without_csp = tmp_path / "without-csp.html"
    without_csp.write_text(
        html.replace("<body>", f"<body>{smuggled}", 1).replace(
            'http-equiv="Content-Security-Policy"', 'name="x-no-csp"'
        )
    )
    page = chromium.new_page()

    page.open(with_csp.as_uri())
    violations = page.evaluate("window.__cspViolations")
    assert any(v.startswith("img-src") for v in violations) and any(v.startswith("style-src") for v in violations)
    assert hits == []
    attempted = [url for url in page.requested_urls() if url.startswith("http")]
    assert sorted(attempted) == [f"{origin}/font.css", f"{origin}/probe.png"]
    assert page.blocked() == {f"{origin}/probe.png": "csp", f"{origin}/font.css": "csp"}

    page.open(without_csp.as_uri())
    assert sorted(hits) == ["/font.css", "/probe.png"]
    assert {f"{origin}/probe.png", f"{origin}/font.css"} <= set(page.requested_urls())
