"""The dbt project as Dagster assets: the asset graph maps the sources to the orders asset, and
materializing it on DuckDB builds a mart that adds up the orders it was given."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import AssetKey, materialize

from oms_pipeline.defs.dbt import (
    build_reconciliation_dbt_models,
    make_dbt_resource,
    reconciliation_day_partitions,
    warehouse_dbt_models,
)
from oms_pipeline.resources import WarehouseResource
from oms_pipeline_tests.support.dbt_warehouse import EXPECTED_MART
from oms_pipeline_tests.support.dbt_warehouse import load_warehouse as _load_warehouse
from oms_pipeline_tests.support.dbt_warehouse import mart_rows as _mart_rows
from oms_pipeline_tests.support.dbt_warehouse import normalise as _normalise

pytestmark = pytest.mark.usefixtures("restore_dbt_env")


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
