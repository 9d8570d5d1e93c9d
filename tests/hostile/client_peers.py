"""Hostile peers for the client-side tests: real servers on 127.0.0.1 that stop by themselves.

- `Trickler`: answers every request one byte every half second (headers too, or only the body),
  except the paths it is told to answer at once (a token endpoint). A client with only a per-read
  timeout never gives up on it.
- `EchoOrigin`: answers every request 200 with everything it received (method, path, headers as a
  map and as raw lines, the body parsed and raw, the credential alone); issues a fresh token at its
  token path and remembers every token it issued and every body it was sent, so a test can look
  for them in what a run leaves behind.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRICKLE_INTERVAL = 0.5
"""Seconds between two bytes of a trickled answer."""
TRICKLE_CAP = 20.0
"""A trickled answer stops after this long even if the client is still reading (the test has failed by then)."""


def _read_request(connection: socket.socket) -> tuple[str, bytes] | None:
    """The request line and body of one HTTP/1.1 request (Content-Length bodies), or None at EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    return lines[0], body


class Trickler:
    """A server that answers one byte every TRICKLE_INTERVAL seconds; `prompt` paths get a JSON answer at once,
    and so do all requests whose method is not in `methods` (when given), with `{}` if no prompt is set."""

    def __init__(self, *, headers_too: bool = True, prompt: dict[str, Any] | None = None,
                 methods: tuple[str, ...] | None = None) -> None:
        self.headers_too = headers_too
        self.prompt = prompt or {}
        self.methods = methods
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.stopped = threading.Event()
        self.trickled = 0
        self.outlasted = 0
        """Trickled answers whose client waited until the end (TRICKLE_CAP): a client without a total deadline."""
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def __enter__(self) -> Trickler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stopped.set()
        self._thread.join(5)
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(TRICKLE_CAP)
            try:
                while not self.stopped.is_set():
                    request = _read_request(connection)
                    if request is None:
                        return
                    method, path = request[0].split(" ")[0], request[0].split(" ")[1].split("?")[0]
                    if path in self.prompt or (self.methods is not None and method not in self.methods):
                        body = json.dumps(self.prompt.get(path, {})).encode()
                        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                        continue
                    self._trickle(connection)
                    return
            except OSError:
                return

    def _trickle(self, connection: socket.socket) -> None:
        body = b'{"status": "' + b"x" * 400 + b'"}'
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        if not self.headers_too:
            connection.sendall(head)
        self.trickled += 1
        started = time.monotonic()
        for byte in (head if self.headers_too else b"") + body:
            if self.stopped.is_set():
                return
            if time.monotonic() - started > TRICKLE_CAP:
                break
            connection.sendall(bytes([byte]))  # OSError once the client has given up: the thread ends
            time.sleep(TRICKLE_INTERVAL)
        self.outlasted += 1


@contextmanager
def trickler(**options: Any) -> Iterator[Trickler]:
    with Trickler(**options) as server:
        yield server


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as clients expect), no access log on the test's console."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass


def _reply(handler: BaseHTTPRequestHandler, status: int, content: bytes, headers: dict[str, str]) -> None:
    """Write one whole answer (status, the headers given, Content-Length, body)."""
    handler.send_response(status)
    for name, value in headers.items():
        if value:
            handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)


class EchoOrigin(ThreadingHTTPServer):
    """Echoes every request back; issues tokens at `token_path`. Remembers what it issued and was sent."""

    daemon_threads = True

    def __init__(self, token_path: str = "/am/oauth2/alpha/access_token") -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.token_path = token_path
        self.tokens: list[str] = []
        self.bodies: list[bytes] = []
        self.authorizations: list[str] = []
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def issue(self) -> str:
        token = "echo-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.append(token)
        return token


class _Echo(_Handler):
    server: EchoOrigin

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        authorization = self.headers.get("Authorization", "")
        with self.server._lock:
            self.server.bodies.append(raw)
            self.server.authorizations.append(authorization)
        if urllib.parse.urlsplit(self.path).path == self.server.token_path and self.command == "POST":
            return self._send(200, {"access_token": self.server.issue(), "token_type": "Bearer", "expires_in": 3600,
                                    "scope": "jpm:payments:sandbox"})
        text = raw.decode("utf-8", "replace")
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        credential = authorization.partition(" ")[2]
        echo = {
            "method": self.command, "path": self.path,
            "headers": dict(self.headers.items()),
            "raw_headers": str(self.headers),
            "credential": credential,
            "credential_decoded": _decoded(credential),
            "body": parsed, "raw_body": text,
            "form": dict(urllib.parse.parse_qsl(text)) if "=" in text and not text.startswith("{") else None,
        }
        self._send(200, echo, extra={"X-Echo-Authorization": authorization, "X-Echo-Credential": credential})

    def _send(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        _reply(self, status, json.dumps(body).encode(), {"Content-Type": "application/json", **(extra or {})})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


def _decoded(credential: str) -> str | None:
    try:
        return base64.b64decode(credential, validate=True).decode("utf-8")
    except ValueError:
        return None


def echo_origin() -> Any:
    """An EchoOrigin serving for the block (`with echo_origin() as echo:`)."""
    return serving(EchoOrigin())


def one_error_line(err: str) -> str:
    """The single line a command printed on stderr (no traceback), for a test to check what it says."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


class DeepOrigin(ThreadingHTTPServer):
    """Answers every request 200 with JSON nested `depth` arrays deep (tokens at the token path)."""

    daemon_threads = True

    def __init__(self, depth: int = 100_000, token_path: str = "/am/oauth2/alpha/access_token") -> None:
        super().__init__(("127.0.0.1", 0), _Deep)
        self.body = b"[" * depth + b"]" * depth
        self.token_path = token_path

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


class _Deep(_Handler):
    server: DeepOrigin

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urllib.parse.urlsplit(self.path).path == self.server.token_path:
            content = json.dumps({"access_token": "deep-" + secrets.token_urlsafe(16), "expires_in": 3600}).encode()
        else:
            content = self.server.body
        _reply(self, 200, content, {"Content-Type": "application/json"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """Run a ThreadingHTTPServer in a thread for the block; stop it after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Command:
    """A `conformance` command in a subprocess whose stderr lines a test can wait for (then signal it)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        import subprocess
        import sys

        self.process = subprocess.Popen([sys.executable, "-m", "conformance", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        self._out: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._out_reader = threading.Thread(target=lambda: self._out.append(self.process.stdout.read()), daemon=True)
        self._out_reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 120) -> str:
        """The first stderr line for which predicate(line) holds (AssertionError if the command ends first)."""
        deadline = time.monotonic() + timeout
        with self._seen:
            checked = 0
            while True:
                for line in self.lines[checked:]:
                    if predicate(line):
                        return line
                checked = len(self.lines)
                if not self._reader.is_alive() or time.monotonic() > deadline:
                    raise AssertionError("the command never printed the line awaited:\n" + "".join(self.lines))
                self._seen.wait(0.2)

    def stop(self, signal_number: int, timeout: float = 120) -> tuple[int, str, str]:
        """Send a signal; the exit code, stdout and stderr once the command has ended."""
        self.process.send_signal(signal_number)
        return self.finish(timeout)

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        try:
            self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self._reader.join(10)
        self._out_reader.join(10)
        return self.process.returncode, "".join(self._out), "".join(self.lines)


_IDENTIFIER = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|\d{6,}")


class RecordingProxy(ThreadingHTTPServer):
    """Forwards every request to `upstream` and records it as (method, path) with identifiers as {id}:
    what a run sent, in order, comparable between two runs. Paths under `hidden` are answered 404
    (`/_mock` hides that a conformance mock is behind: a provider's sandbox has no such endpoints)."""

    daemon_threads = True

    def __init__(self, upstream: str, hidden: tuple[str, ...] = ()) -> None:
        import httpx

        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream
        self.hidden = hidden
        self.requests: list[tuple[str, str]] = []
        self.http = httpx.Client(timeout=30)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    def server_close(self) -> None:
        super().server_close()
        self.http.close()


class _Forward(_Handler):
    server: RecordingProxy

    def _forward(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urllib.parse.urlsplit(self.path).path
        if self.server.hidden and path.startswith(self.server.hidden):
            return _reply(self, 404, b'{"error": "not found"}', {"Content-Type": "application/json"})
        self.server.requests.append((self.command, _IDENTIFIER.sub("{id}", path)))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
        answer = self.server.http.request(self.command, self.server.upstream + self.path, content=raw, headers=headers)
        passed = {name: value for name, value in answer.headers.items()
                  if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")}
        _reply(self, answer.status_code, answer.content, passed)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

