"""Fixtures for the callback-sender tests: the CLI run in-process, and certificates from trustme."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import trustme
from callbacks_support import Certificates, Run

from conformance.cli import main


@pytest.fixture
def run_callbacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run the `conformance callbacks` CLI in-process, with a report dir and a fixed seed."""
    counter = iter(range(1000))

    def run(*args: str, profile: str = "quick", seed: int = 20240501) -> Run:
        report_dir = tmp_path / f"report-{next(counter)}"
        argv = ["callbacks", *args, "--profile", profile, "--seed", str(seed), "--report-dir", str(report_dir)]
        code = main(argv)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err, report_dir)

    return run


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    directory = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(directory / "ca.pem"))
    ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    ca.issue_cert("integration-client.example.test").private_key_and_cert_chain_pem.write_to_path(
        str(directory / "client.pem")
    )
    trustme.CA().cert_pem.write_to_path(str(directory / "other-ca.pem"))
    return Certificates(
        directory / "ca.pem", directory / "server.pem", directory / "client.pem", directory / "other-ca.pem"
    )
