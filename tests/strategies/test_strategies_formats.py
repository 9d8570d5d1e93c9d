"""Payment-domain formats: what they generate passes conformance/formats.py's checkers (the judges)."""

from __future__ import annotations

import pycountry
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from strategies_support import SETTINGS, luhn

from conformance.formats import DOMAIN_FORMATS, format_checker
from strategies import formats, sample

CHECKER = format_checker()
FORMAT_NAMES = [*DOMAIN_FORMATS, "date", "date-time", "uuid"]


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_generated_value_passes_the_checker(name: str) -> None:
    values = sample(formats.strategy_for(name), 60, seed=1)
    assert len(values) == 60
    refused = [value for value in values if not CHECKER.conforms(value, name)]
    assert not refused, f"{name}: the checker refuses {refused[:3]}"


@pytest.mark.parametrize("name", [*FORMAT_NAMES, "uri"])
def test_near_misses_are_refused_by_the_checker(name: str) -> None:
    values = sample(formats.invalid(name), 30, seed=2)
    accepted = [value for value in values if CHECKER.conforms(value, name)]
    assert not accepted, f"{name}: near misses the checker accepts {accepted[:3]}"


def test_every_domain_format_of_the_specs_has_a_generator_and_near_misses() -> None:
    for name in DOMAIN_FORMATS:
        assert formats.strategy_for(name) is not None, name
        assert formats.invalid(name) is not None, name


@pytest.mark.parametrize("network", sorted(formats.NETWORKS))
def test_card_numbers_are_luhn_valid_with_the_network_prefix_and_length(network: str) -> None:
    prefixes, lengths = formats.NETWORKS[network]
    for pan in sample(formats.card_number(network), 25, seed=3):
        assert pan.isdigit() and luhn(pan), pan
        assert pan.startswith(prefixes) and len(pan) in lengths, pan


def test_unknown_network_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown card network"):
        formats.card_number("bitcoin")


def test_masked_pans_show_first_six_and_last_four() -> None:
    for masked in sample(formats.masked_pan(), 40, seed=4):
        middle = masked[6:-4]
        assert masked[:6].isdigit() and masked[-4:].isdigit() and set(middle) == {"X"}, masked


def test_currencies_come_from_iso_4217_and_have_minor_units() -> None:
    codes = set(sample(formats.currency(), 200, seed=5))
    assert codes <= set(formats.minor_digits())
    assert not codes & {"XAU", "XXX", "XTS"}
    assert len(codes) > 40  # drawn from the whole list, not a handful


def test_countries_come_from_pycountry() -> None:
    assert set(sample(formats.country(), 100, seed=6)) <= {c.alpha_2 for c in pycountry.countries}


@SETTINGS
@given(formats.decimal_amount())
def test_decimal_amounts_are_above_one_cent_with_at_most_two_decimals(amount: str) -> None:
    whole, _, fraction = amount.partition(".")
    assert len(fraction) <= 2 and whole.isdigit()
    assert float(amount) > 0.01


def test_amount_fits_currency_uses_minor_units() -> None:
    assert formats.amount_fits_currency("10.50", "USD")
    assert not formats.amount_fits_currency("10.5", "JPY")
    assert formats.amount_fits_currency("10", "JPY")
    assert formats.amount_fits_currency("1.25", "BHD")
    assert not formats.amount_fits_currency("1.00", "XAU")  # no minor units: no amount fits


def test_not_before_dates_are_that_day_or_later() -> None:
    day = formats.resolve_day("$today")
    values = sample(formats.date(day), 50, seed=7)
    assert all(value >= day.isoformat() for value in values)
    assert day.isoformat() in values  # the day itself is drawn often: it is a provider's default path
    assert formats.resolve_day("$today+3d").toordinal() - day.toordinal() == 3
    with pytest.raises(ValueError):
        formats.resolve_day("tomorrow")


def test_register_makes_schemathesis_generate_domain_formats() -> None:
    formats.register()
    document = {
        "openapi": "3.1.0",
        "info": {"title": "formats", "version": "1"},
        "paths": {"/pay": {"post": {
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["currency", "country", "pan"], "additionalProperties": False,
                "properties": {
                    "currency": {"type": "string", "format": "iso-4217"},
                    "country": {"type": "string", "format": "iso-3166-alpha-2"},
                    "pan": {"type": "string", "format": "pan"},
                },
            }}}},
            "responses": {"200": {"description": "ok"}},
        }}},
    }
    operation = schemathesis.openapi.from_dict(document)["/pay"]["POST"]
    bodies = [case.body for case in sample(operation.as_strategy(), 30, seed=8)]
    for body in bodies:
        assert CHECKER.conforms(body["currency"], "iso-4217")
        assert CHECKER.conforms(body["country"], "iso-3166-alpha-2")
        assert CHECKER.conforms(body["pan"], "pan")


@SETTINGS
@given(st.data())
def test_formats_are_usable_inside_a_test(data: st.DataObject) -> None:
    assert CHECKER.conforms(data.draw(formats.end_to_end_id()), "end-to-end-id")
    assert CHECKER.conforms(data.draw(formats.date_time()), "date-time")
