"""Validation of the payment-domain string formats the specs name.

The specs use these `format` names; jsonschema only knows the standard ones, so a checker
that judges a document must add these. Generation of the same formats lives in `strategies`.
Code lists come from pycountry, not from hand-typed tables.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache

import pycountry
from jsonschema import Draft202012Validator, FormatChecker

_DECIMAL_AMOUNT = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$")
_MASKED_PAN = re.compile(r"^[0-9]{6}X+[0-9]{4}$")
_END_TO_END_ID = re.compile(r"^[A-Za-z0-9]{1,35}$")


CODE_LIST_FORMATS = frozenset({"iso-4217", "iso-3166-alpha-2"})
"""Formats whose values are codes from a published list: a well-formed value outside the list (a code not
assigned, or withdrawn) is unusual rather than malformed."""


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 alpha-3 codes."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes."""
    return frozenset(c.alpha_2 for c in pycountry.countries)


def luhn_valid(digits: str) -> bool:
    """True when a digit string passes the Luhn (mod 10) check used by card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def decimal_of(value: object) -> Decimal | None:
    """A JSON number or numeric string as a Decimal (amounts compared without float rounding); None otherwise."""
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def is_iso_4217(value: object) -> bool:
    return not isinstance(value, str) or value in currency_codes()


def is_iso_3166_alpha_2(value: object) -> bool:
    return not isinstance(value, str) or value in country_codes()


def is_decimal_amount(value: object) -> bool:
    """A positive decimal string with at most two decimals; bounds are the schema's pattern."""
    if not isinstance(value, str):
        return True
    if not _DECIMAL_AMOUNT.match(value):
        return False
    try:
        return Decimal(value) > 0
    except InvalidOperation:
        return False


def is_minor_units(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or value >= 0


def is_pan(value: object) -> bool:
    return not isinstance(value, str) or (12 <= len(value) <= 19 and luhn_valid(value))


def is_masked_pan(value: object) -> bool:
    return not isinstance(value, str) or bool(_MASKED_PAN.match(value))


def is_end_to_end_id(value: object) -> bool:
    return not isinstance(value, str) or bool(_END_TO_END_ID.match(value))


DOMAIN_FORMATS = {
    "iso-4217": is_iso_4217,
    "iso-3166-alpha-2": is_iso_3166_alpha_2,
    "decimal-amount": is_decimal_amount,
    "minor-units": is_minor_units,
    "pan": is_pan,
    "masked-pan": is_masked_pan,
    "end-to-end-id": is_end_to_end_id,
}
"""Format name -> predicate. A predicate is true for values of other types, as JSON Schema formats are."""


_DAY_TOKEN = re.compile(r"^\$today(?:([+-])(\d+)d)?$")


def day_offset(token: object) -> int | None:
    """Days after today that a rules table's "$today" / "$today+Nd" / "$today-Nd" stands for; None for other values."""
    match = _DAY_TOKEN.match(token) if isinstance(token, str) else None
    if match is None:
        return None
    return int(match.group(2) or 0) * (-1 if match.group(1) == "-" else 1)


def format_checker() -> FormatChecker:
    """The standard 2020-12 formats (date, date-time, uri, uuid, ...) plus the domain ones."""
    checker = FormatChecker(formats=Draft202012Validator.FORMAT_CHECKER.checkers.keys())
    for name, predicate in DOMAIN_FORMATS.items():
        checker.checks(name)(predicate)
    return checker
