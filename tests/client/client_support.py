"""Helpers for the client-certification tests: `conformance client` run in-process around a real command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from run_support import Run

from conformance.cli import main

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = [sys.executable, str(ROOT / "examples" / "client.py")]
FAULTY = [sys.executable, str(Path(__file__).with_name("faulty_clients.py"))]


def client_runner(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `conformance client OPTIONS -- COMMAND` in-process (the command is a real process)."""
    counter = iter(range(1000))

    def run(*options: str, command: list[str] | None = None, seed: int = 20240501) -> Run:
        report_dir = tmp_path / f"report-{next(counter)}"
        argv = ["client", "--seed", str(seed), "--report-dir", str(report_dir), "--quiet", *options]
        if command is not None:
            argv += ["--", *command]
        code = main(argv)
        captured = capfd.readouterr()
        return Run(code, captured.out, captured.err, report_dir)

    return run


class Background:
    """`conformance client` runs in processes of their own, started together (they mostly wait: Retry-After,
    held answers, polling), each read when a test asks for it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: dict[str, tuple[subprocess.Popen, Path]] = {}

    def start(self, name: str, *options: str, command: list[str], seed: int) -> None:
        report_dir = self.directory / name
        argv = [sys.executable, "-m", "conformance", "client", "--seed", str(seed), "--report-dir", str(report_dir),
                "--quiet", *options, "--", *command]
        self.processes[name] = (subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                                 cwd=ROOT), report_dir)

    def result(self, name: str, timeout: float = 120) -> Run:
        process, report_dir = self.processes[name]
        out, err = process.communicate(timeout=timeout)
        return Run(process.returncode, out, err, report_dir)

    def stop(self) -> None:
        for process, _ in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
