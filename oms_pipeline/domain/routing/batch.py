"""One routing batch end to end: the optimized plan, the greedy plan on the same batch, and the figures a
``fulfillment_plans`` asset reports (total cost, cost saved against greedy, split rate, on-time share,
solver gap, seconds)."""

from __future__ import annotations

import time
from typing import Any

from oms_pipeline.domain.routing.model import Instance, Plan
from oms_pipeline.domain.routing.optimizer import plan_fulfillment, plan_greedy


def split_rate(plan: Plan) -> float:
    """Share of the orders the plan ships (at least one shipment) that ship in more than one parcel."""
    per_order: dict[str, int] = {}
    for shipment in plan.shipments:
        per_order[shipment.order_id] = per_order.get(shipment.order_id, 0) + 1
    return sum(1 for n in per_order.values() if n > 1) / len(per_order) if per_order else 0.0


def on_time_share(instance: Instance, plan: Plan) -> float:
    """Share of the plan's shipments whose transit days are within their order's promise (1.0 if none)."""
    promise = {order.id: order.promise_days for order in instance.orders}
    if not plan.shipments:
        return 1.0
    return sum(1 for s in plan.shipments if s.transit_days <= promise[s.order_id]) / len(plan.shipments)


def plan_figures(instance: Instance, plan: Plan, greedy: Plan, seconds: float) -> dict[str, Any]:
    """The batch's figures, rounded for metadata: costs in money, shares in [0, 1], gap as a fraction."""
    return {
        "total_cost": round(plan.total_cost, 2),
        "greedy_cost": round(greedy.total_cost, 2),
        "cost_saved": round(greedy.total_cost - plan.total_cost, 2),
        "split_rate": round(split_rate(plan), 4),
        "on_time_share": round(on_time_share(instance, plan), 4),
        "solver_gap": plan.solver.gap,
        "solver_status": plan.solver.status,
        "lower_bound": None if plan.solver.lower_bound is None else round(plan.solver.lower_bound, 2),
        "seconds": round(seconds, 3),
    }


def plan_batch(instance: Instance, time_limit_s: float = 10.0) -> tuple[Plan, Plan, dict[str, Any]]:
    """Route a batch: (optimized plan, greedy plan, figures). ``seconds`` is the optimizer's wall time.

    The optimized plan is never costlier than the greedy one (the optimizer falls back to it), so
    ``cost_saved`` is never negative.
    """
    greedy = plan_greedy(instance)
    started = time.perf_counter()
    plan = plan_fulfillment(instance, time_limit_s=time_limit_s)
    return plan, greedy, plan_figures(instance, plan, greedy, time.perf_counter() - started)
