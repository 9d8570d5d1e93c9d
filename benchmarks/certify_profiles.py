"""Certification speed: wall time of `conformance certify` per profile against the embedded mock, and the
request rate of our generated suite compared with a bare `st run` of the same specs against the same mock.

    .venv/bin/python benchmarks/certify_profiles.py [--profiles quick standard thorough] [--repeat 1]

Part 1 runs `conformance certify --profile P --quiet` as a user would (a fresh process, the embedded mock,
every suite) and reports its wall time. Part 2 starts one mock in this process with a counting middleware,
then runs (a) `st run` on each spec (fuzzing phase, positive and negative data, all its checks, one worker)
and (b) `pytest --pyargs conformance.suites -m generated` (the same kind of data through Schemathesis, plus
every check of ours), each against that mock, and compares requests per second as the mock saw them
(requests between the first and the last one of each process, so start-up time is left out of both).
Results go to stdout as a Markdown table for docs/benchmarks.md. Run by hand: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLIENT_ID, CLIENT_SECRET = "benchmark-client", "benchmark-secret-value"


def certify_wall_time(profile: str) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as reports:
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "-m", "conformance", "certify", "--profile", profile, "--quiet",
                               "--report-dir", reports, "--seed", "1"], capture_output=True, text=True, cwd=ROOT)
        elapsed = time.perf_counter() - started
    requests = next((int(line.split(":")[1]) for line in done.stdout.splitlines()
                     if line.startswith("requests sent:")), 0)
    verdict = done.stdout.split("\n", 1)[0].split(": ", 1)[-1].split(" (")[0]
    return elapsed, requests, f"exit {done.returncode}, {verdict}"


class Counting:
    """An ASGI middleware counting HTTP requests and when the first and last arrived."""

    def __init__(self, app) -> None:
        self.app = app
        self.reset()

    def reset(self) -> None:
        self.count, self.first, self.last = 0, None, None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not scope["path"].startswith("/_mock"):
            now = time.perf_counter()
            self.count += 1
            self.first = self.first or now
            self.last = now
        await self.app(scope, receive, send)

    def __getattr__(self, name):
        return getattr(self.app, name)

    @property
    def rate(self) -> float:
        return self.count / (self.last - self.first) if self.count > 1 else 0.0


def compare_with_st_run(examples: int) -> list[tuple[str, int, float, float]]:
    import httpx

    from conformance import SPEC_NAMES, load_spec
    from conformance.mock import MockServer
    from conformance.suites._environment import WRONG_SCOPE

    rows = []
    mock = MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scopes=("jpm:payments:sandbox", WRONG_SCOPE))
    counter = Counting(mock.app)
    mock.app = counter
    with mock:
        grant = {"grant_type": "client_credentials", "scope": "jpm:payments:sandbox"}
        token = httpx.post(mock.token_url, auth=(CLIENT_ID, CLIENT_SECRET), data=grant).json()["access_token"]
        started = time.perf_counter()
        count, active = 0, 0.0
        for name in SPEC_NAMES:
            counter.reset()
            spec = load_spec(name)
            header = ["-H", f"Authorization: Bearer {token}"] if name != "oauth" else \
                ["--auth", f"{CLIENT_ID}:{CLIENT_SECRET}"]
            subprocess.run([str(Path(PYTHON).with_name("st")), "run", str(spec.path), "--url", mock.base_url(name),
                            "--phases", "fuzzing", "--mode", "all", "--max-examples", str(examples), "--workers", "1",
                            "--checks", "all", "--seed", "1", "--no-color", *header],
                           capture_output=True, text=True, cwd=tempfile.gettempdir())
            if counter.count > 1:  # each spec is its own st process: count only the time it was sending
                count, active = count + counter.count, active + (counter.last - counter.first)
        rows.append(("st run (fuzzing, positive + negative)", count, time.perf_counter() - started,
                     count / active if active else 0.0))
        counter.reset()
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as reports:
            environment = dict(os.environ, CONFORMANCE_CLIENT_ID=CLIENT_ID, CONFORMANCE_CLIENT_SECRET=CLIENT_SECRET)
            subprocess.run([PYTHON, "-m", "pytest", "--pyargs", "conformance.suites", "-m", "generated",
                            "-p", "no:cacheprovider", "--origin", mock.origin, "--profile", "standard",
                            "--rate-limit", "0", "--report-dir", reports, "--conformance-seed", "1", "-q",
                            "-o", "addopts=", "--assert=plain"],
                           capture_output=True, text=True, cwd=tempfile.gettempdir(), env=environment)
        rows.append(("our generated suite (standard: 20 valid + 10 negative per operation)", counter.count,
                     time.perf_counter() - started, counter.rate))
    return rows


def checks_overhead(per_operation: int) -> tuple[int, float, float]:
    """Like for like: the same Schemathesis cases sent to the same mock, validated by Schemathesis' own checks
    only (what a bare `st run` does with each answer), then through our Target.send (our Judge once, the few
    Schemathesis checks it lacks, the recording). Returns (requests each way, bare requests/s, ours requests/s)."""
    from schemathesis import GenerationMode
    from schemathesis.checks import CHECKS

    import strategies
    from conformance.checks import CHECKS as OURS
    from conformance.mock import MockServer
    from conformance.suites._environment import WRONG_SCOPE
    from conformance.suites._runtime import Collector, RunSettings, Target

    with MockServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                    scopes=("jpm:payments:sandbox", WRONG_SCOPE)) as mock:
        from conformance import SPEC_NAMES, load_spec

        specs = [load_spec(name) for name in SPEC_NAMES]
        target = Target(RunSettings(specs=[str(spec.path) for spec in specs], apis=list(SPEC_NAMES),
                                    base_urls={spec.name: mock.base_url(spec.name) for spec in specs},
                                    token_url=mock.token_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
        cases = []
        for spec in specs:
            for operation_id, operation in spec.operations.items():
                if operation.webhook:
                    continue
                api_operation = target.operation(spec.name, operation_id)
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    try:
                        drawn = strategies.sample(api_operation.as_strategy(generation_mode=mode), n=per_operation,
                                                  seed=1)
                    except Exception:  # an operation without parameters has no negative data
                        drawn = []
                    cases.extend(drawn)
        for case in cases:
            target.authorize(case)
        ours_excluded = [CHECKS.get_one(name) for name in OURS if name in CHECKS.get_all_names()]  # none since 1.1
        started = time.perf_counter()
        for case in cases:
            response = case.call(session=target.session, timeout=10)
            try:
                case.validate_response(response, excluded_checks=ours_excluded)
            except BaseException:  # noqa: BLE001 - a finding is as good as a pass here
                pass
        bare = len(cases) / (time.perf_counter() - started)
        target.collector = Collector()
        started = time.perf_counter()
        for case in cases:
            target.send(case, intent="negative")
        ours = len(cases) / (time.perf_counter() - started)
        target.close()
    return len(cases), bare, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", nargs="*", default=["quick", "standard", "thorough"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--st-examples", type=int, default=30)
    parser.add_argument("--cases", type=int, default=20, help="cases per operation and mode for the like-for-like part")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}\n")
    print("| profile | wall time (s) | requests | outcome |")
    print("| --- | ---: | ---: | --- |")
    for profile in args.profiles:
        for _ in range(args.repeat):
            elapsed, requests, outcome = certify_wall_time(profile)
            print(f"| {profile} | {elapsed:.1f} | {requests} | {outcome} |", flush=True)
    print()
    rows = compare_with_st_run(args.st_examples)
    print("| run | requests | wall time (s) | requests/s (first to last request) |")
    print("| --- | ---: | ---: | ---: |")
    for name, count, elapsed, rate in rows:
        print(f"| {name} | {count} | {elapsed:.1f} | {rate:.0f} |")
    (bare, ours) = rows[0][3], rows[1][3]
    print(f"\nratio ours / st run: {ours / bare:.2f}" if bare else "\nst run sent no requests")
    count, bare_rate, our_rate = checks_overhead(args.cases)
    print("\n| same cases, same mock | requests | requests/s |")
    print("| --- | ---: | ---: |")
    print(f"| Schemathesis' own checks only | {count} | {bare_rate:.0f} |")
    print(f"| through Target.send (our Judge, the Schemathesis checks it lacks, recording) | {count} "
          f"| {our_rate:.0f} |")
    print(f"\nratio: {our_rate / bare_rate:.2f}")


if __name__ == "__main__":
    threading.current_thread().name = "benchmark"
    main()
