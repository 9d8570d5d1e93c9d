"""Card-number arithmetic for the leak scans of the tests, written apart from conformance on purpose:
a scan that used the redactor's own Luhn check would share its blind spots."""

from __future__ import annotations

import re

_UUID = re.compile(r"\b[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\b")


def luhn(digits: str) -> bool:
    """Whether a run of digits passes the Luhn check (as every card number does)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def without_uuids(text: str) -> str:
    """`text` with every UUID replaced: about one random UUID in 200 holds dash-joined digit groups that
    pass Luhn ("...-4315-8021-488197..."), and no UUID is a card number."""
    return _UUID.sub("<uuid>", text)
