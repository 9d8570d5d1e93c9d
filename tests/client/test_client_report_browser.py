"""A client certification's HTML in a real headless Chromium: the failing exchange with the trouble it followed,
and the Client section with each injected trouble and what it met."""

from __future__ import annotations

import sys

import pytest
from client_support import FAULTY, ROOT

sys.path.insert(0, str(ROOT / "tests"))

from reporting._cdp import CHROMIUM, available, browser  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not available(), reason=f"chromium not found at {CHROMIUM} (apt-get install chromium)"),
]


def test_a_failing_client_report_shows_the_trouble_it_followed(run_client, tmp_path):
    run = run_client("--api", "pay-by-bank", "--trouble", "ambiguous-503", "--trouble", "rate-limited",
                     command=[*FAULTY, "new-key-on-retry"])
    assert run.code == 1
    with browser(tmp_path / "profile") as chromium:
        page = chromium.new_page()
        page.open((run.report_dir / "certification.html").as_uri())
        page.evaluate('document.querySelector("details.failure").open = true')
        shown = page.evaluate("""({
            rule: document.querySelector("details.failure").dataset.rule,
            trouble: document.querySelector("details.failure .trouble").innerText,
            tags: [...document.querySelectorAll("details.failure .trouble-tag")].map(t => t.textContent),
            troubles: [...document.querySelectorAll("#client table.troubles tbody tr")].map(
                row => [row.id, row.className, row.cells[1].innerText, row.cells[5].innerText]),
            operations: [...document.querySelectorAll("#client table.operations tbody tr")].map(
                row => row.cells[1].innerText),
            visible: document.getElementById("client").getBoundingClientRect().height > 0
        })""")
        assert shown["rule"] == "PBB-CLIENT-IDEMPOTENT-RETRY" and shown["visible"]
        assert "T1" in shown["trouble"] and "ambiguous-503" in shown["trouble"]
        assert shown["tags"][0] == "injected T1 ambiguous-503"  # the attempt the retry repeats, marked
        kinds = {row[2]: row for row in shown["troubles"]}
        assert set(kinds) == {"ambiguous-503", "rate-limited"}
        assert all(row[1] == "passed" and "createPayment" in row[3] for row in kinds.values())
        assert "createPayment" in shown["operations"]
        assert page.evaluate("window.__cspViolations") == []
        page.screenshot(tmp_path / "client-report.png")
