"""Decisions, order states and holds in the warehouse.

Which orders need a decision, what each order's current state and holds are, and the record of a
run's decisions (decision rows, state history, holds placed and released), written in one
transaction so a killed run leaves either all of an order's decision or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.domain.decisions.decide import OrderDecision
from oms_pipeline.domain.decisions.holds import Hold, HoldRelease
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.decisions.triage import HoldReason
from oms_pipeline.domain.ingestion import OrderEvent
from oms_pipeline.domain.routing.model import Shipment
from oms_pipeline.domain.routing.rates import RateChoice
from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import chunks, insert_rows, read_frame, update_rows
from oms_pipeline.storage.order_events import EVENT_COLUMNS, current_version, event_from_row

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
    """A decision of a run whose order is to be planned: the decision's keys and the order's landed payload."""

    order_id: str
    trace_id: str
    fingerprint: str
    note_tags: tuple[str, ...]
    event: OrderEvent


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


def _shipment_rows(shop: str, order_id: str, trace_id: str, shipments: Sequence[Shipment],
                   rates: Sequence[RateChoice | None], stock: dict[tuple[str, str], int],
                   run_id: str) -> list[dict[str, Any]]:
    rows = []
    for s, rate in zip(shipments, rates, strict=True):
        quote = rate.quote if rate is not None else None
        for line in s.lines:
            rows.append({
                "shop_domain": shop, "order_id": order_id, "trace_id": trace_id,
                "location_id": s.location_id, "service_id": s.service_id, "sku": line.sku,
                "quantity": line.qty, "stock_at_location": stock.get((s.location_id, line.sku), 0),
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

    def candidates(self, shop: str, now: datetime, limit: int | None = None) -> list[DecisionCandidate]:
        """Orders whose stored version is newer than the one last decided, never decided, or on hold
        and due for their recheck; settled orders (released, fulfilled, cancelled) only when the store
        changed them since."""
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
        return [
            DecisionCandidate(
                order_id=row.order_id,
                event=event_from_row(row, row.order_id),
                order_updated_at=row.updated_at,
                state=OrderState(row.state) if row.state else None,
                fingerprint=row.order_fingerprint,
                recheck_due=bool(row.recheck_due),
            )
            for row in rows
        ]

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

    def record(self, shop: str, items: Sequence[RecordedDecision], run_id: str, recheck_after: timedelta) -> None:
        """Store a run's decisions, state changes, plans and hold changes in one transaction."""
        if not items:
            return
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
                                        item.stock, run_id)
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

    def to_plan(self, shop: str, run_id: str, states: Sequence[str]) -> list[PlanCandidate]:
        """The run's decisions in one of ``states``, with the landed payload of each order's current version."""
        d, o, r = schema.order_decisions, schema.orders, schema.raw_order_events
        query = (
            sa.select(d.c.order_id, d.c.trace_id, d.c.order_fingerprint, d.c.note_tags, *EVENT_COLUMNS)
            .join(o, sa.and_(o.c.shop_domain == d.c.shop_domain, o.c.order_id == d.c.order_id))
            .join(r, current_version(o))
            .where(d.c.shop_domain == shop, d.c.run_id == run_id, d.c.state.in_(list(states)))
            .order_by(o.c.created_at, d.c.order_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [PlanCandidate(order_id=row.order_id, trace_id=row.trace_id, fingerprint=row.order_fingerprint,
                              note_tags=tuple(json.loads(row.note_tags or "[]")),
                              event=event_from_row(row, row.order_id))
                for row in rows]

    def record_plans(self, shop: str, run_id: str, planned: Sequence[PlannedOrder]) -> None:
        """Store a run's fulfillment plans: the shipment lines, and each decision's plan summary and planned
        units, in one transaction. Planning a run again replaces what it stored for the same orders."""
        if not planned:
            return
        rows: list[dict[str, Any]] = []
        for item in planned:
            rows += _shipment_rows(shop, item.order_id, item.trace_id, item.shipments, item.rates, item.stock, run_id)
        p = schema.planned_shipments
        with self.engine.begin() as conn:
            ids = [item.order_id for item in planned]
            for chunk in chunks(ids):
                conn.execute(sa.delete(p).where(p.c.shop_domain == shop, p.c.run_id == run_id,
                                                p.c.order_id.in_(chunk)))
            insert_rows(conn, p, rows)
            update_rows(conn, schema.order_decisions, ["shop_domain", "order_id", "trace_id"], [
                {"shop_domain": shop, "order_id": item.order_id, "trace_id": item.trace_id,
                 "plan_summary": item.summary,
                 "planned_units": sum(line.qty for s in item.shipments for line in s.lines)} for item in planned])

    def record_release(self, shop: str, release: HoldRelease, new_state: OrderState | None, trace_id: str) -> None:
        """An operator's (or automation's) hold release, and the order's state change it causes."""
        h = release.hold
        row = _release_row(shop, h, release.released_at, release.released_by, release.why, release.by_operator)
        with self.engine.begin() as conn:
            update_rows(conn, schema.order_holds, ["shop_domain", "order_id", "handle", "placed_at"], [row])
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

