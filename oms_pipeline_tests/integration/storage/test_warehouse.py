"""The warehouse on DuckDB and, for real, on PostgreSQL: migrations, landing, upserts, quarantine."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from oms_pipeline.domain.ingestion import OrderEvent, normalize_events
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import MIGRATIONS, Warehouse

SHOP = "nordwool.myshopify.com"


def _exercise(url: str, rest_order: dict) -> None:
    wh = Warehouse(url)
    assert wh.migrate() == [1, 2, 3, 4, 5, 6, 7, 8] == [version for version, _name, _apply in MIGRATIONS]
    assert wh.migrate() == []  # idempotent
    newer = dict(rest_order, updated_at="2025-01-10T13:00:00-05:00", tags="vip, gift, rush")
    bad = dict(rest_order, id=77, name="#77")
    bad["line_items"] = [dict(rest_order["line_items"][0], quantity=-1)]
    events = [OrderEvent.from_payload("rest", p) for p in (rest_order, bad)]

    landed = wh.land_events(SHOP, events, "run-1")
    assert (landed.inserted, landed.duplicates) == (2, 0)
    again = wh.land_events(SHOP, events, "run-2")
    assert (again.inserted, again.duplicates) == (0, 2)  # unique on (shop, order id, updated_at)

    batch = normalize_events(wh.pending_events(SHOP), SHOP)
    assert wh.upsert_orders(batch.orders, "run-1").written == 1
    assert wh.quarantine(SHOP, batch.quarantined, "run-1") == 1
    wh.mark_normalized(SHOP, batch.outcomes(), "run-1")
    assert wh.pending_events(SHOP) == []

    # A newer version replaces the row and its lines; an older one afterwards is ignored.
    wh.land_events(SHOP, [OrderEvent.from_payload("rest", newer)], "run-3")
    batch = normalize_events(wh.pending_events(SHOP), SHOP)
    assert wh.upsert_orders(batch.orders, "run-3").written == 1
    old_batch = normalize_events([OrderEvent.from_payload("rest", rest_order)], SHOP)
    assert wh.upsert_orders(old_batch.orders, "run-4").stale == 1

    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(schema.orders)).one()
        assert row.order_id == "5718921449652" and row.tags == "vip, gift, rush"
        assert row.total_price == Decimal("115.97") and row.currency == "USD"
        assert row.updated_at.utcoffset() is not None
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.order_lines)).scalar_one() == 2
        q = conn.execute(sa.select(schema.quarantined_orders)).one()
        assert q.order_id == "77" and q.reason.startswith("line_items[0].quantity")
        assert '"quantity":-1' in q.payload  # verbatim
    # Seeing the same bad payload again does not duplicate it.
    assert wh.quarantine(SHOP, normalize_events(events[1:], SHOP).quarantined, "run-5") == 0
    assert wh.quarantine_reasons() == {"line_items[0].quantity": 1}

    wh.set_high_water_mark(SHOP, "2025-01-10T18:00:00Z")
    wh.set_high_water_mark(SHOP, "2025-01-10T18:05:00Z")
    assert wh.high_water_mark(SHOP) == "2025-01-10T18:05:00Z"
    orders, lines = wh.orders_of_run("run-3")
    assert len(orders) == 1 and len(lines) == 2
    wh.dispose()


def test_warehouse_on_duckdb(duckdb_url, rest_order):
    _exercise(duckdb_url, rest_order)


@pytest.mark.postgres
def test_warehouse_on_postgresql(postgres_schema_url, rest_order):
    _exercise(postgres_schema_url, rest_order)


def test_plans_made_before_location_kinds_get_the_rule_of_their_time(tmp_path):
    from datetime import UTC, datetime

    wh = Warehouse(f"duckdb:///{tmp_path / 'old.duckdb'}")
    with wh.engine.begin() as conn:  # a warehouse at schema version 7, with a plan in it
        schema.schema_migrations.create(conn)
        for version, name, apply in MIGRATIONS[:7]:
            apply(conn)
            conn.execute(sa.insert(schema.schema_migrations).values(version=version, name=name,
                                                                    applied_at=datetime.now(UTC)))
        conn.execute(sa.text("ALTER TABLE planned_shipments DROP COLUMN location_kind"))
        for location in ("3PL-EU", "DC-EAST"):
            conn.execute(sa.text(
                "INSERT INTO planned_shipments (shop_domain, order_id, trace_id, location_id, service_id, sku, "
                "quantity, stock_at_location, shipment_cost, transit_days, reason, run_id) VALUES "
                f"('s', '1', 't', '{location}', 'ground', 'MUG', 1, 5, 4.2, 2, 'r', 'run')"))
    assert wh.migrate() == [8]
    with wh.engine.connect() as conn:
        kinds = dict(conn.execute(sa.text("SELECT location_id, location_kind FROM planned_shipments")).all())
    assert kinds == {"3PL-EU": "3pl", "DC-EAST": "own_dc"}
