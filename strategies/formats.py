"""Payment-domain formats: one Hypothesis strategy per `format` name the specs use.

Each function returns a strategy (built once, cached) that can be used on its own
(`strategies.formats.currency()`), and `register()` hands the same strategies to Schemathesis'
format mechanism so every spec field with that `format` is generated from them. The judges of
these values are the checkers in `conformance/formats.py`; nothing here re-implements a check.
Code lists come from maintained packages: ISO 3166 from pycountry, ISO 4217 and its minor units
from iso4217 (pycountry has no minor units, and an amount must fit its currency).

`invalid(name)` gives near misses for a format: values of the right type and roughly the right
shape that its checker refuses. The invalid-by-rule strategies use them to break `format` alone.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from datetime import date as _date
from decimal import Decimal
from functools import cache

import iso4217
import pycountry
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from conformance.formats import currency_codes, day_offset

__all__ = [
    "NETWORKS",
    "TEST_CARDS",
    "amount_fits_currency",
    "card_number",
    "country",
    "currency",
    "date",
    "date_time",
    "decimal_amount",
    "end_to_end_id",
    "invalid",
    "masked_pan",
    "minor_digits",
    "minor_units",
    "not_before_format",
    "register",
    "resolve_day",
    "strategy_for",
    "uuid",
]

NETWORKS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "visa": (("4",), (16,)),
    "mastercard": (("51", "52", "53", "54", "55", "2221", "2223", "2720"), (16,)),
    "amex": (("34", "37"), (15,)),
    "discover": (("6011", "65"), (16,)),
    "jcb": (("35",), (16,)),
    "diners": (("36", "38", "300", "305"), (14,)),
    "unionpay": (("62",), (16, 17, 18, 19)),
}
"""Card networks: issuer prefixes (IIN ranges' ends) and PAN lengths."""

TEST_CARDS: dict[str, tuple[str, ...]] = {
    "visa": ("4012000033330026", "4111111111111111", "4012888888881881", "4000056655665556", "4242424242424242"),
    "mastercard": ("5555555555554444", "5454545454545454", "5105105105105100", "2223003122003222"),
    "amex": ("378282246310005", "371449635398431", "378734493671000"),
    "discover": ("6011111111111117", "6011000990139424"),
    "jcb": ("3530111333300000", "3566002020360505"),
    "diners": ("30569309025904", "38520000023237", "36227206271667"),
    "unionpay": ("6200000000000005", "6205500000000000004"),
}
"""Documented test card numbers by network: the provider's (4012000033330026, seed 000) and the networks' and
processors' published test numbers. Generated requests carry these and nothing else, so an example printed or
sent anywhere is never a real customer's card (which is also why `conformance examples` prints them whole)."""

_ALPHANUMERIC = string.ascii_letters + string.digits
_EARLIEST = _date(2000, 1, 1)
_LATEST = _date(2099, 12, 31)


@cache
def minor_digits() -> dict[str, int]:
    """ISO 4217 code -> number of minor-unit digits (JPY 0, USD 2, BHD 3), for codes that have money."""
    return {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}


def amount_fits_currency(amount: str, currency: str) -> bool:
    """True when a decimal amount string has no more decimals than its currency has minor units."""
    digits = minor_digits().get(currency)
    if digits is None:
        return False
    exponent = Decimal(amount).as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return decimals <= digits


@cache
def currency() -> SearchStrategy[str]:
    """An ISO 4217 alpha-3 code of a currency that has minor units (no XAU, XXX, XTS...)."""
    usable = sorted(set(minor_digits()) & currency_codes())
    return st.sampled_from(usable)


@cache
def country() -> SearchStrategy[str]:
    """An ISO 3166-1 alpha-2 country code."""
    return st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries))


def _render_amount(whole: int, fraction: str) -> str:
    return f"{whole}.{fraction}" if fraction else str(whole)


@cache
def decimal_amount() -> SearchStrategy[str]:
    """A decimal amount string greater than 0.01 with at most two decimals ("10.50", "7", "0.5")."""
    whole = st.one_of(st.integers(0, 999), st.integers(0, 99_999_999))
    fraction = st.one_of(st.just(""), st.integers(0, 9).map(str), st.integers(0, 99).map("{:02d}".format))
    return st.builds(_render_amount, whole, fraction).filter(lambda value: Decimal(value) > Decimal("0.01"))


@cache
def minor_units() -> SearchStrategy[int]:
    """An amount in minor units (cents): a non-negative integer, mostly everyday sizes."""
    return st.one_of(st.integers(1, 100_000), st.integers(0, 999_999_999_999))


@cache
def card_number(network: str | None = None) -> SearchStrategy[str]:
    """A documented test card number (PAN) of a network ("visa", "amex", ...; any when None)."""
    if network is not None and network not in NETWORKS:
        raise ValueError(f"unknown card network {network!r}; known: {', '.join(NETWORKS)}")
    names = [network] if network else list(NETWORKS)
    return st.sampled_from([pan for name in names for pan in TEST_CARDS[name]])


def _mask(pan: str) -> str:
    return pan[:6] + "X" * (len(pan) - 10) + pan[-4:]


@cache
def masked_pan() -> SearchStrategy[str]:
    """A masked PAN as an answer shows it: first six and last four digits, X between."""
    return card_number().map(_mask)


@cache
def end_to_end_id() -> SearchStrategy[str]:
    """A payment's endToEndId: 1 to 35 letters and digits."""
    return st.text(_ALPHANUMERIC, min_size=1, max_size=35)


def _day(ordinal: int) -> str:
    return _date.fromordinal(ordinal).isoformat()


@cache
def date(not_before: _date | None = None) -> SearchStrategy[str]:
    """An ISO 8601 calendar date (YYYY-MM-DD); with `not_before`, that day or up to a year later, often that day."""
    if not_before is None:
        return st.integers(_EARLIEST.toordinal(), _LATEST.toordinal()).map(_day)
    first = not_before.toordinal()
    return st.one_of(st.just(first), st.integers(first + 1, first + 366)).map(_day)


_OFFSETS = ("Z", "Z", "+00:00", "+01:00", "+02:00", "+05:30", "+09:00", "-04:00", "-05:00")
_FRACTIONS = ("", "", ".000", ".123", ".5", ".250000")
_EPOCH_2000 = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
_EPOCH_2100 = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp()) - 1


def _render_date_time(seconds: int, fraction: str, offset: str) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + fraction + offset


@cache
def date_time() -> SearchStrategy[str]:
    """An ISO 8601 / RFC 3339 date-time with a zone ("2024-05-01T10:15:30Z", "...30.123+02:00")."""
    return st.builds(
        _render_date_time, st.integers(_EPOCH_2000, _EPOCH_2100), st.sampled_from(_FRACTIONS), st.sampled_from(_OFFSETS)
    )


@cache
def uuid() -> SearchStrategy[str]:
    """A random (version 4) UUID in its canonical lower-case form."""
    return st.uuids(version=4).map(str)


@cache
def _strategies() -> dict[str, SearchStrategy]:
    return {
        "iso-4217": currency(),
        "iso-3166-alpha-2": country(),
        "decimal-amount": decimal_amount(),
        "minor-units": minor_units(),
        "pan": card_number(),
        "masked-pan": masked_pan(),
        "end-to-end-id": end_to_end_id(),
        "date": date(),
        "date-time": date_time(),
        "uuid": uuid(),
    }


def strategy_for(name: str) -> SearchStrategy | None:
    """The strategy of a format name the specs use, or None for a format this module does not know."""
    return _strategies().get(name)


_registered = False


def register() -> None:
    """Register every format above with Schemathesis (schemathesis.openapi.format); safe to call again."""
    global _registered
    if _registered:
        return
    import schemathesis

    for name, strategy in _strategies().items():
        schemathesis.openapi.format(name, strategy)
    _registered = True


def not_before_format(format_name: str, token: str) -> str:
    """A generation-only format name for `format_name` values not before `token` ("$today", "$today+3d").

    Specs mark such fields with `x-not-before`; the generation documents swap the field's format for
    this name, registered here with a strategy that honours the bound (validation keeps the real one).
    """
    name = f"x-conformance-{format_name}-not-before-{token.lstrip('$')}"
    day = resolve_day(token)
    if format_name == "date":
        strategy = date(day)
    else:
        strategy = st.builds(
            lambda d, seconds: f"{d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z",
            date(day + timedelta(days=1)),
            st.integers(0, 86_399),
        )
    import schemathesis

    schemathesis.openapi.format(name, strategy)
    return name


def resolve_day(token: str) -> _date:
    """The day a `$today`, `$today+Nd` or `$today-Nd` token stands for (UTC), the rules tables' date notation."""
    days = day_offset(token)
    if days is None:
        raise ValueError(f"unknown date token {token!r}; expected $today, $today+Nd or $today-Nd")
    return datetime.now(UTC).date() + timedelta(days=days)


# -- near misses: values each format's checker refuses -------------------------------------------


@cache
def _invalid_strategies() -> dict[str, SearchStrategy]:
    letters = st.text(string.ascii_uppercase, min_size=3, max_size=3)
    pairs = st.text(string.ascii_uppercase, min_size=2, max_size=2)
    unassigned_countries = sorted(
        a + b for a in string.ascii_uppercase for b in string.ascii_uppercase
        if (a + b) not in {c.alpha_2 for c in pycountry.countries}
    )
    luhn_broken = card_number().map(lambda pan: pan[:-1] + str((int(pan[-1]) + 1) % 10))
    return {
        "iso-4217": letters.filter(lambda code: code not in currency_codes()),
        "iso-3166-alpha-2": st.sampled_from(unassigned_countries) if unassigned_countries else pairs,
        "decimal-amount": st.sampled_from(["0", "0.00", "1.234", "01.50", "1,50", "-5.00", "1e3", "12.", ".5", "abc"]),
        "minor-units": st.integers(max_value=-1),
        "pan": luhn_broken,
        "masked-pan": st.sampled_from(["4111111111111111", "411111-XXXXXX-1111", "41111XXXXXX1111", "XXXXXX1111"]),
        "end-to-end-id": st.sampled_from(["PAY_001", "PAY-001", "PAY 001", "", "E" * 36]),
        "date": st.sampled_from(["2024-02-30", "2024-13-01", "2024/01/15", "15-01-2024", "20240115", "2024-1-5"]),
        "date-time": st.sampled_from(
            ["2024-01-15 10:00:00Z", "2024-01-15T25:00:00Z", "2024-01-15T10:00:00", "2024-13-15T10:00:00Z",
             "2024-01-15T10:61:00Z", "15/01/2024 10:00"]
        ),
        "uuid": st.sampled_from(
            ["not-a-uuid", "53038faa43f642fc9545648fd2dab411x", "53038faa-43f6-42fc-9545-648fd2dab41",
             "53038faa-43f6-42fc-9545_648fd2dab411", "{53038faa-43f6-42fc-9545-648fd2dab411}"]
        ),
        "uri": st.sampled_from(["https://exa mple.com/x", "https://example.com/%zz", "https://a^b.example/c",
                                "https://[bad", "://no-scheme"]),
    }


def invalid(name: str) -> SearchStrategy[object] | None:
    """Near misses for a format: values its checker in conformance/formats.py refuses (None if unknown)."""
    return _invalid_strategies().get(name)
