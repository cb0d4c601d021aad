"""Fulfillment assets: hand released plans to the 3PL, then print their packing slips."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime
from pathlib import Path

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from oms_pipeline.domain.packing_slips import store_display_name
from oms_pipeline.domain.writeback.actions import Workflow
from oms_pipeline.domain.writeback.policy import CircuitOpen
from oms_pipeline.fulfillment_flow import handoff_released, write_packing_slips
from oms_pipeline.resources import DecisionsResource, ShopifyResource, WarehouseResource

FULFILLMENT_GROUP = "fulfillment"
MAX_LISTED_SLIPS = 50  # per-slip paths listed in metadata; the bulk PDF always holds them all


@asset(group_name=FULFILLMENT_GROUP, deps=["store_writeback"], kinds={"shipstation"})
def tpl_handoff(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                decisions: DecisionsResource) -> MaterializeResult:
    """Every order this run released (ready or released) with lines planned at a 3PL location, handed
    to the 3PL as a ShipStation order (``createorder``, upsert on ``orderKey`` = the store order id)
    through the gateway: audited first, idempotent by ledger key, and subject to the
    ``fulfillment_handoff`` rollout mode (OMS_ROLLOUT_HANDOFF; shadow by default). A re-run sends nothing new.
    """
    wh = warehouse.open()
    network = decisions.policy().network
    with decisions.gateway(wh, shopify) as gateway:
        try:
            run = handoff_released(wh, gateway, shopify.shop_domain, context.run.run_id, network.unit_weight_kg)
        except CircuitOpen as tripped:
            raise Failure(description=str(tripped)) from tripped
    summary = run.report.summary()
    if run.unreadable:
        context.log.warning("%d orders could not be read again: %s", len(run.unreadable), run.unreadable[:5])
    if run.report.failures:
        context.log.warning("%d handoffs failed and stay pending for the next run", len(run.report.failures))
    return MaterializeResult(metadata={
        "released_orders": run.released_orders,
        "tpl_orders": run.tpl_orders,
        "handed_off": run.report.written,
        "outcomes": MetadataValue.json(summary["outcomes"]),
        "failures": MetadataValue.json(summary["failures"]),
        "unreadable": len(run.unreadable),
        "mode": decisions.modes()[Workflow.FULFILLMENT_HANDOFF].value,
        "shipstation": decisions.shipstation_url or "not configured",
    })


@asset(group_name=FULFILLMENT_GROUP, deps=["tpl_handoff"], kinds={"pdf"})
def packing_slips(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                  decisions: DecisionsResource) -> MaterializeResult:
    """One packing slip PDF per shipment this run released (every location), under
    ``<data_dir>/packing_slips/<date>/``, and a bulk PDF of the batch: store name, order number, the
    shipment's lines, the gift message when the note was tagged gift, and no prices when the note
    asked for none (or it is a gift)."""
    wh = warehouse.open()
    day = datetime.now(UTC).date()
    run = write_packing_slips(wh, shopify.shop_domain, context.run.run_id, store_display_name(shopify.shop_domain),
                              Path(decisions.data_dir), day)
    if run.unreadable:
        context.log.warning("%d orders could not be read again: %s", len(run.unreadable), run.unreadable[:5])
    metadata = {
        "slips": len(run.paths),
        "without_prices": run.without_prices,
        "with_gift_message": run.with_gift_message,
        "bulk_pdf": MetadataValue.path(str(run.bulk)),
        "folder": MetadataValue.path(str(run.bulk.parent)),
        "slip_files": MetadataValue.json([str(p) for p in run.paths[:MAX_LISTED_SLIPS]]),
    }
    if run.paths:
        metadata["first_slip"] = MetadataValue.path(str(run.paths[0]))
    return MaterializeResult(metadata=metadata)
