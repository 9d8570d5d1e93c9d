"""Probe class 10, the mock's client secret: not on the command line unless the user puts it there; from
$CONFORMANCE_MOCK_CLIENT_SECRET, or generated into a file only the user can read, which the banner
names; the secret itself never reaches the console."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
from hostile_support import PATIENCE


def start(environment: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "conformance", "mock", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=environment)
    banner = []
    for line in process.stdout:  # the banner, or the end of a mock that could not start
        banner.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    return process, "".join(banner)


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return out + err


def token_status(banner: str, secret: str) -> int:
    origin = re.search(r"serving (http://\S+)", banner).group(1)
    answer = httpx.post(origin + "/am/oauth2/alpha/access_token", auth=("conformance-mock", secret),
                        data={"grant_type": "client_credentials"}, timeout=PATIENCE)
    return answer.status_code


def without_secret() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "CONFORMANCE_MOCK_CLIENT_SECRET"}


def test_the_secret_comes_from_the_environment():
    secret = "from-the-environment-secret"
    process, banner = start(dict(without_secret(), CONFORMANCE_MOCK_CLIENT_SECRET=secret))
    try:
        assert "from $CONFORMANCE_MOCK_CLIENT_SECRET" in banner
        assert token_status(banner, secret) == 200
    finally:
        rest = stop(process)
    assert secret not in banner + rest


def test_a_generated_secret_is_in_a_file_only_the_user_can_read():
    process, banner = start(without_secret())
    try:
        path = Path(re.search(r"generated, in (\S+)", banner).group(1))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        secret = path.read_text().strip()
        assert len(secret) >= 24 and secret not in banner
        assert token_status(banner, secret) == 200
        assert token_status(banner, "conformance-mock-secret") == 401  # no well-known default any more
    finally:
        rest = stop(process)
    assert secret not in rest
    assert not path.exists()
