"""The sending side: posts callbacks to the integrator's receiver as the provider would.

One httpx client per run, the deadline as its timeout, TLS from the command line (a CA bundle for the
receiver's certificate, the system store otherwise; a client certificate for mutual TLS). Every
delivery comes back as a Delivery, answered or not, so checks judge outcomes and never catch
exceptions. Only the first contact (the probe) turns a transport failure into an error for the user.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from .. import __version__, _signals
from .._deadline import deadline_client
from .._errors import TargetUnreachable, UsageError

Outcome = Literal["answered", "timeout", "refused", "tls", "dropped"]

USER_AGENT = f"payments-conformance/{__version__} (callbacks)"
EVIDENCE_LIMIT = 4096
"""Characters of a receiver's answer kept as evidence."""


@dataclass(frozen=True)
class TLSOptions:
    """TLS settings for an https receiver: whom to trust, and the certificate to present."""

    client_cert: Path | None = None
    client_key: Path | None = None
    ca: Path | None = None

    @property
    def mutual(self) -> bool:
        return self.client_cert is not None

    def context(self, *, with_certificate: bool = True) -> ssl.SSLContext:
        """An SSL context trusting --ca (or the system store) and presenting the client certificate."""
        for option, path in (("--ca", self.ca), ("--client-cert", self.client_cert), ("--client-key", self.client_key)):
            if path is not None and not Path(path).is_file():
                raise UsageError(f"{option} {path}: file not found")
        try:
            context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        except ssl.SSLError as exc:
            raise UsageError(f"--ca {self.ca}: not a PEM CA bundle ({_ssl_reason(exc)})") from None
        if with_certificate and self.client_cert is not None:
            try:
                context.load_cert_chain(str(self.client_cert), str(self.client_key) if self.client_key else None)
            except ssl.SSLError as exc:
                raise UsageError(
                    f"--client-cert {self.client_cert}: not a PEM certificate with its key ({_ssl_reason(exc)})"
                ) from None
        return context


@dataclass
class Delivery:
    """One POST to the receiver and what came back: the evidence a check judges and a report shows."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0
    outcome: Outcome = "answered"
    error: str = ""
    """For an unanswered delivery, what happened, in one line."""

    @property
    def acknowledged(self) -> bool:
        return self.outcome == "answered" and self.status is not None and 200 <= self.status < 300

    @property
    def observed(self) -> str:
        """What the receiver did, in words: "HTTP 500", "no answer within 5 s", "connection dropped: ..."."""
        if self.outcome == "answered":
            return f"HTTP {self.status}"
        return self.error


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    reason = getattr(exc, "reason", None) or str(exc)
    return " ".join(str(reason).split("(_ssl.c")[0].split()).lower().replace("_", " ")


def _ssl_error_in(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class Sender:
    """Posts callback bodies to a receiver and records each delivery, answered or not."""

    def __init__(self, deadline: float, tls: TLSOptions | None = None):
        self.deadline = deadline
        self.tls = tls or TLSOptions()
        self._clients: dict[bool, httpx.Client] = {}

    def _client(self, with_certificate: bool) -> httpx.Client:
        if with_certificate not in self._clients:
            self._clients[with_certificate] = deadline_client(
                self.deadline,
                verify=self.tls.context(with_certificate=with_certificate),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
        return self._clients[with_certificate]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def deliver(
        self, url: str, content: bytes, content_type: str | None, *, with_certificate: bool = True, method: str = "POST"
    ) -> Delivery:
        """Send one request and return what happened; never raises for the receiver's behaviour."""
        _signals.check()  # a Ctrl-C lost in a finalizer stops the run here
        headers = {"User-Agent": USER_AGENT}
        if content_type is not None:
            headers["Content-Type"] = content_type
        delivery = Delivery(method, url, headers, content.decode("utf-8", errors="replace"))
        started = time.perf_counter()
        try:
            response = self._client(with_certificate).request(method, url, content=content or None, headers=headers)
        except httpx.TimeoutException:
            delivery.outcome = "timeout"
            delivery.error = f"no answer within the {self.deadline:g} s deadline"
        except httpx.TransportError as exc:
            tls_error = _ssl_error_in(exc)
            if tls_error is not None:
                delivery.outcome, delivery.error = "tls", f"TLS failure: {_ssl_reason(tls_error)}"
            elif isinstance(exc, httpx.ConnectError):
                delivery.outcome, delivery.error = "refused", f"connection failed: {_one_line(exc)}"
            else:
                delivery.outcome, delivery.error = "dropped", f"connection dropped without an answer: {_one_line(exc)}"
        else:
            delivery.status = response.status_code
            delivery.response_headers = dict(response.headers)
            delivery.response_body = response.text[:EVIDENCE_LIMIT]
        delivery.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        if delivery.outcome == "answered" and delivery.elapsed_ms > self.deadline * 1000:
            delivery.outcome = "timeout"
            seconds, limit = delivery.elapsed_ms / 1000, self.deadline
            delivery.error = f"answered HTTP {delivery.status} after {seconds:.2f} s, past the {limit:g} s deadline"
        return delivery

    def probe(self, url: str) -> Delivery:
        """First contact: any HTTP answer proves the receiver is there; anything else ends the run (exit 3).

        A GET, not a callback, so that a receiver slow to process callbacks is judged on them (a
        deadline failure) rather than taken for absent.
        """
        delivery = self.deliver(url, b"", None, method="GET")
        if delivery.outcome == "answered" or (delivery.outcome == "timeout" and delivery.status is not None):
            return delivery
        if delivery.outcome == "timeout":
            raise TargetUnreachable(f"receiver {url} did not answer within {self.deadline:g} s")
        if delivery.outcome == "tls":
            raise TargetUnreachable(
                f"TLS handshake with receiver {url} failed: {delivery.error.removeprefix('TLS failure: ')}"
            )
        if delivery.outcome == "refused":
            raise TargetUnreachable(
                f"cannot reach receiver {url}: {delivery.error.removeprefix('connection failed: ')}"
            )
        if url.startswith("https://"):
            hint = (
                "is the client certificate signed by a CA it trusts?"
                if self.tls.mutual
                else "if it requires mutual TLS, give --client-cert (and --client-key)"
            )
            raise TargetUnreachable(f"receiver {url} closed the TLS connection without answering: {hint}")
        raise TargetUnreachable(f"receiver {url} is not answering HTTP: {delivery.error}")
