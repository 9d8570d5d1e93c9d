"""`conformance mock`: run the embedded mock provider in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
from pathlib import Path

HELP = "Run the embedded mock provider (all three APIs and the token endpoint) on a local origin."


def _number(**bounds):
    from .._options import Number, argument_type

    return argument_type(Number(**bounds))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..mock import DEFAULT_CLIENT_ID, RetryPolicy

    defaults = RetryPolicy()
    from ._specs_argument import add_spec_argument

    add_spec_argument(parser)
    port, seconds, positive = _number(minimum=0, maximum=65535, integer=True), _number(minimum=0, maximum=86_400), \
        _number(above=0, maximum=86_400)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--callback-url", metavar="URL",
                        help="where Global Payments and Pay By Bank callbacks go (or POST /_mock/callback-url later)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME",
                        help="break one documented rule (repeatable); `conformance faults` lists them")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, metavar="ID",
                        help=f"client id the token endpoint accepts (default {DEFAULT_CLIENT_ID})")
    parser.add_argument("--client-secret", metavar="SECRET",
                        help="client secret the token endpoint accepts (default: see docs/mock.md)")
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
    parser.add_argument("--retry-timeout", type=seconds, default=defaults.timeout, metavar="SECONDS",
                        help=f"how long to wait for a receiver's answer (default {defaults.timeout})")


def run(args: argparse.Namespace) -> int:
    from ..mock import DEFAULT_CLIENT_SECRET, MockServer, RetryPolicy

    if args.callback_key and not args.callback_cert:
        from .._errors import UsageError

        raise UsageError("--callback-key needs --callback-cert")
    cert = (str(args.callback_cert), str(args.callback_key)) if args.callback_key else args.callback_cert
    retry = RetryPolicy(base=args.retry_base, factor=args.retry_factor, cap=args.retry_cap,
                        attempts=args.retry_attempts, timeout=args.retry_timeout)
    from ._specs_argument import served_specs

    server = MockServer(
        specs=served_specs([], list(args.spec)),
        host=args.host, port=args.port, faults=tuple(args.fault), callback_url=args.callback_url,
        client_id=args.client_id, client_secret=args.client_secret or DEFAULT_CLIENT_SECRET,
        scopes=tuple(args.scope) or ("jpm:payments:sandbox",), token_ttl=args.token_ttl, retry=retry,
        callback_interval=args.callback_interval, callback_client_cert=cert, callback_ca=args.callback_ca,
    )
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
            _print_banner(server)
            while not stop.wait(0.5):
                pass
            name = signal.Signals(received[0]).name if received else "signal"
            print(f"conformance mock: {name} received, stopping", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("conformance mock: stopped", flush=True)
    return 0


def _print_banner(server) -> None:
    from ..redaction import redact_text

    width = max(len(api) for api in server.app.base_paths()) + 2
    lines = [f"conformance mock: serving {server.origin}"]
    lines.append(f"  {'token':<{width}}{server.token_url}  (client id {server.client_id})")
    for api, path in server.app.base_paths().items():
        if path:
            lines.append(f"  {api:<{width}}{server.origin}{path}")
    lines.append(f"  {'admin':<{width}}{server.origin}/_mock/ (callback-url, callbacks, faults)")
    lines.append(f"  {'callbacks':<{width}}{server.callback_url or 'none registered (POST /_mock/callback-url)'}")
    lines.append(f"  {'faults':<{width}}{', '.join(server.faults) or 'none'}")
    lines.append("Press Ctrl+C to stop.")
    sys.stdout.write(redact_text("\n".join(lines)) + "\n")  # a --callback-url may carry a password
    sys.stdout.flush()
