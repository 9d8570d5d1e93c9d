"""Bad input ends in one line on stderr and a documented exit code: 2 usage, 3 unreachable/TLS/timeout."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from callbacks_support import one_line_error


@contextmanager
def hanging_server() -> Iterator[int]:
    """Accepts connections (the kernel does, from the backlog) and never answers."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def test_unreachable_receiver(run_callbacks):
    run = run_callbacks("--api", "global-payments", "--target", f"http://127.0.0.1:{_closed_port()}/callbacks")
    one_line_error(run, 3, "cannot reach receiver")


def test_unknown_host(run_callbacks):
    """DNS failure (or, on a resolver that stalls, a timeout): either way, one line and exit 3."""
    run = run_callbacks("--api", "global-payments", "--target", "http://receiver.invalid/callbacks", "--deadline", "2")
    one_line_error(run, 3, "receiver.invalid")


def test_hanging_receiver(run_callbacks):
    with hanging_server() as port:
        run = run_callbacks("--api", "pay-by-bank", "--target", f"http://127.0.0.1:{port}/cb", "--deadline", "0.5")
    one_line_error(run, 3, "did not answer within 0.5 s")


def test_receiver_that_does_not_speak_http(run_callbacks):
    import threading

    sock = socket.create_server(("127.0.0.1", 0))

    def garbage() -> None:
        try:
            connection, _ = sock.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        except OSError:
            pass

    thread = threading.Thread(target=garbage, daemon=True)
    thread.start()
    try:
        run = run_callbacks("--api", "global-payments", "--target", f"http://127.0.0.1:{sock.getsockname()[1]}/")
    finally:
        sock.close()
        thread.join(timeout=5)
    one_line_error(run, 3, "not answering HTTP")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--api", "no-such-api", "--target", "http://127.0.0.1:9/"), ("unknown API 'no-such-api'",)),
        (("--api", "online-payments", "--target", "http://127.0.0.1:9/"), ("online-payments sends no callbacks",)),
        (("--api", "/nonexistent/spec.yaml", "--target", "http://127.0.0.1:9/"), ("file not found",)),
        (("--api", "global-payments", "--target", "ftp://127.0.0.1/"), ("must be an http:// or https:// URL",)),
        (("--api", "global-payments", "--target", "not a url"), ("--target",)),
        (("--api", "global-payments"), ("--target is required",)),  # it may come from the config file instead
        (
            ("--api", "global-payments", "--target", "http://127.0.0.1:9/", "--client-cert", "c.pem"),
            ("needs an https:// --target",),
        ),
    ],
)
def test_usage_errors(args, fragments, run_callbacks):
    run = run_callbacks(*args)
    one_line_error(run, 2, *fragments)


@pytest.mark.parametrize("deadline", ["0", "-1", "nan", "inf", "soon"])
def test_argparse_errors_exit_2(run_callbacks, capsys, deadline):
    with pytest.raises(SystemExit) as exited:
        run_callbacks("--api", "global-payments", "--target", "http://127.0.0.1:9/", "--deadline", deadline)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "argument --deadline" in err, err
