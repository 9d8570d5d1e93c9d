"""How fast the spec strategies generate: examples per second for every callback and POST /payments body.

    .venv/bin/python benchmarks/strategies_speed.py              # 1000 callbacks, 500 requests, best of 3
    .venv/bin/python benchmarks/strategies_speed.py --n 200 --repeat 1

Each strategy is built and warmed up first (building a strategy loads its Schemathesis document
once per process); then `strategies.sample` draws N examples with a fixed seed, the way the
callback sender and the suites draw them (Hypothesis' engine, generation phase; every example
distinct). The best of --repeat runs is reported, as a markdown table for docs/benchmarks.md.

A second column draws from the same strategy with no engine at all: one fresh ConjectureData per
example from a seeded Random, the least any caller of Hypothesis can pay per draw. It reaches into
Hypothesis internals, so it is a measurement only (shown as n/a if those internals move); it tells
how much of the cost is the strategy Schemathesis builds and how much is the engine around it.
Bounded: it draws N x repeat examples per target per column and stops.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import strategies  # noqa: E402
from conformance import SPEC_NAMES, load_spec  # noqa: E402


def _targets() -> list[tuple[str, str, str, object]]:
    """(kind, api, name, strategy) for every callback and every operation that is POST /payments."""
    found = []
    for api in SPEC_NAMES:
        spec = load_spec(api)
        for operation_id, operation in spec.operations.items():
            if operation.webhook:
                found.append(("callback", api, operation.webhook, strategies.callbacks(spec, operation.webhook)))
            elif operation.method == "POST" and operation.path == "/payments":
                found.append(("POST /payments", api, operation_id, strategies.requests(spec, operation_id)))
    return found


def _rate(strategy: object, n: int, seed: int) -> tuple[float, float]:
    """(examples per wall-clock second, CPU milliseconds per example): CPU time minds the neighbours less."""
    started, cpu = time.perf_counter(), time.process_time()
    drawn = strategies.sample(strategy, n, seed)
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    return len(drawn) / elapsed, 1000 * used / len(drawn)


def _bare_rate(strategy: object, n: int, seed: int) -> float | None:
    """Examples per second drawn straight from ConjectureData, without Hypothesis' engine (None if unavailable)."""
    try:
        from hypothesis.control import BuildContext
        from hypothesis.errors import StopTest
        from hypothesis.internal.conjecture.data import ConjectureData
    except ImportError:
        return None
    source, drawn = random.Random(seed), 0

    def fresh() -> ConjectureData:
        return ConjectureData(random=source, prefix=(), max_choices=10_000)

    try:
        fresh()
    except TypeError:  # the internals' signatures moved
        return None
    started = time.perf_counter()
    for _ in range(n):
        data = fresh()
        try:
            with BuildContext(data, wrapped_test=None):
                data.draw(strategy)
            drawn += 1
        except StopTest:  # a filter gave up on this draw
            continue
    return drawn / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="callback bodies per run (requests: half)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per target; the best is reported")
    args = parser.parse_args()

    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"hypothesis {__import__('hypothesis').__version__}, schemathesis {__import__('schemathesis').__version__}")
    print()
    print("| kind | api | target | examples/s | CPU ms per example | without the engine, examples/s |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for kind, api, name, strategy in _targets():
        count = args.n if kind == "callback" else max(1, args.n // 2)
        strategies.sample(strategy, 20, seed=0)  # build and warm up
        rate, cpu = max(_rate(strategy, count, seed) for seed in range(1, args.repeat + 1))
        bare = [_bare_rate(strategy, count, seed) for seed in range(1, args.repeat + 1)]
        measured = [rate for rate in bare if rate is not None]
        bare_shown = f"{max(measured):,.0f}" if measured else "n/a"
        print(f"| {kind} | {api} | `{name}` | {rate:,.0f} | {cpu:.2f} | {bare_shown} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
