"""The reconciliation input assets, their job and their resource, as one Definitions object."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from oms_pipeline.defs.reconciliation.assets import carrier_invoices, store_settlements, tpl_shipments
from oms_pipeline.defs.reconciliation.resources import reconciliation_resource
from oms_pipeline.settings import OmsSettings

LANDING_JOB = "land_reconciliation_inputs"


def build_reconciliation_definitions(settings: OmsSettings | None = None) -> Definitions:
    """``store_settlements``, ``tpl_shipments`` and ``carrier_invoices`` (group ``reconciliation``), the
    ``land_reconciliation_inputs`` job over them and the ``reconciliation`` resource (the invoice inbox).

    The job selects the three assets only: their upstreams (``orders``, ``tpl_handoff``) are run by the
    order flow."""
    settings = settings or OmsSettings()
    assets = [store_settlements, tpl_shipments, carrier_invoices]
    job = define_asset_job(
        LANDING_JOB, selection=AssetSelection.assets(*assets),
        description="Land what the store settled, what the 3PL shipped and what the carrier billed.",
        executor_def=in_process_executor,  # one process: an embedded DuckDB warehouse takes one writer
        tags={"oms/pipeline": "reconciliation"})
    return Definitions(assets=assets, jobs=[job], resources={"reconciliation": reconciliation_resource(settings)})
