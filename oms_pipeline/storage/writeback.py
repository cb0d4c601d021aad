"""The gateway's records: audit log, writeback ledger and review queue.

The ledger's unique idempotency key is what makes writes exactly-once across runs: a key in state
``done`` is never sent again, a key left ``pending`` by a killed run is finished by the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows, read_frame, update_rows


@dataclass(frozen=True)
class LedgerEntry:
    """A ledger row as the gateway reads it."""

    idempotency_key: str
    status: str  # pending | done | rejected
    attempts: int
    external_ref: str | None


@dataclass(frozen=True)
class ReviewItem:
    """One suggestion waiting for (or decided by) an operator."""

    review_id: str
    idempotency_key: str
    shop_domain: str
    order_id: str
    workflow: str
    action: str
    action_json: str
    why: str
    confidence: float
    status: str
    decided_by: str | None


class WritebackStore:
    """Typed access to audit_log, writeback_ledger and review_queue."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def ledger(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The ledger rows of ``keys`` that exist."""
        t = schema.writeback_ledger
        out: dict[str, LedgerEntry] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(keys)):
                for row in conn.execute(sa.select(t.c.idempotency_key, t.c.status, t.c.attempts, t.c.external_ref)
                                        .where(t.c.idempotency_key.in_(chunk))):
                    out[row.idempotency_key] = LedgerEntry(*row)
        return out

    def begin(self, audit_rows: Sequence[dict[str, Any]], ledger_rows: Sequence[dict[str, Any]],
              review_rows: Sequence[dict[str, Any]]) -> None:
        """Audit records first, with the ledger claims and review items, in one transaction.

        A ledger claim for an existing key is skipped (the key's row stays as it is); so is a review
        item for a key already queued.
        """
        with self.engine.begin() as conn:
            for chunk in chunks(list(audit_rows)):
                insert_rows(conn, schema.audit_log, chunk)
            for chunk in chunks(list(ledger_rows)):
                insert_rows(conn, schema.writeback_ledger, chunk, skip_existing=True)
            for chunk in chunks(list(review_rows)):
                insert_rows(conn, schema.review_queue, chunk, skip_existing=True)

    def finish(self, audit_updates: Sequence[dict[str, Any]], ledger_updates: Sequence[dict[str, Any]]) -> None:
        """Record outcomes: audit rows by ``audit_id``, ledger rows by ``idempotency_key``."""
        with self.engine.begin() as conn:
            update_rows(conn, schema.audit_log, ["audit_id"], audit_updates)
            update_rows(conn, schema.writeback_ledger, ["idempotency_key"], ledger_updates)

    # -- intents ----------------------------------------------------------------------------

    def save_intents(self, run_id: str, shop: str, actions: Sequence[Any]) -> None:
        """The writes a run's decisions ask for (``WriteAction`` objects), for the writeback step."""
        rows = [{"run_id": run_id, "seq": n, "shop_domain": shop, "order_id": a.order_id, "trace_id": a.trace_id,
                 "action_json": a.model_dump_json()} for n, a in enumerate(actions)]
        with self.engine.begin() as conn:
            conn.execute(sa.delete(schema.writeback_intents).where(schema.writeback_intents.c.run_id == run_id))
            for chunk in chunks(rows):
                insert_rows(conn, schema.writeback_intents, chunk)

    def intents(self, run_id: str) -> list[str]:
        """A run's intended writes, as JSON, in the order they were decided."""
        t = schema.writeback_intents
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(t.c.action_json).where(t.c.run_id == run_id).order_by(t.c.seq))
                        .scalars())

    # -- review queue -----------------------------------------------------------------------

    def review(self, review_id: str) -> ReviewItem | None:
        """One review item by id."""
        t = schema.review_queue
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(
                t.c.review_id, t.c.idempotency_key, t.c.shop_domain, t.c.order_id, t.c.workflow, t.c.action,
                t.c.action_json, t.c.why, t.c.confidence, t.c.status, t.c.decided_by,
            ).where(t.c.review_id == review_id)).one_or_none()
        return ReviewItem(*row) if row else None

    def pending_reviews(self, shop: str | None = None) -> list[ReviewItem]:
        """Review items no one has decided yet, oldest first."""
        t = schema.review_queue
        query = sa.select(
            t.c.review_id, t.c.idempotency_key, t.c.shop_domain, t.c.order_id, t.c.workflow, t.c.action,
            t.c.action_json, t.c.why, t.c.confidence, t.c.status, t.c.decided_by,
        ).where(t.c.status == "pending").order_by(t.c.created_at, t.c.review_id)
        if shop:
            query = query.where(t.c.shop_domain == shop)
        with self.engine.connect() as conn:
            return [ReviewItem(*row) for row in conn.execute(query)]

    def supersede_reviews(self, shop: str, order_ids: Sequence[str]) -> int:
        """Pending suggestions of orders that have just been decided again: a newer decision replaces
        them (approving an old suggestion would write what no longer holds)."""
        t = schema.review_queue
        count = 0
        with self.engine.begin() as conn:
            for chunk in chunks(list(order_ids)):
                count += conn.execute(sa.update(t).where(
                    t.c.shop_domain == shop, t.c.order_id.in_(chunk), t.c.status == "pending").values(
                    status="superseded", decided_by="oms-triage", decided_at=datetime.now(UTC),
                    decision_note="a newer decision of this order replaced it")).rowcount
        return count

    def decide_review(self, review_id: str, status: str, by: str, note: str) -> None:
        """Mark a review item approved or rejected, by whom and why."""
        t = schema.review_queue
        with self.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.review_id == review_id).values(
                status=status, decided_by=by, decided_at=datetime.now(UTC), decision_note=note))

    # -- reads ------------------------------------------------------------------------------

    def audit(self, order_id: str | None = None, run_id: str | None = None) -> pd.DataFrame:
        """Audit rows, optionally of one order or one run, oldest first."""
        t = schema.audit_log
        query = sa.select(t).order_by(t.c.created_at, t.c.audit_id)
        if order_id:
            query = query.where(t.c.order_id == order_id)
        if run_id:
            query = query.where(t.c.run_id == run_id)
        return read_frame(self.engine, query)

    def ledger_counts(self) -> dict[str, int]:
        """Ledger rows per status."""
        t = schema.writeback_ledger
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).tuples().all())

    def ledger_frame(self) -> pd.DataFrame:
        """The whole ledger."""
        return read_frame(self.engine, sa.select(schema.writeback_ledger))

