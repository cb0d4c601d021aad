"""Packing slips: what goes in the box with one shipment. Pure: an order, its planned lines and its note in.

A slip shows the store name, the order number and date, where it ships to, and the lines of this
shipment (a plan may split an order over locations: each shipment gets its own slip with only its
lines). The order note decides two things:

- tagged ``gift``: the gift message is printed (when the note parser extracted one);
- tagged ``no_price_on_slip`` (or ``gift``, since a gift slip never shows what the present cost):
  no prices and no totals at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.orders import Address, Order


@dataclass(frozen=True)
class SlipLine:
    """One line of a slip; prices are None when the slip shows none."""

    sku: str
    title: str
    quantity: int
    unit_price: Decimal | None = None
    line_total: Decimal | None = None


@dataclass(frozen=True)
class PackingSlip:
    """Everything printed on one slip."""

    store_name: str
    order_id: str
    order_number: str
    order_date: date
    shipment_ref: str  # "<location> / <service>"
    ship_to: tuple[str, ...]
    lines: tuple[SlipLine, ...]
    show_prices: bool
    currency: str
    gift_message: str | None = None

    @property
    def units(self) -> int:
        """Units in this shipment."""
        return sum(line.quantity for line in self.lines)

    @property
    def total(self) -> Decimal | None:
        """Merchandise total of this shipment's lines, when prices are shown."""
        if not self.show_prices:
            return None
        return sum((line.line_total or Decimal(0) for line in self.lines), Decimal(0))

    @property
    def file_stem(self) -> str:
        """A file-name-safe name for this slip: order number and shipment."""
        raw = f"{self.order_number.lstrip('#')}_{self.shipment_ref}"
        return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in raw).strip("_")


def store_display_name(shop_domain: str) -> str:
    """A store name from its myshopify domain (``oms-sandbox.myshopify.com`` -> ``Oms Sandbox``)."""
    handle = shop_domain.split(".", 1)[0]
    return " ".join(part.capitalize() for part in handle.replace("_", "-").split("-") if part) or shop_domain


def _ship_to(address: Address | None) -> tuple[str, ...]:
    if address is None:
        return ()
    a = address
    lines = [" ".join(p for p in (a.first_name, a.last_name) if p), a.company, a.address1, a.address2,
             " ".join(p for p in (a.zip, a.city) if p), " ".join(p for p in (a.province_code, a.country_code) if p)]
    return tuple(line for line in lines if line)


def packing_slips(order: Order, planned: Iterable[Mapping[str, Any]], store_name: str, *,
                  note_tags: Iterable[NoteTag] = (), gift_message: str | None = None) -> list[PackingSlip]:
    """One slip per shipment (location and service) of ``planned`` (``planned_shipments`` rows of the order)."""
    tags = set(note_tags)
    gift = NoteTag.GIFT in tags
    show_prices = not (gift or NoteTag.NO_PRICE_ON_SLIP in tags)
    by_sku = {line.sku: line for line in order.line_items if line.sku}
    shipments: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in planned:
        if int(row["quantity"]) > 0:
            shipments[(str(row["location_id"]), str(row["service_id"]))][str(row["sku"])] += int(row["quantity"])
    slips = []
    for (location, service), quantities in sorted(shipments.items()):
        lines = []
        for sku, quantity in sorted(quantities.items()):
            line = by_sku.get(sku)
            if line is None:  # a bundle's component: no store line of its own, named by its SKU
                title = sku
            else:
                title = f"{line.title} - {line.variant_title}" if line.variant_title else line.title
            price = line.unit_price.amount if line and show_prices else None
            lines.append(SlipLine(sku=sku, title=title, quantity=quantity, unit_price=price,
                                  line_total=None if price is None else price * quantity))
        slips.append(PackingSlip(
            store_name=store_name, order_id=order.id, order_number=order.name, order_date=order.created_at.date(),
            shipment_ref=f"{location} / {service}", ship_to=_ship_to(order.shipping_address), lines=tuple(lines),
            show_prices=show_prices, currency=order.currency,
            gift_message=gift_message if gift and gift_message else None))
    return slips
