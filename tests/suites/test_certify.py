"""`conformance certify` end to end, in-process: the embedded mock conforms, every fault is caught,
bad input ends in one line with its exit code.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.cli import main
from conformance.mock import FAULTS


def certify(tmp_path, *args):
    return main(["certify", "--report-dir", str(tmp_path / "reports"), "--quiet", *args])


def report(tmp_path):
    return json.loads((tmp_path / "reports" / "certification.json").read_text())


def test_embedded_mock_conforms_with_every_status_covered(tmp_path, capsys):
    code = main(["certify", "--report-dir", str(tmp_path / "reports"), "--seed", "7"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    # Progress (plain lines off a terminal): each suite says it is done as it ends, not all at the close.
    lines = (out + err).splitlines()
    started = [i for i, line in enumerate(lines) if line.endswith(")") and ": started (" in line]
    done = [i for i, line in enumerate(lines) if ": done, " in line]
    assert started and len(done) == len(started)
    assert done[0] < started[-1]
    document = report(tmp_path)
    assert document["verdict"] == "conforms" and document["complete"]
    assert {api["name"] for api in document["apis"]} == {"oauth", "online-payments", "global-payments", "pay-by-bank"}
    for api in document["apis"]:
        assert all(rule["result"] == "passed" for rule in api["rules"]), api["name"]
        for field in api["coverage"]:
            assert field["seen"] == field["documented"], (api["name"], field)
    assert "CONFORMS" in out
    assert (tmp_path / "reports" / "callbacks.ndjson").stat().st_size > 0


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_every_fault_of_the_mock_is_caught(tmp_path, capsys, fault):
    """Enumerates the mock's catalogue: a new fault no rule detects fails the build."""
    code = certify(tmp_path, "--profile", "quick", "--seed", "11", "--fault", fault.name, "--api", fault.api)
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert fault.rule in out, out


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(handler, ssl_context=None):
    server = _Server(("127.0.0.1", 0), handler)
    if ssl_context is not None:
        server.socket = ssl_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Html(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def one_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("CONFORMANCE_CLIENT_ID", "client")
    monkeypatch.setenv("CONFORMANCE_CLIENT_SECRET", "secret-value")


def test_unreachable_origin(tmp_path, capsys, credentials):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert certify(tmp_path, "--origin", f"http://127.0.0.1:{port}") == 3
    assert "connection refused" in one_line(capsys.readouterr().err)


def test_tls_failure(tmp_path, capsys, credentials):
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    context = __import__("ssl").SSLContext(__import__("ssl").PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = serve(_Html, context)
    try:
        assert certify(tmp_path, "--origin", f"https://127.0.0.1:{server.server_port}") == 3
        assert "TLS" in one_line(capsys.readouterr().err)
    finally:
        server.shutdown()


def test_server_that_hangs(tmp_path, capsys, credentials):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        assert certify(tmp_path, "--origin", f"http://127.0.0.1:{port}", "--request-timeout", "0.5") == 3
    assert "did not answer within 0.5 s" in one_line(capsys.readouterr().err)


def test_non_json_body(tmp_path, capsys, credentials):
    server = serve(_Html)
    try:
        assert certify(tmp_path, "--origin", f"http://127.0.0.1:{server.server_port}") == 1
        assert "not JSON" in one_line(capsys.readouterr().err)
    finally:
        server.shutdown()


def test_malformed_spec_path(tmp_path, capsys):
    assert certify(tmp_path, "--spec", str(tmp_path / "missing" / "online-payments.yaml")) == 2
    assert "file not found" in one_line(capsys.readouterr().err)
    broken = tmp_path / "online-payments.yaml"
    broken.write_text("openapi: 3.1.0\npaths: [unclosed\n")
    assert certify(tmp_path, "--spec", str(broken)) == 2
    assert "YAML" in one_line(capsys.readouterr().err)


def test_usage_errors(tmp_path, capsys, credentials):
    assert certify(tmp_path, "--api", "no-such-api") == 2
    assert "unknown API" in one_line(capsys.readouterr().err)
    assert certify(tmp_path, "--base-url", "online-payments") == 2
    assert "API=URL" in one_line(capsys.readouterr().err)
    assert certify(tmp_path, "--origin", "http://127.0.0.1:9", "--fault", "op-server-error") == 2
    one_line(capsys.readouterr().err)
    assert certify(tmp_path, "--origin", "api-mock.example.com") == 2
    assert "--origin takes an http or https URL" in one_line(capsys.readouterr().err)
    assert certify(tmp_path, "--token-url", "ftp://id.example.com/token") == 2
    assert "--token-url takes an http or https URL" in one_line(capsys.readouterr().err)


def test_credentials_come_from_the_environment_only(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CONFORMANCE_CLIENT_ID", raising=False)
    monkeypatch.delenv("CONFORMANCE_CLIENT_SECRET", raising=False)
    assert certify(tmp_path, "--origin", "http://127.0.0.1:9") == 2
    assert "CONFORMANCE_CLIENT_ID" in one_line(capsys.readouterr().err)
