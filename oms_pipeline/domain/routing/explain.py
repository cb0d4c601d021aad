"""Turn an allocation into PLAN.json, with a reason on every shipment a person can check.

A reason names the chosen location and service with its cost and days, the next-best alternative
with the difference ("DC-EAST ground $8.12, 3 days; next best DC-WEST 2day $11.40 (+$3.28)"), and
for a split order the line that forced the split.
"""

from __future__ import annotations

from oms_pipeline.domain.routing.costs import (
    Allocation,
    CostTables,
    allocation_cost,
    shipment_cost,
    shipment_total,
    shipment_weight,
)
from oms_pipeline.domain.routing.model import Instance, Plan, PlanLine, Shipment, SolverInfo, Unfulfilled


def _describe(instance: Instance, tables: CostTables, o: int, loc: int, s: int, units: int, weight: float) -> str:
    cost = shipment_cost(tables, o, loc, s, units, weight)
    days = int(tables.days[o, loc, s])
    late = int(tables.late_days[o, loc, s])
    text = f"{instance.locations[loc].id} {instance.services[s].id} ${cost:.2f}, {days} days"
    return text + (f" ({late} late)" if late else "")


def _next_best(instance: Instance, tables: CostTables, o: int, loc: int, s: int, units: dict[int, int]) -> str:
    """The cheapest other (location, service) that could have shipped the same units from initial stock."""
    lines = instance.orders[o].lines
    n = sum(units.values())
    weight = shipment_weight(instance, o, units)
    need: dict[str, int] = {}
    for i, q in units.items():
        need[lines[i].sku] = need.get(lines[i].sku, 0) + q
    chosen = shipment_total(tables, o, loc, s, n, weight)
    best: tuple[float, int, int] | None = None
    for alt, location in enumerate(instance.locations):
        if location.max_orders == 0 or any(location.inventory.get(k, 0) < q for k, q in need.items()):
            continue
        for t in range(len(instance.services)):
            if (alt, t) == (loc, s):
                continue
            total = shipment_total(tables, o, alt, t, n, weight)
            if best is None or total < best[0]:
                best = (total, alt, t)
    if best is None:
        return "no alternative: no other location or service can ship these units"
    total, alt, t = best
    text = f"next best {_describe(instance, tables, o, alt, t, n, weight)}"
    delta = total - chosen
    if delta >= 0:
        return text + f" (+${delta:.2f} with lateness)"
    # Cheaper on its own, but its stock or capacity served other orders of the batch.
    return text + f" (-${-delta:.2f}, but its stock or capacity went to other orders)"


def _split_reason(instance: Instance, o: int, loc: int, shipments: dict[int, dict[int, int]]) -> str:
    """Which line forced the split, judged against the order's main shipment (the most units)."""
    lines = instance.orders[o].lines
    main = max(shipments, key=lambda x: (sum(shipments[x].values()), -x))
    main_id = instance.locations[main].id
    others = [x for x in shipments if x != main]
    probe = loc if loc != main else others[0]
    i = min(shipments[probe])
    line = lines[i]
    at_main = instance.locations[main].inventory.get(line.sku, 0)
    head = f"split {len(shipments)} ways: line {i} ({line.sku} x{line.qty})"
    if at_main < line.qty:
        why = f"{main_id} stocks only {at_main}"
    else:
        why = f"{main_id}'s stock went to other orders or it was cheaper elsewhere"
    where = "ships from here" if loc != main else f"ships from {instance.locations[probe].id}"
    return f"{head} {where}: {why}"


def build_plan(instance: Instance, tables: CostTables, allocation: Allocation, solver: SolverInfo) -> Plan:
    """PLAN.json of an allocation: shipments with costs and reasons, unfulfilled units, the total cost."""
    by_order: dict[int, dict[int, dict[int, int]]] = {}
    for (o, loc), (_s, units) in allocation.items():
        if sum(units.values()):
            by_order.setdefault(o, {})[loc] = {i: q for i, q in units.items() if q}
    shipments: list[Shipment] = []
    unfulfilled: list[Unfulfilled] = []
    for o, order in enumerate(instance.orders):
        mine = by_order.get(o, {})
        for loc in sorted(mine):
            units = mine[loc]
            s = allocation[(o, loc)][0]
            n = sum(units.values())
            weight = shipment_weight(instance, o, units)
            reason = (f"{_describe(instance, tables, o, loc, s, n, weight)}; "
                      f"{_next_best(instance, tables, o, loc, s, units)}")
            if len(mine) > 1:
                reason += f"; {_split_reason(instance, o, loc, mine)}"
            per_sku: dict[str, int] = {}
            for i, q in sorted(units.items()):
                per_sku[order.lines[i].sku] = per_sku.get(order.lines[i].sku, 0) + q
            shipments.append(Shipment(
                order_id=order.id, location_id=instance.locations[loc].id, service_id=instance.services[s].id,
                lines=[PlanLine(sku=k, qty=q) for k, q in per_sku.items()],
                cost=round(shipment_cost(tables, o, loc, s, n, weight), 6),
                transit_days=int(tables.days[o, loc, s]), reason=reason))
        missing: dict[str, int] = {}
        for i, line in enumerate(order.lines):
            left = line.qty - sum(units.get(i, 0) for units in mine.values())
            if left:
                missing[line.sku] = missing.get(line.sku, 0) + left
        unfulfilled.extend(Unfulfilled(order_id=order.id, sku=k, qty=q) for k, q in missing.items())
    total = allocation_cost(instance, tables, allocation)
    return Plan(shipments=shipments, unfulfilled=unfulfilled, total_cost=round(total, 6), solver=solver)
