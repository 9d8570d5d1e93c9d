"""What judging an answer costs certify: the same answers sent through `Target.send`, timed per request.

    .venv/bin/python benchmarks/judging_path.py [--cases 20] [--repeat 3] [--mode all|valid|negative]

The mock runs in a separate process (so this process's CPU time is the client's alone: building the
request, sending it, judging the answer, recording the results). Schemathesis cases are drawn once per
operation, positive and negative (seeded), authorized, and then sent through `Target.send` exactly as
the generated suite sends them (`--mode valid` or `negative` for one kind only). Reported: wall time
per request, this process's CPU time per request (less sensitive to other load on the machine than
wall time), and judged answers per second. Run by hand; results go to docs/benchmarks.md ("judging
path") with the commit they were measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time

import httpx

CLIENT_ID, CLIENT_SECRET = "benchmark-client", "benchmark-secret-value"
MOCK = """
import sys, threading
from conformance.mock import MockServer
from conformance.suites._environment import WRONG_SCOPE
server = MockServer(port=int(sys.argv[1]), client_id=sys.argv[2], client_secret=sys.argv[3],
                    scopes=("jpm:payments:sandbox", WRONG_SCOPE))
with server:
    print("ready", flush=True)
    sys.stdin.read()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def draw_cases(target, per_operation: int) -> list:
    from schemathesis import GenerationMode

    import strategies

    cases = []
    for api, spec in target.specs.items():
        for operation_id, operation in spec.operations.items():
            if operation.webhook:
                continue
            api_operation = target.operation(api, operation_id)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    drawn = strategies.sample(api_operation.as_strategy(generation_mode=mode), n=per_operation, seed=1)
                except Exception:  # an operation without parameters has no negative data
                    drawn = []
                cases.extend((case, "valid" if mode is GenerationMode.POSITIVE else "negative") for case in drawn)
    return cases


def measure(per_operation: int, repeat: int, mode: str) -> list[tuple[int, float, float, float]]:
    from conformance import SPEC_NAMES, load_spec
    from conformance.suites._runtime import Collector, RunSettings, Target

    port = free_port()
    mock = subprocess.Popen([sys.executable, "-c", MOCK, str(port), CLIENT_ID, CLIENT_SECRET],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert mock.stdout is not None and mock.stdout.readline().strip() == "ready"
        origin = f"http://127.0.0.1:{port}"
        specs = [load_spec(name) for name in SPEC_NAMES]
        oauth = next(spec for spec in specs if spec.name == "oauth")
        token_url = origin + oauth.base_path + next(op.path for op in oauth.operations.values() if not op.webhook)
        rows = []
        for _ in range(repeat):
            target = Target(RunSettings(
                specs=[str(spec.path) for spec in specs], apis=list(SPEC_NAMES),
                base_urls={spec.name: origin + spec.base_path for spec in specs},
                token_url=token_url, client_id=CLIENT_ID,
                client_secret=CLIENT_SECRET, profile="thorough"))
            cases = [(case, intent) for case, intent in draw_cases(target, per_operation)
                     if mode == "all" or intent == mode]
            for case, _intent in cases:
                target.authorize(case)
            for case, intent in cases[:20]:  # warm up: connections, schema caches
                target.send(case, intent=intent)
            target.collector = Collector()
            wall, cpu = time.perf_counter(), time.process_time()
            for case, intent in cases:
                target.send(case, intent=intent)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            sent = target.collector.requests
            rows.append((sent, wall / sent * 1000, cpu / sent * 1000, sent / wall))
            target.close()
        return rows
    finally:
        if mock.stdin is not None:
            mock.stdin.close()
        mock.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=20, help="cases per operation and generation mode")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("all", "valid", "negative"), default="all",
                        help="which cases: Schemathesis' positive ones (sent as valid), its negative ones, or both")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}, "
          f"commit {commit}, load average {load:.1f}\n")
    print("| run | cases | answers judged | wall ms per request | client CPU ms per request | judged answers/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for number, (sent, wall_ms, cpu_ms, rate) in enumerate(measure(args.cases, args.repeat, args.mode), 1):
        print(f"| {number} | {args.mode} | {sent} | {wall_ms:.2f} | {cpu_ms:.2f} | {rate:.0f} |", flush=True)


if __name__ == "__main__":
    httpx  # noqa: B018 - imported first so that its import time is not measured
    main()
