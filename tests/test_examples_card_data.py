"""`conformance examples` prints valid requests whole: its card numbers are documented test cards, not redacted.

Redaction is for what a target sends back and for reports; data the tool generates is synthetic, and a
printed "valid" card request must be valid as printed (a masked PAN would break the spec's own pattern).
"""

from __future__ import annotations

import json

from conformance import load_spec
from conformance.cli import main
from strategies.formats import TEST_CARDS

DOCUMENTED = {pan for cards in TEST_CARDS.values() for pan in cards}


def test_printed_card_requests_carry_whole_documented_test_cards_and_are_valid(capsys):
    code = main(["examples", "--api", "online-payments", "--operation", "V2PaymentPost", "-n", "15", "--seed", "2"])
    assert code == 0
    spec = load_spec("online-payments")
    validator = spec.validator(spec.request_schema("V2PaymentPost"), "request")
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    cards = [r["body"]["paymentMethodType"]["card"] for r in printed if "card" in r["body"]["paymentMethodType"]]
    assert cards, "15 examples and not one card payment (seed 2 has two)"
    for card in cards:
        if "accountNumber" in card and (card.get("accountNumberType") in (None, "PAN")):
            assert card["accountNumber"] in DOCUMENTED, card["accountNumber"]
    for request in printed:
        assert not list(validator.iter_errors(request["body"])), request["body"]


def test_every_test_card_is_luhn_valid_and_of_its_network():
    from conformance.formats import luhn_valid
    from strategies.formats import NETWORKS

    for network, cards in TEST_CARDS.items():
        prefixes, lengths = NETWORKS[network]
        for pan in cards:
            assert luhn_valid(pan) and pan.startswith(prefixes) and len(pan) in lengths, (network, pan)
