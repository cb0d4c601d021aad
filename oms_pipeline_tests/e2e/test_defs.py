"""The code location loads: ``oms_pipeline.definitions`` builds with the default settings, Dagster resolves it,
and it has exactly the jobs, sensors and schedules the project runs, every asset documented.

A renamed, added or dropped job, sensor or schedule fails here; so does a new asset without a description.
"""

from __future__ import annotations

import pytest
from dagster import AssetKey, Definitions

pytestmark = pytest.mark.e2e

JOBS = ["build_warehouse_models", "finance_report_job", "ingest_orders", "land_reconciliation_inputs",
        "process_orders", "train_fraud_model"]
# (sensor, the job it starts)
SENSORS = [("store_order_changes", "process_orders")]
# (schedule, the job it starts, its cron)
SCHEDULES = [("build_warehouse_models_schedule", "build_warehouse_models", "*/15 * * * *"),
             ("daily_fraud_training", "train_fraud_model", "40 3 * * *"),
             ("finance_report_job_schedule", "finance_report_job", "30 6 * * *"),
             ("hold_rechecks", "process_orders", "17 * * * *")]
# The dbt project's `reconciliation` source tables: external assets (landed by the reconciliation assets under
# other keys) whose source YAML gives the source a description but not its tables. Nothing else may lack one.
UNDESCRIBED_DBT_SOURCES = {AssetKey(["reconciliation", name]) for name in (
    "carrier_invoice_lines", "store_fulfillment_lines", "store_fulfillments", "store_refund_lines", "store_refunds",
    "store_shipping_lines", "store_transactions", "tpl_shipment_items", "tpl_shipments")}


@pytest.fixture(scope="module")
def defs() -> Definitions:
    """The code location as `dagster dev` loads it (the root conftest has set ``OMS_NETWORK_FILE``)."""
    from oms_pipeline.definitions import build_definitions

    loaded = build_definitions()
    Definitions.validate_loadable(loaded)
    return loaded


def test_the_code_location_has_exactly_the_jobs_the_project_runs(defs):
    repository = defs.get_repository_def()
    # Dagster adds a hidden job of its own for the assets (``__ASSET_JOB``): not one of ours.
    assert sorted(job.name for job in repository.get_all_jobs() if not job.name.startswith("__")) == JOBS
    for name in JOBS:
        assert repository.get_job(name).name == name  # each resolves, its assets and resources wired


def test_sensors_and_schedules_exist_by_name_and_start_the_right_job(defs):
    repository = defs.get_repository_def()
    assert sorted((sensor.name, sensor.job_name) for sensor in repository.sensor_defs) == SENSORS
    assert sorted((schedule.name, schedule.job_name, schedule.cron_schedule)
                  for schedule in repository.schedule_defs) == SCHEDULES


def test_every_asset_has_a_description(defs):
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert {"orders", "order_triage", "fulfillment_plans", "store_writeback", "finance_report",
            "orders_daily"} <= {key.to_user_string() for key in keys}
    undescribed = {key for key in keys if not (graph.get(key).description or "").strip()}
    assert undescribed == UNDESCRIBED_DBT_SOURCES, sorted(k.to_user_string() for k in undescribed)
    assert not any(graph.get(key).is_materializable for key in undescribed)  # every asset we build says what it is
