"""Compact JSON: a packed value comes back equal and fresh, in a fraction of its JSON once its shape is learned."""

from __future__ import annotations

import datetime as dt

import orjson
from mock_support import example

from conformance.mock._packing import Packer


def test_a_value_comes_back_equal_and_fresh():
    packer = Packer()
    sale = example("online-payments", "V2PaymentPost")
    kept = packer.pack("request", sale)
    first = packer.unpack("request", kept)
    first["amount"] = -1
    assert packer.unpack("request", kept) == sale


def test_values_of_a_learned_shape_pack_to_a_fraction_of_their_json():
    packer = Packer()
    sale = example("online-payments", "V2PaymentPost")
    packer.pack("request", sale)
    other = {**sale, "amount": 4321, "merchant": {**sale["merchant"], "merchantCategoryCode": "5999"}}
    kept = packer.pack("request", other)
    assert type(kept) is bytes and len(kept) * 4 < len(orjson.dumps(other))
    assert packer.unpack("request", kept) == other


def test_what_json_would_change_is_kept_as_it_is():
    packer = Packer()
    for value in ({"on": dt.date(2026, 12, 1)}, {200: "ok"}, {"big": 2**70}):
        assert packer.pack("odd", value) is value
        assert packer.unpack("odd", value) is value
    assert packer.unpack_bytes("empty", packer.pack_bytes("empty", b"")) == b""
