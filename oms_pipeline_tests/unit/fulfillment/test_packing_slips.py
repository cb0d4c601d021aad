"""Packing slips: content rules (gift message, no prices), and the PDF as a reader sees it (rendered to
PNG and read back with pypdfium2)."""

from __future__ import annotations

from decimal import Decimal

import pypdfium2 as pdfium

from oms_pipeline.documents.packing_slips import render_slips
from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.packing_slips import packing_slips, store_display_name
from oms_pipeline_tests.support.packing_slips import PLANNED
from oms_pipeline_tests.support.packing_slips import slip_order as _order


def _text_and_png(pdf: bytes, tmp_path) -> tuple[list[str], list]:
    document = pdfium.PdfDocument(pdf)
    texts, images = [], []
    for page in document:
        texts.append(page.get_textpage().get_text_range())
        image = page.render(scale=1.5).to_pil()
        images.append(image)
    images[0].save(tmp_path / "slip.png")
    return texts, images


def test_one_slip_per_shipment_with_its_own_lines_and_prices():
    slips = packing_slips(_order(), PLANNED, "Oms Sandbox")
    assert [s.shipment_ref for s in slips] == ["3PL-EU / express", "DC-EAST / ground"]
    east = slips[1]
    assert [(line.sku, line.quantity) for line in east.lines] == [("MUG-BLK", 2), ("TEA-GRN", 1)]
    assert east.show_prices and east.total == Decimal("46.25") and east.units == 3
    assert east.gift_message is None and east.ship_to[0] == "Jörg Weiß"
    assert east.file_stem == f"{east.order_number.lstrip('#')}_DC-EAST___ground"


def test_no_price_and_gift_rules():
    no_price = packing_slips(_order(), PLANNED, "S", note_tags=[NoteTag.NO_PRICE_ON_SLIP])
    assert all(not s.show_prices and s.total is None for s in no_price)
    assert all(line.unit_price is None and line.line_total is None for s in no_price for line in s.lines)
    gift = packing_slips(_order(), PLANNED, "S", note_tags=[NoteTag.GIFT], gift_message="Happy birthday, Anna!")
    assert all(s.gift_message == "Happy birthday, Anna!" and not s.show_prices for s in gift)
    # A message without the gift tag is not printed.
    untagged = packing_slips(_order(), PLANNED, "S", gift_message="Happy birthday, Anna!")
    assert all(s.gift_message is None and s.show_prices for s in untagged)


def test_store_display_name():
    assert store_display_name("oms-sandbox.myshopify.com") == "Oms Sandbox"


def test_slip_pdf_renders_to_png_and_reads_back(tmp_path):
    order = _order()
    gift = packing_slips(order, PLANNED, "Oms Sandbox", note_tags=[NoteTag.GIFT, NoteTag.NO_PRICE_ON_SLIP],
                         gift_message="Happy birthday, Anna!")[1]
    texts, images = _text_and_png(render_slips([gift]), tmp_path)
    text = texts[0]
    assert len(texts) == 1 and images[0].size[0] > 500
    assert "Oms Sandbox" in text and f"Order {order.name}" in text and "Packing slip" in text
    assert "MUG-BLK" in text and "TEA-GRN" in text and "Jörg Weiß" in text
    assert "Gift message" in text and "Happy birthday, Anna!" in text
    assert "Price" not in text and "USD" not in text and "19.50" not in text  # no prices anywhere
    # The same shipment without the tags shows prices and no gift message.
    priced = packing_slips(order, PLANNED, "Oms Sandbox")[1]
    text, _ = _text_and_png(render_slips([priced]), tmp_path)
    assert "Price" in text[0] and "39.00 USD" in text[0] and "Merchandise total: 46.25 USD" in text[0]
    assert "Gift message" not in text[0]
    # The PNG is a real picture of the page: not blank.
    assert images[0].convert("L").getextrema()[0] < 100
