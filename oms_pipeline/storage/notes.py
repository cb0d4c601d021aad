"""Parsed order notes: one row per (order, version) in ``order_note_tags``, on DuckDB or PostgreSQL.

The gift message and delivery instructions may hold personal data: they are stored here for the
shop's use and never logged (nothing in this module logs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.domain.decisions.signals import NoteTag, NoteTags
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows


@dataclass(frozen=True)
class StoredNoteParse:
    """One order version's parsed note, as stored."""

    order_id: str
    order_updated_at: datetime
    parse: NoteParse
    note_sha256: str | None = None


def _as_date(value: Any) -> date | None:
    # DuckDB may hand back a datetime for a DATE read through a DataFrame; keep only the day.
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _parse_of(row: Any) -> NoteParse:
    return NoteParse(
        tags=frozenset(NoteTag(t) for t in json.loads(row.tags)),
        deliver_by=_as_date(row.deliver_by),
        hold_until=_as_date(row.hold_until),
        gift_message=row.gift_message,
        instructions=row.instructions,
        engine=row.engine,
        version=row.engine_version,
        # FLOAT is single precision on DuckDB: 6 places give back what was stored.
        confidence=round(float(row.confidence), 6),
        fallback_reason=row.fallback_reason,
    )


class NoteTagStore:
    """Reads and writes ``order_note_tags``. Every write is one transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def save(self, shop: str, items: Sequence[StoredNoteParse], run_id: str, now: datetime | None = None) -> int:
        """Store parsed notes; an (order, version) already stored is left as it is. Returns rows written."""
        if not items:
            return 0
        now = now or datetime.now(UTC)
        unique = {(i.order_id, i.order_updated_at): i for i in items}
        t = schema.order_note_tags
        written = 0
        with self.engine.begin() as conn:
            for chunk in chunks(list(unique.values())):
                known = self._known(conn, shop, [i.order_id for i in chunk])
                rows = [_row(shop, i, run_id, now) for i in chunk
                        if (i.order_id, _utc(i.order_updated_at)) not in known]
                insert_rows(conn, t, rows, skip_existing=True)
                written += len(rows)
        return written

    def parsed_versions(self, shop: str, order_ids: Sequence[str]) -> set[tuple[str, datetime]]:
        """The (order id, order version) pairs already parsed, versions in UTC."""
        found: set[tuple[str, datetime]] = set()
        with self.engine.connect() as conn:
            for chunk in chunks(list(dict.fromkeys(order_ids))):
                found |= self._known(conn, shop, chunk)
        return found

    def latest(self, shop: str, order_ids: Sequence[str]) -> dict[str, StoredNoteParse]:
        """The most recent stored parse of each order (orders never parsed are absent)."""
        t = schema.order_note_tags
        out: dict[str, StoredNoteParse] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(dict.fromkeys(order_ids))):
                query = (sa.select(t).where(t.c.shop_domain == shop, t.c.order_id.in_(chunk))
                         .order_by(t.c.order_id, t.c.order_updated_at))
                for row in conn.execute(query):  # ascending: the last row of an order wins
                    out[row.order_id] = StoredNoteParse(order_id=row.order_id,
                                                        order_updated_at=_utc(row.order_updated_at),
                                                        parse=_parse_of(row), note_sha256=row.note_sha256)
        return out

    def latest_tags(self, shop: str, order_ids: Sequence[str]) -> dict[str, NoteTags]:
        """The triage signal (:class:`NoteTags`) of each order's most recent stored parse."""
        return {oid: stored.parse.as_note_tags() for oid, stored in self.latest(shop, order_ids).items()}

    @staticmethod
    def _known(conn: sa.Connection, shop: str, order_ids: Sequence[str]) -> set[tuple[str, datetime]]:
        t = schema.order_note_tags
        rows = conn.execute(sa.select(t.c.order_id, t.c.order_updated_at).where(
            t.c.shop_domain == shop, t.c.order_id.in_(list(order_ids))))
        return {(oid, _utc(at)) for oid, at in rows}


def _utc(at: datetime) -> datetime:
    # Backends return timestamps in their session zone (or naive UTC); compare them in UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _row(shop: str, item: StoredNoteParse, run_id: str, now: datetime) -> dict[str, Any]:
    p = item.parse
    return {
        "shop_domain": shop, "order_id": item.order_id, "order_updated_at": _utc(item.order_updated_at),
        "engine": p.engine, "engine_version": p.version, "tags": json.dumps(sorted(t.value for t in p.tags)),
        "deliver_by": p.deliver_by, "hold_until": p.hold_until, "gift_message": p.gift_message,
        "instructions": p.instructions, "confidence": float(p.confidence), "fallback_reason": p.fallback_reason,
        "note_sha256": item.note_sha256, "parsed_at": now, "run_id": run_id,
    }
