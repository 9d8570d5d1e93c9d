"""Time to load and prepare a document: the loader, the mock's serving table, the strategies' model.

    .venv/bin/python benchmarks/spec_loading.py PATH --api NAME [--repeat 3] [--markdown]

Each repetition runs in a fresh process (no cache carried over), then loads the document a second time in
that process to show the per-process cache. The provider's published documents are read upstream, not
kept in this repository: pass the path of your downloaded copy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_CHILD = r"""
import json, sys, time
started = time.perf_counter()
from conformance import load_spec
imported = time.perf_counter()
spec = load_spec(sys.argv[1], api=sys.argv[2])
loaded = time.perf_counter()
from conformance.mock._app import MockApp, MockContext
from conformance.mock._auth import TokenAuthority
from conformance.mock._callbacks import CallbackDispatcher, RetryPolicy, client_ssl_context
from conformance.mock._faults import FaultSwitch
context = MockContext(FaultSwitch(), TokenAuthority("id", "secret", ["s"], 60),
                      CallbackDispatcher(RetryPolicy(), client_ssl_context(None, None)), 0.02)
MockApp(context, [spec])
served = time.perf_counter()
import strategies
strategies.targets(spec)
modelled = time.perf_counter()
again = time.perf_counter()
load_spec(sys.argv[1], api=sys.argv[2])
cached = time.perf_counter() - again
print(json.dumps({"import": imported - started, "load": loaded - imported, "mock": served - loaded,
                  "strategies": modelled - served, "cached": cached, "operations": len(spec.operations),
                  "findings": len(spec.findings)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--api", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", _CHILD, args.path, args.api], capture_output=True, text=True,
                             check=True, timeout=600)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    keys = ("import", "load", "mock", "strategies", "cached")
    if args.markdown:
        print("| run | import s | load s | mock table s | strategies model s | second load s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for index, run in enumerate(runs, 1):
            print(f"| {index} | " + " | ".join(f"{run[key]:.3f}" for key in keys) + " |")
        median = statistics.median(r["load"] + r["mock"] + r["strategies"] for r in runs)
        print(f"\nmedian load + prepare: {median:.2f} s; {runs[0]['operations']} operations, "
              f"{runs[0]['findings']} findings")
    else:
        print(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
