"""What the recording proxy of `conformance client` costs, and how long judging a client's traffic takes.

1. Throughput and latency of reads through the proxy against the same reads straight to the mock, driven
   by Debian's wrk: `conformance mock` in one process; `conformance client --listen` (its own embedded
   mock behind the proxy, no trouble) in another. GET /tsapi/pay-by-bank/v2/payments/{id} of a payment
   created first, with a bearer token.
2. The time `conformance client --listen` takes, after Ctrl-C, to judge everything wrk sent (tens of
   thousands of exchanges) and write the report.

Results go in docs/benchmarks.md (section "client"). Needs `wrk` on PATH.

    .venv/bin/python benchmarks/client_proxy.py [--duration 10] [--connections 16] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mock_throughput import GET_SCRIPT, run_wrk, start_mock  # noqa: E402

from conformance.mock import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET  # noqa: E402

PAYMENT = {"paymentAmount": {"value": "10.50", "currency": "GBP"}, "paymentType": "RTP", "market": "GB",
           "redirectURL": "https://shop.example.com/return", "reference": "BENCH-1",
           "creditor": {"name": "Shop Ltd", "account": {"accountId": "40051512345678", "accountIdType": "SORT_CODE"}}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_proxy(report_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    command = [sys.executable, "-m", "conformance", "client", "--listen", f"127.0.0.1:{port}", "--no-trouble",
               "--duration", "3600", "--quiet", "--report-dir", str(report_dir)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    origin = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(origin + "/api/v2/healthcheck/payments", timeout=1)
            return process, origin
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("conformance client --listen did not start")


def read_url(origin: str) -> tuple[str, str]:
    """A token and the URL of a payment created first."""
    token = httpx.post(f"{origin}/am/oauth2/alpha/access_token", auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
                       data={"grant_type": "client_credentials"}).json()["access_token"]
    created = httpx.post(f"{origin}/tsapi/pay-by-bank/v2/payments", json=PAYMENT,
                         headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "bench-1"}).json()
    return token, f"{origin}/tsapi/pay-by-bank/v2/payments/{created['id']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="open connections (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--markdown", action="store_true", help="print a table for docs/benchmarks.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        report_dir = Path(scratch) / "report"
        mock, mock_origin = start_mock()
        try:
            token, url = read_url(mock_origin)
            script = Path(scratch) / "get.lua"
            script.write_text(GET_SCRIPT.format(token=token, merchant="unused"))
            results["direct"] = run_wrk(url, script, args, mock.pid)[1]
        finally:
            mock.terminate()
            mock.wait(10)
        proxy, proxy_origin = start_proxy(report_dir)
        try:
            token, url = read_url(proxy_origin)
            script.write_text(GET_SCRIPT.format(token=token, merchant="unused"))
            results["proxied"] = run_wrk(url, script, args, proxy.pid)[1]
            started = time.monotonic()
            proxy.send_signal(signal.SIGINT)
            proxy.communicate(timeout=600)
            judged_in = time.monotonic() - started
        finally:
            if proxy.poll() is None:
                proxy.kill()
        document = json.loads((report_dir / "certification.json").read_text())
        exchanges = document["client"]["exchanges"]
    for result in results.values():
        result.pop("raw", None)
    summary = {"wrk": f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency -s get.lua URL",
               **{name: {key: result[key] for key in ("rps", "p50_ms", "p99_ms", "non_2xx", "requests",
                                                       "server_cpu_us") if key in result}
                  for name, result in results.items()},
               "judged_exchanges": exchanges, "judge_and_report_seconds": round(judged_in, 2),
               "verdict": document["verdict"]}
    if args.markdown:
        print("| path | requests/s | p50 ms | p99 ms | server CPU per request |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name in ("direct", "proxied"):
            row = summary[name]
            print(f"| {name} | {row['rps']:.0f} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
                  f"{row['server_cpu_us']:.0f} us |")
        print(f"\njudging {exchanges} exchanges and writing the report: {judged_in:.1f} s "
              f"(verdict {document['verdict']})")
    else:
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
