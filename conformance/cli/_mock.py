"""`conformance mock`: run the embedded mock provider in the foreground until SIGINT or SIGTERM.

The client secret comes from --client-secret (which any user of the machine can read in `ps`), else
from $CONFORMANCE_MOCK_CLIENT_SECRET, else it is generated: then it is written to a file only the
user can read, removed when the mock stops, and the banner names the file, never the secret (a
console is often a CI log).
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

HELP = "Run the embedded mock provider (all three APIs and the token endpoint) on a local origin."
SECRET_ENVIRONMENT = "CONFORMANCE_MOCK_CLIENT_SECRET"


def _number(**bounds):
    from .._options import Number, argument_type

    return argument_type(Number(**bounds))


LIMIT_OPTIONS = [
    ("max_body_bytes", "N", "largest request body; above, 413"),
    ("max_header_bytes", "N", "largest request line and headers; above, 431"),
    ("max_json_depth", "N", "deepest JSON nesting accepted; deeper, 400"),
    ("header_timeout", "SECONDS", "time to send a request's headers; then 408"),
    ("body_timeout", "SECONDS", "time to send a request's body; then 408"),
    ("idle_timeout", "SECONDS", "time a connection may wait without a request"),
    ("max_connections", "N", "open connections at most (fewer if the descriptor limit is lower); beyond, the "
                              "longest idle closes"),
]
"""The options of ServerLimits: field, what its value is (N: a whole number of at least 1), what it limits."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..mock import DEFAULT_CLIENT_ID, DeliveryLimits, RetryPolicy, ServerLimits
    from ..mock._app import STORE_LIMIT

    defaults = RetryPolicy()
    limits = ServerLimits()
    delivery = DeliveryLimits()
    from ._specs_argument import add_spec_argument

    add_spec_argument(parser)
    port, seconds, positive = _number(minimum=0, maximum=65535, integer=True), _number(minimum=0, maximum=86_400), \
        _number(above=0, maximum=86_400)
    count = _number(minimum=1, maximum=10**12, integer=True)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--callback-url", metavar="URL",
                        help="where Global Payments and Pay By Bank callbacks go (or POST /_mock/callback-url later)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="break one documented rule (repeatable); `conformance faults` lists them")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, metavar="ID",
                        help=f"client id the token endpoint accepts (default {DEFAULT_CLIENT_ID})")
    parser.add_argument("--client-secret", metavar="SECRET",
                        help=f"client secret the token endpoint and the admin endpoints accept; visible in ps: prefer "
                             f"${SECRET_ENVIRONMENT} (default: generated, written to a file the banner names)")
    parser.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                        help="a scope the client may ask for (repeatable; default jpm:payments:sandbox)")
    parser.add_argument("--token-ttl", type=positive, default=3599, metavar="SECONDS",
                        help="lifetime of issued tokens (default 3599)")
    parser.add_argument("--callback-interval", type=seconds, default=0.02, metavar="SECONDS",
                        help="time between two status changes of a resource (default 0.02)")
    parser.add_argument("--callback-cert", type=Path, metavar="PEM",
                        help="client certificate for mutual TLS on the callback channel (may hold the key too)")
    parser.add_argument("--callback-key", type=Path, metavar="PEM", help="its private key, when not in --callback-cert")
    parser.add_argument("--callback-ca", type=Path, metavar="PEM",
                        help="CA bundle to verify the callback receiver (default: the system store)")
    parser.add_argument("--retry-base", type=seconds, default=defaults.base, metavar="SECONDS",
                        help=f"wait after a failed callback delivery (default {defaults.base})")
    parser.add_argument("--retry-factor", type=_number(minimum=1, maximum=100), default=defaults.factor, metavar="X",
                        help=f"each further wait is this many times longer (default {defaults.factor})")
    parser.add_argument("--retry-cap", type=seconds, default=defaults.cap, metavar="SECONDS",
                        help=f"longest wait between deliveries (default {defaults.cap})")
    parser.add_argument("--retry-attempts", type=_number(minimum=1, maximum=1000, integer=True),
                        default=defaults.attempts, metavar="N",
                        help=f"deliveries of one callback before giving up (default {defaults.attempts})")
    parser.add_argument("--retry-timeout", type=positive, default=defaults.timeout, metavar="SECONDS",
                        help=f"how long one delivery attempt may take in all (default {defaults.timeout})")
    parser.add_argument("--callback-concurrency", type=count, default=delivery.concurrency, metavar="N",
                        help=f"callback deliveries in flight at once (default {delivery.concurrency})")
    parser.add_argument("--callback-queue", type=count, default=delivery.max_pending, metavar="N",
                        help=f"callbacks waiting at most; more are dropped and reported "
                             f"(default {delivery.max_pending})")
    parser.add_argument("--no-admin", action="store_true",
                        help="turn the admin endpoints under /_mock/ off (they answer 404)")
    parser.add_argument("--store-limit", type=count, default=STORE_LIMIT, metavar="N",
                        help=f"resources kept per API; beyond, the oldest finished ones are forgotten "
                             f"(default {STORE_LIMIT})")
    parser.add_argument("--journal-size", type=_number(minimum=0, maximum=10**7, integer=True), default=1000,
                        metavar="N", help="requests kept in the journal, GET /_mock/journal; 0: no journal "
                                          "(default 1000)")
    hardening = parser.add_argument_group("limits", "what one client may cost the mock (see docs/mock.md#limits)")
    for field, metavar, meaning in LIMIT_OPTIONS:
        default = getattr(limits, field)
        hardening.add_argument("--" + field.replace("_", "-"), dest=field, default=default, metavar=metavar,
                               type=positive if metavar == "SECONDS" else count,
                               help=f"{meaning} (default {default:g})")


def _client_secret(given: str | None) -> tuple[str, str, Path | None]:
    """(secret, where it comes from, the file holding a generated one)."""
    if given:
        return given, "from --client-secret (other users can read it in ps)", None
    from_environment = os.environ.get(SECRET_ENVIRONMENT)
    if from_environment:
        return from_environment, f"from ${SECRET_ENVIRONMENT}", None
    secret = secrets.token_urlsafe(24)
    folder = Path(tempfile.mkdtemp(prefix="conformance-mock-"))  # mode 0700
    path = folder / "client-secret"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret, f"generated, in {path} (readable by you only; removed when the mock stops)", path


def run(args: argparse.Namespace) -> int:
    from ..mock import DeliveryLimits, MockServer, RetryPolicy, ServerLimits

    if args.callback_key and not args.callback_cert:
        from .._errors import UsageError

        raise UsageError("--callback-key needs --callback-cert")
    cert = (str(args.callback_cert), str(args.callback_key)) if args.callback_key else args.callback_cert
    retry = RetryPolicy(base=args.retry_base, factor=args.retry_factor, cap=args.retry_cap,
                        attempts=args.retry_attempts, timeout=args.retry_timeout)
    limits = ServerLimits(**{field: getattr(args, field) for field, _, _ in LIMIT_OPTIONS})
    delivery = DeliveryLimits(concurrency=args.callback_concurrency, max_pending=args.callback_queue)
    from ._specs_argument import served_specs

    specs = served_specs([], list(args.spec))
    secret, secret_source, secret_file = _client_secret(args.client_secret)
    try:
        server = MockServer(
            specs=specs, host=args.host, port=args.port, faults=tuple(args.fault), callback_url=args.callback_url,
            client_id=args.client_id, client_secret=secret,
            scopes=tuple(args.scope) or ("jpm:payments:sandbox",), token_ttl=args.token_ttl, retry=retry,
            callback_interval=args.callback_interval, callback_client_cert=cert, callback_ca=args.callback_ca,
            limits=limits, delivery=delivery, admin=not args.no_admin, journal_size=args.journal_size,
            store_limit=args.store_limit,
        )
        return _serve(server, secret_source)
    finally:
        if secret_file is not None:
            shutil.rmtree(secret_file.parent, ignore_errors=True)


def _serve(server, secret_source: str) -> int:
    stop = threading.Event()
    received: list[int] = []

    def on_signal(number: int, _frame: object) -> None:
        received.append(number)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Everything loaded so far (specs, schemas, modules) lives as long as the process: keep it out of
    # the garbage collector's full collections, which would otherwise pause serving for ~70 ms.
    gc.collect()
    gc.freeze()
    try:
        with server:
            _print_banner(server, secret_source)
            while not stop.wait(0.5):
                pass
            name = signal.Signals(received[0]).name if received else "signal"
            print(f"conformance mock: {name} received, stopping", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("conformance mock: stopped", flush=True)
    return 0


def _print_banner(server, secret_source: str) -> None:
    from ..redaction import redact_text

    width = max(len(api) for api in [*server.app.base_paths(), "client secret"]) + 2
    lines = [f"conformance mock: serving {server.origin}"]
    lines.append(f"  {'token':<{width}}{server.token_url}  (client id {server.client_id})")
    lines.append(f"  {'client secret':<{width}}{secret_source}")
    for api, path in server.app.base_paths().items():
        if path:
            lines.append(f"  {api:<{width}}{server.origin}{path}")
    if server.app.admin.enabled:
        lines.append(f"  {'admin':<{width}}{server.origin}/_mock/ (callback-url, callbacks, faults, journal; "
                     "HTTP Basic with the client id and secret)")
    else:
        lines.append(f"  {'admin':<{width}}off (--no-admin)")
    lines.append(f"  {'callbacks':<{width}}{server.callback_url or 'none registered (POST /_mock/callback-url)'}")
    lines.append(f"  {'faults':<{width}}{', '.join(server.faults) or 'none'}")
    lines.append("Press Ctrl+C to stop.")
    sys.stdout.write(redact_text("\n".join(lines)) + "\n")  # a --callback-url may carry a password
    sys.stdout.flush()
