"""conformance.redaction: each rule redacts what it must and leaves ordinary evidence readable."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from conformance.redaction import (
    REDACTED,
    RedactingFilter,
    RedactingStream,
    Redactor,
    luhn_valid,
    mask_pan,
    redact_data,
    redact_headers,
    redact_text,
    redacted_stdio,
)

from .conftest import BASIC, CLIENT_SECRET, CVV, PAN, TOKEN, leaks


@pytest.mark.parametrize(
    "text, expected",
    [
        ("card 4012000033330026 declined", "card 401200XXXXXX0026 declined"),
        ("card 4012 0000 3333 0026", "card 401200XXXXXX0026"),
        ("card 4012-0000-3333-0026.", "card 401200XXXXXX0026."),
        ("amex 378282246310005", "amex 378282XXXXX0005"),
        ("19 digits 6011000990139424000 ok", "19 digits 6011000990139424000 ok"),  # fails Luhn: not a PAN
        ("pan=4012000033330026&x=1", "pan=401200XXXXXX0026&x=1"),
        ('"accountNumber":"4012000033330026"', '"accountNumber":"401200XXXXXX0026"'),
        ("card 4012 0000 3333 0026 2031", "card 401200XXXXXX0026 2031"),  # a PAN followed by more digits
        ("already 411234XXXXXX4113", "already 411234XXXXXX4113"),
        ("id 9f186d77-cb1b-4a9f-bb44-b5be91b891ac at 2023-09-18T18:04:26.898Z", None),
        ("amount 999999999999 is 12 nines", None),  # fails Luhn
        ("40120000333300261234567", None),  # 23 digits: no card number
        ("merchant-id 998482157630", None),
        # UUIDs whose dash-joined digit groups pass Luhn (one in 200): "72192676-2130" is 12 digits.
        ("payment 72192676-2130-4d30-9336-65b81f48a092", None),
        ("payment e222df9c-9c70-4dc5-aad1-574675915717", None),
        ("ref REF-4012000033330026 and x_4012000033330026", "ref REF-401200XXXXXX0026 and x_401200XXXXXX0026"),
        ("leaked PAN4012000033330026 here", "leaked PAN401200XXXXXX0026 here"),  # glued to letters: still a PAN
    ],
)
def test_pans_are_masked_to_first_six_and_last_four(text, expected):
    assert redact_text(text) == (expected or text)


def test_luhn_and_mask():
    assert luhn_valid(PAN) and luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert mask_pan("4012 0000 3333 0026") == "401200XXXXXX0026"
    assert mask_pan("411234567890123") == "411234XXXXX0123"


def test_card_data_is_dropped_from_structures():
    card = {
        "accountNumber": PAN,
        "cvv": CVV,
        "CVC2": "123",
        "securityCode": "1234",
        "card_security_code": "12",
        "expiry": {"month": 5, "year": 2031},
        "expirationDate": "2031-05",
        "exp_month": 5,
        "isBillPayment": True,
    }
    assert redact_data({"paymentMethodType": {"card": card}, "numbers": [int(PAN), 1000, 3.5, None]}) == {
        "paymentMethodType": {"card": {"accountNumber": "401200XXXXXX0026", "isBillPayment": True}},
        "numbers": ["401200XXXXXX0026", 1000, 3.5, None],
    }


def test_card_data_in_text_is_replaced():
    assert redact_text(f"card.cvv={CVV}&card.expiry.month=5&card[expiry][year]=2031") == (
        "card.cvv=[REDACTED]&card.expiry.month=[REDACTED]&card[expiry][year]=[REDACTED]"
    )
    assert redact_text('{"cvv": "8351", "expiry": {"month": 5, "year": 2031}, "x": 1') == (
        '{"cvv": "[REDACTED]", "expiry": "[REDACTED]", "x": 1'
    )
    assert redact_text("expires_in=3599") == "expires_in=3599"


def test_credentials_are_replaced_keeping_the_scheme():
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Proxy-Authorization": f"Basic {BASIC}",
        "Cookie": "sid=abc",
        "merchant-id": "998482157630",
        "Accept": ["application/json", "text/plain"],
    }
    assert redact_headers(headers) == {
        "Authorization": "Bearer [REDACTED]",
        "Proxy-Authorization": "Basic [REDACTED]",
        "Cookie": REDACTED,
        "merchant-id": "998482157630",
        "Accept": "application/json, text/plain",
    }
    assert redact_headers([("set-cookie", "a=1"), ("set-cookie", "b=2")]) == {"set-cookie": "[REDACTED], [REDACTED]"}
    assert redact_headers({"authorization": "opaque"}) == {"authorization": REDACTED}


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer [REDACTED]"),
        (f"-H 'authorization: Basic {BASIC}' -H 'x: y'", "-H 'authorization: Basic [REDACTED]' -H 'x: y'"),
        (f"sent bearer {TOKEN[:30]} upstream", "sent bearer [REDACTED] upstream"),
        (f"jwt {TOKEN} here", "jwt [REDACTED] here"),
        (
            f'{{"access_token": "{TOKEN[:20]}x", "token_type": "Bearer"}}',
            '{"access_token": "[REDACTED]", "token_type": "Bearer"}',
        ),
        (
            "grant_type=client_credentials&client_secret=abcDEF123&scope=s",
            "grant_type=client_credentials&client_secret=[REDACTED]&scope=s",
        ),
        ("refresh_token=r1&id_token=i1", "refresh_token=[REDACTED]&id_token=[REDACTED]"),
        ("curl -u cid:csecret https://x", "curl -u [REDACTED] https://x"),
        ("curl --user 'cid:cs' https://x", "curl --user [REDACTED] https://x"),
        ("https://cid:cs@auth.example/token", "https://auth.example/token"),
        ("https://a-token@auth.example/t?x=a@b", "https://auth.example/t?x=a@b"),
        ("Bearer token missing", "Bearer token missing"),  # prose stays readable
        ('"token_type": "Bearer"', '"token_type": "Bearer"'),
    ],
)
def test_tokens_and_secrets_are_replaced(text, expected):
    assert redact_text(text) == expected


def test_known_secrets_are_replaced_anywhere_also_url_encoded():
    redactor = Redactor([CLIENT_SECRET, "p@ss/word+1", None, "", "abc"])
    assert redactor.text(f"x{CLIENT_SECRET}y") == "x[REDACTED]y"
    assert redactor.text("secret=p%40ss%2Fword%2B1") == "secret=[REDACTED]"
    assert redactor.text("abc is too short to be treated as a secret") == "abc is too short to be treated as a secret"
    assert redactor.data({"note": f"uses {CLIENT_SECRET}"}) == {"note": "uses [REDACTED]"}
    redactor.add_secret("late-issued-token-42")
    assert redactor.text("late-issued-token-42") == REDACTED
    assert (
        redactor.secrets_only(f'{{"n": 4012000033330026, "s": "{CLIENT_SECRET}"}}')
        == '{"n": 4012000033330026, "s": "[REDACTED]"}'
    )


def test_redaction_is_idempotent():
    redactor = Redactor([CLIENT_SECRET])
    samples = [
        f"Authorization: Bearer {TOKEN} card {PAN} cvv={CVV} client_secret={CLIENT_SECRET}",
        json.dumps({"card": {"accountNumber": PAN, "expiry": {"month": 1, "year": 2031}}, "access_token": TOKEN}),
    ]
    for sample in samples:
        once = redactor.text(sample)
        assert redactor.text(once) == once
        assert leaks(once) == []


def test_bodies_are_scrubbed_as_json_when_they_are_json():
    redactor = Redactor()
    body = json.dumps({"card": {"accountNumber": PAN, "cvv": CVV}, "amount": 1000}).encode()
    assert json.loads(redactor.body(body)) == {"card": {"accountNumber": "401200XXXXXX0026"}, "amount": 1000}
    assert redactor.body({"cvv": CVV, "ok": True}) == '{"ok": true}'
    assert redactor.body("not json, card 4012000033330026") == "not json, card 401200XXXXXX0026"
    assert redactor.body(b"\xff\xfe\x00binary") == "<9 bytes of binary data>"
    assert redactor.body(None) is None
    cut = redactor.body("x" * 100, limit=10)
    assert cut.startswith("xxxxxxxxxx... [truncated: 90 more characters]")


def test_stream_catches_a_pan_split_across_writes():
    sink = io.StringIO()
    stream = RedactingStream(sink, Redactor([CLIENT_SECRET]))
    stream.write("card 40120000")
    stream.write("33330026 and secret cs-Zq7-")
    stream.write("4xYb91kPwe0sT3\nnext")
    assert sink.getvalue() == "card 401200XXXXXX0026 and secret [REDACTED]\n"
    stream.flush()
    assert sink.getvalue().endswith("next")
    assert not stream.isatty()


def test_logging_filter_scrubs_messages_arguments_and_tracebacks():
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.addFilter(RedactingFilter(Redactor([CLIENT_SECRET])))
    logger = logging.getLogger("test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token %s for card %s", TOKEN, PAN)
        try:
            raise RuntimeError(f"secret {CLIENT_SECRET} refused")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    output = sink.getvalue()
    assert "token [REDACTED] for card 401200XXXXXX0026" in output
    assert "secret [REDACTED] refused" in output and leaks(output) == []


def test_redacted_stdio_scrubs_everything_printed(capfd):
    with redacted_stdio(Redactor([CLIENT_SECRET])):
        print(f"card {PAN} secret {CLIENT_SECRET}")
        print(f"Authorization: Bearer {TOKEN}", file=sys.stderr)
    print(f"after: {CLIENT_SECRET}")  # restored afterwards
    out, err = capfd.readouterr()
    assert "card 401200XXXXXX0026 secret [REDACTED]" in out
    assert err.strip() == "Authorization: Bearer [REDACTED]"
    assert out.strip().endswith(f"after: {CLIENT_SECRET}")
