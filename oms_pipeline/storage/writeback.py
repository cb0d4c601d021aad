"""The gateway's records: audit log, writeback ledger and review queue.

The ledger's unique idempotency key is what makes writes exactly-once across runs: a key in state
``done`` is never sent again, a key left ``pending`` by a killed run is sent again by the next one
(the outbox, ``storage/outbox.py``, says which writes are still to send).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from oms_pipeline.domain.writeback.actions import WriteAction
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows, read_frame, update_rows
from oms_pipeline.storage.outbox import LEDGER_SUPERSEDED, OPEN, add_intents, close_intents

# A key is claimed ``pending`` before it is sent and ends ``done`` or ``rejected``. A write the receiver
# cannot deduplicate (a chat message) is marked ``sending`` just before it goes out; one found still
# ``sending`` lost its answer (the process died), so it is ``uncertain`` until an operator decides.
PENDING, SENDING, UNCERTAIN, DONE, REJECTED = "pending", "sending", "uncertain", "done", "rejected"
SUPERSEDED = LEDGER_SUPERSEDED  # in flight when a newer decision replaced it (see storage/outbox.py)
LEDGER_STATUSES = (PENDING, SENDING, UNCERTAIN, DONE, REJECTED, SUPERSEDED)


def _reopen_reviews(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Queue review items, opening one whose key was queued before (and perhaps decided) again."""
    if not rows:
        return
    t = schema.review_queue
    known: set[str] = set()
    for chunk in chunks([r["idempotency_key"] for r in rows]):
        known |= set(conn.execute(sa.select(t.c.idempotency_key).where(t.c.idempotency_key.in_(chunk))).scalars())
    for chunk in chunks([r for r in rows if r["idempotency_key"] not in known]):
        insert_rows(conn, t, chunk)
    update_rows(conn, t, ["idempotency_key"], [
        {"idempotency_key": r["idempotency_key"], "why": r["why"], "status": "pending", "decided_by": None,
         "decided_at": None, "decision_note": None, "created_at": r["created_at"]}
        for r in rows if r["idempotency_key"] in known])


@dataclass
class WritebackRecords:
    """What one step of the gateway records, in one transaction (see :meth:`WritebackStore.record`)."""

    audit: list[dict[str, Any]] = field(default_factory=list)  # new audit rows, before anything is sent
    audit_updates: list[dict[str, Any]] = field(default_factory=list)  # outcomes, by audit_id
    ledger_claims: list[dict[str, Any]] = field(default_factory=list)  # new keys (an existing key is kept)
    ledger_updates: list[dict[str, Any]] = field(default_factory=list)  # by idempotency_key
    reviews: list[dict[str, Any]] = field(default_factory=list)  # new review items (a queued key stays as is)
    reopened_reviews: list[dict[str, Any]] = field(default_factory=list)  # queued again, e.g. an answer lost
    closures: list[dict[str, Any]] = field(default_factory=list)  # outbox rows closed, by idempotency_key

    @property
    def empty(self) -> bool:
        """Nothing to record."""
        return not any((self.audit, self.audit_updates, self.ledger_claims, self.ledger_updates, self.reviews,
                        self.reopened_reviews, self.closures))

    def __len__(self) -> int:
        return len(self.audit_updates) + len(self.closures)


@dataclass(frozen=True)
class LedgerEntry:
    """A ledger row as the gateway reads it."""

    idempotency_key: str
    status: str  # pending | sending | uncertain | done | rejected | superseded (see LEDGER_STATUSES)
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

    def record(self, records: WritebackRecords, run_id: str, now: datetime) -> None:
        """Everything one gateway step learned, in one transaction: audit rows before anything is sent (and
        their outcomes after), ledger claims and outcomes, review items, and the outbox rows they close."""
        if records.empty:
            return
        with self.engine.begin() as conn:
            for chunk in chunks(records.audit):
                insert_rows(conn, schema.audit_log, chunk)
            update_rows(conn, schema.audit_log, ["audit_id"], records.audit_updates)
            for chunk in chunks(records.ledger_claims):
                insert_rows(conn, schema.writeback_ledger, chunk, skip_existing=True)
            update_rows(conn, schema.writeback_ledger, ["idempotency_key"], records.ledger_updates)
            for chunk in chunks(records.reviews):
                insert_rows(conn, schema.review_queue, chunk, skip_existing=True)
            _reopen_reviews(conn, records.reopened_reviews)
            close_intents(conn, records.closures, run_id, now)

    def mark_sending(self, key: str, attempts: int, now: datetime) -> None:
        """Record that a write the receiver cannot deduplicate is about to go out: if the process dies
        before its outcome is recorded, the next run knows it may have been sent and asks an operator."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(schema.writeback_ledger).where(schema.writeback_ledger.c.idempotency_key == key)
                         .values(status=SENDING, attempts=attempts, detail=f"sending since {now.isoformat()}"))

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

    def decide_review(self, review_id: str, status: str, by: str, note: str, *,
                      intents: Sequence[WriteAction] = (), run_id: str = "") -> bool:
        """Mark a pending review item approved or rejected, by whom and why, with the writes the decision
        asks for (open in the outbox under ``run_id``), in one transaction. False when the item was no
        longer pending (someone else decided it meanwhile): nothing is recorded then."""
        t = schema.review_queue
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            changed = conn.execute(sa.update(t).where(t.c.review_id == review_id, t.c.status == "pending").values(
                status=status, decided_by=by, decided_at=now, decision_note=note)).rowcount
            if changed:
                add_intents(conn, run_id, intents, OPEN, now)
        return bool(changed)

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

