"""Decisions and writeback, as one Definitions object, and the job that runs the whole order flow."""

from dagster import AssetSelection, Definitions, ScheduleDefinition, define_asset_job, in_process_executor

from oms_pipeline.defs.decisions.assets import fulfillment_plans, order_triage, store_writeback
from oms_pipeline.defs.decisions.checks import decisions_pass_expectations
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
# (their recheck falls due), so the flow runs every hour as well.
hold_recheck_schedule = ScheduleDefinition(
    name="hold_rechecks",
    job=process_orders_job,
    cron_schedule="17 * * * *",
    description="Hourly pass of the order flow, so on-hold orders are triaged again once their recheck "
                "is due (OMS_HOLD_RECHECK_HOURS) even when the store sends no change.",
)


def build_decision_definitions() -> Definitions:
    """The triage, planning and writeback assets, their quality gate, the order-flow job and the hold recheck
    schedule."""
    return Definitions(assets=[order_triage, fulfillment_plans, store_writeback],
                       asset_checks=[decisions_pass_expectations],
                       jobs=[process_orders_job], schedules=[hold_recheck_schedule])
