"""Fulfillment planning of decided orders: load, route with the batch optimizer, rate-shop, persist.

The order flow's ``fulfillment_plans`` step runs after triage: every order whose latest decision is
ready (or released) to ship and has no plan yet is routed, together, with the MILP batch optimizer
(HiGHS, with a time limit and the greedy plan as its fallback): this run's decisions and any an
earlier run recorded but did not live to plan. The plan is compared with the greedy plan on the same
batch, and, when a carrier rates API is configured, each chosen shipment is rate-shopped for the
cheapest service that meets the order's promise. Shipments are stored with their reasons and chosen
carrier quote, together with the writes the plan asks for (each order's ``oms.plan`` metafield, and the
3PL handoff of the lines planned at a 3PL location), in one transaction. Held and exception orders are
not planned: they must not take stock from orders that can ship now.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from oms_pipeline.connectors.carrier_rates import Address, CarrierRatesClient, CarrierRatesError, RateCache
from oms_pipeline.connectors.http import TransientHTTPError
from oms_pipeline.domain.decisions.batch import empty_plan, is_ship_complete, routing_orders
from oms_pipeline.domain.decisions.decide import order_fingerprint
from oms_pipeline.domain.decisions.states import OrderState
from oms_pipeline.domain.decisions.triage import TriageRules
from oms_pipeline.domain.orders import Order
from oms_pipeline.domain.routing.batch import plan_batch
from oms_pipeline.domain.routing.model import Instance, LocationKind, Plan, Shipment
from oms_pipeline.domain.routing.network import FulfillmentNetwork, routing_instance, stock_of
from oms_pipeline.domain.routing.rates import RateChoice, rate_shop
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction
from oms_pipeline.domain.writeback.handoff import handoff_actions
from oms_pipeline.domain.writeback.intents import plan_action
from oms_pipeline.services.notes import gift_messages
from oms_pipeline.storage.decisions import PlanCandidate, PlannedOrder
from oms_pipeline.storage.warehouse import Warehouse

log = logging.getLogger(__name__)

PLANNABLE_STATES = (OrderState.READY.value, OrderState.RELEASED.value)
MIN_PARCEL_KG = 0.1  # a parcel weighs something even when its SKUs' weights are unknown (0 in the network)

# One cache per (API, expiry) in the process: a long-lived process reuses quotes across runs.
_RATE_CACHES: dict[tuple[str, float], RateCache] = {}


@dataclass(frozen=True)
class RoutingPolicy:
    """How fulfillment is planned: the optimizer's time limit and the carrier rates API (None: no rate shopping)."""

    time_limit_s: float = 10.0
    carrier_rates_url: str | None = None
    carrier_rates_api_key: str = ""
    rates_cache_ttl_s: float = 900.0

    def rates_client(self) -> CarrierRatesClient | None:
        """A client of the carrier rates API with the process's rates cache, or None when none is configured."""
        if not self.carrier_rates_url:
            return None
        cache = _RATE_CACHES.setdefault((self.carrier_rates_url, self.rates_cache_ttl_s),
                                        RateCache(self.rates_cache_ttl_s))
        # Few attempts: an unavailable carrier API must not hold the plan up (it keeps its rate-card services).
        return CarrierRatesClient(self.carrier_rates_url, self.carrier_rates_api_key, cache=cache, max_attempts=3)


@dataclass
class PlanRunSummary:
    """What one planning step did, and the plan's figures against the greedy plan on the same batch."""

    to_plan: int = 0
    planned: int = 0
    skipped: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    shipments: int = 0
    split_orders: int = 0
    backordered_units: int = 0
    rate_shopped: int = 0
    rates_unavailable: str | None = None
    rates_cache: dict[str, int] = field(default_factory=dict)
    intents: int = 0
    handoffs: int = 0
    earlier_decisions: int = 0  # decisions an earlier run made and did not live to plan

    def metadata(self) -> dict[str, Any]:
        """JSON-ready figures for Dagster metadata (ids and counts only)."""
        return {"orders_to_plan": self.to_plan, "orders_planned": self.planned, "skipped": len(self.skipped),
                "earlier_decisions_planned": self.earlier_decisions,
                **self.figures, "shipments": self.shipments, "split_orders": self.split_orders,
                "backordered_units": self.backordered_units, "rate_shopped": self.rate_shopped,
                "rates_unavailable": self.rates_unavailable, "rates_cache": self.rates_cache,
                "plan_writes": self.intents, "handoffs_to_3pl": self.handoffs}


def plan_decided(wh: Warehouse, shop: str, network: FulfillmentNetwork, rules: TriageRules, run_id: str,
                 routing: RoutingPolicy, rates: CarrierRatesClient | None = None) -> PlanRunSummary:
    """Plan the fulfillment of every order decided ready or released and not planned yet (whichever run
    decided it); store shipments, summaries and the writes the plans ask for (``oms.plan`` metafields and
    3PL handoffs). ``rates``: the carrier rates client to rate-shop with (None: no rate shopping).
    """
    summary = PlanRunSummary()
    candidates = wh.decisions.to_plan(shop, run_id, PLANNABLE_STATES)
    summary.to_plan = len(candidates.read) + len(candidates.unreadable)
    summary.earlier_decisions = sum(1 for c, _ in candidates.read if c.run_id != run_id)
    summary.skipped += [str(u) for u in candidates.unreadable]
    orders: list[Order] = []
    ship_complete: dict[str, bool] = {}
    traces: dict[str, str] = {}
    chosen: dict[str, PlanCandidate] = {}
    for cand, order in candidates.read:
        if order_fingerprint(order) != cand.fingerprint:  # changed since decided: the next run decides it again
            summary.skipped.append(f"order {cand.order_id}: changed since it was decided")
            continue
        orders.append(order)
        chosen[order.id] = cand
        traces[order.id] = cand.trace_id
        ship_complete[order.id] = is_ship_complete(order, cand.note_tags, rules)
    routed = routing_orders(orders, ship_complete, network, rules)
    if routed:
        instance = routing_instance(network, routed)
        # plan_batch is looked up at call time so a test can swap the planner for a faulty one.
        plan, _greedy, figures = plan_batch(instance, routing.time_limit_s)
        figures["solver_seconds"] = plan.solver.seconds
    else:
        instance, plan, figures = None, empty_plan(), {}
    summary.figures = figures
    choices = _rate_shop(plan, instance, network, orders, rates, summary) if instance is not None else {}
    if rates is not None:
        summary.rates_cache = {"hits": rates.cache.hits, "misses": rates.cache.misses}

    by_order: dict[str, list[Shipment]] = {}
    for shipment in plan.shipments:
        by_order.setdefault(shipment.order_id, []).append(shipment)
    texts = plan_texts(plan, choices)
    kinds = {loc.id: loc.kind.value for loc in network.locations if loc.kind is not None}
    planned = []
    for order in orders:
        shipments = by_order.get(order.id, [])
        planned.append(PlannedOrder(
            order_id=order.id, trace_id=traces[order.id], summary=texts.get(order.id), shipments=shipments,
            rates=[choices.get((order.id, s.location_id)) for s in shipments],
            stock={(s.location_id, line.sku): stock_of(network, s.location_id, line.sku)
                   for s in shipments for line in s.lines}, location_kinds=kinds))
    by_id = {o.id: o for o in orders}
    plan_writes = [plan_action(_decision_context(chosen[order_id], by_id[order_id], shop), text)
                   for order_id, text in texts.items() if order_id in chosen]
    handoffs = handoff_actions(
        [chosen[o.id].decision_row() for o in orders],
        [{"order_id": s.order_id, "trace_id": traces[s.order_id], "location_id": s.location_id,
          "service_id": s.service_id, "sku": line.sku, "quantity": line.qty}
         for s in plan.shipments for line in s.lines],
        by_id, shop, unit_weight_kg=network.unit_weight_kg,
        gift_messages=gift_messages(wh, shop, [o.id for o in orders]),
        tpl_locations=network.locations_of_kind(LocationKind.THIRD_PARTY_LOGISTICS))
    wh.decisions.record_plans(shop, run_id, planned, [*plan_writes, *handoffs])
    summary.planned = len(planned)
    summary.shipments = len(plan.shipments)
    summary.split_orders = sum(1 for ships in by_order.values() if len(ships) > 1)
    summary.backordered_units = sum(u.qty for u in plan.unfulfilled)
    summary.intents = len(plan_writes)
    summary.handoffs = len(handoffs)
    return summary


def _decision_context(cand: PlanCandidate, order: Order, shop: str) -> WriteAction:
    """A write carrying the decision's order version, trace id, confidence and versions: what the plan's
    own writes are stamped with, so policy and the ledger treat them as that decision's."""
    return WriteAction(shop_domain=shop, order_id=order.id, order_name=order.name, order_version=cand.fingerprint,
                       workflow=Workflow.ROUTING, kind=ActionKind.SET_METAFIELDS, payload={},
                       confidence=cand.confidence, trace_id=cand.trace_id, rules_version=cand.rules_version,
                       model_versions=f"fraud={cand.fraud_model_version};notes={cand.notes_engine}",
                       financial_status=order.financial_status.value)


def plan_texts(plan: Plan, choices: Mapping[tuple[str, str], RateChoice]) -> dict[str, str]:
    """Per order, what people read in ``oms.plan``: one line per shipment (units, then the planner's reason:
    location, service, cost, days, the next best and what forced a split; then the carrier quote chosen and
    its runner-up), and one line per backordered SKU."""
    lines: dict[str, list[str]] = {}
    for s in plan.shipments:
        text = f"{sum(line.qty for line in s.lines)} units: {s.reason}"
        choice = choices.get((s.order_id, s.location_id))
        if choice is not None:
            text += f"; carrier: {choice.reason}"
        lines.setdefault(s.order_id, []).append(text)
    for short in plan.unfulfilled:
        lines.setdefault(short.order_id, []).append(f"backorder {short.qty} x {short.sku}")
    return {order_id: "\n".join(items) for order_id, items in lines.items()}


def _rate_shop(plan: Plan, instance: Instance, network: FulfillmentNetwork, orders: Sequence[Order],
               rates: CarrierRatesClient | None, summary: PlanRunSummary) -> dict[tuple[str, str], RateChoice]:
    """The carrier quote chosen for each shipment, keyed by (order, location): at most one shipment per pair."""
    if rates is None:
        return {}
    locations = {loc.id: loc for loc in network.locations}
    routed = {o.id: o for o in instance.orders}
    addresses = {o.id: o.shipping_address for o in orders}
    choices: dict[tuple[str, str], RateChoice] = {}
    for s in plan.shipments:
        loc, order, address = locations[s.location_id], routed[s.order_id], addresses[s.order_id]
        weights = {line.sku: line.unit_weight_kg for line in order.lines}
        weight = max(MIN_PARCEL_KG, sum(weights.get(line.sku, network.default_unit_weight_kg) * line.qty
                                        for line in s.lines))
        # No name or street line: the carrier prices on ZIP code and coordinates, and nothing personal leaves.
        destination = Address(city=address.city or "", state=address.province_code or "", zip=address.zip or "",
                              country=address.country_code or "US", latitude=order.lat, longitude=order.lon)
        try:
            quotes = rates.rates(Address(name=loc.id, latitude=loc.lat, longitude=loc.lon), destination, weight)
            if not quotes:
                continue
            choices[(s.order_id, s.location_id)] = rate_shop(quotes, order.promise_days, location_id=loc.id,
                                                             handling_days=loc.handling_days)
        except (CarrierRatesError, TransientHTTPError, httpx.HTTPError, ValueError) as error:
            # Retries are spent (or the API refuses us): stop asking, the rest keep their rate-card services.
            summary.rates_unavailable = f"{type(error).__name__}: {error}"[:300]
            log.warning("carrier rates unavailable after %d shipments: %s", len(choices), summary.rates_unavailable)
            break
    summary.rate_shopped = len(choices)
    return choices
