"""The offline landing's fast paths land exactly what the plain paths land.

`oms reconcile` decodes with orjson (falling back to json), pauses the cyclic collector per batch,
keeps one DuckDB connection and, on its fresh warehouse, skips the replace-deletes except for
orders met again in a later batch. None of that may change a landed row or a reported error.
"""

from __future__ import annotations

import copy
import gc
import json
from pathlib import Path

import sqlalchemy as sa

from oms_pipeline.sandbox.reconciliation_data import generate_reconciliation_data
from oms_pipeline.services import reconcile_files as reconcile
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse

# Clock columns differ between two landings of the same files.
_CLOCKS = {"landed_at", "ingested_at", "applied_at", "run_id"}
_TABLES = ("orders", "order_lines", "store_fulfillments", "store_fulfillment_lines", "store_refunds",
           "store_refund_lines", "store_transactions", "store_shipping_lines", "tpl_shipments",
           "tpl_shipment_items", "carrier_invoice_lines")


def _orders_file(directory: Path) -> tuple[Path, Path, Path, list[dict]]:
    """Generated files whose ORDERS.jsonl also re-sends orders in later batches: the same copy
    again, a newer copy that lost its fulfillments, an older copy after a newer one, and bad lines."""
    data = generate_reconciliation_data(40, seed=21)
    orders, shipments, invoices = data.write(directory)
    shipped = [o for o in data.orders if o["fulfillments"]]
    newer = copy.deepcopy(shipped[0])
    newer["updated_at"] = "2030-01-01T00:00:00+00:00"
    newer["fulfillments"] = []
    older = copy.deepcopy(shipped[1])
    older["updated_at"] = older["created_at"]
    with orders.open("a") as out:
        for order in (data.orders[2], newer, older):
            out.write(json.dumps(order) + "\n")
        out.write("{broken\n[1, 2]\n")
    return orders, shipments, invoices, [newer, older]


def _contents(warehouse: Warehouse) -> dict[str, list[tuple]]:
    tables = {}
    with warehouse.engine.connect() as conn:
        for name in _TABLES:
            table = getattr(schema, name)
            columns = [c for c in table.c if c.name not in _CLOCKS]
            tables[name] = sorted(conn.execute(sa.select(*columns)).tuples().all(), key=repr)
    return tables


def _land(tmp_path: Path, files: tuple[Path, Path, Path], *, fast: bool) -> tuple[dict, list]:
    warehouse = Warehouse(f"duckdb:///{tmp_path / ('fast' if fast else 'plain')}.duckdb")
    if fast:
        reconcile._keep_one_connection(warehouse)
    warehouse.migrate()
    orders, shipments, invoices = files
    _, order_errors = reconcile.load_orders(warehouse, orders, fresh=fast)
    _, shipment_errors = reconcile.load_shipments(warehouse, shipments, fresh=fast)
    _, invoice_errors = reconcile.load_invoices(warehouse, invoices)
    warehouse.dispose()
    try:
        return _contents(warehouse), order_errors + shipment_errors + invoice_errors
    finally:
        warehouse.dispose()


def test_fresh_landing_lands_what_replacing_landing_lands(tmp_path, monkeypatch):
    monkeypatch.setattr(reconcile, "_BATCH", 7)  # re-sent copies land in later batches
    orders, shipments, invoices, (newer, _older) = _orders_file(tmp_path / "in")
    fast, fast_errors = _land(tmp_path, (orders, shipments, invoices), fast=True)
    plain, plain_errors = _land(tmp_path, (orders, shipments, invoices), fast=False)
    assert fast == plain
    assert fast_errors == plain_errors
    assert [e["line"] for e in fast_errors] == ["orders:44", "orders:45"]
    assert fast_errors[0]["error"].startswith("not valid JSON (")
    # The newer copy replaced the first one's store rows in a later batch: its fulfillments are gone.
    assert not [r for r in fast["store_fulfillments"] if r[1] == str(newer["id"])]
    assert len(fast["orders"]) == 40


def test_collector_state_is_restored(tmp_path):
    orders, shipments, invoices, _ = _orders_file(tmp_path / "in")
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'gc.duckdb'}")
    warehouse.migrate()
    assert gc.isenabled()
    reconcile.load_orders(warehouse, orders)
    assert gc.isenabled()
    gc.disable()
    try:
        reconcile.load_invoices(warehouse, invoices)
        assert not gc.isenabled()
    finally:
        gc.enable()
        warehouse.dispose()
