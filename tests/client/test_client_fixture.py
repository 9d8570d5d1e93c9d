"""The `payments_mock` fixture in an integrator's own pytest suite: the reference client's tests pass, each
faulty client's test fails with its rule ID and the offending exchange.

The integrator's suites are real pytest runs in processes of their own (the plugin loads as it does for
an integrator: through its entry point), their results read from their JUnit XML.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from client_support import ROOT
from faulty_clients import FAULTY_CLIENTS

from conformance import load_spec

HERE = Path(__file__).resolve().parent

PREAMBLE = f"""
import sys
import pytest
sys.path[:0] = [{str(HERE)!r}, {str(ROOT)!r}]
from examples import client as reference
from faulty_clients import FAULTY_CLIENTS, run as run_faulty


@pytest.fixture
def shop(payments_mock, monkeypatch):
    '''The integration under test reads its configuration from the environment.'''
    for name, value in payments_mock.environ.items():
        monkeypatch.setenv(name, value)
    return payments_mock
"""

SUITE = PREAMBLE + """

def test_reference_client_survives_every_trouble(shop):
    shop.revoke_tokens()
    shop.fail_next("createPayment", api="pay-by-bank", status=503)
    shop.drop_next("initiatePayments")
    shop.delay_next("V2PaymentPost", 1.5)
    shop.fail_next("V2CapturePost", status=503)
    shop.fail_next("getPayment", api="pay-by-bank", status=429, processed=False, retry_after=1)
    assert reference.main([]) == 0
    assert all(trouble["met"] for trouble in shop.troubles())
    assert {e.operation for e in shop.exchanges} >= {"createPayment", "V2PaymentPost", "V2CapturePost",
                                                     "initiatePayments", "getPaymentStatus", "getPaymentDetails"}


@pytest.mark.payments_mock(profile="quick", seed=5)
def test_reference_client_survives_a_profile(shop):
    assert reference.main(["--api", "pay-by-bank", "--api", "online-payments"]) == 0
    assert sum(1 for trouble in shop.troubles() if trouble["met"]) >= 4


@pytest.mark.parametrize("name", sorted(FAULTY_CLIENTS))
def test_faulty(shop, name):
    faulty = FAULTY_CLIENTS[name]
    if faulty.ask:
        method, arguments = faulty.ask
        getattr(shop, method)(**arguments)
    run_faulty(name)
"""

SESSION_SUITE = PREAMBLE + """
import httpx
from faulty_clients import NewKeyOnRetry, two_bank_payments


@pytest.fixture(scope="session")
def tokens(payments_mock):
    # One HTTP client and token cache for the session, as an application keeps one.
    with httpx.Client(timeout=1.0) as http:
        yield http, reference.TokenCache(http, payments_mock.token_url, payments_mock.client_id,
                                         payments_mock.client_secret)


def bank(payments_mock, tokens, kind=reference.PaymentsClient):
    http, cache = tokens
    return kind(http, cache, payments_mock.base_url("pay-by-bank"))


def test_first_conforms(payments_mock, tokens):
    reference.pay_by_bank(bank(payments_mock, tokens))


def test_second_retries_with_a_new_key(payments_mock, tokens):
    payments_mock.fail_next("createPayment", api="pay-by-bank", status=503)
    two_bank_payments(bank(payments_mock, tokens, NewKeyOnRetry))


def test_third_conforms_again(payments_mock, tokens):
    payments_mock.fail_next("createPayment", api="pay-by-bank", status=503)
    reference.pay_by_bank(bank(payments_mock, tokens))
    assert len({e.url.split("/")[2] for e in payments_mock.exchanges}) == 1  # one proxy for the session
"""


class Suite:
    """An integrator's suite run in its own pytest process (started at once; read with `results`)."""

    def __init__(self, directory: Path, source: str, *options: str) -> None:
        (directory / "test_shop.py").write_text(textwrap.dedent(source))
        self.junit = directory / "junit.xml"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={self.junit}",
             "-o", "junit_family=xunit1", "--rootdir", str(directory), *options, str(directory / "test_shop.py")],
            cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def results(self) -> dict[str, str | None]:
        """Test name -> its failure message (None when it passed)."""
        output, _ = self.process.communicate(timeout=300)
        assert self.junit.exists(), output
        results = {}
        for case in ElementTree.parse(self.junit).getroot().iter("testcase"):
            failure, error = case.find("failure"), case.find("error")
            assert error is None, f"{case.get('name')}: {error.get('message')}\n{error.text}"
            results[case.get("name")] = None if failure is None else (failure.get("message") or "") + (
                failure.text or "")
        return results


def readme_example() -> str:
    """The fixture's example in README.md, as an integrator would paste it."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    return next(block for block in blocks if "payments_mock" in block)


@pytest.fixture(scope="module")
def suites(tmp_path_factory):
    """The suites, run side by side (they mostly wait on held answers and Retry-After)."""
    started = {"function": Suite(tmp_path_factory.mktemp("function"), SUITE),
               "session": Suite(tmp_path_factory.mktemp("session"), SESSION_SUITE, "-o", "payments_mock_scope=session"),
               "readme": Suite(tmp_path_factory.mktemp("readme"), readme_example()),
               "readme-new-key": Suite(tmp_path_factory.mktemp("readme-new-key"), readme_example().replace(
                   "assert http.post(url, json=ORDER, headers=headers).status_code == 201",
                   'assert http.post(url, json=ORDER, headers={**headers, "Idempotency-Key": "another"})'
                   ".status_code == 201"))}
    yield started
    for suite in started.values():
        if suite.process.poll() is None:
            suite.process.kill()
            suite.process.communicate()


def test_the_fixture_passes_the_reference_and_fails_each_faulty_client(suites):
    results = suites["function"].results()
    assert results.pop("test_reference_client_survives_every_trouble") is None
    assert results.pop("test_reference_client_survives_a_profile") is None
    for name, faulty in FAULTY_CLIENTS.items():
        message = results.pop(f"test_faulty[{name}]")
        api = "oauth" if name == "token-per-call" else faulty.api
        rule_id = f"{load_spec(api).prefix}-{faulty.suffix}"
        assert message is not None, f"{name} passed"
        assert f"{rule_id}: " in message, message
        broken = {line.split(":")[0] for line in message.splitlines() if line[:1].isupper() and "-CLIENT-" in line}
        assert broken == {rule_id}, message
        if faulty.suffix != "CLIENT-EXERCISED":
            assert "  exchange: #" in message, message
    assert results == {}


def test_with_session_scope_each_test_is_judged_on_its_own_exchanges(suites):
    results = suites["session"].results()
    assert results["test_first_conforms"] is None
    message = results["test_second_retries_with_a_new_key"] or ""
    assert "PBB-CLIENT-IDEMPOTENT-RETRY: " in message and "CLIENT-TOKEN-REUSE" not in message, message
    assert results["test_third_conforms_again"] is None


def test_the_readme_example_runs_and_catches_a_new_key_on_retry(suites):
    assert suites["readme"].results() == {"test_a_lost_answer_is_retried_with_the_same_key": None}
    (message,) = suites["readme-new-key"].results().values()
    assert "PBB-CLIENT-IDEMPOTENT-RETRY: A write was retried with a new idempotency key" in (message or "")
