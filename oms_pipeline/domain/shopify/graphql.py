"""Shopify GraphQL Admin ``Order`` nodes (as ``OrdersPage`` selects them) -> canonical ``Order``.

GraphQL sends global ids (``gid://shopify/Order/123``), money as ``MoneyBag`` objects with decimal
strings, tags as a list, and upper-case enums. Errors name the GraphQL fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

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


def legacy_id(gid: str) -> str:
    """``gid://shopify/Order/123`` -> ``"123"``."""
    tail = gid.rsplit("/", 1)[-1]
    if not gid.startswith("gid://shopify/") or not tail.isdigit():
        raise ValueError(f"not a Shopify global id: {gid!r}")
    return tail


Gid = Annotated[str, AfterValidator(legacy_id)]


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


# GraphQL enums are upper-case names of the same statuses.
GqlFinancialStatus = Annotated[FinancialStatus, BeforeValidator(_lower)]
GqlFulfillmentStatus = Annotated[FulfillmentStatus, BeforeValidator(_lower)]


class _Gql(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class GqlMoney(_Gql):
    amount: Decimal = Field(ge=0, allow_inf_nan=False)
    currencyCode: CurrencyCode


class GqlMoneyBag(_Gql):
    shopMoney: GqlMoney
    presentmentMoney: GqlMoney


class GqlAddress(_Gql):
    firstName: str | None = None
    lastName: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    provinceCode: str | None = None
    zip: str | None = None
    country: str | None = None
    countryCodeV2: CountryCode = None
    phone: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class GqlCustomer(_Gql):
    id: Gid
    email: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    phone: str | None = None
    createdAt: AwareDatetime | None = None
    numberOfOrders: int | None = None  # UnsignedInt64, sent as a string
    tags: list[str] = []


class GqlRef(_Gql):
    id: Gid


class GqlLineItem(_Gql):
    id: Gid
    sku: str | None = None
    title: str
    variantTitle: str | None = None
    vendor: str | None = None
    quantity: int = Field(ge=1)
    requiresShipping: bool = True
    isGiftCard: bool = False
    product: GqlRef | None = None
    variant: GqlRef | None = None
    originalUnitPriceSet: GqlMoneyBag
    totalDiscountSet: GqlMoneyBag


class GqlLineItemConnection(_Gql):
    nodes: list[GqlLineItem]

    @model_validator(mode="after")
    def _unique_ids(self) -> GqlLineItemConnection:
        repeated = duplicated_ids(li.id for li in self.nodes)
        if repeated:
            raise ValueError(f"nodes: duplicated line item id(s) {', '.join(repeated)}")
        return self


class GqlShippingLine(_Gql):
    id: Gid | None = None
    title: str
    code: str | None = None
    source: str | None = None
    originalPriceSet: GqlMoneyBag
    discountedPriceSet: GqlMoneyBag


class GqlShippingLineConnection(_Gql):
    nodes: list[GqlShippingLine] = []


class GqlAttribute(_Gql):
    key: str
    value: str | None = None


class GqlOrder(_Gql):
    """The fields of an ``Order`` node that the canonical model needs."""

    id: Gid
    name: str
    createdAt: AwareDatetime
    updatedAt: AwareDatetime
    processedAt: AwareDatetime | None = None
    cancelledAt: AwareDatetime | None = None
    cancelReason: str | None = None
    closedAt: AwareDatetime | None = None
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    tags: list[str] = []
    sourceName: str | None = None
    test: bool = False
    taxesIncluded: bool = False
    currencyCode: CurrencyCode
    presentmentCurrencyCode: CurrencyCode
    displayFinancialStatus: GqlFinancialStatus | None = None
    displayFulfillmentStatus: GqlFulfillmentStatus
    customerLocale: str | None = None
    clientIp: str | None = None
    discountCodes: list[str] = []
    customAttributes: list[GqlAttribute] = []
    subtotalPriceSet: GqlMoneyBag
    totalPriceSet: GqlMoneyBag
    totalTaxSet: GqlMoneyBag | None = None
    totalDiscountsSet: GqlMoneyBag | None = None
    totalShippingPriceSet: GqlMoneyBag
    customer: GqlCustomer | None = None
    shippingAddress: GqlAddress | None = None
    billingAddress: GqlAddress | None = None
    shippingLines: GqlShippingLineConnection = GqlShippingLineConnection()
    lineItems: GqlLineItemConnection


def _address(a: GqlAddress | None) -> Address | None:
    if a is None:
        return None
    return Address(
        first_name=a.firstName, last_name=a.lastName, company=a.company, address1=a.address1,
        address2=a.address2, city=a.city, province=a.province, province_code=a.provinceCode, zip=a.zip,
        country=a.country, country_code=a.countryCodeV2, phone=a.phone, latitude=a.latitude,
        longitude=a.longitude,
    )


def _shop(bag: GqlMoneyBag | None, currency: str) -> Money:
    if bag is None:
        return Money.zero(currency)
    return Money(amount=bag.shopMoney.amount, currency=bag.shopMoney.currencyCode)


def canonical_from_graphql(node: GqlOrder, shop_domain: str) -> Order:
    """The canonical order for a validated GraphQL node (may raise ``ValidationError``)."""
    cur = node.currencyCode
    customer = None
    if node.customer:
        c = node.customer
        customer = Customer(id=c.id, email=c.email, first_name=c.firstName, last_name=c.lastName, phone=c.phone,
                            created_at=c.createdAt, orders_count=c.numberOfOrders, tags=tuple(c.tags))
    return Order(
        shop_domain=shop_domain,
        id=node.id,
        admin_graphql_api_id=f"gid://shopify/Order/{node.id}",
        name=node.name,
        number=int(node.name.lstrip("#")) if node.name.lstrip("#").isdigit() else None,
        email=node.email,
        phone=node.phone,
        created_at=node.createdAt,
        updated_at=node.updatedAt,
        processed_at=node.processedAt,
        cancelled_at=node.cancelledAt,
        cancel_reason=node.cancelReason.lower() if node.cancelReason else None,
        closed_at=node.closedAt,
        currency=cur,
        presentment_currency=node.presentmentCurrencyCode,
        subtotal_price=_shop(node.subtotalPriceSet, cur),
        total_discounts=_shop(node.totalDiscountsSet, cur),
        total_shipping=_shop(node.totalShippingPriceSet, cur),
        total_tax=_shop(node.totalTaxSet, cur),
        total_price=_shop(node.totalPriceSet, cur),
        presentment_total_price=Money(amount=node.totalPriceSet.presentmentMoney.amount,
                                      currency=node.totalPriceSet.presentmentMoney.currencyCode),
        financial_status=node.displayFinancialStatus or FinancialStatus.PENDING,
        fulfillment_status=node.displayFulfillmentStatus,
        tags=tuple(node.tags),
        note=node.note,
        note_attributes={a.key: a.value or "" for a in node.customAttributes},
        source_name=node.sourceName,
        browser_ip=node.clientIp,
        customer_locale=node.customerLocale,
        discount_codes=tuple(node.discountCodes),
        test=node.test,
        taxes_included=node.taxesIncluded,
        customer=customer,
        billing_address=_address(node.billingAddress),
        shipping_address=_address(node.shippingAddress),
        line_items=tuple(
            LineItem(
                id=li.id, sku=li.sku, title=li.title, variant_title=li.variantTitle, vendor=li.vendor,
                product_id=li.product.id if li.product else None,
                variant_id=li.variant.id if li.variant else None,
                quantity=li.quantity, unit_price=_shop(li.originalUnitPriceSet, cur),
                total_discount=_shop(li.totalDiscountSet, cur), requires_shipping=li.requiresShipping,
                is_gift_card=li.isGiftCard,
            )
            for li in node.lineItems.nodes
        ),
        shipping_lines=tuple(
            ShippingLine(id=s.id, title=s.title, code=s.code, source=s.source,
                         price=_shop(s.originalPriceSet, cur), discounted_price=_shop(s.discountedPriceSet, cur))
            for s in node.shippingLines.nodes
        ),
    )


def parse_graphql_order(payload: Any, shop_domain: str) -> Order:
    """Validate one GraphQL ``Order`` node into an ``Order``; raise ``OrderParseError`` if it is bad."""
    try:
        return canonical_from_graphql(GqlOrder.model_validate(payload), shop_domain)
    except ValidationError as exc:
        raise to_parse_error(payload, exc) from None
