"""Landing of reconciliation inputs (store fulfillments/refunds/transactions/shipping, 3PL shipments,
carrier invoice lines) into the migration-5 tables, in bulk.

Re-landing is safe: an order's store rows and a shipment's rows are replaced by the newer copy
(fulfillments and refunds grow over an order's life), invoice lines already landed are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from oms_pipeline.domain.reconciliation import ParsedInputs
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows

# Store tables keyed by order: replaced per (shop_domain, order_id).
_BY_ORDER = (schema.store_fulfillments, schema.store_fulfillment_lines, schema.store_refunds,
             schema.store_refund_lines, schema.store_transactions, schema.store_shipping_lines)
# 3PL tables keyed by shipment: replaced per (shop_domain, shipment_id).
_BY_SHIPMENT = (schema.tpl_shipments, schema.tpl_shipment_items)


@dataclass(frozen=True)
class LandedInputs:
    """Rows written per table."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        """All rows written."""
        return sum(self.rows.values())


def _delete_keys(conn: Connection, table: sa.Table, key: str, by_shop: dict[str, set[str]]) -> None:
    for shop, ids in by_shop.items():
        for chunk in chunks(sorted(ids)):
            conn.execute(sa.delete(table).where(table.c.shop_domain == shop, table.c[key].in_(chunk)))


def _keys(rows: Iterable[dict], key: str) -> dict[str, set[str]]:
    by_shop: dict[str, set[str]] = {}
    for row in rows:
        by_shop.setdefault(row["shop_domain"], set()).add(row[key])
    return by_shop


def land_reconciliation_inputs(engine: Engine, parsed: ParsedInputs, *, replace: bool = True) -> LandedInputs:
    """Write parsed inputs in one transaction; returns the rows written per table.

    With ``replace`` (default) the store rows of every order present in ``parsed`` and the rows of
    every shipment present are deleted first, so the latest copy wins. Pass ``replace=False`` into
    a fresh warehouse to skip the deletes.
    """
    written: dict[str, int] = {}
    with engine.begin() as conn:
        if replace:
            orders: dict[str, set[str]] = {}
            for table in _BY_ORDER:
                for shop, ids in _keys(parsed.rows.get(table.name, ()), "order_id").items():
                    orders.setdefault(shop, set()).update(ids)
            for table in _BY_ORDER:
                _delete_keys(conn, table, "order_id", orders)
            shipments = _keys(parsed.rows.get(schema.tpl_shipments.name, ()), "shipment_id")
            for table in _BY_SHIPMENT:
                _delete_keys(conn, table, "shipment_id", shipments)
        # DuckDB takes each chunk as one registered frame; PostgreSQL as executemany pages.
        size = 50_000 if conn.dialect.name == "duckdb" else 2000
        for table in (*_BY_ORDER, *_BY_SHIPMENT):
            rows = parsed.rows.get(table.name, [])
            for chunk in chunks(rows, size):
                insert_rows(conn, table, chunk)
            written[table.name] = len(rows)
        invoice_rows = parsed.rows.get(schema.carrier_invoice_lines.name, [])
        for chunk in chunks(invoice_rows, size):
            insert_rows(conn, schema.carrier_invoice_lines, chunk, skip_existing=True)
        written[schema.carrier_invoice_lines.name] = len(invoice_rows)
    return LandedInputs(rows=written)
