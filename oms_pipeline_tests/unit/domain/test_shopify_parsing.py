"""Shopify REST and GraphQL payloads -> the one canonical order; bad payloads name order and field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from oms_pipeline.domain.orders import FinancialStatus, FulfillmentStatus, Money, OrderParseError
from oms_pipeline.domain.shopify.graphql import parse_graphql_order
from oms_pipeline.domain.shopify.rest import parse_rest_order

SHOP = "nordwool.myshopify.com"


def test_rest_order_parses_into_canonical_model(rest_order):
    order = parse_rest_order(rest_order, SHOP)
    assert order.id == "5718921449652"  # 64-bit id kept exactly, as text
    assert order.name == "#1042" and order.number == 1042
    assert order.total_price == Money(amount=Decimal("115.97"), currency="USD")
    assert order.presentment_total_price == Money(amount=Decimal("107.61"), currency="EUR")
    assert order.total_shipping.amount == Decimal("8.00")
    assert order.fulfillment_status is FulfillmentStatus.UNFULFILLED  # REST null
    assert order.financial_status is FinancialStatus.PAID
    assert order.tags == ("vip", "gift")
    assert order.created_at == datetime(2025, 1, 10, 17, 34, 56, tzinfo=UTC)
    assert order.created_at.tzinfo is not None
    assert [li.id for li in order.line_items] == ["14183740014772", "14183740047540"]
    assert order.line_items[0].line_total == Money(amount=Decimal("71.98"), currency="USD")
    assert order.line_items_total == order.subtotal_price
    assert order.unit_count == 3
    assert order.customer and order.customer.orders_count == 7
    assert order.shipping_address and order.shipping_address.country_code == "DE"
    assert order.note_attributes == {"gift_wrap": "yes"}
    assert order.discount_codes == ("WINTER10",)


def test_graphql_and_rest_shapes_give_the_same_order(rest_order, graphql_order):
    from_rest = parse_rest_order(rest_order, SHOP)
    from_graphql = parse_graphql_order(graphql_order, SHOP)
    comparable = {"tags", "shipping_lines"}  # GraphQL sorts tags; shipping line ids differ in form only
    assert from_rest.model_dump(exclude=comparable) == from_graphql.model_dump(exclude=comparable)
    assert sorted(from_rest.tags) == sorted(from_graphql.tags)


def test_the_same_order_over_either_api_has_one_decision_fingerprint(rest_order, graphql_order):
    from oms_pipeline.domain.decisions.decide import order_fingerprint

    fingerprint = order_fingerprint(parse_rest_order(rest_order, SHOP))
    assert order_fingerprint(parse_graphql_order(graphql_order, SHOP)) == fingerprint
    # GraphQL stamps UTC and writes money as "115.97" or "8.0"; REST stamps the shop's offset, "8.00".
    shifted = dict(rest_order, created_at="2025-01-10T12:34:56-05:00", total_price="115.970")
    assert order_fingerprint(parse_rest_order(shifted, SHOP)) == fingerprint
    # What decisions read does change it.
    first, *others = rest_order["line_items"]
    changed = dict(rest_order, line_items=[dict(first, quantity=3), *others])
    assert order_fingerprint(parse_rest_order(changed, SHOP)) != fingerprint


def test_money_is_never_float(rest_order):
    order = parse_rest_order(rest_order, SHOP)
    assert isinstance(order.total_price.amount, Decimal)
    assert all(isinstance(li.unit_price.amount, Decimal) for li in order.line_items)


def test_fulfillment_status_partial_maps(rest_order):
    rest_order["fulfillment_status"] = "partial"
    assert parse_rest_order(rest_order, SHOP).fulfillment_status is FulfillmentStatus.PARTIALLY_FULFILLED


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.pop("line_items"), "line_items"),
        (lambda o: o.pop("created_at"), "created_at"),
        (lambda o: o.__setitem__("created_at", "yesterday"), "created_at"),
        (lambda o: o["line_items"][1].__setitem__("quantity", "two"), "line_items[1].quantity"),
        (lambda o: o.__setitem__("currency", "XYZ"), "currency"),
        (lambda o: o.__setitem__("total_price", {"amount": "1.00"}), "total_price"),
        (lambda o: o["line_items"][0].__setitem__("quantity", -2), "line_items[0].quantity"),
        (lambda o: o["line_items"][1].__setitem__("id", o["line_items"][0]["id"]), "line_items"),
        (lambda o: o.__setitem__("total_price", "-5.00"), "total_price"),
        (lambda o: o.__setitem__("financial_status", "mostly_paid"), "financial_status"),
        (lambda o: o.__setitem__("updated_at", "2025-01-10T12:00:00"), "updated_at"),  # naive timestamp
    ],
)
def test_malformed_rest_payload_names_order_and_field(rest_order, mutate, field):
    mutate(rest_order)
    with pytest.raises(OrderParseError) as caught:
        parse_rest_order(rest_order, SHOP)
    error = caught.value
    assert error.order_ref == "#1042 (id 5718921449652)"
    assert field in [e.field for e in error.errors], error.errors
    assert "#1042" in str(error)


def test_payload_without_id_or_name_is_still_described():
    with pytest.raises(OrderParseError) as caught:
        parse_rest_order({"line_items": []}, SHOP)
    assert caught.value.order_ref == "<order without id or name>"
    assert {"id", "name", "created_at"} <= {e.field for e in caught.value.errors}


def test_graphql_bad_enum_and_bad_gid_name_the_field(graphql_order):
    graphql_order["displayFulfillmentStatus"] = "TELEPORTED"
    graphql_order["lineItems"]["nodes"][0]["id"] = "14183740014772"
    with pytest.raises(OrderParseError) as caught:
        parse_graphql_order(graphql_order, SHOP)
    fields = {e.field for e in caught.value.errors}
    assert {"displayFulfillmentStatus", "lineItems.nodes[0].id"} <= fields


def test_graphql_unknown_currency_is_refused(graphql_order):
    graphql_order["totalPriceSet"]["shopMoney"]["currencyCode"] = "XYZ"
    with pytest.raises(OrderParseError) as caught:
        parse_graphql_order(graphql_order, SHOP)
    assert "totalPriceSet.shopMoney.currencyCode" in {e.field for e in caught.value.errors}


def test_money_refuses_to_mix_currencies():
    with pytest.raises(ValueError, match="cannot combine USD with EUR"):
        Money(amount=Decimal("1"), currency="USD") + Money(amount=Decimal("1"), currency="EUR")


def test_graphql_duplicated_line_ids_name_the_graphql_field(graphql_order):
    nodes = graphql_order["lineItems"]["nodes"]
    nodes[1]["id"] = nodes[0]["id"]
    with pytest.raises(OrderParseError) as caught:
        parse_graphql_order(graphql_order, SHOP)
    assert caught.value.reason == "lineItems.nodes: duplicated line item id(s) 14183740014772"
