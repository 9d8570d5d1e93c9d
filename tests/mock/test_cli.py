"""`conformance mock` and `conformance faults` as a user runs them, in a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conformance.mock import FAULTS


def _conformance(capsys, *args: str) -> tuple[int, str, str]:
    """The CLI in this process (its exit code, stdout, stderr): the same code path as the console script."""
    from conformance.cli import main

    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(result: tuple[int, str, str], fragment: str) -> None:
    code, out, err = result
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert fragment in lines[0], lines[0]


SECRET = "cli-tests-secret-value"


def _start(*args: str, secret: str | None = SECRET) -> tuple[subprocess.Popen[str], list[str]]:
    environment = {k: v for k, v in os.environ.items() if k != "CONFORMANCE_MOCK_CLIENT_SECRET"}
    if secret is not None:
        environment["CONFORMANCE_MOCK_CLIENT_SECRET"] = secret
    process = subprocess.Popen([sys.executable, "-m", "conformance", "mock", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    banner: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl+C"):
            return process, banner
    process.kill()
    raise AssertionError(f"the mock did not start: {banner} {process.stderr.read()}")


def test_mock_runs_in_the_foreground_and_stops_cleanly_on_sigint_and_sigterm():
    started = [_start("--fault", "op-server-error", "--fault", "gp-non-iso-date"), _start()]
    try:
        for (process, banner), sig in zip(started, (signal.SIGINT, signal.SIGTERM), strict=True):
            origin = re.search(r"serving (http://127\.0\.0\.1:\d+)", banner[0]).group(1)
            text = "\n".join(banner)
            for path in ("/api/v2", "/tsapi/v1", "/tsapi/pay-by-bank/v2", "/am/oauth2/alpha/access_token"):
                assert origin + path in text
            assert SECRET not in text  # no secrets on the console
            assert "client secret    from $CONFORMANCE_MOCK_CLIENT_SECRET" in text
            token = httpx.post(origin + "/am/oauth2/alpha/access_token",
                               auth=("conformance-mock", SECRET),
                               data={"grant_type": "client_credentials"})
            assert token.status_code == 200
            process.send_signal(sig)
        assert "op-server-error, gp-non-iso-date" in "\n".join(started[0][1])
        for process, _ in started:
            out, err = process.communicate(timeout=30)
            assert process.returncode == 0, err
            assert "stopped" in out
            assert "Traceback" not in err
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.kill()


def test_a_port_in_use_is_one_line_and_exit_code_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = _conformance(capsys, "mock", "--port", str(busy.getsockname()[1]))
    _one_line_error(result, "in use")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--fault", "no-such-fault"), "unknown fault 'no-such-fault'"),
        (("--port", "http"), "--port"),
        (("--callback-url", "ftp://example.com/cb"), "callback URL"),
        (("--retry-attempts", "0"), "attempts"),
        (("--callback-cert", "/nonexistent/client.pem"), "callback client certificate"),
    ],
    ids=["unknown-fault", "bad-port", "bad-callback-url", "bad-retry", "missing-cert"],
)
def test_bad_options_are_one_line_and_exit_code_2(capsys, args, fragment):
    _one_line_error(_conformance(capsys, "mock", *args), fragment)


def test_faults_lists_the_catalogue_one_line_each(capsys):
    code, out, err = _conformance(capsys, "faults")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(FAULTS) >= 20
    for line, fault in zip(lines, FAULTS.values(), strict=True):
        assert line.split()[:2] == [fault.name, fault.rule]
        assert line.endswith(fault.description)
    _, out, _ = _conformance(capsys, "faults", "--json", "--api", "pay-by-bank")
    as_json = [json.loads(line) for line in out.splitlines()]
    assert as_json and {row["api"] for row in as_json} == {"pay-by-bank"}
    _one_line_error(_conformance(capsys, "faults", "--api", "nope"), "no faults for API")
