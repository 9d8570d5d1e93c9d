"""Drawing examples outside a test: the same seed gives the same examples, distinct where they can be.

Hypothesis' own engine does the drawing (a @given run with a fixed seed, the generation phase
only, no example database), so every filter and map of a strategy applies exactly as in a test.
The engine mutates earlier examples on purpose, which repeats some outright (about one in eight
Global Payments callbacks); a caller asking for n examples wants n different ones, so repeats are
set aside and used only when the strategy has fewer than n distinct values.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

MAX_ROUNDS = 8
"""Reseeded runs that top up a sample: repeats and a strategy with few distinct values end a run short."""

TOP_UP_MARGIN = 8
"""Examples a top-up run draws beyond what is missing: each run starts with the strategy's simplest
value, which an earlier run has already drawn, so a run asked for exactly one missing example makes none."""


class OutOfTime(Exception):
    """The time budget of a sample ran out (raised from inside a draw, so Hypothesis stops at once)."""


def sample(strategy: SearchStrategy[T], n: int = 10, seed: int = 0, budget: float | None = None) -> list[T]:
    """`n` examples of a strategy, the same ones for the same seed. Not for use inside a Hypothesis test.

    The examples are distinct (compared as JSON with sorted keys, else by `repr`) unless the
    strategy has fewer than `n` distinct values; then repeats fill the list up to `n`. With a
    `budget` (seconds), drawing stops when it is spent and what was drawn so far is returned: a
    strategy whose filter almost never passes (a rule that cannot be broken alone) ends in seconds,
    not in Hypothesis' minutes.
    """
    distinct: dict[str, Any] = {}
    repeats: list[Any] = []
    if budget is not None:
        deadline = time.monotonic() + budget

        def in_time(value: T) -> T:
            if time.monotonic() > deadline:
                raise OutOfTime
            return value

        strategy = st.tuples(st.just(None).map(in_time), strategy).map(lambda pair: pair[1])
    for round_ in range(MAX_ROUNDS):
        if len(distinct) >= n:
            break

        @settings(
            max_examples=n - len(distinct) + (TOP_UP_MARGIN if round_ else 0),
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        )
        @fixed_seed(seed * MAX_ROUNDS + round_)
        @given(strategy)
        def collect(value: Any) -> None:
            key = _identity(value)
            if key in distinct:
                repeats.append(value)
            else:
                distinct[key] = value

        try:
            collect()
        except OutOfTime:
            break
        except HypothesisException:
            if budget is not None and time.monotonic() > deadline:
                break  # Hypothesis replayed the draw the budget stopped, and the replay differed: out of time
            raise
    return (list(distinct.values()) + repeats)[:n]


def _identity(value: Any) -> str:
    """What makes two examples the same: their JSON with keys sorted (key order is no difference on the wire)."""
    try:
        return json.dumps(value, sort_keys=True, default=_compared_fields)
    except (TypeError, ValueError):  # keys of mixed types, a circular value
        return repr(value)


def _compared_fields(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value) if field.compare}
    return repr(value)
