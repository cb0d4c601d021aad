"""The sandbox's orders landed and normalized in a warehouse, for the note parsing tests."""

from __future__ import annotations

from oms_pipeline.domain.ingestion import OrderEvent, normalize_events
from oms_pipeline.domain.orders import Order
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.storage.warehouse import Warehouse

SHOP = "oms-sandbox.myshopify.com"


def load_orders(url: str, store: SandboxStore) -> dict[str, Order]:
    """The sandbox's orders landed and normalized as the ingestion job would, by id."""
    wh = Warehouse(url)
    wh.migrate()
    events = [OrderEvent.from_payload("rest", r.order) for r in store.records()]
    wh.land_events(SHOP, events, "ingest-1")
    batch = normalize_events(wh.pending_events(SHOP), SHOP)
    wh.upsert_orders(batch.orders, "ingest-1")
    wh.mark_normalized(SHOP, batch.outcomes(), "ingest-1")
    wh.dispose()
    return {order.id: order for order, _ in batch.orders}
