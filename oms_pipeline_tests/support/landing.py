"""Land Shopify REST order payloads in a warehouse the way the ingestion job does (events, then orders)."""

from __future__ import annotations

from oms_pipeline.domain.ingestion import OrderEvent, normalize_events
from oms_pipeline.storage.warehouse import Warehouse

SHOP = "oms-sandbox.myshopify.com"


def land(wh: Warehouse, payloads: list[dict], run_id: str = "ingest") -> None:
    """Land ``payloads`` as order events of the sandbox shop, then upsert the orders they normalize to."""
    events = [OrderEvent.from_payload("rest", p) for p in payloads]
    wh.land_events(SHOP, events, run_id)
    batch = normalize_events(events, SHOP)
    wh.upsert_orders(batch.orders, run_id)
