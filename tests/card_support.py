"""Card-number arithmetic for the leak scans of the tests, written apart from conformance on purpose:
a scan that used the redactor's own Luhn check would share its blind spots."""

from __future__ import annotations


def luhn(digits: str) -> bool:
    """Whether a run of digits passes the Luhn check (as every card number does)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
