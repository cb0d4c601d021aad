"""Pure rules of incremental ingestion: event identity, poll windows and normalization of a batch."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from oms_pipeline.domain.orders import Order, OrderParseError, parse_time
from oms_pipeline.domain.shopify.graphql import parse_graphql_order
from oms_pipeline.domain.shopify.rest import parse_rest_order

SourceApi = Literal["graphql", "rest"]


@dataclass(frozen=True)
class OrderEvent:
    """One order version as the store sent it: the payload verbatim and what identifies it."""

    source_api: SourceApi
    payload_json: str
    order_id: str | None
    updated_at: str | None
    payload_sha256: str  # of the content with keys sorted: key order does not change identity

    @property
    def event_key(self) -> str:
        """``<order id>@<updated_at>`` (a version of an order), or the payload hash when either is missing."""
        if self.order_id and self.updated_at:
            return f"{self.order_id}@{self.updated_at}"
        return f"sha256:{self.payload_sha256}"

    @classmethod
    def from_payload(cls, source_api: SourceApi, payload: Any) -> OrderEvent:
        """Wrap a decoded payload, reading its id and version stamp leniently (bad payloads included)."""
        order_id = updated_at = None
        if isinstance(payload, dict):
            raw_id = payload.get("id")
            if source_api == "graphql" and isinstance(raw_id, str):
                raw_id = raw_id.rsplit("/", 1)[-1]
            order_id = str(raw_id) if isinstance(raw_id, int | str) and str(raw_id).isdigit() else None
            stamp = payload.get("updatedAt" if source_api == "graphql" else "updated_at")
            updated_at = stamp if isinstance(stamp, str) and stamp else None
        # Field order and values as the store sent them; only whitespace is not kept.
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return cls(source_api=source_api, payload_json=text, order_id=order_id, updated_at=updated_at,
                   payload_sha256=hashlib.sha256(canonical.encode()).hexdigest())


@dataclass(frozen=True)
class QuarantinedPayload:
    """A payload refused at the boundary, with every reason."""

    event: OrderEvent
    error: OrderParseError
    order_name: str | None


@dataclass
class NormalizedBatch:
    """Valid orders (latest version of each) and the refused payloads of one batch."""

    orders: list[tuple[Order, OrderEvent]] = field(default_factory=list)
    quarantined: list[QuarantinedPayload] = field(default_factory=list)
    superseded: list[OrderEvent] = field(default_factory=list)  # older valid versions a newer one replaced

    def outcomes(self) -> dict[str, str]:
        """What became of each event key: ``order``, ``quarantined`` or ``superseded``."""
        result = {e.event_key: "superseded" for e in self.superseded}
        result.update({q.event.event_key: "quarantined" for q in self.quarantined})
        result.update({e.event_key: "order" for _, e in self.orders})
        return result


def parse_event(event: OrderEvent, shop_domain: str) -> Order:
    """The canonical order of one event; raises ``OrderParseError`` naming order and field."""
    payload = json.loads(event.payload_json)
    if event.source_api == "graphql":
        return parse_graphql_order(payload, shop_domain)
    return parse_rest_order(payload, shop_domain)


def normalize_events(events: Iterable[OrderEvent], shop_domain: str) -> NormalizedBatch:
    """Validate every event; keep the newest valid version of each order; quarantine the rest.

    A bad payload never stops the batch: it becomes a quarantine record with its reasons.
    """
    batch = NormalizedBatch()
    latest: dict[str, tuple[Order, OrderEvent]] = {}
    for event in events:
        try:
            order = parse_event(event, shop_domain)
        except OrderParseError as exc:
            payload = json.loads(event.payload_json)
            name = payload.get("name") if isinstance(payload, dict) else None
            batch.quarantined.append(
                QuarantinedPayload(event=event, error=exc, order_name=name if isinstance(name, str) else None)
            )
            continue
        seen = latest.get(order.id)
        if seen is None or order.updated_at > seen[0].updated_at:
            if seen is not None:
                batch.superseded.append(seen[1])
            latest[order.id] = (order, event)
        else:
            batch.superseded.append(event)
    batch.orders = sorted(latest.values(), key=lambda pair: (pair[0].updated_at, pair[0].id))
    return batch


@dataclass(frozen=True)
class PollWindow:
    """Which order changes one poll asks for: ``updated_at`` from ``start`` (inclusive) to ``end``."""

    start: datetime | None
    end: datetime | None = None

    def shopify_search(self) -> str | None:
        """The window as a Shopify search query (``updated_at:>='…' AND updated_at:<='…'``)."""
        parts = []
        if self.start:
            parts.append(f"updated_at:>='{_iso(self.start)}'")
        if self.end:
            parts.append(f"updated_at:<='{_iso(self.end)}'")
        return " AND ".join(parts) or None


def poll_window(high_water_mark: str | None, overlap: timedelta, end: datetime | None = None) -> PollWindow:
    """The next window: from ``overlap`` before the high-water mark, so late-indexed changes are not skipped.

    Re-reading the overlap costs a little; the event key dedupes what comes twice.
    """
    if not high_water_mark:
        return PollWindow(start=None, end=end)
    return PollWindow(start=parse_time(high_water_mark) - overlap, end=end)


def advance_high_water_mark(current: str | None, seen: Iterable[str | None]) -> str | None:
    """The newest ``updated_at`` among ``current`` and the versions landed (never moves backwards)."""
    best = parse_time(current) if current else None
    for stamp in seen:
        if not stamp:
            continue
        try:
            moment = parse_time(stamp)
        except ValueError:
            continue  # a malformed stamp must not move the mark
        if best is None or moment > best:
            best = moment
    return _iso(best) if best else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
