"""Run profiles: how much a run generates, and how gently it treats a live origin.

A profile bounds a run three ways, so that pointing it at a provider's sandbox is safe: a request
budget (tests beyond it are skipped, and say so), a rate limit (only for an --origin you give; the
embedded mock is ours to hammer), and a timeout on every request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .._errors import UsageError


@dataclass(frozen=True)
class Profile:
    name: str
    examples: int
    """Hypothesis examples per operation for generated valid requests."""
    negative_examples: int
    """Schemathesis negative-mode examples per operation (its own negative data rejection check)."""
    invalid_per_rule: int
    """Examples per invalid-by-rule variant (each must be refused)."""
    invalid_rules: int | None
    """At most this many invalid-by-rule variants per operation (None: all of them)."""
    request_budget: int
    """Requests a run may send in all; later tests are skipped with the reason."""
    rate_limit: float | None
    """Requests per second against an --origin you give (None: unlimited)."""
    timeout: float
    """Seconds to wait for any answer."""
    callback_timeout: float
    """Seconds to wait for a scenario's callbacks or a resource to reach its final state."""
    token_wait: float
    """Longest a run waits for an issued token to expire (expired-token test); beyond it, a forged one is used."""
    rule_budget: float = 2.0
    """Seconds to draw the examples breaking one rule; a rule no example breaks alone in that time is skipped."""

    def to_dict(self) -> dict:
        return asdict(self)


PROFILES = {
    "quick": Profile("quick", examples=2, negative_examples=1, invalid_per_rule=1, invalid_rules=4,
                     request_budget=2_000, rate_limit=20.0, timeout=5.0, callback_timeout=5.0, token_wait=3.0,
                     rule_budget=1.0),
    # standard caps the invalid-by-rule variants: the published Online Payments document has 1,015 rules
    # (16 payment methods), and breaking each alone took standard from 20 s to beyond 10 minutes.
    "standard": Profile("standard", examples=20, negative_examples=10, invalid_per_rule=2, invalid_rules=12,
                        request_budget=10_000, rate_limit=20.0, timeout=10.0, callback_timeout=30.0, token_wait=10.0,
                        rule_budget=3.0),
    "thorough": Profile("thorough", examples=100, negative_examples=50, invalid_per_rule=5, invalid_rules=None,
                        request_budget=50_000, rate_limit=20.0, timeout=20.0, callback_timeout=60.0, token_wait=60.0,
                        rule_budget=30.0),
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})") from None
