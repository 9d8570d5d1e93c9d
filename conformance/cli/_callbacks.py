"""`conformance callbacks`: certify an integrator's callback receiver by playing the provider."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

HELP = (
    "Play the provider against your callback receiver: send every callback, duplicates, out-of-order "
    "statuses, unknown fields and malformed input, and judge its answers."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        required=True,
        metavar="NAME",
        help="the API whose callbacks to send (a bundled spec name or a spec path)",
    )
    parser.add_argument(
        "--target",
        required=True,
        metavar="URL",
        help="your receiver's URL; {webhook} in it is replaced by each callback's name (e.g. https://host/cb/{webhook})",
    )
    parser.add_argument(
        "--client-cert", type=Path, metavar="PEM", help="client certificate for mutual TLS (may hold the key too)"
    )
    parser.add_argument("--client-key", type=Path, metavar="PEM", help="its private key, when not in --client-cert")
    parser.add_argument(
        "--ca",
        type=Path,
        metavar="PEM",
        help="CA bundle to verify the receiver's certificate (default: the system store)",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="time a receiver has to acknowledge a callback (default 5)",
    )
    parser.add_argument(
        "--profile",
        default="standard",
        choices=("quick", "standard", "thorough"),
        help="how many examples to send (default standard)",
    )
    parser.add_argument("--seed", type=int, help="seed for the examples, to reproduce a run (default: random, printed)")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where the evidence goes (default reports/)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the final summary")
    parser.add_argument(
        "--only",
        metavar="WEBHOOK:STATUS",
        help="send just this one callback (a valid body for that status) and show the answer; no report is written",
    )
    parser.add_argument(
        "--body",
        type=Path,
        metavar="FILE",
        help="with --only: send FILE as the body, byte for byte (a mismatch with the schema is reported, not fixed)",
    )


def _target(url: str) -> str:
    import httpx

    from .._errors import UsageError

    try:
        parsed = httpx.URL(url.replace("{webhook}", "webhook").replace("{api}", "api"))
    except Exception:
        raise UsageError(f"--target {url!r} is not a URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"--target {url!r} must be an http:// or https:// URL with a host")
    return url


def _spec(name: str):
    from .._errors import UsageError
    from .._specs import SPEC_NAMES, load_spec

    if "/" not in name and not name.endswith((".yaml", ".yml")) and name not in SPEC_NAMES:
        raise UsageError(f"unknown API {name!r} (bundled: {', '.join(SPEC_NAMES)}; or give a spec path)")
    return load_spec(name)


def run(args: argparse.Namespace) -> int:
    from .._errors import UsageError
    from ..callbacks import Sender, TLSOptions, check_receiver, profile, webhooks
    from ..progress import Progress
    from ..reporting import Recorder

    target = _target(args.target)
    if args.deadline <= 0:
        raise UsageError("--deadline must be a positive number of seconds")
    if args.client_key and not args.client_cert:
        raise UsageError("--client-key needs --client-cert")
    if args.client_cert and not target.startswith("https://"):
        raise UsageError("--client-cert (mutual TLS) needs an https:// --target")
    spec = _spec(args.api)
    if not webhooks(spec):
        raise UsageError(f"{spec.name} sends no callbacks (no webhooks in {spec.path})")
    chosen = profile(args.profile)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    tls = TLSOptions(client_cert=args.client_cert, client_key=args.client_key, ca=args.ca)
    tls.context()  # a bad certificate or CA file is a usage error before anything is sent
    if args.body and not args.only:
        raise UsageError("--body goes with --only WEBHOOK:STATUS")
    if args.only:
        return _send_only(args, spec, target, tls, seed)

    with Sender(args.deadline, tls) as sender:
        recorder = Recorder(
            args.report_dir,
            command="callbacks",
            target={"url": target, "deadline_s": args.deadline, "mutual_tls": tls.mutual},
            specs=[spec],
            profile=chosen.name,
            seed=seed,
        )
        with recorder, Progress(quiet=args.quiet, redactor=recorder.redactor) as progress:
            check_receiver(spec, target, sender=sender, recorder=recorder, profile=chosen, seed=seed, progress=progress)
            verdict = recorder.finish()
            progress.summary(recorder.document(), report_dir=str(args.report_dir))
    return verdict.exit_code


def _send_only(args: argparse.Namespace, spec, target: str, tls, seed: int) -> int:
    """`--only`: one callback, its answer on the console; 0 acknowledged, 1 not, 3 unreachable."""
    import sys

    from ..callbacks import Sender
    from ..callbacks._only import chosen_body, parse_choice
    from ..redaction import Redactor

    webhook, status = parse_choice(args.only, spec, with_body=args.body is not None)
    content, notes = chosen_body(spec, webhook, status, args.body, seed)
    redactor = Redactor()
    for note in notes:
        sys.stderr.write(f"note: {redactor.text(note)}\n")
    url = target.replace("{webhook}", webhook.name).replace("{api}", webhook.api)
    with Sender(args.deadline, tls) as sender:
        delivery = sender.deliver(url, content, webhook.media_type)
    what = f"{webhook.name}" + (f" {status}" if status else "") + (f" from {args.body}" if args.body else "")
    print(redactor.text(f"sent {what} to {url}: {delivery.observed} in {delivery.elapsed_ms:g} ms"))
    print(redactor.text(delivery.request_body))
    if delivery.outcome in ("refused", "tls"):
        return 3
    return 0 if delivery.acknowledged else 1
