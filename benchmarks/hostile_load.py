"""What hostile peers cost the embedded mock, and its other clients (issue 13's reliability table).

Starts `conformance mock` in its own process (from `--root`, so that two trees can be compared), then:

- **latency for other clients**: wrk (`-t1 -c4`) reads `GET /api/v2/healthcheck/payments` for
  `--duration` seconds, once undisturbed, once while another process uploads 100 MB bodies without
  credentials over and over, once while another process opens 2,000 idle connections, and once while
  it keeps 2,000 open by opening a new one for each the mock closes; p50, p99 and max latency, and
  the mock's CPU time;
- **a receiver that never answers** (item 15): 300 Pay By Bank creates, one after another on one
  connection, with no callback URL, then with the callback URL on a port whose accept queue is full
  (connection attempts hang, as with an address that drops packets); the time they take;
- **memory per stored payment**: the mock's resident memory growth per Online Payments card sale over
  20,000 sales (first and second 10,000 apart), with the default store limit and with
  `--store-limit 5000`, where the second 10,000 should cost nothing.

Results go in docs/benchmarks.md (section "hostile peers"). Needs `wrk` on PATH.

    .venv/bin/python benchmarks/hostile_load.py [--root PATH] [--duration 10] [--only latency|callbacks|memory]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECRET = "conformance-mock-secret"
"""The secret the mock is started with (the old default, so that an older tree runs the same)."""
MERCHANT_ID = "998482157630"
HUNDRED_MB = 100 * 1024 * 1024
FLOOD = 2000


# -- the mock under test -----------------------------------------------------------------------------------------

def start_mock(root: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    environment = dict(os.environ, CONFORMANCE_MOCK_CLIENT_SECRET=SECRET, PYTHONPATH=str(root))
    process = subprocess.Popen([sys.executable, "-m", "conformance", "mock", "--port", "0", *extra], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("conformance mock: serving "):
            origin = line.split()[-1]
            break
    else:
        raise SystemExit("the mock did not start")
    for line in process.stdout:
        if line.startswith("Press Ctrl+C"):
            break
    return process, origin


def stop_mock(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def token(origin: str) -> str:
    answer = httpx.post(origin + "/am/oauth2/alpha/access_token", auth=("conformance-mock", SECRET),
                        data={"grant_type": "client_credentials"}, timeout=30)
    return answer.json()["access_token"]


# -- attackers, each in a process of its own ----------------------------------------------------------------------

def upload_forever(port: int, stop: multiprocessing.Event, counts: multiprocessing.Array) -> None:
    """Unauthenticated 100 MB uploads, one after another: [uploads started, bytes written to the socket]."""
    block = b" " * (1024 * 1024)
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
                counts[0] += 1
                sock.sendall(b"POST /tsapi/pay-by-bank/v2/payments HTTP/1.1\r\nHost: x\r\nContent-Type: "
                             b"application/json\r\nContent-Length: %d\r\n\r\n" % HUNDRED_MB)
                for _ in range(HUNDRED_MB // len(block)):
                    if stop.is_set():
                        break
                    sock.sendall(block)
                    counts[1] += len(block)
                if not stop.is_set():
                    sock.recv(4096)
        except OSError:
            pass


def flood_once(port: int, stop: multiprocessing.Event, counts: multiprocessing.Array) -> None:
    """FLOOD idle connections opened once and left open (the probe): [opened, closed by the mock]."""
    flood(port, stop, counts, reopen=False)


def flood_forever(port: int, stop: multiprocessing.Event, counts: multiprocessing.Array) -> None:
    """FLOOD idle connections held open: each one the mock closes is opened again at once."""
    flood(port, stop, counts, reopen=True)


def flood(port: int, stop: multiprocessing.Event, counts: multiprocessing.Array, reopen: bool) -> None:
    """FLOOD idle connections; [opened, closed by the mock]."""
    watch = selectors.DefaultSelector()  # epoll: select() stops at descriptor 1024
    held = 0
    while not stop.is_set():
        while held < FLOOD and not stop.is_set() and (reopen or counts[0] < FLOOD):
            try:
                watch.register(socket.create_connection(("127.0.0.1", port), timeout=5), selectors.EVENT_READ)
                held += 1
                counts[0] += 1
            except OSError:
                break
        for key, _ in watch.select(0.25):
            counts[1] += 1
            held -= 1
            watch.unregister(key.fileobj)
            key.fileobj.close()
    for key in list(watch.get_map().values()):
        key.fileobj.close()


# -- measurements --------------------------------------------------------------------------------------------------

def wrk(url: str, duration: int) -> dict[str, float]:
    output = subprocess.run(["wrk", "-t1", "-c4", f"-d{duration}s", "--latency", url], capture_output=True,
                            text=True, check=True).stdout
    result: dict[str, float] = {}
    for name, pattern in (("p50", r"^\s+50%\s+([\d.]+)(us|ms|s)"), ("p99", r"^\s+99%\s+([\d.]+)(us|ms|s)"),
                          ("max", r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)")):
        found = re.search(pattern, output, re.MULTILINE)
        if found:
            value, unit = float(found.group(1)), found.group(2)
            result[name] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["rps"] = float(found.group(1)) if found else 0.0
    errors = re.search(r"Socket errors:(.*)", output)
    result["errors"] = errors.group(1).strip() if errors else ""  # type: ignore[assignment]
    return result


def latency(root: Path, duration: int) -> list[dict[str, object]]:
    process, origin = start_mock(root)
    port = int(origin.rsplit(":", 1)[1])
    url = origin + "/api/v2/healthcheck/payments"
    rows = []
    try:
        for name, attacker in (("undisturbed", None), ("100 MB uploads without credentials", upload_forever),
                               (f"{FLOOD:,} idle connections opened", flood_once),
                               (f"{FLOOD:,} idle connections, each closed one reopened", flood_forever)):
            stop = multiprocessing.Event()
            counts = multiprocessing.Array("q", 2)
            worker = None
            if attacker is not None:
                worker = multiprocessing.Process(target=attacker, args=(port, stop, counts), daemon=True)
                worker.start()
                time.sleep(1.0)
            before, rss_before = cpu_seconds(process.pid), rss_bytes(process.pid)
            measured = wrk(url, duration)
            used = cpu_seconds(process.pid) - before
            rss_after = rss_bytes(process.pid)
            stop.set()
            if worker is not None:
                worker.join(30)
                if worker.is_alive():
                    worker.kill()
            rows.append({"phase": name, **measured, "mock_cpu_s": used, "rss_mb": rss_after / 1e6,
                         "rss_growth_mb": (rss_after - rss_before) / 1e6, "attacker": list(counts)})
    finally:
        stop_mock(process)
    return rows


def blackhole() -> tuple[socket.socket, list[socket.socket]]:
    """A listening socket that never accepts, its accept queue filled: further connection attempts hang,
    as they do towards an address that drops packets. Returns it and the connections filling it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    return listener, fillers


def callbacks(root: Path) -> list[dict[str, object]]:
    rows = []
    dead, fillers = blackhole()
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}/callbacks"
    for name, extra in (("no callback URL", ()), ("callback URL that never accepts", ("--callback-url", dead_url))):
        process, origin = start_mock(root, *extra)
        try:
            bearer = f"Bearer {token(origin)}"
            body = _pbb_example(root)
            before = cpu_seconds(process.pid)
            started = time.perf_counter()
            with httpx.Client(timeout=120) as client:
                for number in range(300):
                    answer = client.post(origin + "/tsapi/pay-by-bank/v2/payments", json=body,
                                         headers={"authorization": bearer, "Idempotency-Key": f"bench-{number}"})
                    assert answer.status_code == 201, answer.text
            took = time.perf_counter() - started
            rows.append({"phase": name, "seconds": took, "ms_per_create": took / 300 * 1000,
                         "mock_cpu_s": cpu_seconds(process.pid) - before})
        finally:
            stop_mock(process)
    for sock in [dead, *fillers]:
        sock.close()
    return rows


def _pbb_example(root: Path) -> dict[str, object]:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from conformance import load_spec; "
            "print(json.dumps(next(iter(load_spec('pay-by-bank').examples('createPayment').values()))))")
    return json.loads(subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                                     check=True, cwd=root).stdout)


def memory(root: Path) -> list[dict[str, object]]:
    rows = [_memory_per_payment(root, ())]
    if root == ROOT:  # --store-limit exists in this tree only
        rows.append(_memory_per_payment(root, ("--store-limit", str(BOUND))))
    return rows


BOUND = 5_000
SALES = 20_000


def _memory_per_payment(root: Path, extra: tuple[str, ...]) -> dict[str, object]:
    """The mock's resident memory per Online Payments card sale: over the first and the second half of SALES."""
    process, origin = start_mock(root, *extra)
    try:
        bearer = f"Bearer {token(origin)}"
        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from conformance import load_spec; "
                "spec = load_spec('online-payments'); create = next(o for o in ('V2PaymentPost', 'createPayment') "
                "if o in spec.operations); print(json.dumps(next(iter(spec.examples(create).values()))))")
        sale = json.loads(subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                                         check=True, cwd=root).stdout)
        sizes = []
        with httpx.Client(timeout=60) as client:
            for number in range(200):  # warm up: first answers allocate caches, not payments
                client.post(origin + "/api/v2/payments", json=sale, headers={
                    "authorization": bearer, "merchant-id": MERCHANT_ID, "request-id": f"warm-{number}"})
            sizes.append(rss_bytes(process.pid))
            for half in range(2):
                for number in range(SALES // 2):
                    client.post(origin + "/api/v2/payments", json=sale, headers={
                        "authorization": bearer, "merchant-id": MERCHANT_ID, "request-id": f"mem-{half}-{number}"})
                sizes.append(rss_bytes(process.pid))
    finally:
        stop_mock(process)
    half = SALES // 2
    return {"mock": " ".join(extra) or "defaults", "first_half_bytes_per_payment": (sizes[1] - sizes[0]) / half,
            "second_half_bytes_per_payment": (sizes[2] - sizes[1]) / half, "rss_mb": sizes[2] / 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree whose mock to measure (default: this one)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per phase (default 10)")
    parser.add_argument("--only", choices=["latency", "callbacks", "memory"], action="append")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    root = args.root.resolve()
    chosen = args.only or ["latency", "callbacks", "memory"]
    results: dict[str, object] = {"root": str(root)}
    if "latency" in chosen:
        results["latency"] = latency(root, args.duration)
    if "callbacks" in chosen:
        results["callbacks"] = callbacks(root)
    if "memory" in chosen:
        results["memory"] = memory(root)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
