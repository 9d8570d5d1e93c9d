"""Drawing examples outside a test: the same seed gives the same examples.

Hypothesis' own engine does the drawing (a @given run with a fixed seed, the generation phase
only, no example database), so every filter and map of a strategy applies exactly as in a test.
"""

from __future__ import annotations

from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

MAX_ROUNDS = 8
"""A strategy with few distinct values can end a run early; this many reseeded runs top it up."""


def sample(strategy: SearchStrategy[T], n: int = 10, seed: int = 0) -> list[T]:
    """`n` examples of a strategy, the same ones for the same seed. Not for use inside a Hypothesis test."""
    found: list[Any] = []
    for round_ in range(MAX_ROUNDS):
        if len(found) >= n:
            break

        @settings(
            max_examples=n - len(found),
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=False,
        )
        @fixed_seed(seed * MAX_ROUNDS + round_)
        @given(strategy)
        def collect(value: Any) -> None:
            found.append(value)

        collect()
    return found[:n]
