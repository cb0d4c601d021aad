"""The sensor that asks the store every minute which orders changed."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import os

from dagster import (
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from oms_pipeline.defs.ingestion.assets import OrderWindowConfig
from oms_pipeline.resources import ShopifyResource

PROCESS_ORDERS_JOB = "process_orders"  # ingestion, decisions and writeback (built in defs/decisions)


def run_key_for(shop_domain: str, window_end: str) -> str:
    """One run per (shop, window end): a tick that repeats cannot launch the same window twice."""
    return f"{shop_domain}|orders|{window_end}"


@sensor(
    job_name=PROCESS_ORDERS_JOB,
    minimum_interval_seconds=60,
    description="Polls the store for changed orders every minute; cursor = the last window's end.",
    default_status=DefaultSensorStatus.RUNNING if os.environ.get("OMS_SENSOR_AUTOSTART") == "1"
    else DefaultSensorStatus.STOPPED,
)
def store_order_changes(context: SensorEvaluationContext, shopify: ShopifyResource):
    """Ask the store for its newest order change after the cursor; request a run for that window.

    The cursor is the high-water mark (the newest ``updated_at`` already requested). The run reads
    from a little before it (overlap) up to the new mark, and ``run_key`` makes a repeated tick a no-op.
    """
    since = context.cursor or None
    with shopify.client() as client:
        latest = client.latest_change(since)
    if latest is None:
        return SkipReason(f"no order changed in {shopify.shop_domain} after {since or 'the beginning'}")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=run_key_for(shopify.shop_domain, latest),
                run_config=RunConfig(ops={"raw_order_events": OrderWindowConfig(
                    updated_at_min=since, updated_at_max=latest)}),
                tags={"oms/shop": shopify.shop_domain, "oms/window_end": latest},
            )
        ],
        cursor=latest,
    )
