"""The `conformance` command itself: help, unknown commands, and a reader that goes away."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True,
                          timeout=120, check=False, **kwargs)


def test_help_lists_every_subcommand_and_the_exit_codes():
    result = run("--help")
    assert result.returncode == 0
    for name in ("certify", "callbacks", "mock", "faults", "examples", "report", "specs"):
        assert name in result.stdout
    assert "exit codes" in result.stdout and "141" in result.stdout


def test_unknown_subcommand_is_one_line_and_exit_2():
    result = run("certfy")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_closed_output_pipe_ends_quietly_with_141():
    """`conformance examples ... | head -1`: the reader leaves early; no BrokenPipeError traceback.

    The examples printed are far more than a pipe buffer holds, so the writer does hit the closed pipe.
    """
    producer = subprocess.Popen(
        [sys.executable, "-m", "conformance", "examples", "--api", "pay-by-bank", "--operation", "createPayment",
         "-n", "400", "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert producer.stdout.readline().startswith(b"{")
    producer.stdout.close()  # the reader goes away after one line
    stderr = producer.stderr.read().decode()
    code = producer.wait(timeout=120)
    producer.stderr.close()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert code == 141


def test_the_wheel_carries_the_specs_and_the_reference_receiver(tmp_path):
    """`conformance receiver` and the bundled specs work from an installed wheel, not only from a checkout."""
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    [wheel] = tmp_path.glob("payments_conformance-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "conformance/_bundled_examples/receiver.py" in names
    assert "conformance/cli/_receiver.py" in names and "conformance/_bundled_specs/pay-by-bank.yaml" in names
