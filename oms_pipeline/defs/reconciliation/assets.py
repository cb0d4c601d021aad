"""Reconciliation input assets: what the store settled, what the 3PL shipped, what the carrier billed.

They land the inputs of the reconciliation dbt marts (tag ``reconciliation``) from the live
sources, each since its own cursor; bad records are listed in the metadata and skipped, never fatal.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from oms_pipeline.defs.reconciliation.resources import ReconciliationResource
from oms_pipeline.resources import ShipStationResource, ShopifyResource, WarehouseResource
from oms_pipeline.services.reconciliation_landing import (
    Landing,
    land_carrier_invoices,
    land_store_settlements,
    land_tpl_shipments,
)

RECONCILIATION_GROUP = "reconciliation"


def _result(context: AssetExecutionContext, run: Landing, **extra) -> MaterializeResult:
    if run.errors:
        context.log.warning("%d records refused: %s", len(run.errors), run.errors[:5])
    meta = run.metadata()
    return MaterializeResult(metadata={
        "read": meta["read"], "rows": MetadataValue.json(meta["rows"]), "errors": meta["errors"],
        "error_list": MetadataValue.json(meta["error_list"]), "cursor": meta["cursor"] or "", **extra,
    })


@asset(group_name=RECONCILIATION_GROUP, deps=["orders"], kinds={"shopify"})
def store_settlements(context: AssetExecutionContext, warehouse: WarehouseResource,
                      shopify: ShopifyResource) -> MaterializeResult:
    """Fulfillments (with tracking), refunds (lines, shipping refunds, refund transactions), transactions
    and the shipping the customer paid, of every store order changed since the ``settlements`` cursor,
    read from REST ``orders.json`` (fulfillments, refunds, shipping lines) and GraphQL ``nodes`` (order
    transactions), and replaced per order in the ``store_*`` landing tables."""
    wh = warehouse.open()
    with shopify.client() as client:
        run = land_store_settlements(wh, client, shopify.shop_domain, shopify.overlap)
    return _result(context, run)


@asset(group_name=RECONCILIATION_GROUP, deps=["tpl_handoff"], kinds={"shipstation"})
def tpl_shipments(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                  shipstation: ShipStationResource) -> MaterializeResult:
    """The 3PL's shipments (ShipStation ``GET /shipments`` with items) since the ``tpl_shipments``
    cursor, replaced per shipment in ``tpl_shipments`` / ``tpl_shipment_items``. Without a configured
    3PL there is nothing to read, and the metadata says so."""
    client = shipstation.client()
    if client is None:
        context.log.info("no 3PL configured (OMS_SHIPSTATION_URL): no shipments to land")
        return _result(context, Landing(), shipstation="not configured")
    wh = warehouse.open()
    with client:
        run = land_tpl_shipments(wh, client, shopify.shop_domain)
    return _result(context, run, shipstation=shipstation.url)


@asset(group_name=RECONCILIATION_GROUP, kinds={"csv"})
def carrier_invoices(context: AssetExecutionContext, warehouse: WarehouseResource,
                     reconciliation: ReconciliationResource) -> MaterializeResult:
    """Carrier invoice CSV files dropped in the inbox (OMS_CARRIER_INVOICE_DIR): each landed into
    ``carrier_invoice_lines`` (lines already landed are skipped) and moved to ``landed/``; unreadable
    files or a wrong header go to ``rejected/``; bad rows are skipped and listed."""
    wh = warehouse.open()
    run = land_carrier_invoices(wh, reconciliation.inbox)
    if run.bad_files:
        context.log.warning("%d invoice files rejected: %s", len(run.bad_files), run.bad_files[:5])
    return _result(context, run, files=MetadataValue.json(run.files), bad_files=MetadataValue.json(run.bad_files),
                   inbox=MetadataValue.path(str(reconciliation.inbox)))
