"""Reconciliation inputs: landing replaces re-sent copies, and the streamed input files equal the in-memory
data set."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from oms_pipeline.domain.reconciliation import (
    parse_invoice_rows,
    parse_store_order,
)
from oms_pipeline.sandbox.reconciliation_data import generate_reconciliation_data, write_reconciliation_files
from oms_pipeline.storage import schema
from oms_pipeline.storage.reconciliation import land_reconciliation_inputs
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.reconciliation_orders import order_with_everything as _order_with_everything

NOW = datetime(2025, 4, 1, tzinfo=UTC)
SHOP = "shop.myshopify.com"


def test_landing_replaces_an_orders_rows_and_skips_landed_invoice_lines(duckdb_url: str):
    wh = Warehouse(duckdb_url)
    assert 5 in wh.migrate()
    order = _order_with_everything()
    land_reconciliation_inputs(wh.engine, parse_store_order(order, SHOP, NOW))
    # The order is sent again with a second fulfillment: its rows are replaced, not duplicated.
    again = copy.deepcopy(order)
    again["fulfillments"].append({**copy.deepcopy(order["fulfillments"][0]), "id": 1, "status": "cancelled"})
    land_reconciliation_inputs(wh.engine, parse_store_order(again, SHOP, NOW))
    assert wh.count(schema.store_fulfillments) == 2
    assert wh.count(schema.store_transactions) == 2
    invoice = [{"invoice_number": "INV-1", "invoice_date": "2025-03-04", "tracking_number": "1Z1", "service": "",
                "billed_weight_kg": "", "charge_type": "fuel", "amount": "0.84", "currency": "usd"}]
    for _ in range(2):
        land_reconciliation_inputs(wh.engine, parse_invoice_rows(invoice, NOW))
    with wh.engine.connect() as conn:
        amounts = conn.execute(sa.select(schema.carrier_invoice_lines.c.amount,
                                         schema.carrier_invoice_lines.c.currency)).all()
    assert [(Decimal(str(a)), c) for a, c in amounts] == [(Decimal("0.84"), "USD")]
    wh.dispose()


def test_streamed_files_equal_the_in_memory_data_set(tmp_path):
    data = generate_reconciliation_data(150, seed=2)
    in_memory = data.write(tmp_path / "a")
    streamed_data, streamed = write_reconciliation_files(150, tmp_path / "b", seed=2)
    assert [p.read_bytes() for p in in_memory] == [p.read_bytes() for p in streamed]
    assert streamed_data.truth == data.truth and streamed_data.orders == []
