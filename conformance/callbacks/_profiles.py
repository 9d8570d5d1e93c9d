"""How much a `conformance callbacks` run sends: quick for a first try, thorough before a release."""

from __future__ import annotations

from dataclasses import dataclass

from .._errors import UsageError


@dataclass(frozen=True)
class Profile:
    """Counts per webhook; every rule is judged in every profile, only the number of examples grows."""

    name: str
    examples_per_status: int
    """Distinct valid bodies drawn for each status (resources take turns with them, each its own identity)."""
    lifecycle_rounds: int
    """Each status sequence of the state machine (initial to final) is delivered this many times."""
    duplicates: int
    """Callbacks delivered twice in a row, as a provider retry does."""
    out_of_order_rounds: int
    """Each allowed transition is delivered later-status-first this many times."""
    unknown_fields: int
    """Valid callbacks with fields no spec defines."""
    invalid_json: int
    """Kinds of invalid JSON sent (at most five)."""
    wrong_content_types: int
    """Content types other than the documented one (at most four)."""
    invalid_per_rule: int
    """Bodies breaking each documented rule of the callback schema."""


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("quick", 2, 2, 2, 1, 2, 3, 2, 1),
        Profile("standard", 5, 5, 5, 2, 5, 5, 3, 2),
        Profile("thorough", 20, 20, 20, 5, 20, 5, 4, 5),
    )
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(f"unknown profile {name!r} (choose from {', '.join(PROFILES)})") from None
