"""Landed order payloads read back: the columns of an ``OrderEvent`` and the join to each order's
current version, shared by every step that re-reads orders (decisions, plans, fraud, fulfillment)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.domain.ingestion import OrderEvent
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks

_RAW = schema.raw_order_events
# What an OrderEvent needs besides the order id (the raw updated_at is labelled: `orders` has one too).
EVENT_COLUMNS = (_RAW.c.source_api, _RAW.c.payload, _RAW.c.updated_at.label("event_updated_at"),
                 _RAW.c.payload_sha256)


def current_version(orders: sa.Table) -> sa.ColumnElement[bool]:
    """Join condition from ``orders`` to the landed event of each order's current version."""
    return sa.and_(_RAW.c.shop_domain == orders.c.shop_domain, _RAW.c.event_key == orders.c.source_event_key)


def event_from_row(row: Any, order_id: str | None) -> OrderEvent:
    """The ``OrderEvent`` of a row selected with :data:`EVENT_COLUMNS`."""
    return OrderEvent(source_api=row.source_api, payload_json=row.payload, order_id=order_id,
                      updated_at=row.event_updated_at, payload_sha256=row.payload_sha256)


def current_events(engine: Engine, shop: str, *, order_ids: Sequence[str] | None = None,
                   created_since: datetime | None = None) -> list[OrderEvent]:
    """The current version of the shop's orders (all, or ``order_ids``; created at or after
    ``created_since``), oldest order first."""
    o = schema.orders
    query = (sa.select(o.c.order_id, *EVENT_COLUMNS).join(_RAW, current_version(o)).where(o.c.shop_domain == shop)
             .order_by(o.c.created_at, o.c.order_id))
    if created_since is not None:
        query = query.where(o.c.created_at >= created_since)
    with engine.connect() as conn:
        if order_ids is None:
            return [event_from_row(row, row.order_id) for row in conn.execute(query)]
        return [event_from_row(row, row.order_id) for chunk in chunks(list(dict.fromkeys(order_ids)))
                for row in conn.execute(query.where(o.c.order_id.in_(chunk)))]
