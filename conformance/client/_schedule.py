"""The schedule of injected trouble: which troubles a run gets and where each lands, derived from a seed.

A profile (specs/client.rules.yaml) says how many troubles of each kind; the seed shuffles them and
places each on the Nth *new* request of its class (a create, any request, a secured request), N
growing by 1 to `spread` from one trouble to the next. "New" means unlike any request before: a
retry (the same method, path, query, body and idempotency key) is never troubled and does not
count, so a client that retries correctly gets through, and the same client behaving the same way
meets the same troubles on the same requests for the same seed. The schedule is written into the
report. A test may add troubles of its own (`fail_next` ...): those land on the next request of the
operation it names, new or not.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._errors import UsageError
from .._specs import ClientRules
from .._specs._client_rules import Action

_ORDINALS = {1: "st", 2: "nd", 3: "rd"}


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else _ORDINALS.get(number % 10, "th")
    return f"{number}{suffix}"


_CLASS_NAMES = {"create": "create", "request": "request", "secured": "request needing a token"}


@dataclass(frozen=True)
class Trouble:
    """One trouble: what it does (`action`), and where it lands (a scheduled slot or a named operation)."""

    id: str
    kind: str
    description: str
    lands_on: str
    """create, request or secured."""
    action: Action
    ordinal: int | None = None
    """Scheduled: the Nth new request of its class. None for a trouble a test asked for."""
    operation: str | None = None
    """Asked for by a test: the operation whose next request it lands on."""
    api: str | None = None
    pick: int = 0
    """A number drawn from the seed, choosing among the operation's scenario triggers (decline)."""

    @property
    def slot(self) -> str:
        if self.ordinal is None:
            where = f"{self.api} " if self.api else ""
            return f"the next {where}{self.operation} request" if self.operation else \
                f"the next {_CLASS_NAMES[self.lands_on]}"
        return f"the {ordinal(self.ordinal)} new {_CLASS_NAMES[self.lands_on]}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "description": self.description, "slot": self.slot,
                "action": self.action.to_dict()}


@dataclass
class Schedule:
    """The troubles of a run, in the order they are due."""

    troubles: list[Trouble]
    profile: str | None = None
    seed: int | None = None

    @classmethod
    def none(cls) -> Schedule:
        return cls([])

    @classmethod
    def planned(cls, table: ClientRules, profile: str, seed: int, kinds: Iterable[str] | None = None) -> Schedule:
        """The troubles of `profile` placed by `seed`; `kinds` keeps only those kinds (None: all of the profile's)."""
        chosen = table.profile(profile)
        wanted = list(kinds) if kinds is not None else None
        if wanted is not None:
            unknown = sorted(set(wanted) - set(table.troubles))
            if unknown:
                raise UsageError(f"unknown trouble {', '.join(unknown)} (choose from {', '.join(table.troubles)})")
        rng = random.Random(seed)
        bag = [kind for kind, count in chosen.troubles.items() for _ in range(count)
               if wanted is None or kind in wanted]
        rng.shuffle(bag)
        counters = {"create": 0, "request": 0, "secured": 0}
        troubles = []
        for number, kind in enumerate(bag, 1):
            definition = table.troubles[kind]
            counters[definition.lands_on] += rng.randint(1, chosen.spread)
            troubles.append(Trouble(f"T{number}", kind, definition.description, definition.lands_on,
                                    chosen.actions[kind], ordinal=counters[definition.lands_on],
                                    pick=rng.randrange(1 << 16)))
        return cls(troubles, profile, seed)

    def add(self, kind: str, description: str, action: Action, operation: str | None,
            api: str | None = None) -> Trouble:
        """A trouble a test asks for: it lands on the next request of `operation` (None: the next request that
        needs a token)."""
        trouble = Trouble(f"T{len(self.troubles) + 1}", kind, description, "request" if operation else "secured",
                          action, operation=operation, api=api)
        self.troubles.append(trouble)
        return trouble

    def __iter__(self):
        return iter(self.troubles)

    def __len__(self) -> int:
        return len(self.troubles)

    def to_list(self) -> list[dict[str, Any]]:
        return [trouble.to_dict() for trouble in self.troubles]
