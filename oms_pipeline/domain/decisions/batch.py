"""A batch of orders decided together: signals, each decision, and one fulfillment plan for the batch.

The plan is made for the whole batch so orders contend for the same stock: the batch optimizer (MILP)
by default, any ``planner`` otherwise, or none (``planner=None``) when planning is a later step of
its own, as in the order flow's ``fulfillment_plans``. Fraud and note signals come from the engines
passed in: a note engine always (a trained model is loaded by the caller, never trained here), and the
rule-based fraud stand-in unless a scorer is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

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
from oms_pipeline.domain.orders import FulfillmentStatus, Order
from oms_pipeline.domain.routing.model import Instance, Plan, Shipment, SolverInfo
from oms_pipeline.domain.routing.model import Order as RoutingOrder
from oms_pipeline.domain.routing.network import (
    FulfillmentNetwork,
    fulfillment_outlook,
    plan_summaries,
    routing_instance,
    routing_order,
)
from oms_pipeline.domain.routing.optimizer import plan_fulfillment

if TYPE_CHECKING:  # the model's module loads scikit-learn: only for the annotation
    from oms_pipeline.domain.notes.local import LocalNoteEngine

FraudEngine = Callable[[Order], FraudAssessment]
NotesEngine = Callable[[Sequence[Order]], list[NoteTags]]  # batch: engines vectorise
Planner = Callable[[Instance], Plan]
SHIPPED = frozenset({FulfillmentStatus.FULFILLED, FulfillmentStatus.RESTOCKED})


def local_notes(engine: LocalNoteEngine) -> NotesEngine:
    """A notes engine over a trained local note model: the customer's part of each note, in one batch."""

    def parse(orders: Sequence[Order]) -> list[NoteTags]:
        parses = engine.parse_many([customer_note(o.note) for o in orders], [o.created_at for o in orders])
        return [p.as_note_tags() for p in parses]

    return parse


@dataclass(frozen=True)
class BatchDecisions:
    """A batch's decisions, its fulfillment plan, and the plan's per-order shipments and summaries."""

    decisions: list[OrderDecision]
    plan: Plan
    shipments: dict[str, list[Shipment]]
    summaries: dict[str, str]


def empty_plan(status: str = "empty") -> Plan:
    """The plan of a batch with nothing to route."""
    return Plan(shipments=[], unfulfilled=[], total_cost=0.0, solver=SolverInfo(status=status, gap=None, seconds=0.0))


def is_ship_complete(order: Order, note_tags: Iterable[str], rules: TriageRules) -> bool:
    """Whether the order ships in one parcel or not at all: its note asks so, or it carries a tag the rules name."""
    tags = {t.casefold() for t in order.tags}
    return NoteTag.SHIP_COMPLETE.value in {getattr(t, "value", t) for t in note_tags} or bool(
        tags & {t.casefold() for t in rules.ship_complete_order_tags})


def routing_orders(orders: Sequence[Order], ship_complete: Mapping[str, bool], network: FulfillmentNetwork,
                   rules: TriageRules) -> list[RoutingOrder]:
    """The orders of a batch as the router sees them, leaving out what has nothing left to ship."""
    routed = []
    for order in orders:
        # Nothing left to ship: a shipped or cancelled order must not take stock from the others.
        if order.cancelled_at is not None or order.fulfillment_status in SHIPPED:
            continue
        one = routing_order(order, network, rules.bundles, ship_complete=ship_complete.get(order.id, False))
        if one is not None:
            routed.append(one)
    return routed


def plan_orders(orders: Sequence[RoutingOrder], network: FulfillmentNetwork, planner: Planner) -> Plan:
    """One plan for all ``orders`` over the network (they contend for its stock and capacity)."""
    return planner(routing_instance(network, orders)) if orders else empty_plan()


def decide_batch(
    orders: Sequence[Order],
    *,
    network: FulfillmentNetwork,
    rules: TriageRules,
    states: Mapping[str, OrderState | None],
    holds: Mapping[str, tuple[Hold, ...]],
    now: datetime,
    fraud_engine: FraudEngine = rule_based_fraud_assessment,
    notes_engine: NotesEngine,
    planner: Planner | None = plan_fulfillment,
    recheck_after: timedelta = DEFAULT_RECHECK_AFTER,
    trace_id: Callable[[Order], str] = lambda _order: uuid.uuid4().hex,
) -> BatchDecisions:
    """Decide every order of a batch and, unless ``planner`` is None, plan the batch's fulfillment."""
    notes = {o.id: tags for o, tags in zip(orders, notes_engine(orders), strict=True)}
    if planner is None:
        plan = empty_plan("not_planned")
    else:
        ship_complete = {o.id: is_ship_complete(o, notes[o.id].tags, rules) for o in orders}
        plan = plan_orders(routing_orders(orders, ship_complete, network, rules), network, planner)
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
