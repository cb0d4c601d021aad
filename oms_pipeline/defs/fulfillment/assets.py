"""Fulfillment assets: hand released plans to the 3PL, then print their packing slips."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime
from pathlib import Path

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from oms_pipeline.defs.decisions.assets import writeback_step_result
from oms_pipeline.domain.packing_slips import store_display_name
from oms_pipeline.domain.writeback.actions import Workflow
from oms_pipeline.resources import (
    PolicyResource,
    ShipStationResource,
    ShopifyResource,
    SlackResource,
    WarehouseResource,
    ZendeskResource,
    writeback_gateway,
)
from oms_pipeline.services.packing_slips import write_packing_slips
from oms_pipeline.services.writeback import HANDOFF_WORKFLOWS, drain_outbox

FULFILLMENT_GROUP = "fulfillment"
MAX_LISTED_SLIPS = 50  # per-slip paths listed in metadata; the bulk PDF always holds them all


@asset(group_name=FULFILLMENT_GROUP, deps=["store_writeback"], kinds={"shipstation"})
def tpl_handoff(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                slack: SlackResource, zendesk: ZendeskResource, shipstation: ShipStationResource,
                policy: PolicyResource) -> MaterializeResult:
    """Released orders with lines planned at a 3PL location, handed to the 3PL as ShipStation orders
    (``createorder``, upsert on ``orderKey`` = the store order id) from the outbox, where each plan
    recorded its handoff: audited first, idempotent by ledger key, and subject to the
    ``fulfillment_handoff`` rollout mode (OMS_ROLLOUT_HANDOFF; shadow by default). Handoffs earlier runs
    left unsent go first. A re-run sends nothing new.
    """
    wh = warehouse.open()
    with writeback_gateway(wh, shopify, slack, zendesk, shipstation, policy) as gateway:
        drained = drain_outbox(wh, gateway, shopify.shop_domain, context.run.run_id, HANDOFF_WORKFLOWS)
    result = writeback_step_result(context, drained, policy)
    return MaterializeResult(metadata={
        **result.metadata,
        "handed_off": drained.report.written,
        "mode": policy.modes()[Workflow.FULFILLMENT_HANDOFF].value,
        "shipstation": shipstation.url or "not configured",
    })


@asset(group_name=FULFILLMENT_GROUP, deps=["tpl_handoff"], kinds={"pdf"})
def packing_slips(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                  policy: PolicyResource) -> MaterializeResult:
    """One packing slip PDF per shipment this run released (every location), under
    ``<data_dir>/packing_slips/<date>/``, and a bulk PDF of the batch: store name, order number, the
    shipment's lines, the gift message when the note was tagged gift, and no prices when the note
    asked for none (or it is a gift)."""
    wh = warehouse.open()
    day = datetime.now(UTC).date()
    run = write_packing_slips(wh, shopify.shop_domain, context.run.run_id, store_display_name(shopify.shop_domain),
                              Path(policy.data_dir), day)
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
