"""Per-API memory the stateful checks share within one process: statuses seen, limits, created resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .._specs._rules import Correlation
from ._knowledge import SpecView


@dataclass
class ApiState:
    """What one process has seen of one API during a run."""

    view: SpecView
    statuses: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    """(state machine id, channel "answers"|"callbacks", identity) -> statuses in the order seen."""
    limits: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(limit id, parent id) -> the parent's limit."""
    totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    """(limit id, parent id) -> what accepted children add up to."""
    sources: dict[str, set[tuple[tuple[str, str], ...]]] = field(default_factory=dict)
    """correlation id -> the key sets of resources the suite created."""
    pending: list[tuple[Correlation, tuple[tuple[str, str], ...], Any]] = field(default_factory=list)
    """Callback records whose source was not known yet: (correlation, keys, delivery)."""

    @property
    def spec(self):
        return self.view.spec
