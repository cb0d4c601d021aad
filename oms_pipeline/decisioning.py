"""Running decisions and writebacks over the warehouse: load, call the domain, persist, report.

The Dagster assets and the operator commands (``oms holds release``, ``oms review approve``) call
these functions; the rules live in ``domain/`` and the writes go through ``gateway/``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from oms_pipeline.domain.decisions import load_triage_rules, release_by_operator
from oms_pipeline.domain.decisions.batch import decide_batch, local_notes
from oms_pipeline.domain.decisions.decide import order_fingerprint
from oms_pipeline.domain.decisions.signals import FraudAssessment, NoteTags, rule_based_fraud_assessment
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.decisions.triage import TriageRules, expand_bundles
from oms_pipeline.domain.ingestion import parse_event
from oms_pipeline.domain.orders import Order, OrderParseError
from oms_pipeline.domain.routing.network import FulfillmentNetwork, parse_network
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction
from oms_pipeline.domain.writeback.intents import decision_actions
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.notes_flow import stored_note_tags
from oms_pipeline.planning import RoutingPolicy, plan_decided
from oms_pipeline.services.writeback import send_operator_actions
from oms_pipeline.storage.decisions import RecordedDecision
from oms_pipeline.storage.warehouse import Warehouse


@dataclass(frozen=True)
class DecisionPolicy:
    """What decisions are made with: the triage rules, the fulfillment network, the hold recheck delay."""

    rules: TriageRules
    network: FulfillmentNetwork
    recheck_after: timedelta = timedelta(hours=24)


def load_decision_policy(rules_file: Path | None, network_file: Path | None, recheck_hours: float) -> DecisionPolicy:
    """Rules and network from their files; defaults: the shipped rules and the sandbox's network."""
    if network_file is not None:
        network = parse_network(Path(network_file).read_text(encoding="utf-8"), source=str(network_file))
    else:
        from oms_pipeline.sandbox.network import sandbox_network

        network = sandbox_network()
    return DecisionPolicy(rules=load_triage_rules(rules_file), network=network,
                          recheck_after=timedelta(hours=recheck_hours))


@dataclass
class DecisionRunSummary:
    """What one decision step did."""

    candidates: int = 0
    decided: int = 0
    unchanged: int = 0  # new store versions that change nothing decisions read (e.g. our own tags)
    unreadable: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    states: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    holds_placed: Counter = field(default_factory=Counter)
    holds_released: int = 0
    reviews_superseded: int = 0
    intents_superseded: int = 0  # unsent writes of earlier decisions these decisions replace
    intents: Counter = field(default_factory=Counter)
    plan: dict[str, Any] = field(default_factory=dict)  # the planning step's figures (decide_pending only)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready figures for Dagster metadata (no personal data: ids, counts and rule ids only)."""
        return {
            "candidates": self.candidates, "decided": self.decided, "unchanged_versions": self.unchanged,
            "unreadable": len(self.unreadable), "outcomes": dict(self.outcomes), "states": dict(self.states),
            "reasons": dict(self.reasons.most_common()), "holds_placed": dict(self.holds_placed),
            "holds_released": self.holds_released, "reviews_superseded": self.reviews_superseded,
            "intents_superseded": self.intents_superseded,
            "intended_writes": dict(self.intents), "plan": self.plan,
        }


def decide_pending(wh: Warehouse, shop: str, policy: DecisionPolicy, run_id: str, now: datetime,
                   routing: RoutingPolicy | None = None) -> DecisionRunSummary:
    """Decide every order that needs it, then plan the fulfillment of those ready to ship: the order flow's
    two steps (``order_triage``, then ``fulfillment_plans``) in one call, for operator tools and benches."""
    summary = triage_pending(wh, shop, policy, run_id, now)
    if summary.decided:
        routing = routing or RoutingPolicy()
        client = routing.rates_client()
        try:
            planned = plan_decided(wh, shop, policy.network, policy.rules, run_id, routing, client)
        finally:
            if client is not None:
                client.close()
        summary.plan = planned.metadata()
        summary.intents[ActionKind.SET_METAFIELDS.value] += planned.intents
    return summary


def triage_pending(wh: Warehouse, shop: str, policy: DecisionPolicy, run_id: str,
                   now: datetime) -> DecisionRunSummary:
    """Decide every order that needs it; store decisions, states, holds and intended writes. Fulfillment is
    planned afterwards (:func:`oms_pipeline.planning.plan_decided`) for the orders decided ready to ship."""
    summary = DecisionRunSummary()
    store = wh.decisions
    candidates = store.candidates(shop, now)
    summary.candidates = len(candidates)
    orders: list[Order] = []
    versions: dict[str, datetime] = {}
    unchanged: dict[str, datetime] = {}
    for cand in candidates:
        try:
            order = parse_event(cand.event, shop)
        except OrderParseError as error:  # it parsed when normalized; a parser change may refuse it now
            summary.unreadable.append(f"order {cand.order_id}: {error}")
            continue
        if cand.fingerprint == order_fingerprint(order) and not cand.recheck_due:
            unchanged[order.id] = cand.order_updated_at
            continue
        orders.append(order)
        versions[order.id] = cand.order_updated_at
    summary.unchanged = len(unchanged)
    store.mark_seen(shop, unchanged)
    if not orders:
        return summary
    states = {c.order_id: c.state for c in candidates}
    holds = store.active_holds(shop, [o.id for o in orders])
    ids = [o.id for o in orders]
    batch = decide_batch(orders, network=policy.network, rules=policy.rules, states=states, holds=holds, now=now,
                         recheck_after=policy.recheck_after, planner=None,
                         fraud_engine=_stored_fraud_scores(wh.fraud.latest_assessments(shop, ids)),
                         notes_engine=_stored_note_tags(stored_note_tags(wh, shop, ids)))
    by_id = {o.id: o for o in orders}
    items, actions = [], []
    for decision in batch.decisions:
        order = by_id[decision.order_id]
        ordered = dict(expand_bundles(order, policy.rules.bundles))
        items.append(RecordedDecision(decision=decision, order_updated_at=versions[order.id], plan_summary=None,
                                      shipments=(), stock={}, ordered_by_sku=ordered))
        actions += decision_actions(decision, order, shop, None)
        summary.outcomes[decision.outcome.value] += 1
        summary.states[decision.state.value] += 1
        summary.reasons.update(decision.triage.fired_rule_ids)
        summary.holds_placed.update(h.reason.value for h in decision.holds.place)
        summary.holds_released += len(decision.holds.release)
    recorded = store.record(shop, items, run_id, policy.recheck_after, intents=actions, now=now)
    summary.reviews_superseded = recorded.reviews_superseded
    summary.intents_superseded = recorded.intents_superseded
    summary.decided = len(batch.decisions)
    summary.intents.update(a.kind.value for a in actions)
    return summary


def _stored_fraud_scores(scored: dict[str, FraudAssessment]):
    """The fraud engine of a decision run: the score ``fraud_scores`` stored for the order, else the
    rules stand-in (an order decided without the scoring step, e.g. by a hand-run of the triage asset)."""

    def engine(order: Order) -> FraudAssessment:
        return scored.get(order.id) or rule_based_fraud_assessment(order)

    return engine


def _stored_note_tags(stored: dict[str, NoteTags]):
    """The note engine of a decision run: what ``order_note_tags`` stored for each order, else the
    local engine on the spot (orders decided without the note step)."""

    def engine(orders: Sequence[Order]) -> list[NoteTags]:
        missing = [o for o in orders if o.id not in stored]
        parsed = dict(zip((o.id for o in missing), local_notes(missing), strict=True)) if missing else {}
        return [stored.get(o.id) or parsed[o.id] for o in orders]

    return engine


# -- operator commands ------------------------------------------------------------------------


class OperatorError(ValueError):
    """An operator command that cannot be carried out (unknown order or review, nothing to release)."""


def release_holds(wh: Warehouse, gateway: WritebackGateway, shop: str, order_ref: str, by: str, why: str,
                  now: datetime, handle: str | None = None) -> dict[str, Any]:
    """An operator releases an order's holds (all, or the one with ``handle``); the store is told
    through the gateway and the order moves to ready when no hold is left."""
    store = wh.decisions
    order_id = store.find_order(shop, order_ref)
    if order_id is None:
        raise OperatorError(f"order {order_ref}: not found in {shop}")
    active = store.active_holds(shop, [order_id]).get(order_id, ())
    chosen = [h for h in active if handle is None or h.handle == handle]
    if not chosen:
        raise OperatorError(f"order {order_ref}: no active hold{f' with handle {handle}' if handle else ''}")
    trace_id = uuid4().hex
    run_id = f"operator-{trace_id[:12]}"
    released, actions = [], []
    for hold in chosen:
        record = release_by_operator(hold, by, why, now)
        action = WriteAction(
            shop_domain=shop, order_id=order_id, order_version=f"hold:{hold.handle}@{hold.placed_at.isoformat()}",
            workflow=Workflow.HOLDS, kind=ActionKind.RELEASE_HOLD, actor=by, by_operator=True, trace_id=trace_id,
            payload={"handle": hold.handle, "reason": hold.reason.value, "rule_id": hold.rule_id}, why=why)
        left = len(active) - len(released) - 1
        state = store.state_of(shop, order_id)
        new_state = OrderState.READY if left == 0 and state is OrderState.ON_HOLD else None
        # The release and the write that tells the store are recorded together; the write is sent now,
        # and if the store cannot be reached the next run's writeback sends it.
        store.record_release(shop, record, new_state, trace_id, intents=[action], run_id=run_id, now=now)
        if hold.is_fraud_hold:  # an operator cleared a fraud hold: a "legitimate" label for the fraud model
            wh.fraud.add_review_outcome(shop, order_id, "legitimate", by, now, source="hold release", note=why)
        released.append(hold.handle)
        actions.append(action)
    report = send_operator_actions(wh, gateway, run_id, actions)
    return {"order_id": order_id, "released": released, "by": by, "outcomes": dict(report.outcomes),
            "state": (store.state_of(shop, order_id) or OrderState.RECEIVED).value, "trace_id": trace_id}


def approve_review(wh: Warehouse, gateway: WritebackGateway, review_id: str, by: str,
                   note: str = "") -> dict[str, Any]:
    """An operator approves a queued suggestion: the gateway carries it out as the operator's action."""
    item = wh.writeback.review(review_id)
    if item is None:
        raise OperatorError(f"review {review_id}: not found")
    if item.status != "pending":
        raise OperatorError(f"review {review_id}: already {item.status} by {item.decided_by}")
    action = WriteAction.model_validate_json(item.action_json).model_copy(update={"actor": by, "by_operator": True})
    run_id = f"review-{review_id}-{uuid4().hex[:8]}"
    # The approval and the write it asks for are recorded together; the write is sent now, and if its
    # system cannot be reached the next run's writeback sends it.
    if not wh.writeback.decide_review(review_id, "approved", by, note, intents=[action], run_id=run_id):
        raise OperatorError(f"review {review_id}: decided meanwhile by someone else")
    report = send_operator_actions(wh, gateway, run_id, [action])
    return {"review_id": review_id, "order_id": item.order_id, "action": item.action, "by": by,
            "outcomes": dict(report.outcomes)}


def reject_review(wh: Warehouse, review_id: str, by: str, note: str) -> dict[str, Any]:
    """An operator rejects a queued suggestion: nothing is written."""
    item = wh.writeback.review(review_id)
    if item is None:
        raise OperatorError(f"review {review_id}: not found")
    if item.status != "pending":
        raise OperatorError(f"review {review_id}: already {item.status} by {item.decided_by}")
    if not wh.writeback.decide_review(review_id, "rejected", by, note):
        raise OperatorError(f"review {review_id}: decided meanwhile by someone else")
    return {"review_id": review_id, "order_id": item.order_id, "action": item.action, "status": "rejected"}


def pending_review_rows(wh: Warehouse, shop: str | None = None) -> Sequence[dict[str, Any]]:
    """The review queue as rows for a table."""
    return [{"review_id": i.review_id, "order_id": i.order_id, "workflow": i.workflow, "action": i.action,
             "confidence": round(i.confidence, 2), "why": i.why,
             "payload": json.loads(i.action_json).get("payload", {})}
            for i in wh.writeback.pending_reviews(shop)]
