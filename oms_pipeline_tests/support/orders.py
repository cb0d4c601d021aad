"""Small hand-built canonical orders and signals, for the decision, 3PL handoff and packing slip tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from oms_pipeline.domain.decisions import FraudAssessment, FulfillmentOutlook, NoteTags
from oms_pipeline.domain.orders import Address, Customer, FinancialStatus, FulfillmentStatus, LineItem, Money, Order

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def usd(amount: str | int) -> Money:
    """An amount in USD."""
    return Money(amount=Decimal(str(amount)), currency="USD")


def address(country: str = "US", address1: str | None = "1 Main St") -> Address:
    """A minimal address."""
    return Address(address1=address1, city="Springfield", zip="12345", country_code=country)


def make_order(
    lines: list[tuple[str | None, int, str]] | None = None,
    *,
    order_id: str = "1001",
    tags: tuple[str, ...] = (),
    customer_tags: tuple[str, ...] = (),
    financial_status: FinancialStatus = FinancialStatus.PAID,
    shipping: Address | None = None,
    billing: Address | None = None,
    no_shipping_address: bool = False,
    note: str | None = None,
) -> Order:
    """A minimal valid order; ``lines`` are (sku, quantity, unit price in USD)."""
    lines = lines if lines is not None else [("MUG-BLK", 1, "20")]
    items = tuple(
        LineItem(
            id=str(i + 1), sku=sku, title=sku or "custom", quantity=qty, unit_price=usd(price), total_discount=usd(0)
        )
        for i, (sku, qty, price) in enumerate(lines)
    )
    subtotal = sum((li.line_total.amount for li in items), Decimal("0"))
    return Order(
        shop_domain="demo.myshopify.com",
        id=order_id,
        name=f"#{order_id}",
        created_at=T0,
        updated_at=T0,
        currency="USD",
        presentment_currency="USD",
        subtotal_price=usd(subtotal),
        total_discounts=usd(0),
        total_shipping=usd(0),
        total_tax=usd(0),
        total_price=usd(subtotal),
        presentment_total_price=usd(subtotal),
        financial_status=financial_status,
        fulfillment_status=FulfillmentStatus.UNFULFILLED,
        tags=tags,
        note=note,
        customer=Customer(id="77", tags=customer_tags, orders_count=3),
        shipping_address=None if no_shipping_address else (shipping or address()),
        billing_address=billing or address(),
        line_items=items,
    )


def fraud(score: float = 0.1) -> FraudAssessment:
    """A fraud assessment with one reason."""
    return FraudAssessment(score=score, reasons=("test",), model_version="test-fraud", review_threshold=0.8)


def notes(*tags: str) -> NoteTags:
    """Note tags from their names."""
    return NoteTags(tags=frozenset(tags), engine="test-notes", confidence=0.9)


def outlook(
    available: dict[str, int] | None = None,
    *,
    incoming: dict[str, int] | None = None,
    one_location: bool = True,
    shippable: bool = True,
) -> FulfillmentOutlook:
    """A fulfillment outlook; by default plenty of the default SKU, one location, shippable address."""
    return FulfillmentOutlook(
        available_by_sku=available if available is not None else {"MUG-BLK": 100},
        incoming_by_sku=incoming or {},
        one_location_ships_all=one_location,
        address_shippable=shippable,
    )
