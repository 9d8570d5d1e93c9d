"""Reliability of the client side against hostile peers and a hostile environment (issue 13): probes
tried and probes held, per class, as rows for the reliability table of docs/benchmarks.md.

    .venv/bin/python benchmarks/client_probes.py [--interrupts 20] [--repeats 6] [--seed 1]

Each probe runs the real `conformance` command in a fresh process, as a user or a CI job would:

- trickle: certify, callbacks and the token client against a peer answering one byte every 0.5 s
  (headers too, or the body only); held = gave up with exit 3 (or a judged timeout) before twice its
  deadline, one line, no traceback;
- interrupts: certify (embedded mock) sent SIGINT or SIGTERM (alternately) at a random moment of the
  run; held = no traceback, and either exit 130/143 with a report marked incomplete for that reason,
  or (the signal came after the verdict was written) the complete report of that run, or (the signal
  came while Python was still importing, before the command had read its options) nothing written;
- full disk: certify with its files limited to a size (RLIMIT_FSIZE) from 1 KB to 256 KB; held =
  exit 0/1 with a whole report, or exit 2 with one "cannot write reports" line, no torn file;
- determinism: `certify --seed 42` repeated; held = the same number of requests as the first run.

Random moments come from --seed, so a run of this script is itself reproducible in what it tries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "hostile"))

from client_peers import trickler  # noqa: E402 - the test suite's hostile peers

PYTHON = sys.executable
CREDENTIALS = {"CONFORMANCE_CLIENT_ID": "probe-client", "CONFORMANCE_CLIENT_SECRET": "probe-client-secret"}


def conformance(*args: str, limit: int | None = None, timeout: float = 300) -> tuple[int, str, str, float]:
    def limit_files() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    started = time.monotonic()
    done = subprocess.run([PYTHON, "-m", "conformance", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **CREDENTIALS, "PYTHONDONTWRITEBYTECODE": "1"},
                          preexec_fn=limit_files, timeout=timeout)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def _one_line(err: str) -> bool:
    return len([line for line in err.splitlines() if line.strip()]) == 1 and "Traceback" not in err


def trickle_probes() -> tuple[int, int, list[str]]:
    tried = held = 0
    notes = []
    for headers_too in (True, False):
        for name, methods, args in (
            ("certify", None, ["certify", "--origin", "{origin}", "--request-timeout", "2", "--quiet"]),
            ("callbacks", None, ["callbacks", "--api", "pay-by-bank", "--target", "{origin}/cb/{webhook}",
                                 "--deadline", "2"]),
            # the reachability probe (a GET) is answered at once: the token request (a POST) trickles
            ("token client", ("POST",), ["certify", "--origin", "{origin}", "--request-timeout", "2", "--quiet"]),
        ):
            with trickler(headers_too=headers_too, methods=methods) as peer, tempfile.TemporaryDirectory() as reports:
                args = [arg.replace("{origin}", peer.origin) for arg in args] + ["--report-dir", reports]
                code, _, err, elapsed = conformance(*args)
                tried += 1
                ok = code == 3 and _one_line(err) and "within 2 s" in err
                held += ok
                notes.append(f"{name} ({'headers' if headers_too else 'body'} trickled): exit {code} "
                             f"after {elapsed:.1f} s (process start included)")
    return tried, held, notes


def interrupt_probes(count: int, chooser: random.Random) -> tuple[int, int, list[str]]:
    tried = held = 0
    notes = []
    for number in range(count):
        sent = (signal.SIGINT, signal.SIGTERM)[number % 2]
        moment = chooser.uniform(0.3, 6.0)
        with tempfile.TemporaryDirectory() as reports:
            process = subprocess.Popen([PYTHON, "-m", "conformance", "certify", "--seed", "7", "--quiet",
                                        "--report-dir", reports], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, cwd=ROOT)
            time.sleep(moment)
            process.send_signal(sent)
            out, err = process.communicate(timeout=120)
            path = Path(reports) / "certification.json"
            record = json.loads(path.read_text()) if path.exists() else None
        tried += 1
        reason = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}[sent]
        # The shell sees 128 + N for a process that exits with it and for one the signal ends itself.
        stopped = process.returncode in (128 + sent, -sent) and record is not None and not record["complete"] \
            and record["incomplete_reason"] == reason
        finished = record is not None and record["complete"] and process.returncode in (0, 1, -sent, 128 + sent)
        before = record is None and process.returncode in (-sent, 128 + sent) and moment < 1.0
        ok = "Traceback" not in out + err and (stopped or finished or before)
        held += ok
        outcome = "stopped" if stopped else "had finished" if finished else "before start" if before else "FAILED"
        notes.append(f"{signal.Signals(sent).name} at {moment:.1f} s: exit {process.returncode}, {outcome}")
    return tried, held, notes


def full_disk_probes() -> tuple[int, int, list[str]]:
    tried = held = 0
    notes = []
    for limit in (1_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000):
        with tempfile.TemporaryDirectory() as reports:
            code, _, err, _ = conformance("certify", "--api", "pay-by-bank", "--seed", "4", "--quiet",
                                          "--report-dir", reports, limit=limit)
            torn = [name for name in os.listdir(reports) if name.endswith(".tmp")]
            try:
                json.loads((Path(reports) / "certification.json").read_text())
                whole = True
            except (OSError, ValueError):
                whole = code == 2  # nothing could be written at all: nothing torn either
        tried += 1
        ok = not torn and whole and ((code in (0, 1) and not err.strip()) or
                                     (code == 2 and _one_line(err) and "cannot write reports" in err))
        held += ok
        notes.append(f"files limited to {limit // 1000} KB: exit {code}")
    return tried, held, notes


def determinism_probes(repeats: int) -> tuple[int, int, list[str]]:
    counts = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as reports:
            code, out, _, _ = conformance("certify", "--seed", "42", "--quiet", "--report-dir", reports)
            sent = [line for line in out.splitlines() if line.startswith("requests sent:")]
            counts.append(int(sent[0].split(":")[1]) if sent else -1)
    held = sum(count == counts[0] for count in counts)
    return repeats, held, [f"requests sent per run: {', '.join(map(str, counts))}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interrupts", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    rows = [
        ("trickling peer (certify, callbacks, token client; headers or body trickled)", trickle_probes()),
        ("SIGINT / SIGTERM at a random moment of certify", interrupt_probes(args.interrupts, chooser)),
        ("report directory filling up (certify, file-size limit 1 KB to 256 KB)", full_disk_probes()),
        ("same seed, same requests (`certify --seed 42` repeated)", determinism_probes(args.repeats)),
    ]
    print("| probe class | tried | held |\n| --- | ---: | ---: |")
    for name, (tried, held, _) in rows:
        print(f"| {name} | {tried} | {held} |")
    for name, (_, _, notes) in rows:
        print(f"\n{name}:")
        for note in notes:
            print(f"  - {note}")


if __name__ == "__main__":
    main()
