"""The ``fulfillment_plans`` step inside the order flow: planned by the batch optimizer, rate-shopped against
the sandbox's carrier API, gated, and written to the store as the ``oms.plan`` metafield."""

from __future__ import annotations

import pytest
from dagster import AssetKey, instance_for_test

from oms_pipeline.cli.jobs import run_order_flow
from oms_pipeline.sandbox.carriers import DEFAULT_CARRIER_API_KEY
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.order_flow import AUTO
from oms_pipeline_tests.support.order_flow import settings as _settings
from oms_pipeline_tests.support.order_flow import store as _store

pytestmark = pytest.mark.e2e


def test_fulfillment_plans_asset_reports_its_figures_and_writes_the_plans(tmp_path):
    store = _store(seed=9, orders=30)
    with SandboxServer(store, restore_rate=20_000.0) as sandbox, instance_for_test() as instance:
        # The sandbox's carrier rates API comes with its channels (channel_settings).
        settings = _settings(sandbox, tmp_path, routing_time_limit_s=5.0, **AUTO)
        assert settings.carrier_rates_url == sandbox.url
        assert settings.carrier_rates_api_key.get_secret_value() == DEFAULT_CARRIER_API_KEY
        result = run_order_flow(settings, instance)
        assert result["success"] and result["checks"]["decisions_pass_expectations"]
        event = instance.get_latest_materialization_event(AssetKey("fulfillment_plans"))
        meta = {k: getattr(v, "value", v) for k, v in event.asset_materialization.metadata.items()}
        assert meta["planner"] == "milp" and meta["solver_status"] in ("optimal", "time_limit")
        assert meta["total_cost"] <= meta["greedy_cost"] and meta["cost_saved"] >= 0
        assert meta["rate_shopping"] and meta["rate_shopped"] == meta["shipments"] > 0
        assert {"split_rate", "on_time_share", "solver_gap", "solver_seconds", "orders_planned"} <= set(meta)
        assert sandbox.carriers.shipments_created > 0

        # Each planned order's reasons reach the store as its oms.plan metafield.
        wh = Warehouse(settings.resolved_warehouse_url)
        shipments = wh.decisions.shipments_of_run(result["run_id"])
        assert shipments["carrier"].notna().all()
        written = 0
        for row in shipments.drop_duplicates("order_id").itertuples():
            plan = store.writeback_state(int(row.order_id))["metafields"].get("oms.plan")
            if plan is None:  # a low-confidence decision waits in the review queue instead
                continue
            assert plan["type"] == "multi_line_text_field" and row.reason in plan["value"]
            assert f"carrier: {row.rate_reason}" in plan["value"]
            written += 1
        assert written > 0
        assert result["writes_by_workflow"].get("routing")
