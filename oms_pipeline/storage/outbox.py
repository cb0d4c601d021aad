"""The writeback outbox: every intended write, recorded before anything is sent, until it is closed.

An intent is written in the same transaction as what asks for it (a decision, a plan, an operator's
approval or release), so a process killed at any moment leaves either both or neither. A row is
``awaiting_gate`` until the quality gate of the run that recorded it has passed, then ``open``; the
next writeback of any run sends open rows oldest first and closes each one with its outcome in the
same transaction that records the outcome in the ledger and the audit log. Nothing is left behind
because a run died: the next run finds it here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from oms_pipeline.domain.writeback.actions import ActionKind, WriteAction
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows, update_rows

AWAITING_GATE = "awaiting_gate"
OPEN = "open"
CLOSED = "closed"
UNSENT = (AWAITING_GATE, OPEN)
# The ledger status of a key whose send was in flight (claimed, its outcome never recorded) when a newer
# decision superseded it: it may have reached the store, and nothing will confirm it now.
LEDGER_SUPERSEDED = "superseded"

# What a newer decision of the same order restates or makes moot: tags and metafields are written
# again from the new decision, and a handoff of an order decided again is replaced by the new plan's (or
# by none). The exception notices (alert, ticket, note line) go out when an order becomes an exception;
# a newer decision that keeps it one does not repeat them, so they stay, and only a decision that ends
# the exception makes them moot. Holds carry state (``order_holds`` believes them placed or released),
# so they are always sent, in order.
SUPERSEDABLE = frozenset({ActionKind.ADD_TAGS, ActionKind.SET_METAFIELDS, ActionKind.UPDATE_NOTE,
                          ActionKind.CHAT_ALERT, ActionKind.HELPDESK_TICKET, ActionKind.HANDOFF_TO_3PL})
EXCEPTION_NOTICES = frozenset({ActionKind.UPDATE_NOTE, ActionKind.CHAT_ALERT, ActionKind.HELPDESK_TICKET})


@dataclass(frozen=True)
class OutboxItem:
    """An unsent intent: which run recorded it, when, and the action itself."""

    outbox_id: str
    run_id: str
    created_at: datetime
    action: WriteAction


@dataclass(frozen=True)
class StaleIntents:
    """Unsent intents of one workflow older than the allowed age."""

    workflow: str
    status: str
    count: int
    oldest: datetime


def intent_rows(run_id: str, actions: Sequence[WriteAction], status: str, now: datetime,
                first_seq: int = 0) -> list[dict[str, Any]]:
    """Outbox rows for a run's intended writes, in the order they should be sent."""
    return [{
        "outbox_id": f"{run_id}:{first_seq + n:06d}", "run_id": run_id, "seq": first_seq + n,
        "shop_domain": a.shop_domain, "order_id": a.order_id, "trace_id": a.trace_id,
        "workflow": a.workflow.value, "action": a.kind.value, "idempotency_key": a.idempotency_key,
        "by_operator": a.by_operator, "action_json": a.model_dump_json(), "status": status, "outcome": None,
        "detail": None, "created_at": now, "closed_at": None, "closed_by_run": None,
    } for n, a in enumerate(actions)]


def add_intents(conn: Connection, run_id: str, actions: Sequence[WriteAction], status: str,
                now: datetime) -> int:
    """Record intended writes inside the caller's transaction; numbered after the run's earlier ones."""
    if not actions:
        return 0
    t = schema.writeback_outbox
    # scalar_one, not scalar: DuckDB keeps a half-read result open, which blocks the bulk insert below.
    last = conn.execute(sa.select(sa.func.max(t.c.seq)).where(t.c.run_id == run_id)).scalar_one()
    rows = intent_rows(run_id, actions, status, now, first_seq=0 if last is None else last + 1)
    for chunk in chunks(rows):
        insert_rows(conn, t, chunk)
    return len(rows)


def supersede_intents(conn: Connection, shop: str, order_ids: Sequence[str], run_id: str, now: datetime,
                      still_exceptions: Iterable[str] = ()) -> int:
    """Close the unsent, supersedable intents of orders that are being decided again (inside the caller's
    transaction, before the new decision's intents are added). ``still_exceptions``: orders the new
    decision keeps as exceptions, whose exception notices still stand. Operators' own actions always go."""
    t = schema.writeback_outbox
    kept = set(still_exceptions)
    everything = [k.value for k in SUPERSEDABLE]
    restated = [k.value for k in SUPERSEDABLE - EXCEPTION_NOTICES]
    rows = []
    for kinds, ids in ((everything, [o for o in order_ids if o not in kept]),
                       (restated, [o for o in order_ids if o in kept])):
        for chunk in chunks(ids):
            rows += conn.execute(sa.select(t.c.outbox_id, t.c.idempotency_key).where(
                t.c.shop_domain == shop, t.c.order_id.in_(chunk), t.c.status.in_(UNSENT), ~t.c.by_operator,
                t.c.action.in_(kinds))).all()
    update_rows(conn, t, ["outbox_id"], [
        {"outbox_id": r.outbox_id, "status": CLOSED, "outcome": "superseded",
         "detail": "a newer decision of this order replaced it", "closed_at": now, "closed_by_run": run_id}
        for r in rows])
    _supersede_claims(conn, {r.idempotency_key for r in rows}, now)
    return len(rows)


def _supersede_claims(conn: Connection, keys: set[str], now: datetime) -> None:
    """Ledger claims of superseded intents whose outcome no run recorded (a run died while sending them)
    will never be confirmed: they are marked superseded, unless another unsent intent still wants the key."""
    t, ledger = schema.writeback_outbox, schema.writeback_ledger
    wanted: set[str] = set()
    for chunk in chunks(list(keys)):
        wanted |= set(conn.execute(sa.select(t.c.idempotency_key).where(
            t.c.idempotency_key.in_(chunk), t.c.status.in_(UNSENT))).scalars())
    for chunk in chunks(sorted(keys - wanted)):
        conn.execute(sa.update(ledger).where(ledger.c.idempotency_key.in_(chunk),
                                             ledger.c.status.in_(["pending", "sending"])).values(
            status=LEDGER_SUPERSEDED, completed_at=now,
            detail="a newer decision replaced it before its outcome was recorded (it may have been sent)"))


def close_intents(conn: Connection, closures: Iterable[dict[str, Any]], run_id: str, now: datetime) -> None:
    """Close every unsent row of each idempotency key with its outcome (inside the gateway's transaction
    that records the same outcome in the ledger and the audit log). ``closures``: dicts with
    ``idempotency_key``, ``outcome`` and ``detail``."""
    rows = {c["idempotency_key"]: c for c in closures}
    if not rows:
        return
    t = schema.writeback_outbox
    keys = list(rows)
    unsent = []
    for chunk in chunks(keys):
        unsent += conn.execute(sa.select(t.c.outbox_id, t.c.idempotency_key).where(
            t.c.idempotency_key.in_(chunk), t.c.status.in_(UNSENT))).all()
    update_rows(conn, t, ["outbox_id"], [
        {"outbox_id": row.outbox_id, "status": CLOSED, "outcome": rows[row.idempotency_key]["outcome"],
         "detail": (rows[row.idempotency_key]["detail"] or "")[:2000], "closed_at": now, "closed_by_run": run_id}
        for row in unsent])


class OutboxStore:
    """Typed access to ``writeback_outbox`` outside the gateway's transactions."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, run_id: str, actions: Sequence[WriteAction], status: str, now: datetime) -> int:
        """Record intended writes in a transaction of their own."""
        with self.engine.begin() as conn:
            return add_intents(conn, run_id, actions, status, now)

    def release(self, run_id: str) -> int:
        """The run's quality gate passed: its intents may be sent."""
        t = schema.writeback_outbox
        with self.engine.begin() as conn:
            return conn.execute(sa.update(t).where(t.c.run_id == run_id, t.c.status == AWAITING_GATE)
                                .values(status=OPEN)).rowcount

    def block(self, run_id: str, detail: str, closing_run: str, now: datetime) -> int:
        """The run's quality gate failed: close its intents unsent, with the failed expectations as reason."""
        t = schema.writeback_outbox
        with self.engine.begin() as conn:
            return conn.execute(sa.update(t).where(t.c.run_id == run_id, t.c.status == AWAITING_GATE).values(
                status=CLOSED, outcome="blocked", detail=detail[:2000], closed_at=now,
                closed_by_run=closing_run)).rowcount

    def awaiting_runs(self, shop: str, except_run: str | None = None) -> list[str]:
        """Runs whose intents still wait for their quality gate, oldest first."""
        t = schema.writeback_outbox
        query = (sa.select(t.c.run_id).where(t.c.shop_domain == shop, t.c.status == AWAITING_GATE)
                 .group_by(t.c.run_id).order_by(sa.func.min(t.c.created_at), t.c.run_id))
        with self.engine.connect() as conn:
            return [r for r in conn.execute(query).scalars() if r != except_run]

    def unsent(self, shop: str, workflows: Sequence[str], status: str = OPEN) -> list[OutboxItem]:
        """Unsent intents of ``workflows``, oldest first (by when they were recorded, then their run's order)."""
        t = schema.writeback_outbox
        query = (sa.select(t.c.outbox_id, t.c.run_id, t.c.created_at, t.c.action_json)
                 .where(t.c.shop_domain == shop, t.c.status == status, t.c.workflow.in_(list(workflows)))
                 .order_by(t.c.created_at, t.c.run_id, t.c.seq))
        with self.engine.connect() as conn:
            return [OutboxItem(row.outbox_id, row.run_id, row.created_at,
                               WriteAction.model_validate_json(row.action_json)) for row in conn.execute(query)]

    def orders_per_run(self, run_ids: Sequence[str], workflows: Sequence[str]) -> dict[str, int]:
        """How many orders each run intended writes of ``workflows`` for (sent or not): the batch its
        circuit breaker is measured against, the same whichever run sends the writes."""
        t = schema.writeback_outbox
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(run_ids)):
                query = (sa.select(t.c.run_id, sa.func.count(sa.distinct(t.c.order_id)))
                         .where(t.c.run_id.in_(chunk), t.c.workflow.in_(list(workflows))).group_by(t.c.run_id))
                out.update(conn.execute(query).tuples().all())
        return out

    def stale(self, now: datetime, max_age: timedelta, shop: str | None = None) -> list[StaleIntents]:
        """Unsent intents recorded more than ``max_age`` ago, per workflow and status."""
        t = schema.writeback_outbox
        query = (sa.select(t.c.workflow, t.c.status, sa.func.count(), sa.func.min(t.c.created_at))
                 .where(t.c.status.in_(UNSENT), t.c.created_at < now - max_age)
                 .group_by(t.c.workflow, t.c.status).order_by(t.c.workflow, t.c.status))
        if shop:
            query = query.where(t.c.shop_domain == shop)
        with self.engine.connect() as conn:
            return [StaleIntents(w, s, n, oldest) for w, s, n, oldest in conn.execute(query)]

    def counts(self, shop: str | None = None) -> dict[str, int]:
        """Rows per status, and closed rows per outcome (``closed:<outcome>``)."""
        t = schema.writeback_outbox
        label = sa.case((t.c.status == CLOSED, sa.literal("closed:") + t.c.outcome), else_=t.c.status)
        query = sa.select(label, sa.func.count()).group_by(label)
        if shop:
            query = query.where(t.c.shop_domain == shop)
        with self.engine.connect() as conn:
            return dict(conn.execute(query).tuples().all())

    def of_run(self, run_id: str) -> list[WriteAction]:
        """The writes a run intended, in order (sent or not)."""
        t = schema.writeback_outbox
        with self.engine.connect() as conn:
            return [WriteAction.model_validate_json(raw) for raw in conn.execute(
                sa.select(t.c.action_json).where(t.c.run_id == run_id).order_by(t.c.seq)).scalars()]
