"""PII masking: every kind is masked, round-trips through unmask, and common order text is left alone."""

from __future__ import annotations

import logging

import pytest

from oms_pipeline.domain.pii import PiiLogFilter, mask_pii, redact, unmask


@pytest.mark.parametrize(
    ("text", "kind", "original"),
    [
        ("write to anna.schmidt+shop@example.co.uk please", "EMAIL", "anna.schmidt+shop@example.co.uk"),
        ("call me on +49 30 1234567", "PHONE", "+49 30 1234567"),
        ("call +1 (555) 123-4567 before", "PHONE", "+1 (555) 123-4567"),
        ("my cell (555) 123-4567", "PHONE", "(555) 123-4567"),
        ("my cell 555-123-4567", "PHONE", "555-123-4567"),
        ("my cell 555.123.4567", "PHONE", "555.123.4567"),
        ("Tel 0171 2345678 bitte", "PHONE", "0171 2345678"),
        ("ring 020 7946 0958", "PHONE", "020 7946 0958"),
        ("appelez 0033 6 12 34 56 78", "PHONE", "0033 6 12 34 56 78"),
        ("deliver to 12 Baker Street, thanks", "STREET", "12 Baker Street"),
        ("deliver to 221B Baker St. please", "STREET", "221B Baker St."),
        ("send to 1600 Pennsylvania Ave NW", "STREET", "1600 Pennsylvania Ave NW"),
        ("Lieferung an Hauptstraße 5 bitte", "STREET", "Hauptstraße 5"),
        ("neue Adresse Bahnhofstr. 12a, Berlin", "STREET", "Bahnhofstr. 12a"),
        ("neue Adresse Lindenweg 7", "STREET", "Lindenweg 7"),
        ("it's Apt 4B on the left", "STREET", "Apt 4B"),
        ("livrer au 12 rue de la Paix, merci", "STREET", "12 rue de la Paix"),
        ("card 4111 1111 1111 1111 was charged twice", "CARD", "4111 1111 1111 1111"),
        ("card 4111-1111-1111-1111 was charged", "CARD", "4111-1111-1111-1111"),
        ("card 5555555555554444 declined", "CARD", "5555555555554444"),
        ("gate code 4411 at the back", "CODE", "4411"),
        ("door code: #1234 then up", "CODE", "#1234"),
        ("the access code is 9090", "CODE", "9090"),
        ("Torcode 4411 bitte", "CODE", "4411"),
        ("Haustür-Code 2580", "CODE", "2580"),
        ("digicode 12A45", "CODE", "12A45"),
    ],
)
def test_masks_each_kind(text: str, kind: str, original: str) -> None:
    masked = mask_pii(text)
    assert original not in masked.text
    assert f"[{kind}_1]" in masked.text
    assert masked.placeholders[f"[{kind}_1]"] == original
    assert unmask(masked.text, masked.placeholders) == text


def test_names_from_the_order_are_masked_case_insensitively_and_word_bounded() -> None:
    masked = mask_pii("Gift for ANNA from Ben; anna schmidt loves it. Annabelle says hi", ["Anna Schmidt", "Ben"])
    assert "anna" not in masked.text.lower().replace("annabelle", "")
    assert "Ben" not in masked.text
    assert "Annabelle" in masked.text  # a longer word that merely starts with the name stays
    assert masked.unmask(masked.text) == "Gift for ANNA from Ben; anna schmidt loves it. Annabelle says hi"


def test_full_name_becomes_one_placeholder() -> None:
    masked = mask_pii("For Anna Schmidt", ["Anna", "Schmidt", "Anna Schmidt"])
    assert masked.text == "For [NAME_1]"


def test_same_value_gets_same_placeholder() -> None:
    masked = mask_pii("mail a@b.com or a@b.com, or c@d.org")
    assert masked.text == "mail [EMAIL_1] or [EMAIL_1], or [EMAIL_2]"


@pytest.mark.parametrize(
    "text",
    [
        "Order #1042 placed 2024-05-12",
        "deliver by 12.05.2024 or 05/12/2024 or 12/05/24",
        "total $129.99, was 1,299.00 EUR, 19,99 €",
        "3 items, 2 Stück, qty 12, 250 g",
        "zip 10115 and ZIP 90210-1234",
        "order 100234567 and tracking 1Z999AA10123456784",
        "4111 1111 1111 1112 is not a valid card",
        "promo code SUMMER20 applied",
        "nicht vor dem 12. liefern, bis Freitag",
        "I ordered 3 Large Boxes way too many",
        "between 9 and 17 o'clock, 10-12 am",
    ],
)
def test_leaves_ordinary_order_text_alone(text: str) -> None:
    masked = mask_pii(text)
    assert masked.text == text
    assert masked.placeholders == {}


def test_redact_is_one_way_and_none_safe() -> None:
    assert redact(None) is None
    redacted = redact("Hi, Anna here: anna@x.de, gate code 12", ["Anna"])
    assert redacted == "Hi, [NAME_1] here: [EMAIL_1], gate code [CODE_1]"


def test_log_filter_masks_message_and_args(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("oms_pipeline.tests.pii")
    caplog.handler.addFilter(PiiLogFilter())
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("customer a@b.com phoned %s with card %s (order %s)", "+44 20 7946 0958",
                        "4111111111111111", "#1042")
    finally:
        caplog.handler.filters.clear()
    text = caplog.records[0].getMessage()
    assert "a@b.com" not in text and "7946" not in text and "4111" not in text
    assert "#1042" in text
