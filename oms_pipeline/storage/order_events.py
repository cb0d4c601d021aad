"""Landed order payloads read back: the columns of an ``OrderEvent``, the join to each order's current
version, and :func:`read_orders`, the one way every step (decisions, notes, plans, fraud, fulfillment)
turns them into canonical orders and learns which could not be read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.domain.ingestion import OrderEvent, parse_event
from oms_pipeline.domain.orders import Order, OrderParseError
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks

_RAW = schema.raw_order_events
# What an OrderEvent needs besides the order id (the raw updated_at is labelled: `orders` has one too).
EVENT_COLUMNS = (_RAW.c.source_api, _RAW.c.payload, _RAW.c.updated_at.label("event_updated_at"),
                 _RAW.c.payload_sha256)


T = TypeVar("T")


@dataclass(frozen=True)
class UnreadableOrder:
    """An order whose landed payload parsed when it was normalized but not now (a parser change)."""

    order_id: str
    reason: str

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.reason}"


@dataclass(frozen=True)
class CurrentOrders(Generic[T]):
    """Orders read back from their landed payloads, each with the row it was read for (an event, a
    decision candidate, a plan candidate), and the ones that could not be read."""

    read: list[tuple[T, Order]] = field(default_factory=list)
    unreadable: list[UnreadableOrder] = field(default_factory=list)

    @property
    def orders(self) -> list[Order]:
        """The parsed orders, in the rows' order."""
        return [order for _, order in self.read]

    def by_id(self) -> dict[str, Order]:
        """The parsed orders by id."""
        return {order.id: order for _, order in self.read}


def read_orders(rows: Iterable[T], shop: str, event_of: Callable[[T], OrderEvent]) -> CurrentOrders[T]:
    """Parse the landed event of each row into the canonical order; a payload the parser refuses now is
    listed as unreadable (with the parser's reason), never dropped silently."""
    out: CurrentOrders[T] = CurrentOrders()
    for row in rows:
        event = event_of(row)
        try:
            out.read.append((row, parse_event(event, shop)))
        except OrderParseError as error:
            out.unreadable.append(UnreadableOrder(str(event.order_id), str(error).splitlines()[0][:300]))
    return out


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


def current_orders(engine: Engine, shop: str, *, order_ids: Sequence[str] | None = None,
                   created_since: datetime | None = None) -> CurrentOrders[OrderEvent]:
    """The current version of the shop's orders (see :func:`current_events`), read into canonical orders."""
    return read_orders(current_events(engine, shop, order_ids=order_ids, created_since=created_since), shop,
                       lambda event: event)
