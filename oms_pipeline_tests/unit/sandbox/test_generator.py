"""The order generator and the store: deterministic for a seed, arithmetic that adds up in Decimal,
malformed orders at the configured rate that the domain parsers refuse, valid ones they accept."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from oms_pipeline.domain.orders import OrderParseError, parse_time
from oms_pipeline.domain.shopify.graphql import parse_graphql_order
from oms_pipeline.domain.shopify.rest import parse_rest_order
from oms_pipeline.sandbox.generator import FAULT_KINDS, OrderGenerator
from oms_pipeline.sandbox.graphql_api import graphql_view
from oms_pipeline.sandbox.store import SandboxStore


def _fixed_clock(moment: datetime):
    return lambda: moment


NOW = datetime(2025, 1, 10, 17, 0, tzinfo=UTC)


def test_same_seed_same_orders_and_history():
    a = SandboxStore(seed=9, orders=80, rate_per_min=0.0, clock=_fixed_clock(NOW))
    b = SandboxStore(seed=9, orders=80, rate_per_min=0.0, clock=_fixed_clock(NOW))
    assert [r.rest() for r in a.records()] == [r.rest() for r in b.records()]
    assert a.advance(30) == b.advance(30)
    assert [r.rest() for r in a.records()] == [r.rest() for r in b.records()]
    c = SandboxStore(seed=10, orders=80, rate_per_min=0.0, clock=_fixed_clock(NOW))
    assert [r.rest() for r in c.records()] != [r.rest() for r in a.records()]


def test_events_fall_due_at_the_rate_on_the_clock():
    def run() -> SandboxStore:
        now = [NOW]
        store = SandboxStore(seed=1, orders=10, rate_per_min=30.0, clock=lambda: now[0])
        assert store.catch_up() == 0
        now[0] = NOW + timedelta(seconds=61)  # 30/min: one event every 2 s
        assert store.catch_up() == 30
        assert max(parse_time(s) for s in store.current_versions().values()) <= now[0]
        return store

    assert run().current_versions() == run().current_versions(), "same seed and clock, same history"


def test_initial_orders_span_three_days_and_precede_now():
    store = SandboxStore(seed=4, orders=300, rate_per_min=0.0, clock=_fixed_clock(NOW))
    created = [r.created for r in store.records()]
    assert min(created) >= NOW - timedelta(days=3, seconds=1) and max(created) < NOW
    assert all(r.created <= r.updated < NOW for r in store.records())
    assert sum(r.updated > r.created for r in store.records()) > 100, "history changed many orders"
    numbers = [r.order["order_number"] for r in store.records()]
    assert numbers == sorted(numbers) and len(set(numbers)) == 300


def _d(value: str) -> Decimal:
    assert isinstance(value, str), value  # money never as a float
    return Decimal(value)


def _check_money(order: dict) -> None:
    for side in ("shop_money", "presentment_money"):
        def amount(money_set: dict, side: str = side) -> Decimal:
            return _d(money_set[side]["amount"])

        lines = order["line_items"]
        gross = sum((amount(li["price_set"]) * li["quantity"] for li in lines), Decimal(0))
        discounts = sum((amount(li["total_discount_set"]) for li in lines), Decimal(0))
        tax = sum((amount(t["price_set"]) for li in lines for t in li["tax_lines"]), Decimal(0))
        shipping = sum((amount(s["discounted_price_set"]) for s in order["shipping_lines"]), Decimal(0))
        assert amount(order["total_line_items_price_set"]) == gross
        assert amount(order["total_discounts_set"]) == discounts
        assert amount(order["subtotal_price_set"]) == gross - discounts
        assert amount(order["total_shipping_price_set"]) == shipping
        assert amount(order["total_tax_set"]) == tax
        assert amount(order["total_price_set"]) == gross - discounts + shipping + tax
        if order["taxes_included"]:
            assert tax == 0
    # The plain fields are the shop-money twins.
    for name in ("subtotal_price", "total_price", "total_tax", "total_discounts", "total_line_items_price"):
        assert _d(order[name]) == _d(order[f"{name}_set"]["shop_money"]["amount"])
    assert order["currency"] == "USD"
    assert {order[f"{n}_set"]["presentment_money"]["currency_code"] for n in ("total_price", "subtotal_price")} \
        == {order["presentment_currency"]}


def test_money_identities_hold_for_every_valid_order_through_its_history():
    store = SandboxStore(seed=12, orders=400, rate_per_min=0.0, malformed_rate=0.05, clock=_fixed_clock(NOW))
    store.advance(400)  # edits change quantities, so the identities are checked after changes too
    valid = [r for r in store.records() if not r.faults]
    assert len(valid) > 500
    for record in valid:
        _check_money(record.rest())
    currencies = Counter(r.order["presentment_currency"] for r in valid)
    assert {"USD", "EUR", "GBP", "JPY"} <= set(currencies), currencies
    jpy = next(r.order for r in valid if r.order["presentment_currency"] == "JPY")
    assert "." not in jpy["total_price_set"]["presentment_money"]["amount"], "JPY has no minor unit"


def test_orders_are_realistic():
    store = SandboxStore(seed=3, orders=400, rate_per_min=0.0, malformed_rate=0.0, clock=_fixed_clock(NOW))
    orders = [r.rest() for r in store.records()]
    assert {o["shipping_address"]["country_code"] for o in orders if o["shipping_address"]} >= \
        {"US", "CA", "GB", "DE", "FR", "AU", "JP", "NL"}
    assert any(o["shipping_address"] is None and o["shipping_lines"] == [] for o in orders), "digital orders"
    assert any(o["billing_address"]["country_code"] != (o["shipping_address"] or {}).get("country_code")
               for o in orders)
    assert any(li["gift_card"] for o in orders for li in o["line_items"])
    assert max(len(o["line_items"]) for o in orders) > 10
    assert sum(o["note"] is not None for o in orders) > 40
    assert any("versenden" in (o["note"] or "") or "livrer" in (o["note"] or "") for o in orders)
    assert {o["fulfillment_status"] for o in orders} >= {None, "fulfilled"}
    assert {o["financial_status"] for o in orders} >= {"paid", "authorized", "pending"}
    assert any(o["cancelled_at"] and o["cancel_reason"] for o in orders)
    assert all(isinstance(o["id"], int) and o["id"] > 2**32 for o in orders)
    assert all(o["created_at"].endswith("-05:00") for o in orders)
    sample = orders[0]
    assert sample["admin_graphql_api_id"] == f"gid://shopify/Order/{sample['id']}"
    assert sample["name"] == f"#{sample['order_number']}"


def test_malformed_orders_at_the_configured_rate_with_their_kinds():
    store = SandboxStore(seed=5, orders=2000, rate_per_min=0.0, malformed_rate=0.05, clock=_fixed_clock(NOW))
    malformed = store.malformed()
    assert 60 <= len(malformed) <= 140, len(malformed)
    kinds = Counter(kind for found in malformed.values() for kind in found)
    assert set(kinds) == set(FAULT_KINDS), kinds
    unidentified = [k for k in malformed if not k]
    assert len(unidentified) == kinds["missing_id"] and len(set(map(id, unidentified))) == len(unidentified)
    served = {str(r.rest().get("id")) for r in store.records() if "id" in r.rest()}
    assert {k for k in malformed if k} <= served
    assert set(store.current_versions()) == served


def test_domain_parsers_refuse_every_malformed_order_and_accept_every_valid_one():
    store = SandboxStore(seed=6, orders=1200, rate_per_min=0.0, malformed_rate=0.1, clock=_fixed_clock(NOW))
    store.advance(200)
    for record in store.records():
        rest = record.rest()
        view = graphql_view(rest)
        for name in ("lineItems", "shippingLines"):  # as a query selecting `nodes` would see them
            if view[name] is not None:
                view[name] = {"nodes": view[name]}
        for parse, payload in ((parse_rest_order, rest), (parse_graphql_order, view)):
            if record.faults:
                with pytest.raises(OrderParseError):
                    parse(payload, "oms-sandbox.myshopify.com")
            else:
                parse(payload, "oms-sandbox.myshopify.com")


def test_generator_alone_is_deterministic():
    one, two = OrderGenerator(seed=2), OrderGenerator(seed=2)
    assert [one.new_order(NOW) for _ in range(20)] == [two.new_order(NOW) for _ in range(20)]
