"""No secret or card data in any artifact or console line, against an origin that echoes everything
(issue 13, item 10).

Every command that talks to a peer (certify with --verbose, --exchange-log and --har; replay; callbacks) runs against
`EchoOrigin`, which answers each request with all it
received (headers as a map and as raw lines, the credential alone and base64-decoded, the body parsed
and raw) and issues a fresh token at its token path. The URLs given carry a password, as a careless
CI variable would. Then every file the commands wrote and everything they printed is scanned for:
each token the origin issued, the client secret, the URL passwords (and the Basic credentials made
of them), any full card number, and any CVV or expiry value not redacted. The scan shares no code
with conformance.redaction: a scan using the redactor would share its blind spots.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest
from card_support import luhn, without_uuids
from client_peers import echo_origin

CLIENT_ID = "echo-integration-client"
CLIENT_SECRET = "cs-echo-Vq3-9dLmR2"
ORIGIN_USER, ORIGIN_PASSWORD = "integrator", "0rigin-Pa55-7Q"
RECEIVER_USER, RECEIVER_PASSWORD = "receiver", "Rcv-Pa55-K4x"
CALLBACK_USER, CALLBACK_PASSWORD = "callbacks", "Cb-Pa55-W8z"

_DIGITS = re.compile(r"\d+(?:[ -]\d+)*")
# Whole keys only: paymentAgreementExpiryDate (when a recurring agreement ends) is no card data.
_CARD_KEY = re.compile(
    r"(?i)(?<![a-z0-9_])(cvv2?|cvc2?|securityCode|expiry|expiryDate|expirationDate|expMonth|expYear)"
    r"[\\\"']*\s*[:=]\s*[\\\"']*(?P<value>[^,;&\s\\\"']{0,16})"
)


def _forms(secret: str) -> set[str]:
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def leaks(text: str, secrets: dict[str, list[str]]) -> list[str]:
    """What in `text` must never be there: a known secret, a full card number, a CVV or expiry value."""
    text = html.unescape(text)  # the HTML report and JUnit XML escape quotes
    found = [f"{kind}: {secret[:12]}..." for kind, values in secrets.items()
             for secret in values for form in _forms(secret) if form in text]
    for run in _DIGITS.findall(without_uuids(text)):
        digits = re.sub(r"[ -]", "", run)
        if 13 <= len(digits) <= 19 and digits[0] in "3456" and luhn(digits):
            found.append(f"full card number {digits[:6]}...")
    for match in _CARD_KEY.finditer(text):
        value = match.group("value")
        if value and not value.startswith("[REDACTED") and (value[0].isdigit() or value[0] == "{"):
            found.append(f"card data: {match.group(0)[:40]}")
    return sorted(set(found))


def _cli(*args: str, timeout: float = 300) -> tuple[int, str]:
    environment = dict(os.environ, CONFORMANCE_CLIENT_ID=CLIENT_ID, CONFORMANCE_CLIENT_SECRET=CLIENT_SECRET)
    done = subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          env=environment, timeout=timeout)
    return done.returncode, done.stdout + done.stderr


def _with_userinfo(origin: str, user: str, password: str) -> str:
    return origin.replace("http://", f"http://{user}:{password}@")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every command, run once against one echoing origin; their consoles, report directories and the secrets."""
    directory = tmp_path_factory.mktemp("echo")
    consoles: dict[str, str] = {}
    codes: dict[str, int] = {}
    with echo_origin() as echo:
        # Global Payments sends the issued tokens (echoed back); Online Payments, at a base URL with a password,
        # sends the Basic credential a client builds from it instead (echoed back), and card data.
        with_password = _with_userinfo(echo.origin, ORIGIN_USER, ORIGIN_PASSWORD)
        urls = ["--origin", echo.origin, "--base-url", f"online-payments={with_password}/api/v2",
                "--token-url", with_password + echo.token_path]
        codes["certify"], consoles["certify"] = _cli(
            "certify", *urls, "--api", "online-payments", "--api", "global-payments", "--api", "oauth",
            "--rate-limit", "0", "--seed", "3", "--report-dir", str(directory / "certify"), "--verbose",
            "--exchange-log", str(directory / "certify" / "exchanges.ndjson"),
            "--har", str(directory / "certify" / "run.har"))
        report = directory / "certify" / "certification.json"
        failure = next(f["id"] for f in json.loads(report.read_text())["failures"] if f["api"] == "online-payments")
        codes["replay"], consoles["replay"] = _cli("replay", str(report), failure, *urls)
        receiver = _with_userinfo(echo.origin, RECEIVER_USER, RECEIVER_PASSWORD) + "/callbacks/{webhook}"
        codes["callbacks"], consoles["callbacks"] = _cli(
            "callbacks", "--api", "pay-by-bank", "--target", receiver, "--profile", "quick", "--seed", "3",
            "--report-dir", str(directory / "callbacks"))
        tokens = list(echo.tokens)
        bodies = list(echo.bodies)
        authorizations = list(echo.authorizations)
    codes["report"], consoles["report"] = _cli("report", str(directory / "certify" / "certification.json"), "--text")
    for name, args in {"examples": ("examples", "--api", "online-payments", "--operation", "V2PaymentPost"),
                       "examples-invalid": ("examples", "--api", "online-payments", "--list", "--json"),
                       "specs": ("specs",), "faults": ("faults",)}.items():
        codes[name], consoles[name] = _cli(*args)
    codes["mock"], consoles["mock"] = _mock_console()
    secrets = {
        "issued token": tokens,
        "client secret": [CLIENT_SECRET, _basic(CLIENT_ID, CLIENT_SECRET)],
        "URL password": [ORIGIN_PASSWORD, _basic(ORIGIN_USER, ORIGIN_PASSWORD), RECEIVER_PASSWORD,
                         _basic(RECEIVER_USER, RECEIVER_PASSWORD), CALLBACK_PASSWORD,
                         _basic(CALLBACK_USER, CALLBACK_PASSWORD)],
    }
    return {"directory": directory, "codes": codes, "consoles": consoles, "secrets": secrets, "bodies": bodies,
            "authorizations": authorizations}


def _mock_console() -> tuple[int, str]:
    """`conformance mock` with a callback URL carrying a password, until it has printed its banner."""
    callback_url = f"http://{CALLBACK_USER}:{CALLBACK_PASSWORD}@127.0.0.1:9/callbacks"
    process = subprocess.Popen([sys.executable, "-m", "conformance", "mock", "--port", "0", "--callback-url",
                                callback_url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    return process.returncode, "".join(lines) + rest


def test_the_echoing_origin_saw_every_kind_of_secret(runs):
    """The scan means something only if the secrets really went out and came back."""
    sent = b"".join(runs["bodies"]).decode("utf-8", "replace")
    assert runs["secrets"]["issued token"], "the echo origin issued no token"
    credentials = set(runs["authorizations"])
    assert {f"Bearer {token}" for token in runs["secrets"]["issued token"]} & credentials, "no token went out"
    assert f"Basic {_basic(ORIGIN_USER, ORIGIN_PASSWORD)}" in credentials, "the URL password went out"
    assert "accountNumber" in sent and re.search(r'"cvv"|"expiry"', sent), "no card data was sent"
    assert runs["codes"]["certify"] == 1 and runs["codes"]["callbacks"] in (0, 1), runs["consoles"]
    certify = (runs["directory"] / "certify" / "certification.json").read_text()
    assert "credential_decoded" in certify and "raw_headers" in certify, "the echoes are not in the evidence"


@pytest.mark.parametrize("command", ["certify", "callbacks"])
def test_no_secret_or_card_data_in_any_artifact(runs, command):
    files = [path for path in (runs["directory"] / command).rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"certification.json", "certification.html", "junit.xml"}
    assert command != "certify" or {path.name for path in files} >= {"exchanges.ndjson", "run.har"}
    found = {path.name: leaks(path.read_text(errors="replace"), runs["secrets"]) for path in files}
    assert {name: items for name, items in found.items() if items} == {}


@pytest.mark.parametrize("command", ["certify", "replay", "callbacks", "report", "examples", "examples-invalid",
                                     "specs", "faults", "mock"])
def test_no_secret_or_card_data_on_any_console(runs, command):
    assert runs["consoles"][command].strip(), f"{command} printed nothing"
    assert "Traceback" not in runs["consoles"][command], runs["consoles"][command][-3000:]
    assert leaks(runs["consoles"][command], runs["secrets"]) == []


def test_an_unreachable_origin_with_a_password_is_one_line_without_it(tmp_path):
    """Error lines print URLs: their userinfo is gone (issue: `https://user:pass@host` printed in error lines)."""
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        origin = f"http://{ORIGIN_USER}:{ORIGIN_PASSWORD}@127.0.0.1:{sock.getsockname()[1]}"
        code, console = _cli("certify", "--origin", origin, "--report-dir", str(tmp_path / "reports"))
        receiver_code, receiver_console = _cli(
            "callbacks", "--api", "pay-by-bank", "--target", origin + "/cb/{webhook}",
            "--report-dir", str(tmp_path / "callbacks"))
    assert (code, receiver_code) == (3, 3), console + receiver_console
    for text in (console, receiver_console):
        assert len(text.strip().splitlines()) == 1 and "http://127.0.0.1:" in text, text
        assert ORIGIN_PASSWORD not in text and ORIGIN_USER not in text
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or ORIGIN_PASSWORD not in path.read_text(), path


def test_the_scan_finds_what_it_looks_for():
    """The scan itself, against text that leaks each kind (so a clean scan above is not a blind one)."""
    secrets = {"issued token": ["echo-tok-123456"], "URL password": [ORIGIN_PASSWORD]}
    leaked = [
        'Authorization: Bearer echo-tok-123456', f"http://u:{urllib.parse.quote(ORIGIN_PASSWORD)}@h",
        '{"accountNumber": "4012000033330026"}', '{\\"cvv\\": \\"123\\"}', "&quot;expiry&quot;: {&quot;month",
        "expMonth=05",
    ]
    for text in leaked:
        assert leaks(text, secrets), text
    clean = ['"cvv": "[REDACTED]"', "401200XXXXXX0026", "no full PAN, no CVV in any answer", '"expiry": [REDACTED]']
    for text in clean:
        assert leaks(text, secrets) == [], text
