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
    from .._options import add_arguments as add_options

    add_options(parser, "callbacks")


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


def _spec(name: str | None, specs: list[str]):
    """The document whose callbacks are sent: --spec's (named by --api or itself), else the bundled --api."""
    from .._errors import UsageError
    from .._specs import SPEC_NAMES
    from ._specs_argument import one_spec

    if not specs and name and "/" not in name and not name.endswith((".yaml", ".yml")) and name not in SPEC_NAMES:
        raise UsageError(f"unknown API {name!r} (bundled: {', '.join(SPEC_NAMES)}; or give a spec path)")
    return one_spec(name, list(specs))


def run(args: argparse.Namespace) -> int:
    from .. import _signals
    from .._config import settled

    args = settled(args, "callbacks")
    for name in ("client_cert", "client_key", "ca", "report_dir", "body"):
        setattr(args, name, Path(getattr(args, name)) if getattr(args, name) is not None else None)
    try:  # until the Recorder takes over (it marks its own report incomplete), a Ctrl-C is reported here
        from .. import callbacks, progress, reporting  # noqa: F401 - the slow imports, inside the guard
        target, spec, chosen, seed, tls = _prepare(args)
    except KeyboardInterrupt:
        from ..reporting import write_stopped_report

        if not args.only:  # --only writes no report
            write_stopped_report(args.report_dir, command="callbacks", reason=_signals.reason(),
                                 target={"url": args.target}, profile=args.profile, seed=args.seed)
        raise
    if args.only:
        return _send_only(args, spec, target, tls, seed)
    return _send(args, target, spec, chosen, seed, tls)


def _prepare(args: argparse.Namespace) -> tuple:
    """The options checked and loaded: target URL, spec, profile, seed, TLS settings."""
    from .._errors import UsageError
    from ..callbacks import TLSOptions, profile, webhooks

    target = _target(args.target)
    if args.client_key and not args.client_cert:
        raise UsageError("--client-key needs --client-cert")
    if args.client_cert and not target.startswith("https://"):
        raise UsageError("--client-cert (mutual TLS) needs an https:// --target")
    spec = _spec(args.api, args.spec)
    if not webhooks(spec):
        raise UsageError(f"{spec.name} sends no callbacks (no webhooks in {spec.path})")
    chosen = profile(args.profile)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    tls = TLSOptions(client_cert=args.client_cert, client_key=args.client_key, ca=args.ca)
    tls.context()  # a bad certificate or CA file is a usage error before anything is sent
    if args.body and not args.only:
        raise UsageError("--body goes with --only WEBHOOK:STATUS")
    return target, spec, chosen, seed, tls


def _send(args: argparse.Namespace, target: str, spec, chosen, seed: int, tls) -> int:
    from .. import _signals
    from ..callbacks import Sender, check_receiver
    from ..progress import Progress
    from ..redaction import url_secrets
    from ..reporting import Recorder, ReportWriteError

    with Sender(args.deadline, tls) as sender:
        recorder = Recorder(
            args.report_dir,
            command="callbacks",
            target={"url": target, "deadline_s": args.deadline, "mutual_tls": tls.mutual},
            specs=[spec],
            profile=chosen.name,
            seed=seed,
            secrets=url_secrets(target),
        )
        with recorder, Progress(quiet=args.quiet, redactor=recorder.redactor) as progress:
            check_receiver(spec, target, sender=sender, recorder=recorder, profile=chosen, seed=seed, progress=progress)
            try:
                with _signals.deferred():  # the set is written whole, then a late signal is handled
                    verdict = recorder.finish()
            except ReportWriteError:
                progress.summary(recorder.document())  # the verdict reaches the console; then the one-line error
                raise
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
