"""A batch of orders decided together: signals, one fulfillment plan for the batch, then each decision.

The plan is made for the whole batch so orders contend for the same stock (the greedy planner for
now; the batch optimizer of the routing issue plugs in here through ``planner``). Fraud and note
signals come from the engines passed in: the trained local note engine by default, and the
rule-based fraud stand-in until the trained fraud model is wired in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oms_pipeline.domain.decisions.decide import OrderDecision, customer_note, decide_order
from oms_pipeline.domain.decisions.holds import DEFAULT_RECHECK_AFTER, Hold
from oms_pipeline.domain.decisions.signals import (
    FraudAssessment,
    NoteTag,
    NoteTags,
    rule_based_fraud_assessment,
)
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.decisions.triage import TriageRules
from oms_pipeline.domain.orders import Order
from oms_pipeline.domain.routing.model import Instance, Plan, Shipment, SolverInfo
from oms_pipeline.domain.routing.network import (
    FulfillmentNetwork,
    fulfillment_outlook,
    plan_summaries,
    routing_instance,
    routing_order,
)
from oms_pipeline.domain.routing.optimizer import plan_greedy

FraudEngine = Callable[[Order], FraudAssessment]
NotesEngine = Callable[[Sequence[Order]], list[NoteTags]]  # batch: engines vectorise
Planner = Callable[[Instance], Plan]


def local_notes(orders: Sequence[Order]) -> list[NoteTags]:
    """The trained local note engine (issue 6), on the customer's part of each note, in one batch."""
    from oms_pipeline.domain.notes.local import local_engine

    parses = local_engine().parse_many([customer_note(o.note) for o in orders], [o.created_at for o in orders])
    return [parse.as_note_tags() for parse in parses]


@dataclass(frozen=True)
class BatchDecisions:
    """A batch's decisions, its fulfillment plan, and the plan's per-order shipments and summaries."""

    decisions: list[OrderDecision]
    plan: Plan
    shipments: dict[str, list[Shipment]]
    summaries: dict[str, str]


def decide_batch(
    orders: Sequence[Order],
    *,
    network: FulfillmentNetwork,
    rules: TriageRules,
    states: Mapping[str, OrderState | None],
    holds: Mapping[str, tuple[Hold, ...]],
    now: datetime,
    fraud_engine: FraudEngine = rule_based_fraud_assessment,
    notes_engine: NotesEngine = local_notes,
    planner: Planner = plan_greedy,
    recheck_after: timedelta = DEFAULT_RECHECK_AFTER,
    trace_id: Callable[[Order], str] = lambda _order: uuid.uuid4().hex,
) -> BatchDecisions:
    """Decide every order of a batch against one fulfillment plan made for all of them."""
    notes = {o.id: tags for o, tags in zip(orders, notes_engine(orders), strict=True)}
    ship_complete_tags = {t.casefold() for t in rules.ship_complete_order_tags}
    to_route = []
    for order in orders:
        if order.cancelled_at is not None:
            continue
        ship_complete = NoteTag.SHIP_COMPLETE in notes[order.id].tags or bool(
            {t.casefold() for t in order.tags} & ship_complete_tags)
        routed = routing_order(order, network, rules.bundles, ship_complete=ship_complete)
        if routed is not None:
            to_route.append(routed)
    if to_route:
        plan = planner(routing_instance(network, to_route))
    else:
        plan = Plan(shipments=[], unfulfilled=[], total_cost=0.0, solver=SolverInfo(status="empty", gap=None,
                                                                                      seconds=0.0))
    shipments: dict[str, list[Shipment]] = {}
    for shipment in plan.shipments:
        shipments.setdefault(shipment.order_id, []).append(shipment)
    decisions = [
        decide_order(order, rules=rules, fraud=fraud_engine(order), notes=notes[order.id],
                     outlook=fulfillment_outlook(order, network, rules.bundles), current_state=states.get(order.id),
                     holds=holds.get(order.id, ()), now=now, trace_id=trace_id(order), recheck_after=recheck_after)
        for order in orders
    ]
    return BatchDecisions(decisions=decisions, plan=plan, shipments=shipments, summaries=plan_summaries(plan))
