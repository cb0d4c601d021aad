"""Deciding orders: which ones need a (new) decision, the decision of each with its signals, and what
is stored (decisions, states, holds and the writes they ask for, in the outbox). ``order_triage``
calls it; the rules live in ``domain/decisions/``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from oms_pipeline.domain.decisions import load_triage_rules
from oms_pipeline.domain.decisions.batch import decide_batch
from oms_pipeline.domain.decisions.decide import order_fingerprint
from oms_pipeline.domain.decisions.signals import FraudAssessment, rule_based_fraud_assessment
from oms_pipeline.domain.decisions.triage import TriageRules, expand_bundles
from oms_pipeline.domain.orders import Order
from oms_pipeline.domain.routing.network import FulfillmentNetwork, parse_network
from oms_pipeline.domain.writeback.actions import ActionKind
from oms_pipeline.domain.writeback.intents import decision_actions
from oms_pipeline.services.notes import NoteEngine, parse_pending_notes, stored_note_tags
from oms_pipeline.services.planning import RoutingPolicy, plan_decided
from oms_pipeline.storage.decisions import RecordedDecision
from oms_pipeline.storage.warehouse import Warehouse


@dataclass(frozen=True)
class DecisionPolicy:
    """What decisions are made with: the triage rules, the fulfillment network, the hold recheck delay."""

    rules: TriageRules
    network: FulfillmentNetwork
    recheck_after: timedelta = timedelta(hours=24)


class MissingNetwork(ValueError):
    """No fulfillment network file: decisions and plans need the store's locations, stock and carriers."""


def load_decision_policy(rules_file: Path | None, network_file: Path | None, recheck_hours: float) -> DecisionPolicy:
    """Rules (default: the shipped rules) and the fulfillment network from their files. There is no
    default network: a store's locations, stock and carriers are its own (the sandbox's are written to a
    file by the commands that start a sandbox)."""
    if network_file is None:
        raise MissingNetwork("OMS_NETWORK_FILE is not set: point it at the store's NETWORK.json (locations, "
                             "stock, carrier services; format in README)")
    network = parse_network(Path(network_file).read_text(encoding="utf-8"), source=str(network_file))
    return DecisionPolicy(rules=load_triage_rules(rules_file), network=network,
                          recheck_after=timedelta(hours=recheck_hours))


@dataclass
class DecisionRunSummary:
    """What one decision step did."""

    candidates: int = 0
    decided: int = 0
    unchanged: int = 0  # new store versions that change nothing decisions read (e.g. our own tags)
    unreadable: list[str] = field(default_factory=list)
    waiting_for_notes: list[str] = field(default_factory=list)  # ids: their notes are not parsed yet
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
            "unreadable": len(self.unreadable), "waiting_for_notes": len(self.waiting_for_notes),
            "outcomes": dict(self.outcomes), "states": dict(self.states),
            "reasons": dict(self.reasons.most_common()), "holds_placed": dict(self.holds_placed),
            "holds_released": self.holds_released, "reviews_superseded": self.reviews_superseded,
            "intents_superseded": self.intents_superseded,
            "intended_writes": dict(self.intents), "plan": self.plan,
        }


def decide_pending(wh: Warehouse, shop: str, policy: DecisionPolicy, run_id: str, now: datetime, *,
                   notes: NoteEngine, routing: RoutingPolicy | None = None) -> DecisionRunSummary:
    """Parse the notes of every order that needs a decision, decide them, then plan the fulfillment of those
    ready to ship: the order flow's steps (``order_note_tags``, ``order_triage``, ``fulfillment_plans``)
    in one call, for tools, benches and tests. ``notes``: the note engine (a loaded model)."""
    parse_pending_notes(wh, shop, notes, now, run_id)
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
    planned afterwards (:func:`oms_pipeline.services.planning.plan_decided`) for the orders decided ready to ship."""
    summary = DecisionRunSummary()
    store = wh.decisions
    candidates = store.candidates(shop, now)
    summary.candidates = len(candidates.read) + len(candidates.unreadable)
    summary.unreadable += [str(u) for u in candidates.unreadable]
    orders: list[Order] = []
    versions: dict[str, datetime] = {}
    unchanged: dict[str, datetime] = {}
    for cand, order in candidates.read:
        if cand.fingerprint == order_fingerprint(order) and not cand.recheck_due:
            unchanged[order.id] = cand.order_updated_at
            continue
        orders.append(order)
        versions[order.id] = cand.order_updated_at
    summary.unchanged = len(unchanged)
    store.mark_seen(shop, unchanged)
    # The notes step parses every candidate first; an order it has not (the triage step run on its own)
    # waits for it rather than have its note parsed here: no model is trained or loaded in this step.
    note_tags = stored_note_tags(wh, shop, [o.id for o in orders])
    summary.waiting_for_notes = [o.id for o in orders if o.id not in note_tags]
    orders = [o for o in orders if o.id in note_tags]
    if not orders:
        return summary
    states = {c.order_id: c.state for c, _ in candidates.read}
    holds = store.active_holds(shop, [o.id for o in orders])
    ids = [o.id for o in orders]
    batch = decide_batch(orders, network=policy.network, rules=policy.rules, states=states, holds=holds, now=now,
                         recheck_after=policy.recheck_after, planner=None,
                         fraud_engine=_stored_fraud_scores(wh.fraud.latest_assessments(shop, ids)),
                         notes_engine=lambda batch_orders: [note_tags[o.id] for o in batch_orders])
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
