"""Shopify REST Admin ``orders.json`` elements -> canonical ``Order``.

The REST shape sends money as strings with ``*_set`` twins (shop and presentment money), ids as
64-bit integers, tags as one comma-separated string and ``fulfillment_status: null`` for an
unfulfilled order. Field names in errors are the REST names, so an operator can find them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from oms_pipeline.domain.orders import (
    Address,
    CountryCode,
    CurrencyCode,
    Customer,
    FinancialStatus,
    FulfillmentStatus,
    LineItem,
    Money,
    Order,
    ShippingLine,
    duplicated_ids,
)
from oms_pipeline.domain.shopify.errors import to_parse_error

ShopifyId = int  # REST ids are JSON integers up to 2**63


class _Rest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RestMoney(_Rest):
    amount: Decimal = Field(ge=0, allow_inf_nan=False)
    currency_code: CurrencyCode


class RestMoneySet(_Rest):
    shop_money: RestMoney
    presentment_money: RestMoney


class RestAddress(_Rest):
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


class RestCustomer(_Rest):
    id: ShopifyId
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    created_at: AwareDatetime | None = None
    orders_count: int | None = None
    tags: str = ""


class RestLineItem(_Rest):
    id: ShopifyId
    variant_id: ShopifyId | None = None
    product_id: ShopifyId | None = None
    sku: str | None = None
    title: str
    variant_title: str | None = None
    vendor: str | None = None
    quantity: int = Field(ge=1)
    price: Decimal = Field(ge=0, allow_inf_nan=False)
    total_discount: Decimal = Field(default=Decimal("0"), ge=0, allow_inf_nan=False)
    requires_shipping: bool = True
    gift_card: bool = False


class RestShippingLine(_Rest):
    id: ShopifyId | None = None
    title: str
    code: str | None = None
    source: str | None = None
    price: Decimal = Field(ge=0, allow_inf_nan=False)
    discounted_price: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)


class RestNameValue(_Rest):
    name: str
    value: str | None = None


class RestDiscountCode(_Rest):
    code: str


class RestOrder(_Rest):
    """The fields of a REST order element that the canonical model needs."""

    id: ShopifyId
    admin_graphql_api_id: str | None = None
    name: str
    order_number: int | None = None
    email: str | None = None
    phone: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    processed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = None
    closed_at: AwareDatetime | None = None
    currency: CurrencyCode
    presentment_currency: CurrencyCode | None = None
    subtotal_price: Decimal = Field(ge=0, allow_inf_nan=False)
    total_price: Decimal = Field(ge=0, allow_inf_nan=False)
    total_price_set: RestMoneySet | None = None
    total_tax: Decimal = Field(default=Decimal("0"), ge=0, allow_inf_nan=False)
    total_discounts: Decimal = Field(default=Decimal("0"), ge=0, allow_inf_nan=False)
    total_shipping_price_set: RestMoneySet | None = None
    financial_status: FinancialStatus = FinancialStatus.PENDING
    fulfillment_status: Literal["fulfilled", "partial", "restocked"] | None = None
    tags: str = ""
    note: str | None = None
    note_attributes: list[RestNameValue] = []
    source_name: str | None = None
    browser_ip: str | None = None
    customer_locale: str | None = None
    discount_codes: list[RestDiscountCode] = []
    test: bool = False
    taxes_included: bool = False
    customer: RestCustomer | None = None
    billing_address: RestAddress | None = None
    shipping_address: RestAddress | None = None
    line_items: list[RestLineItem]
    shipping_lines: list[RestShippingLine] = []

    @model_validator(mode="after")
    def _unique_line_ids(self) -> RestOrder:
        repeated = duplicated_ids(str(li.id) for li in self.line_items)
        if repeated:
            raise ValueError(f"line_items: duplicated line item id(s) {', '.join(repeated)}")
        return self


_REST_FULFILLMENT = {
    None: FulfillmentStatus.UNFULFILLED,
    "partial": FulfillmentStatus.PARTIALLY_FULFILLED,
    "fulfilled": FulfillmentStatus.FULFILLED,
    "restocked": FulfillmentStatus.RESTOCKED,
}


def split_tags(tags: str) -> tuple[str, ...]:
    """Shopify's ``"vip, wholesale"`` -> ``("vip", "wholesale")``."""
    return tuple(t.strip() for t in tags.split(",") if t.strip())


def _address(a: RestAddress | None) -> Address | None:
    return None if a is None else Address(**a.model_dump())


def canonical_from_rest(rest: RestOrder, shop_domain: str) -> Order:
    """The canonical order for a validated REST payload (may raise ``ValidationError``)."""
    cur = rest.currency
    presentment = rest.presentment_currency or cur

    def money(amount: Decimal) -> Money:
        return Money(amount=amount, currency=cur)

    shipping = (
        rest.total_shipping_price_set.shop_money.amount
        if rest.total_shipping_price_set
        else sum((s.discounted_price if s.discounted_price is not None else s.price for s in rest.shipping_lines),
                 Decimal("0"))
    )
    presentment_total = (
        Money(amount=rest.total_price_set.presentment_money.amount,
              currency=rest.total_price_set.presentment_money.currency_code)
        if rest.total_price_set
        else Money(amount=rest.total_price, currency=presentment)
    )
    customer = None
    if rest.customer:
        c = rest.customer
        customer = Customer(id=str(c.id), email=c.email, first_name=c.first_name, last_name=c.last_name,
                            phone=c.phone, created_at=c.created_at, orders_count=c.orders_count,
                            tags=split_tags(c.tags))
    return Order(
        shop_domain=shop_domain,
        id=str(rest.id),
        admin_graphql_api_id=rest.admin_graphql_api_id or f"gid://shopify/Order/{rest.id}",
        name=rest.name,
        number=rest.order_number,
        email=rest.email,
        phone=rest.phone,
        created_at=rest.created_at,
        updated_at=rest.updated_at,
        processed_at=rest.processed_at,
        cancelled_at=rest.cancelled_at,
        cancel_reason=rest.cancel_reason,
        closed_at=rest.closed_at,
        currency=cur,
        presentment_currency=presentment,
        subtotal_price=money(rest.subtotal_price),
        total_discounts=money(rest.total_discounts),
        total_shipping=money(shipping),
        total_tax=money(rest.total_tax),
        total_price=money(rest.total_price),
        presentment_total_price=presentment_total,
        financial_status=rest.financial_status,
        fulfillment_status=_REST_FULFILLMENT[rest.fulfillment_status],
        tags=split_tags(rest.tags),
        note=rest.note,
        note_attributes={a.name: a.value or "" for a in rest.note_attributes},
        source_name=rest.source_name,
        browser_ip=rest.browser_ip,
        customer_locale=rest.customer_locale,
        discount_codes=tuple(d.code for d in rest.discount_codes),
        test=rest.test,
        taxes_included=rest.taxes_included,
        customer=customer,
        billing_address=_address(rest.billing_address),
        shipping_address=_address(rest.shipping_address),
        line_items=tuple(
            LineItem(
                id=str(li.id), sku=li.sku, title=li.title, variant_title=li.variant_title, vendor=li.vendor,
                product_id=None if li.product_id is None else str(li.product_id),
                variant_id=None if li.variant_id is None else str(li.variant_id),
                quantity=li.quantity, unit_price=money(li.price), total_discount=money(li.total_discount),
                requires_shipping=li.requires_shipping, is_gift_card=li.gift_card,
            )
            for li in rest.line_items
        ),
        shipping_lines=tuple(
            ShippingLine(
                id=None if s.id is None else str(s.id), title=s.title, code=s.code, source=s.source,
                price=money(s.price),
                discounted_price=money(s.discounted_price if s.discounted_price is not None else s.price),
            )
            for s in rest.shipping_lines
        ),
    )


def parse_rest_order(payload: Any, shop_domain: str) -> Order:
    """Validate one REST ``orders.json`` element into an ``Order``; raise ``OrderParseError`` if it is bad."""
    try:
        return canonical_from_rest(RestOrder.model_validate(payload), shop_domain)
    except ValidationError as exc:
        raise to_parse_error(payload, exc) from None
