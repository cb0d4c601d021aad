"""The dbt project builds on DuckDB and PostgreSQL, and its mart adds up the orders it was given."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetKey, materialize

from oms_pipeline.defs.dbt import (
    DBT_PROJECT_DIR,
    build_reconciliation_dbt_models,
    dbt_env_for_url,
    ensure_dbt_manifest,
    make_dbt_resource,
    reconciliation_day_partitions,
    warehouse_dbt_models,
)
from oms_pipeline.reporting.finance import VARIANCE_TYPES
from oms_pipeline.resources import WarehouseResource
from oms_pipeline.storage.schema import metadata, order_lines, orders
from oms_pipeline.storage.warehouse import Warehouse

SHOP = "oms-sandbox.myshopify.com"
DAY = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("restore_dbt_env")


def _order(order_id: str, created_at: datetime, **overrides) -> dict:
    row = {
        "shop_domain": SHOP,
        "order_id": order_id,
        "order_name": f"#{order_id}",
        "created_at": created_at,
        "updated_at": created_at + timedelta(minutes=5),
        "currency": "USD",
        "presentment_currency": "USD",
        "subtotal_price": Decimal("30.0000"),
        "total_discounts": Decimal("2.5000"),
        "total_shipping": Decimal("5.0000"),
        "total_tax": Decimal("2.4000"),
        "total_price": Decimal("34.9000"),
        "presentment_total_price": Decimal("34.9000"),
        "line_items_total": Decimal("30.0000"),
        "line_count": 2,
        "unit_count": 3,
        # Every row names every column: executemany takes its column list from the first row.
        "cancelled_at": None,
        "cancel_reason": None,
        "financial_status": "paid",
        "fulfillment_status": "unfulfilled",
        "source_name": "web",
        "tags": "",
        "is_test": False,
        "source_event_key": f"{order_id}@{created_at.isoformat()}",
        "ingested_at": created_at,
        "run_id": "test-run",
    }
    return row | overrides


def _lines(order_id: str, created_at: datetime) -> list[dict]:
    common = {
        "shop_domain": SHOP,
        "order_id": order_id,
        "currency": "USD",
        "requires_shipping": True,
        "is_gift_card": False,
        "order_updated_at": created_at + timedelta(minutes=5),
        "total_discount": Decimal("0.0000"),
    }
    return [
        common
        | {
            "line_id": f"{order_id}1",
            "position": 0,
            "title": "Mug",
            "quantity": 1,
            "unit_price": Decimal("10.0000"),
            "line_total": Decimal("10.0000"),
        },
        common
        | {
            "line_id": f"{order_id}2",
            "position": 1,
            "title": "Tea",
            "quantity": 2,
            "unit_price": Decimal("10.0000"),
            "line_total": Decimal("20.0000"),
        },
    ]


def _load_warehouse(url: str) -> None:
    """Three orders: two web/paid on 1 March (one cancelled), one without channel on 2 March UTC."""
    late_evening_new_york = datetime(2025, 3, 1, 21, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2 March UTC
    rows = [
        _order("1001", DAY),
        _order(
            "1002", DAY + timedelta(hours=2), cancelled_at=DAY + timedelta(hours=3), cancel_reason="customer"
        ),
        _order("1003", late_evening_new_york, source_name=None, financial_status="pending"),
    ]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(orders), rows)
        conn.execute(
            sa.insert(order_lines), [line for r in rows for line in _lines(r["order_id"], r["created_at"])]
        )
    engine.dispose()  # DuckDB: the dbt subprocess must be the only process holding the file


def _mart_rows(url: str, schema: str) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select order_date, channel, financial_status, currency, order_count, unit_count, "
                f"gross_sales, discounts, shipping, tax, cancelled_count from {schema}.orders_daily "
                "order by order_date, channel"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


EXPECTED_MART = [
    (
        date(2025, 3, 1),
        "web",
        "paid",
        "USD",
        2,
        6,
        Decimal("69.8"),
        Decimal("5.0"),
        Decimal("10.0"),
        Decimal("4.8"),
        1,
    ),
    (
        date(2025, 3, 2),
        "unknown",
        "pending",
        "USD",
        1,
        3,
        Decimal("34.9"),
        Decimal("2.5"),
        Decimal("5.0"),
        Decimal("2.4"),
        0,
    ),
]


def _normalise(rows: list[tuple]) -> list[tuple]:
    # Drivers differ in date/decimal scale representation; compare values.
    out = []
    for row in rows:
        day = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])[:10])
        out.append((day, *row[1:6], *(Decimal(str(v)).normalize() for v in row[6:10]), row[10]))
    return out


def test_manifest_parses_without_a_database(tmp_path: Path, monkeypatch):
    # A path that does not exist: dbt parse must not try to open it.
    monkeypatch.setenv("OMS_DBT_DUCKDB_PATH", str(tmp_path / "missing" / "warehouse.duckdb"))
    manifest = ensure_dbt_manifest("duckdb")
    assert manifest == DBT_PROJECT_DIR / "target" / "manifest.json"
    assert manifest.exists()
    assert not (tmp_path / "missing").exists()


def test_asset_graph_maps_sources_to_the_orders_asset():
    specs = {spec.key: spec for spec in warehouse_dbt_models.specs}
    assert {AssetKey("stg_warehouse__orders"), AssetKey("stg_warehouse__order_lines"),
            AssetKey("orders_daily")} <= set(specs)
    # The reconciliation models are their own, daily-partitioned set.
    partitions = reconciliation_day_partitions("2025-01-01")
    reconciliation = build_reconciliation_dbt_models(partitions)
    finance_specs = {spec.key: spec for spec in reconciliation.specs}
    marts = {AssetKey("reconciliation_order_lines"), AssetKey("reconciliation_shipping_cost"),
             AssetKey("reconciliation_variances")}
    assert marts <= set(finance_specs) and not marts & set(specs)
    assert reconciliation.partitions_def == partitions
    # The plans the order flow makes feed the finance marts, and its 3PL handoffs say whose orders they are.
    planned = finance_specs[AssetKey("stg_warehouse__planned_shipment_lines")]
    assert AssetKey("fulfillment_plans") in {d.asset_key for d in planned.deps}
    handoffs = finance_specs[AssetKey("stg_gateway__tpl_handoffs")]
    assert {d.asset_key for d in handoffs.deps} == {AssetKey("tpl_handoff")}
    for spec in [*specs.values(), *finance_specs.values()]:
        assert spec.group_name == "warehouse_models"
        assert "dbt" in spec.kinds
    assert {d.asset_key for d in specs[AssetKey("stg_warehouse__orders")].deps} == {AssetKey("orders")}
    assert {d.asset_key for d in specs[AssetKey("stg_warehouse__order_lines")].deps} == {AssetKey("orders")}
    assert warehouse_dbt_models.op.description  # the docstring shows in the UI
    assert any(check.asset_key == AssetKey("orders_daily") for check in warehouse_dbt_models.check_specs)


def test_env_derived_from_warehouse_urls(tmp_path: Path):
    duck = dbt_env_for_url(f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert duck == {
        "OMS_DBT_TARGET": "duckdb",
        "OMS_DBT_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "OMS_DBT_SOURCE_SCHEMA": "main",
    }
    pg = dbt_env_for_url(
        "postgresql+psycopg2://oms:s3cret@db.internal:6543/oms?options=-csearch_path%3Dlanding,public",
        schema="analytics_x",
    )
    assert pg == {
        "OMS_DBT_TARGET": "postgres",
        "OMS_DBT_PG_HOST": "db.internal",
        "OMS_DBT_PG_PORT": "6543",
        "OMS_DBT_PG_USER": "oms",
        "OMS_DBT_PG_PASSWORD": "s3cret",
        "OMS_DBT_PG_DBNAME": "oms",
        "OMS_DBT_SOURCE_SCHEMA": "landing",
        "OMS_DBT_PG_SCHEMA": "analytics_x",
    }
    with pytest.raises(ValueError, match="does not match"):
        dbt_env_for_url("duckdb:////tmp/w.duckdb", "postgres")
    with pytest.raises(ValueError, match="in-memory"):
        dbt_env_for_url("duckdb:///:memory:")


def test_dbt_assets_build_the_mart_on_duckdb(tmp_path: Path):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    _load_warehouse(url)
    result = materialize([warehouse_dbt_models],
                         resources={"dbt": make_dbt_resource(url), "warehouse": WarehouseResource(url=url)})
    assert result.success
    events = result.get_asset_materialization_events()
    materialized = {e.asset_key: e.materialization.metadata for e in events}
    assert AssetKey("orders_daily") in materialized
    # Row counts are read after dbt exits (DuckDB is single-writer) and reported per model.
    assert materialized[AssetKey("stg_warehouse__orders")]["dagster/row_count"].value == 3
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    assert _normalise(_mart_rows(url, "analytics")) == _normalise(EXPECTED_MART)
    # The landing tables stay where they were, untouched by the dbt schema.
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from main.orders")).scalar() == 3
    engine.dispose()


def test_unit_tests_of_the_variance_rules_pass(tmp_path: Path):
    # A unit test reads its inputs' column types from the warehouse: build what the tested models read, empty.
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    warehouse = Warehouse(url)
    warehouse.migrate()
    warehouse.dispose()  # DuckDB: dbt must be the only process holding the file
    dbt = make_dbt_resource(url)
    inputs = dbt.cli(["run", "--select", "+test_type:unit", "--empty"], raise_on_error=False).wait()
    assert inputs.is_successful(), inputs.get_error()
    invocation = dbt.cli(["test", "--select", "test_type:unit"], raise_on_error=False).wait()
    assert invocation.is_successful(), invocation.get_error()
    results = [r for r in invocation.get_artifact("run_results.json")["results"]
               if r["unique_id"].startswith("unit_test.")]
    assert {r["status"] for r in results} == {"pass"}
    # One per variance type of reconciliation_variances, named after it: one that goes missing fails here.
    names = [r["unique_id"].rsplit(".", 1)[-1] for r in results]
    assert len(names) == len(VARIANCE_TYPES) == 9
    assert {t for t in VARIANCE_TYPES for name in names if name.startswith(f"{t}_")} == set(VARIANCE_TYPES)


@pytest.mark.postgres
def test_dbt_build_on_postgresql(postgres_schema_url: str):
    # Landing tables in the fixture's schema (search_path); dbt output in a schema of its own.
    _load_warehouse(postgres_schema_url)
    output_schema = f"oms_dbt_{uuid.uuid4().hex[:10]}"
    try:
        dbt = make_dbt_resource(postgres_schema_url, "postgres", schema=output_schema)
        invocation = dbt.cli(["build"], raise_on_error=False).wait()
        assert invocation.is_successful(), invocation.get_error()
        assert _normalise(_mart_rows(postgres_schema_url, output_schema)) == _normalise(EXPECTED_MART)
    finally:
        engine = sa.create_engine(postgres_schema_url, poolclass=sa.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'drop schema if exists "{output_schema}" cascade')
        engine.dispose()
