"""Decisions and writeback, as one Definitions object, and the job that runs the whole order flow."""

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
    in_process_executor,
)

from oms_pipeline.defs.decisions.assets import fulfillment_plans, order_triage, store_writeback
from oms_pipeline.defs.decisions.checks import decisions_pass_expectations, writeback_outbox_drained
from oms_pipeline.defs.ingestion.sensors import PROCESS_ORDERS_JOB

process_orders_job = define_asset_job(
    PROCESS_ORDERS_JOB,
    selection=AssetSelection.assets("raw_order_events", "orders", "quarantined_orders", "fraud_scores",
                                    "order_note_tags", "order_triage", "fulfillment_plans", "store_writeback",
                                    "tpl_handoff", "packing_slips"),
    description="Fetch changed orders, validate them, score fraud and read their notes, decide each one, plan "
                "the fulfillment of those ready to ship, write the decisions and plans back, and hand released "
                "orders to the 3PL with their packing slips (each step gated by its data-quality check).",
    executor_def=in_process_executor,  # one process: an embedded DuckDB warehouse takes one writer
    tags={"oms/pipeline": "orders"},
)


# The sensor runs the flow when the store changes; holds also need a look when nothing changes
# (their recheck falls due), and writes a dead run left are finished by the next run, so the flow runs
# every hour as well. It starts with the sensor (`oms ui`).
hold_recheck_schedule = ScheduleDefinition(
    name="hold_rechecks",
    job=process_orders_job,
    cron_schedule="17 * * * *",
    description="Hourly pass of the order flow, so on-hold orders are triaged again once their recheck "
                "is due (OMS_HOLD_RECHECK_HOURS), and writes a run that died left unsent are sent, even "
                "when the store sends no change.",
    default_status=DefaultScheduleStatus.RUNNING if os.environ.get("OMS_SENSOR_AUTOSTART") == "1"
    else DefaultScheduleStatus.STOPPED,
)


def build_decision_definitions() -> Definitions:
    """The triage, planning and writeback assets, their quality gate, the order-flow job and the hold recheck
    schedule."""
    return Definitions(assets=[order_triage, fulfillment_plans, store_writeback],
                       asset_checks=[decisions_pass_expectations, writeback_outbox_drained],
                       jobs=[process_orders_job], schedules=[hold_recheck_schedule])
