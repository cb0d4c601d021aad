"""The canonical order model: one shape for every store, validated at the boundary.

Money is ``Decimal`` with an ISO 4217 currency, never float. Timestamps are timezone-aware.
Ids are the store's numeric ids as text (Shopify's are 64-bit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated

import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)


@cache
def iso_currency_codes() -> frozenset[str]:
    """Every active ISO 4217 alphabetic code."""
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _check_currency(code: str) -> str:
    if code not in iso_currency_codes():
        raise ValueError(f"unknown ISO 4217 currency code {code!r}")
    return code


def _check_country(code: str | None) -> str | None:
    if code is not None and pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"unknown ISO 3166 country code {code!r}")
    return code


CurrencyCode = Annotated[str, Field(min_length=3, max_length=3), AfterValidator(_check_currency)]
CountryCode = Annotated[str | None, AfterValidator(_check_country)]
NumericId = Annotated[str, Field(pattern=r"^[0-9]{1,20}$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Money(_Frozen):
    """An amount in one currency. Arithmetic refuses to mix currencies."""

    amount: Decimal = Field(allow_inf_nan=False)
    currency: CurrencyCode

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def times(self, factor: int) -> Money:
        """This amount multiplied by a whole quantity."""
        return Money(amount=self.amount * factor, currency=self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in ``currency``."""
        return cls(amount=Decimal("0"), currency=currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class FinancialStatus(StrEnum):
    """Where the money stands (Shopify's display financial status)."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    EXPIRED = "expired"


class FulfillmentStatus(StrEnum):
    """Where the goods stand. Shopify's REST ``null`` means unfulfilled."""

    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    RESTOCKED = "restocked"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    SCHEDULED = "scheduled"
    PENDING_FULFILLMENT = "pending_fulfillment"
    REQUEST_DECLINED = "request_declined"


class Address(_Frozen):
    """A postal address (shipping or billing)."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: CountryCode = None
    phone: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class Customer(_Frozen):
    """The buyer, as the order carries it."""

    id: NumericId
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    created_at: AwareDatetime | None = None
    orders_count: int | None = Field(default=None, ge=0)
    tags: tuple[str, ...] = ()


class LineItem(_Frozen):
    """One ordered product variant and quantity, priced in the shop currency."""

    id: NumericId
    sku: str | None = None
    title: str
    variant_title: str | None = None
    vendor: str | None = None
    product_id: NumericId | None = None
    variant_id: NumericId | None = None
    quantity: int = Field(ge=1)
    unit_price: Money
    total_discount: Money
    requires_shipping: bool = True
    is_gift_card: bool = False

    @property
    def line_total(self) -> Money:
        """What the line costs after its own discounts."""
        return self.unit_price.times(self.quantity) - self.total_discount

    @model_validator(mode="after")
    def _discount_within_price(self) -> LineItem:
        if self.total_discount.amount < 0:
            raise ValueError("total_discount must not be negative")
        if self.unit_price.amount < 0:
            raise ValueError("unit_price must not be negative")
        if self.total_discount.currency != self.unit_price.currency:
            raise ValueError("unit_price and total_discount are in different currencies")
        return self


class ShippingLine(_Frozen):
    """A shipping method the customer chose and paid for."""

    id: NumericId | None = None
    title: str
    code: str | None = None
    source: str | None = None
    price: Money
    discounted_price: Money


class Order(_Frozen):
    """One version of a store order, in the canonical shape every rule works on."""

    shop_domain: str = Field(min_length=1)
    id: NumericId
    admin_graphql_api_id: str | None = None
    name: str = Field(min_length=1)
    number: int | None = None
    email: str | None = None
    phone: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = None
    closed_at: AwareDatetime | None = None
    currency: CurrencyCode
    presentment_currency: CurrencyCode
    subtotal_price: Money
    total_discounts: Money
    total_shipping: Money
    total_tax: Money
    total_price: Money
    presentment_total_price: Money
    financial_status: FinancialStatus
    fulfillment_status: FulfillmentStatus
    tags: tuple[str, ...] = ()
    note: str | None = None
    note_attributes: dict[str, str] = Field(default_factory=dict)
    source_name: str | None = None
    browser_ip: str | None = None
    customer_locale: str | None = None
    discount_codes: tuple[str, ...] = ()
    test: bool = False
    taxes_included: bool = False
    customer: Customer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    line_items: tuple[LineItem, ...] = Field(min_length=1)
    shipping_lines: tuple[ShippingLine, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Order:
        duplicated = duplicated_ids(li.id for li in self.line_items)
        if duplicated:
            raise ValueError(f"line_items: duplicated line item id(s) {', '.join(duplicated)}")
        for name in ("subtotal_price", "total_discounts", "total_shipping", "total_tax", "total_price"):
            money: Money = getattr(self, name)
            if money.currency != self.currency:
                raise ValueError(f"{name}: currency {money.currency} is not the shop currency {self.currency}")
            if money.amount < 0:
                raise ValueError(f"{name}: must not be negative (got {money.amount})")
        for position, line in enumerate(self.line_items):
            if line.unit_price.currency != self.currency:
                raise ValueError(
                    f"line_items[{position}].unit_price: currency {line.unit_price.currency} "
                    f"is not the shop currency {self.currency}"
                )
        if self.presentment_total_price.currency != self.presentment_currency:
            raise ValueError("presentment_total_price: currency differs from presentment_currency")
        if self.updated_at < self.created_at:
            raise ValueError("updated_at: earlier than created_at")
        return self

    @property
    def line_items_total(self) -> Money:
        """Sum of line totals after line discounts (equals the subtotal in a consistent order)."""
        total = Money.zero(self.currency)
        for line in self.line_items:
            total = total + line.line_total
        return total

    @property
    def unit_count(self) -> int:
        """How many units the order asks for."""
        return sum(line.quantity for line in self.line_items)


def duplicated_ids(ids: Iterable[str]) -> list[str]:
    """The ids that occur more than once, sorted."""
    return sorted(i for i, n in Counter(ids).items() if n > 1)


class FieldError(_Frozen):
    """One reason a payload was refused: the field's path and what is wrong with it."""

    field: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class OrderParseError(ValueError):
    """A payload that cannot become a canonical order; names the order and every bad field."""

    def __init__(self, order_ref: str, errors: list[FieldError]):
        self.order_ref = order_ref
        self.errors = errors
        listed = "; ".join(str(e) for e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"order {order_ref}: {listed}{more}")

    @property
    def reason(self) -> str:
        """The first error, as one line: what quarantine shows first."""
        return str(self.errors[0])


def parse_time(value: str | datetime) -> datetime:
    """An aware ``datetime`` from an ISO-8601 string; naive input is an error, not a guess."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return parsed
