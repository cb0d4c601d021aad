"""Everything of the ingestion folder, as one Definitions object."""

from dagster import Definitions

from oms_pipeline.defs.ingestion.assets import normalized_orders, raw_order_events
from oms_pipeline.defs.ingestion.checks import orders_pass_expectations
from oms_pipeline.defs.ingestion.jobs import ingest_orders_job
from oms_pipeline.defs.ingestion.sensors import store_order_changes


def build_ingestion_definitions() -> Definitions:
    """Landing and normalization assets, the quality gate, the job and the polling sensor."""
    return Definitions(
        assets=[raw_order_events, normalized_orders],
        asset_checks=[orders_pass_expectations],
        jobs=[ingest_orders_job],
        sensors=[store_order_changes],
    )
