"""Decisions, order states and holds in the warehouse.

Which orders need a decision, what each order's current state and holds are, and the record of a
run's decisions (decision rows, state history, holds placed and released), written in one
transaction so a killed run leaves either all of an order's decision or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from oms_pipeline.domain.decisions.decide import OrderDecision
from oms_pipeline.domain.decisions.holds import Hold, HoldRelease
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.decisions.triage import HoldReason
from oms_pipeline.domain.ingestion import OrderEvent
from oms_pipeline.domain.routing.model import Shipment
from oms_pipeline.domain.routing.rates import RateChoice
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows, read_frame, update_rows
from oms_pipeline.storage.order_events import (
    EVENT_COLUMNS,
    CurrentOrders,
    current_version,
    event_from_row,
    read_orders,
)
from oms_pipeline.storage.outbox import AWAITING_GATE, EXCEPTION_NOTICES, OPEN, add_intents, supersede_intents

SETTLED = (OrderState.RELEASED.value, OrderState.FULFILLED.value, OrderState.CANCELLED.value)


@dataclass(frozen=True)
class DecisionCandidate:
    """An order that may need a (new) decision: its latest landed payload and what we last knew."""

    order_id: str
    event: OrderEvent
    order_updated_at: datetime
    state: OrderState | None
    fingerprint: str | None
    recheck_due: bool = False


@dataclass(frozen=True)
class RecordedDecision:
    """What :meth:`DecisionStore.record` stores for one order."""

    decision: OrderDecision
    order_updated_at: datetime
    plan_summary: str | None
    shipments: Sequence[Shipment]
    stock: dict[tuple[str, str], int]  # (location, sku) -> snapshot units, for the quality gate
    ordered_by_sku: dict[str, int]


@dataclass(frozen=True)
class PlanCandidate:
    """A decision whose order is to be planned: what the decision said, and the order's landed payload."""

    order_id: str
    trace_id: str
    fingerprint: str
    note_tags: tuple[str, ...]
    event: OrderEvent
    run_id: str = ""  # the run that made the decision
    state: str = "ready"
    order_name: str = ""
    confidence: float = 1.0
    rules_version: str = "-"
    fraud_model_version: str = "-"
    notes_engine: str = "-"

    def decision_row(self) -> dict[str, Any]:
        """The decision's columns as an ``order_decisions`` row holds them (what the handoff builder reads)."""
        return {"order_id": self.order_id, "trace_id": self.trace_id, "state": self.state,
                "order_fingerprint": self.fingerprint, "confidence": self.confidence,
                "rules_version": self.rules_version, "fraud_model_version": self.fraud_model_version,
                "notes_engine": self.notes_engine}


@dataclass
class RecordCounts:
    """What :meth:`DecisionStore.record` did besides storing the decisions."""

    intents: int = 0
    intents_superseded: int = 0
    reviews_superseded: int = 0


def _supersede_reviews(conn: Connection, shop: str, order_ids: Sequence[str], now: datetime,
                       still_exceptions: set[str]) -> int:
    """Pending review items of orders being decided again: a newer decision replaces them (approving an
    old suggestion would write what no longer holds), except the exception notices of an order that is
    still an exception, which stand (as their unsent intents do)."""
    t = schema.review_queue
    notices = [k.value for k in EXCEPTION_NOTICES]
    count = 0
    for ids, keep in (([o for o in order_ids if o not in still_exceptions], []),
                      ([o for o in order_ids if o in still_exceptions], notices)):
        for chunk in chunks(ids):
            count += conn.execute(sa.update(t).where(
                t.c.shop_domain == shop, t.c.order_id.in_(chunk), t.c.status == "pending",
                t.c.action.not_in(keep) if keep else sa.true()).values(
                status="superseded", decided_by="oms-triage", decided_at=now,
                decision_note="a newer decision of this order replaced it")).rowcount
    return count


@dataclass(frozen=True)
class PlannedOrder:
    """What :meth:`DecisionStore.record_plans` stores for one order: its shipments (each with the carrier
    quote rate shopping chose, or None), the stock they drew from, and the summary shown to people."""

    order_id: str
    trace_id: str
    summary: str | None
    shipments: Sequence[Shipment]
    rates: Sequence[RateChoice | None]
    stock: dict[tuple[str, str], int]
    location_kinds: Mapping[str, str]  # location id -> who runs it (own_dc, 3pl, store, dropship)


def _shipment_rows(shop: str, order_id: str, trace_id: str, shipments: Sequence[Shipment],
                   rates: Sequence[RateChoice | None], stock: dict[tuple[str, str], int],
                   location_kinds: Mapping[str, str], run_id: str) -> list[dict[str, Any]]:
    rows = []
    for s, rate in zip(shipments, rates, strict=True):
        quote = rate.quote if rate is not None else None
        for line in s.lines:
            rows.append({
                "shop_domain": shop, "order_id": order_id, "trace_id": trace_id,
                "location_id": s.location_id, "location_kind": location_kinds.get(s.location_id),
                "service_id": s.service_id, "sku": line.sku, "quantity": line.qty,
                "stock_at_location": stock.get((s.location_id, line.sku), 0),
                "shipment_cost": s.cost, "transit_days": s.transit_days, "reason": s.reason, "run_id": run_id,
                "carrier": quote.carrier if quote else None, "carrier_service": quote.service if quote else None,
                "carrier_rate": quote.rate if quote else None, "carrier_currency": quote.currency if quote else None,
                "carrier_days": rate.days if rate else None, "rate_reason": rate.reason if rate else None})
    return rows


def _hold_from_row(row: Any) -> Hold:
    return Hold(order_id=row.order_id, reason=HoldReason(row.reason), handle=row.handle, rule_id=row.rule_id,
                placed_at=row.placed_at if row.placed_at.tzinfo else row.placed_at.replace(tzinfo=UTC),
                placed_by=row.placed_by)


class DecisionStore:
    """Typed access to order_decisions, planned_shipments, order_states, order_state_history, order_holds."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- what to decide ---------------------------------------------------------------------

    def candidates(self, shop: str, now: datetime, limit: int | None = None) -> CurrentOrders[DecisionCandidate]:
        """Orders whose stored version is newer than the one last decided, never decided, or on hold
        and due for their recheck; settled orders (released, fulfilled, cancelled) only when the store
        changed them since. Each read into its canonical order; those that could not be read listed."""
        o, r, s = schema.orders, schema.raw_order_events, schema.order_states
        query = (
            sa.select(o.c.order_id, o.c.updated_at, *EVENT_COLUMNS, s.c.state, s.c.order_fingerprint,
                      sa.and_(s.c.state == OrderState.ON_HOLD.value, s.c.recheck_at <= now).label("recheck_due"))
            .join(r, current_version(o))
            .outerjoin(s, sa.and_(s.c.shop_domain == o.c.shop_domain, s.c.order_id == o.c.order_id))
            .where(o.c.shop_domain == shop)
            .where(sa.or_(s.c.state.is_(None), o.c.updated_at > s.c.order_updated_at,
                          sa.and_(s.c.state == OrderState.ON_HOLD.value, s.c.recheck_at <= now)))
            .order_by(o.c.created_at, o.c.order_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return read_orders((
            DecisionCandidate(
                order_id=row.order_id,
                event=event_from_row(row, row.order_id),
                order_updated_at=row.updated_at,
                state=OrderState(row.state) if row.state else None,
                fingerprint=row.order_fingerprint,
                recheck_due=bool(row.recheck_due),
            )
            for row in rows
        ), shop, lambda candidate: candidate.event)

    def active_holds(self, shop: str, order_ids: Sequence[str]) -> dict[str, tuple[Hold, ...]]:
        """The holds in force on each order."""
        h = schema.order_holds
        out: dict[str, list[Hold]] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(list(order_ids)):
                for row in conn.execute(sa.select(h).where(h.c.shop_domain == shop, h.c.order_id.in_(chunk),
                                                           h.c.status == "active").order_by(h.c.placed_at)):
                    out.setdefault(row.order_id, []).append(_hold_from_row(row))
        return {k: tuple(v) for k, v in out.items()}

    def mark_seen(self, shop: str, versions: dict[str, datetime]) -> None:
        """Orders whose new version changed nothing decisions read (e.g. our own tags came back):
        remember the version so they are not parsed again."""
        rows = [{"shop_domain": shop, "order_id": oid, "order_updated_at": at} for oid, at in versions.items()]
        with self.engine.begin() as conn:
            for chunk in chunks(rows):
                update_rows(conn, schema.order_states, ["shop_domain", "order_id"], chunk)

    # -- recording --------------------------------------------------------------------------

    def record(self, shop: str, items: Sequence[RecordedDecision], run_id: str, recheck_after: timedelta,
               intents: Sequence[WriteAction] = (), now: datetime | None = None) -> RecordCounts:
        """Store a run's decisions, state changes, plans, hold changes and the writes they ask for in one
        transaction, so a killed run leaves an order's decision with its intended writes or neither.

        The unsent intents and pending review items of these orders' earlier decisions that the new ones
        restate are closed as superseded; the new intents wait in the outbox for the run's quality gate.
        """
        counts = RecordCounts()
        if not items:
            return counts
        now = now or datetime.now(UTC)
        decisions, shipments, history, states, placed, released = [], [], [], [], [], []
        for item in items:
            d = item.decision
            planned = sum(line.qty for s in item.shipments for line in s.lines)
            decisions.append({
                "shop_domain": shop, "order_id": d.order_id, "order_fingerprint": d.fingerprint,
                "order_name": d.order_name, "order_updated_at": item.order_updated_at,
                "outcome": d.outcome.value, "state": d.state.value,
                "reasons": json.dumps([list(r) for r in d.triage.reasons]),
                "hold_reasons": json.dumps([[rule, reason.value] for rule, reason in d.triage.hold_reasons]),
                "rules_version": d.triage.rules_version, "fraud_score": d.fraud.score,
                "fraud_reasons": json.dumps(list(d.fraud.reasons)), "fraud_model_version": d.fraud.model_version,
                "note_tags": json.dumps(sorted(t.value for t in d.notes.tags)), "notes_engine": d.notes.engine,
                "confidence": d.confidence, "plan_summary": item.plan_summary, "planned_units": planned,
                "ordered_units": sum(item.ordered_by_sku.values()),
                "ordered_by_sku": json.dumps(item.ordered_by_sku, sort_keys=True), "trace_id": d.trace_id,
                "decided_at": d.decided_at,
                "run_id": run_id,
            })
            shipments += _shipment_rows(shop, d.order_id, d.trace_id, item.shipments, [None] * len(item.shipments),
                                        item.stock, {}, run_id)
            for seq, change in enumerate(d.state_changes):
                history.append({
                    "shop_domain": shop, "order_id": d.order_id, "seq": seq, "from_state": change.from_state.value,
                    "to_state": change.to_state.value, "actor": change.actor, "reason": change.reason,
                    "trace_id": change.trace_id, "changed_at": change.at})
            on_hold = d.state is OrderState.ON_HOLD
            states.append({
                "shop_domain": shop, "order_id": d.order_id, "state": d.state.value,
                "order_fingerprint": d.fingerprint, "order_updated_at": item.order_updated_at,
                "recheck_at": d.decided_at + recheck_after if on_hold else None, "updated_at": d.decided_at,
                "trace_id": d.trace_id})
            for hold in d.holds.place:
                placed.append({
                    "shop_domain": shop, "order_id": hold.order_id, "handle": hold.handle,
                    "placed_at": hold.placed_at, "rule_id": hold.rule_id, "reason": hold.reason.value,
                    "placed_by": hold.placed_by, "status": "active", "trace_id": d.trace_id})
            for hold in d.holds.release:
                released.append(_release_row(shop, hold, d.decided_at, "oms-triage",
                                             "the rule that placed it no longer fires", False))
        s_t = schema.order_states
        with self.engine.begin() as conn:
            insert_rows(conn, schema.order_decisions, decisions)
            insert_rows(conn, schema.planned_shipments, shipments)
            insert_rows(conn, schema.order_state_history, history)
            ids = [row["order_id"] for row in states]
            for chunk in chunks(ids):
                conn.execute(sa.delete(s_t).where(s_t.c.shop_domain == shop, s_t.c.order_id.in_(chunk)))
            insert_rows(conn, s_t, states)
            insert_rows(conn, schema.order_holds, placed)
            update_rows(conn, schema.order_holds, ["shop_domain", "order_id", "handle", "placed_at"], released)
            still_exceptions = {i.decision.order_id for i in items if i.decision.state is OrderState.EXCEPTION}
            counts.intents_superseded = supersede_intents(conn, shop, ids, run_id, now, still_exceptions)
            counts.reviews_superseded = _supersede_reviews(conn, shop, ids, now, still_exceptions)
            counts.intents = add_intents(conn, run_id, intents, AWAITING_GATE, now)
        return counts

    def to_plan(self, shop: str, run_id: str, states: Sequence[str]) -> CurrentOrders[PlanCandidate]:
        """Decisions in one of ``states`` that still need a plan, whichever run made them: each order's
        latest decision not planned yet (a run killed before planning left it so), and those ``run_id``
        planned itself (a retried step plans them again). Each read into the canonical order of its current
        version; those that could not be read listed."""
        d, o, r, s_t = schema.order_decisions, schema.orders, schema.raw_order_events, schema.order_states
        query = (
            sa.select(d.c.order_id, d.c.trace_id, d.c.order_fingerprint, d.c.note_tags, d.c.state, d.c.order_name,
                      d.c.run_id.label("decision_run_id"),
                      d.c.confidence, d.c.rules_version, d.c.fraud_model_version, d.c.notes_engine,
                      *EVENT_COLUMNS)
            .join(s_t, sa.and_(s_t.c.shop_domain == d.c.shop_domain, s_t.c.order_id == d.c.order_id,
                               s_t.c.trace_id == d.c.trace_id))
            .join(o, sa.and_(o.c.shop_domain == d.c.shop_domain, o.c.order_id == d.c.order_id))
            .join(r, current_version(o))
            .where(d.c.shop_domain == shop, d.c.state.in_(list(states)),
                   sa.or_(d.c.planned_at.is_(None), d.c.plan_run_id == run_id))
            .order_by(o.c.created_at, d.c.order_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        planned = (PlanCandidate(order_id=row.order_id, trace_id=row.trace_id, fingerprint=row.order_fingerprint,
                                 note_tags=tuple(json.loads(row.note_tags or "[]")),
                                 event=event_from_row(row, row.order_id),
                                 run_id=row.decision_run_id, state=row.state, order_name=row.order_name,
                                 confidence=row.confidence, rules_version=row.rules_version,
                                 fraud_model_version=row.fraud_model_version, notes_engine=row.notes_engine)
                   for row in rows)
        return read_orders(planned, shop, lambda candidate: candidate.event)

    def record_plans(self, shop: str, run_id: str, planned: Sequence[PlannedOrder], intents: Sequence[WriteAction] = (),
                     now: datetime | None = None) -> None:
        """Store fulfillment plans with the writes they ask for (the ``oms.plan`` metafield, the 3PL
        handoff), in one transaction: the shipment lines, and each decision's plan summary, planned units
        and planning run. Planning the same decisions again in the same run replaces what it stored."""
        if not planned:
            return
        now = now or datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        for item in planned:
            rows += _shipment_rows(shop, item.order_id, item.trace_id, item.shipments, item.rates, item.stock,
                                   item.location_kinds, run_id)
        p, out = schema.planned_shipments, schema.writeback_outbox
        replanned = [k.value for k in (ActionKind.SET_METAFIELDS, ActionKind.HANDOFF_TO_3PL)]
        with self.engine.begin() as conn:
            traces = [item.trace_id for item in planned]
            for chunk in chunks(traces):
                conn.execute(sa.delete(p).where(p.c.shop_domain == shop, p.c.trace_id.in_(chunk)))
                # A plan written earlier in this run and not yet sent is replaced by the new plan's writes.
                conn.execute(sa.delete(out).where(
                    out.c.run_id == run_id, out.c.trace_id.in_(chunk), out.c.status == AWAITING_GATE,
                    out.c.workflow.in_([Workflow.ROUTING.value, Workflow.FULFILLMENT_HANDOFF.value]),
                    out.c.action.in_(replanned)))
            insert_rows(conn, p, rows)
            update_rows(conn, schema.order_decisions, ["shop_domain", "order_id", "trace_id"], [
                {"shop_domain": shop, "order_id": item.order_id, "trace_id": item.trace_id,
                 "plan_summary": item.summary,
                 "planned_units": sum(line.qty for s in item.shipments for line in s.lines),
                 "plan_run_id": run_id, "planned_at": now} for item in planned])
            add_intents(conn, run_id, intents, AWAITING_GATE, now)

    def record_release(self, shop: str, release: HoldRelease, new_state: OrderState | None, trace_id: str, *,
                       intents: Sequence[WriteAction] = (), run_id: str = "", now: datetime | None = None) -> None:
        """An operator's (or automation's) hold release, the order's state change it causes, and the writes
        that tell the store (open in the outbox under ``run_id``), in one transaction."""
        h = release.hold
        row = _release_row(shop, h, release.released_at, release.released_by, release.why, release.by_operator)
        with self.engine.begin() as conn:
            update_rows(conn, schema.order_holds, ["shop_domain", "order_id", "handle", "placed_at"], [row])
            add_intents(conn, run_id, intents, OPEN, now or datetime.now(UTC))
            if new_state is not None:
                s_t = schema.order_states
                current = conn.execute(sa.select(s_t.c.state).where(
                    s_t.c.shop_domain == shop, s_t.c.order_id == h.order_id)).scalar_one()
                seq = conn.execute(sa.select(sa.func.count()).select_from(schema.order_state_history).where(
                    schema.order_state_history.c.trace_id == trace_id)).scalar_one()
                insert_rows(conn, schema.order_state_history, [{
                    "shop_domain": shop, "order_id": h.order_id, "seq": seq, "from_state": current,
                    "to_state": new_state.value, "actor": release.released_by, "reason": release.why,
                    "trace_id": trace_id, "changed_at": release.released_at}])
                conn.execute(sa.update(s_t).where(s_t.c.shop_domain == shop, s_t.c.order_id == h.order_id).values(
                    state=new_state.value, recheck_at=None, updated_at=release.released_at, trace_id=trace_id))

    # -- reads ------------------------------------------------------------------------------

    def state_of(self, shop: str, order_id: str) -> OrderState | None:
        """An order's current state, or None if it was never decided."""
        s_t = schema.order_states
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(s_t.c.state).where(
                s_t.c.shop_domain == shop, s_t.c.order_id == order_id)).scalar_one_or_none()
        return OrderState(value) if value else None

    def find_order(self, shop: str, order_ref: str) -> str | None:
        """An order id from an id or a name (``#1042`` or ``1042``)."""
        o = schema.orders
        names = {order_ref, f"#{order_ref.lstrip('#')}"}
        with self.engine.connect() as conn:
            return conn.execute(sa.select(o.c.order_id).where(
                o.c.shop_domain == shop, sa.or_(o.c.order_id == order_ref, o.c.order_name.in_(names)))).scalar()

    def decisions_of_run(self, run_id: str) -> pd.DataFrame:
        """The decisions a run made."""
        t = schema.order_decisions
        return read_frame(self.engine, sa.select(t).where(t.c.run_id == run_id))

    def checked_by_gate(self, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """What a run's quality gate checks: the decisions it made or planned (a run may plan decisions an
        earlier run made and did not live to plan) and the shipment lines it planned."""
        t = schema.order_decisions
        decisions = read_frame(self.engine, sa.select(t).where(sa.or_(t.c.run_id == run_id, t.c.plan_run_id == run_id)))
        return decisions, self.shipments_of_run(run_id)

    def shipments_of_run(self, run_id: str) -> pd.DataFrame:
        """The planned shipment lines of a run's decisions."""
        return read_frame(self.engine, sa.select(schema.planned_shipments).where(
            schema.planned_shipments.c.run_id == run_id))

    def history(self, shop: str, order_id: str) -> pd.DataFrame:
        """An order's state history, oldest first."""
        t = schema.order_state_history
        return read_frame(self.engine, sa.select(t).where(t.c.shop_domain == shop, t.c.order_id == order_id)
                      .order_by(t.c.changed_at, t.c.seq))

    def outcome_counts(self, shop: str) -> dict[str, int]:
        """Orders per current state."""
        s_t = schema.order_states
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(s_t.c.state, sa.func.count()).where(s_t.c.shop_domain == shop)
                                     .group_by(s_t.c.state)).tuples().all())

    def active_hold_counts(self, shop: str) -> dict[str, int]:
        """Active holds per rule."""
        h = schema.order_holds
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(h.c.rule_id, sa.func.count()).where(
                h.c.shop_domain == shop, h.c.status == "active").group_by(h.c.rule_id)).tuples().all())


def _release_row(shop: str, hold: Hold, at: datetime, by: str, why: str, by_operator: bool) -> dict[str, Any]:
    return {"shop_domain": shop, "order_id": hold.order_id, "handle": hold.handle, "placed_at": hold.placed_at,
            "status": "released", "released_at": at, "released_by": by, "release_why": why,
            "released_by_operator": by_operator}

