"""Throughput and latency of the embedded mock provider, driven over loopback by Debian's wrk.

Starts `conformance mock` in its own process, takes a token, creates one payment, then runs wrk
(a C load generator, so that the generator is not the bottleneck) against:

- GET  /api/v2/payments/{id}   a read of the payment created first;
- POST /api/v2/payments        the seed's card sale, validated against the spec and stored, with a
                               unique request-id per request (a wrk Lua script numbers them).

and prints requests per second and p50/p99 latency for each, plus the exact wrk command lines.
Results go in docs/benchmarks.md (section "mock"). Needs `wrk` on PATH (apt-get install -y wrk).

    .venv/bin/python benchmarks/mock_throughput.py [--duration 10] [--connections 32] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance import load_spec  # noqa: E402
from conformance.mock import DEFAULT_CLIENT_ID  # noqa: E402

CLIENT_SECRET = "benchmark-secret-value"

MERCHANT_ID = "998482157630"

GET_SCRIPT = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["merchant-id"] = "{merchant}"
"""

POST_SCRIPT = """
local counter = 0
local thread_id = 0
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end
local body = [==[{body}]==]
function request()
  counter = counter + 1
  local headers = {{}}
  headers["Authorization"] = "Bearer {token}"
  headers["Content-Type"] = "application/json"
  headers["merchant-id"] = "{merchant}"
  headers["request-id"] = "bench-{run}-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "{path}", headers, body)
end
"""


def start_mock() -> tuple[subprocess.Popen[str], str]:
    """The mock on a port it picks itself (no race for a port found free), and the origin its banner names."""
    command = [sys.executable, "-m", "conformance", "mock", "--port", "0"]
    environment = dict(os.environ, CONFORMANCE_MOCK_CLIENT_SECRET=CLIENT_SECRET)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=environment)
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    seen: list[str] = []
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if not ready:
            continue
        line = process.stdout.readline()
        seen.append(line)
        if "serving " in line:
            return process, line.split("serving ", 1)[1].split()[0]
    process.terminate()
    raise SystemExit(f"the mock did not start within 30 s: {''.join(seen)}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: Path, args: argparse.Namespace, pid: int) -> tuple[list[str], dict[str, object]]:
    before = cpu_seconds(pid)
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
        "-s", str(script), url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pid) - before
    result: dict[str, object] = {"raw": output}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(match.group(1)) if match else 0.0
    for percentile in ("50", "90", "99"):
        found = re.search(rf"^\s+{percentile}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if found:
            value, unit = float(found.group(1)), found.group(2)
            result[f"p{percentile}_ms"] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(r"Socket errors:(.*)", output)
    result["socket_errors"] = errors.group(1).strip() if errors else ""
    total = re.search(r"(\d+) requests in", output)
    result["requests"] = int(total.group(1)) if total else 0
    # The server's CPU per request does not depend on what else the machine is doing: it says how fast
    # the mock would be with a core to itself (1e6 / us_per_request requests per second).
    result["server_cpu_us"] = used / result["requests"] * 1e6 if result["requests"] else float("nan")
    return command, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the other core serves)")
    parser.add_argument("--markdown", action="store_true", help="print a table for docs/benchmarks.md")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    mock, origin = start_mock()
    results: dict[str, dict[str, object]] = {}
    commands: dict[str, list[str]] = {}
    try:
        token = httpx.post(
            f"{origin}/am/oauth2/alpha/access_token", auth=(DEFAULT_CLIENT_ID, CLIENT_SECRET),
            data={"grant_type": "client_credentials", "scope": "jpm:payments:sandbox"},
        ).json()["access_token"]
        spec = load_spec("online-payments")
        example = next(iter(spec.examples("V2PaymentPost").values()))
        base = origin + spec.base_path
        created = httpx.post(f"{base}/payments", json=example, headers={
            "Authorization": f"Bearer {token}", "merchant-id": MERCHANT_ID, "request-id": "bench-setup",
        })
        created.raise_for_status()
        payment_id = created.json()["transactionId"]
        with tempfile.TemporaryDirectory() as scratch:
            get_script = Path(scratch, "get.lua")
            get_script.write_text(GET_SCRIPT.format(token=token, merchant=MERCHANT_ID))
            post_script = Path(scratch, "post.lua")
            post_script.write_text(POST_SCRIPT.format(
                token=token, merchant=MERCHANT_ID, body=json.dumps(example), path=spec.base_path + "/payments",
                run=int(time.time()),
            ))
            commands["GET /api/v2/payments/{id}"], results["GET /api/v2/payments/{id}"] = run_wrk(
                f"{base}/payments/{payment_id}", get_script, args, mock.pid)
            commands["POST /api/v2/payments"], results["POST /api/v2/payments"] = run_wrk(
                f"{base}/payments", post_script, args, mock.pid)
    finally:
        mock.terminate()
        mock.wait(10)

    if args.json:
        print(json.dumps({name: {k: v for k, v in r.items() if k != "raw"} for name, r in results.items()}, indent=2))
        return 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {platform.node()} {os.cpu_count()} cores, load average {load:.2f} at the end; "
          f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s")
    if args.markdown:
        print("\n| endpoint | requests/s | p50 ms | p99 ms | non-2xx | requests | server CPU per request |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, result in results.items():
        if args.markdown:
            print(f"| `{name}` | {result['rps']:,.0f} | {result.get('p50_ms', float('nan')):.2f} | "
                  f"{result.get('p99_ms', float('nan')):.2f} | {result['non_2xx']} | {result['requests']} | "
                  f"{result['server_cpu_us']:.0f} µs |")
        else:
            print(f"{name:<28} {result['rps']:>9,.0f} req/s   p50 {result.get('p50_ms', float('nan')):6.2f} ms   "
                  f"p99 {result.get('p99_ms', float('nan')):6.2f} ms   non-2xx {result['non_2xx']}   "
                  f"server CPU {result['server_cpu_us']:.0f} us/request"
                  + (f"   socket errors: {result['socket_errors']}" if result["socket_errors"] else ""))
    for name, command in commands.items():
        print(f"# {name}: {' '.join(command[:-3])} -s <{Path(command[-2]).name}> {command[-1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
