"""Reconciliation inputs: parsing names the order and field of bad records."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

from oms_pipeline.domain.reconciliation import (
    check_invoice_header,
    parse_invoice_rows,
    parse_shipments,
    parse_store_order,
)
from oms_pipeline_tests.support.reconciliation_orders import order_with_everything as _order_with_everything

NOW = datetime(2025, 4, 1, tzinfo=UTC)
SHOP = "shop.myshopify.com"


def test_store_order_becomes_rows_for_every_table():
    order = _order_with_everything()
    parsed = parse_store_order(order, SHOP, NOW)
    assert parsed.errors == []
    rows = parsed.rows
    fulfillment = order["fulfillments"][0]
    assert rows["store_fulfillments"][0]["fulfillment_id"] == str(fulfillment["id"])
    assert sum(r["quantity"] for r in rows["store_fulfillment_lines"]) == sum(
        line["quantity"] for line in fulfillment["line_items"])
    refund = order["refunds"][0]
    assert rows["store_refunds"][0]["lines_amount"] == Decimal(refund["refund_line_items"][0]["subtotal"])
    assert rows["store_refund_lines"][0]["restock_type"] == "cancel"
    kinds = sorted((r["kind"], r["refund_id"]) for r in rows["store_transactions"])
    assert kinds == [("refund", str(refund["id"])), ("sale", None)]
    shipping = order["shipping_lines"][0]
    assert rows["store_shipping_lines"][0]["discounted_price"] == Decimal(shipping["discounted_price"])


def test_bad_store_records_are_reported_with_order_and_field_and_skipped():
    order = _order_with_everything()
    bad = copy.deepcopy(order)
    bad["fulfillments"][0]["line_items"][0]["quantity"] = "two"
    bad["transactions"][0]["amount"] = "12,50"
    parsed = parse_store_order(bad, SHOP, NOW)
    messages = sorted(str(e) for e in parsed.errors)
    assert messages == [
        f"orders: order {order['id']}: fulfillments[0].line_items[0].quantity: not a whole number: 'two'",
        f"orders: order {order['id']}: transactions[0].amount: not an amount: '12,50'",
    ]
    # The rest of the order still lands: refunds, their transaction, shipping.
    assert "store_fulfillments" not in parsed.rows
    assert len(parsed.rows["store_refunds"]) == 1
    assert [r["kind"] for r in parsed.rows["store_transactions"]] == ["refund"]
    no_id = parse_store_order({"currency": "USD"}, SHOP, NOW)
    assert [(e.ref, e.field, e.message) for e in no_id.errors] == [("order ?", "id", "missing")]


def test_shipments_convert_weights_and_report_bad_ones():
    body = {"shipments": [
        {"shipmentId": 1, "orderKey": "5001", "orderNumber": "1001", "trackingNumber": "1Z1", "shipDate": "2025-03-02",
         "voided": False, "weight": {"value": 32, "units": "ounces"}, "shipmentCost": 7.07,
         "shipmentItems": [{"sku": "MUG", "quantity": 2}]},
        {"shipmentId": 2, "orderKey": "5002", "voided": "no", "shipmentItems": []},
        {"shipmentId": 3, "orderKey": "5003", "voided": False, "weight": {"value": 3, "units": "stones"}},
    ]}
    parsed = parse_shipments(body, SHOP, NOW)
    (row,) = parsed.rows["tpl_shipments"]
    assert row["weight_kg"] == Decimal("0.9072") and row["shipment_cost"] == Decimal("7.07")
    assert parsed.rows["tpl_shipment_items"] == [
        {"shop_domain": SHOP, "shipment_id": "1", "item_no": 0, "sku": "MUG", "quantity": 2}]
    assert [(e.ref, e.field) for e in parsed.errors] == [("shipment 2", "voided"), ("shipment 3", "weight.units")]


def test_invoice_rows_keep_repeats_and_report_bad_columns():
    rows = [
        {"invoice_number": "INV-1", "invoice_date": "2025-03-04", "tracking_number": "1Z1", "service": "ground",
         "billed_weight_kg": "1.20", "charge_type": "base", "amount": "7.02", "currency": "USD"},
    ]
    rows += [dict(rows[0]), dict(rows[0], charge_type="pallet"), dict(rows[0], amount="", invoice_number="INV-2")]
    parsed = parse_invoice_rows(rows, NOW, "INVOICES.csv")
    assert [(r["invoice_number"], r["line_no"]) for r in parsed.rows["carrier_invoice_lines"]] == [
        ("INV-1", 1), ("INV-1", 2)]
    assert [str(e) for e in parsed.errors] == [
        "invoices: invoice INV-1 row 3: charge_type: unknown charge type 'pallet'",
        "invoices: invoice INV-2 row 4: amount: not an amount: ''",
    ]
    check_invoice_header(["invoice_number", "invoice_date", "tracking_number", "service", "billed_weight_kg",
                          "charge_type", "amount", "currency"])
    try:
        check_invoice_header(["invoice_number", "amount"])
    except ValueError as exc:
        assert "invoice_date" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a short header was accepted")
