"""The canonical order, seen as the REST ``orders.json`` element the fraud features read.

The features are written against Shopify's REST order (that is what the offline CLI receives); the
pipeline holds canonical orders parsed from either API. This view gives the pipeline the same
features from the same code, field for field, without a second feature implementation.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from oms_pipeline.domain.orders import Address, Order


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    view = address.model_dump(mode="json")
    view["name"] = " ".join(p for p in (address.first_name, address.last_name) if p) or None
    return view


def rest_view(order: Order) -> dict[str, Any]:
    """The fields of a REST order element that :mod:`~oms_pipeline.domain.fraud.features` reads.

    Only order-time facts: statuses, tags and ``updated_at`` are left out so they cannot leak.
    """
    lines = [{
        "id": line.id, "sku": line.sku, "title": line.title, "quantity": line.quantity,
        "price": str(line.unit_price.amount), "gift_card": line.is_gift_card,
        "total_discount": str(line.total_discount.amount), "requires_shipping": line.requires_shipping,
    } for line in order.line_items]
    gross = sum(line.unit_price.amount * line.quantity for line in order.line_items)
    customer = order.customer
    return {
        "id": order.id,
        # UTC: GraphQL stamps UTC and REST the shop's offset, and the same order must score the same
        # whichever API brought it (the "shop local hour" feature is then the UTC hour).
        "created_at": order.created_at.astimezone(UTC).isoformat(),
        "email": order.email,
        "browser_ip": order.browser_ip,
        "customer_locale": order.customer_locale,
        "total_price": str(order.total_price.amount),
        "currency": order.currency,
        "total_line_items_price": str(gross),
        "total_discounts": str(order.total_discounts.amount),
        "discount_codes": [{"code": code} for code in order.discount_codes],
        "source_name": order.source_name,
        "customer": None if customer is None else {
            "id": customer.id, "email": customer.email, "first_name": customer.first_name,
            "last_name": customer.last_name,
            "created_at": customer.created_at.isoformat() if customer.created_at else None,
        },
        "billing_address": _address(order.billing_address),
        "shipping_address": _address(order.shipping_address),
        "line_items": lines,
        "shipping_lines": [{"title": s.title, "code": s.code, "price": str(s.price.amount),
                            "discounted_price": str(s.discounted_price.amount)} for s in order.shipping_lines],
    }
