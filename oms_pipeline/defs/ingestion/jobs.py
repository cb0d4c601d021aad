"""The ingestion job (land and validate only): what `oms bench ingest` and the demo's history backfill run.
The sensor launches the whole order flow, ``process_orders`` (defs/decisions)."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

INGEST_ORDERS_JOB = "ingest_orders"

ingest_orders_job = define_asset_job(
    INGEST_ORDERS_JOB,
    selection=AssetSelection.assets("raw_order_events", "orders", "quarantined_orders"),
    description="Fetch changed orders from the store, land them, validate into canonical orders or quarantine.",
    # One process: the steps are I/O-light, and an embedded DuckDB warehouse takes one writer at a time.
    executor_def=in_process_executor,
    tags={"oms/pipeline": "ingestion"},
)
