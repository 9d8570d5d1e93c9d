"""`conformance client`: certify the integration's own client by its traffic, under injected trouble.

Starts the embedded mock (or, with --upstream, a proxy in front of a sandbox) behind a recording proxy,
runs COMMAND with the CONFORMANCE_* variables pointing at it (or, with --listen and no command, waits
for whatever arrives), injects the profile's trouble on a schedule drawn from --seed, and judges every
exchange by the client rules (specs/client.rules.yaml). Exit codes as certify: 0 the client conforms,
1 nonconformance, 2 usage, 3 unreachable upstream, 130 interrupted. docs/client.md has the details.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
from typing import Any

HELP = ("Certify your integration's own client: run COMMAND against the mock (or a sandbox) under injected "
        "trouble, and judge its requests, retries, tokens and keys.")

EXIT_INTERRUPTED = 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .._options import add_arguments as add_options

    add_options(parser, "client")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                        help="the command to run (your test suite, a script, your app in a test mode)")


def run(args: argparse.Namespace) -> int:
    from .._config import settled
    from .._errors import UsageError
    from .._specs import load_client_rules
    from ..auth import credentials_from_environment
    from ..client._schedule import Schedule
    from ..suites._environment import parse_listen
    from ._specs_argument import served_specs

    args = settled(args, "client")
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command and not args.listen:
        raise UsageError("give the command to run after -- (conformance client -- python -m pytest), "
                         "or --listen HOST:PORT to judge whatever arrives")
    if args.no_trouble and args.trouble:
        raise UsageError("--no-trouble and --trouble contradict each other")
    for flag, url in (("--upstream", args.upstream), ("--token-url", args.token_url),
                      ("--callback-url", args.callback_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise UsageError(f"{flag} takes an http or https URL, not {url!r}")
    if args.callback_url and args.upstream:
        raise UsageError("--callback-url registers your receiver with the embedded mock; register it with your "
                         "sandbox instead")
    if command:
        from ..client._command import check_command

        check_command(command)
    listen = ("127.0.0.1", 0)
    if args.listen:
        listen = parse_listen(args.listen)
    specs = served_specs(list(args.api), list(args.spec))
    table = load_client_rules()
    profile = table.profile(args.profile)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    schedule = Schedule.none() if args.no_trouble else Schedule.planned(table, profile.name, seed,
                                                                         kinds=args.trouble or None)
    client_id, client_secret = credentials_from_environment(required=bool(args.upstream))
    if not command and not args.upstream and not (client_id and client_secret):
        from ..mock import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

        client_id, client_secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET  # published: the listener must know them
    return _Run(args, command, specs, table, schedule, seed, listen, client_id, client_secret,
                profile.token_ttl).go()


class _Run:
    """One `conformance client` run: the session, the recorder, the command or the wait, the verdict."""

    def __init__(self, args: argparse.Namespace, command: list[str], specs: list, table: Any, schedule: Any,
                 seed: int, listen: tuple[str, int], client_id: str | None, client_secret: str | None,
                 token_ttl: float) -> None:
        from ..client._session import ClientSession

        self.args = args
        self.command = command
        self.schedule = schedule
        self.seed = seed
        self.session = ClientSession(specs, table, schedule, apis=list(args.api), upstream=args.upstream,
                                     token_url=args.token_url, listen=listen, client_id=client_id,
                                     client_secret=client_secret, token_ttl=token_ttl,
                                     callback_url=args.callback_url, on_trouble=self._met)
        self.progress: Any = None

    def _met(self, trouble: Any, exchange: Any) -> None:
        if self.progress is not None:
            self.progress.log(f"trouble {trouble.id} {trouble.kind}: {exchange.method} {exchange.url}"
                              f" ({exchange.api} {exchange.operation})")

    def go(self) -> int:
        from ..progress import Progress
        from ..reporting import Recorder

        session = self.session
        args = self.args
        with session:
            what = " ".join(self.command) or f"listening on {session.origin}"
            target = {"name": f"client: {what}", "proxy": session.origin,
                      "upstream": session.upstream_url or "the embedded mock", "token_url": session.token_url,
                      "base_urls": session.base_urls, "apis": list(args.api) or "every API the client calls"}
            recorder = Recorder(args.report_dir, command="client", specs=list(session.specs.values()),
                                profile=args.profile, seed=self.seed, secrets=(session.client_secret,), target=target)
            self.progress = progress = Progress(quiet=args.quiet, redactor=recorder.redactor)
            if args.exchange_log or args.har:
                recorder.record_exchanges(log=args.exchange_log, har=args.har)
            self._announce(progress)
            result = None
            interrupted = False
            try:
                if self.command:
                    from ..client._command import run_command

                    result = run_command(self.command, session.environ, deadline=args.duration)
                else:
                    interrupted = self._listen(progress)
            except KeyboardInterrupt:
                interrupted = True
            complete = not (interrupted and self.command)
            document = self._judge(recorder, result, complete)
        progress.summary(document, report_dir=str(args.report_dir))
        if result is not None:
            note = f" ({result.stopped})" if result.stopped else ""
            print(f"command exited with status {result.exit_status}{note} (reported, not judged)")
        failed = sorted({failure["rule_id"] for failure in document["failures"]})
        if failed:
            print(recorder.redactor.text("rules failed: " + " ".join(failed)))
        if not complete:
            return EXIT_INTERRUPTED
        return 0 if document["verdict"] == "conforms" else 1

    def _announce(self, progress: Any) -> None:
        session = self.session
        progress.log(f"recording proxy on {session.origin} in front of "
                     f"{session.upstream_url or 'the embedded mock'}")
        if self.schedule.troubles:
            progress.log(f"injected trouble (profile {self.args.profile}, seed {self.seed}):")
            for trouble in self.schedule:
                progress.log(f"  {trouble.id} {trouble.kind} on {trouble.slot}")
        else:
            progress.log("no trouble injected")
        if not self.command:
            lines = [f"  export {name}={value}" for name, value in session.environ.items()
                     if name != "CONFORMANCE_CLIENT_SECRET"]
            from ..mock import DEFAULT_CLIENT_SECRET

            origin = "the mock's default, docs/mock.md" if session.client_secret == DEFAULT_CLIENT_SECRET \
                else "your environment"
            lines.append(f"  export CONFORMANCE_CLIENT_SECRET=...  ({origin})")
            sys.stdout.write("point your integration at the proxy:\n" + "\n".join(lines) + "\n")
            until = f"for {self.args.duration:g} s" if self.args.duration else "until Ctrl-C"
            sys.stdout.write(f"judging whatever arrives {until}\n")
            sys.stdout.flush()

    def _listen(self, progress: Any) -> bool:
        """Wait for Ctrl-C, SIGTERM or --duration; the normal end of a listening run (not an interruption)."""
        stop = threading.Event()
        previous = signal.getsignal(signal.SIGTERM)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait(self.args.duration)
        except KeyboardInterrupt:
            pass
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, previous)
        return False

    def _judge(self, recorder: Any, result: Any, complete: bool) -> dict[str, Any]:
        from ..client._evidence import record, schedule_rows

        session = self.session
        judgements, context, traffic = session.judge()
        rows = schedule_rows(self.schedule, session.injector, session.proxy.notes if session.proxy else {})
        section = {"mode": "command" if self.command else "listen", "command": self.command or None,
                   "exit_status": result.exit_status if result is not None else None,
                   "stopped": result.stopped if result is not None else None,
                   "upstream": session.upstream_url or "the embedded mock", "proxy": session.origin}
        record(recorder, judgements, context, traffic, rows, section, secrets=session.secrets(traffic))
        recorder.finish(complete=complete, reason=None if complete else "interrupted (Ctrl-C)")
        met = sum(1 for row in rows if row["met"])
        if rows:
            self.progress.log(f"troubles met: {met} of {len(rows)}" + "".join(
                f"; {row['id']} {row['kind']} not met" for row in rows if not row["met"]))
        return recorder.document()
