"""The baseline router a rules engine would use, kept as the optimizer's fallback and yardstick.

Per order, in input order: the nearest location that has every line in stock (and capacity left)
ships it all; otherwise, unless the order is ship-complete, each line goes to the nearest location
with stock, spilling the remainder to the next nearest. Each shipment takes the cheapest service
that meets the promise, else the cheapest once lateness is counted.
"""

from __future__ import annotations

import numpy as np

from oms_pipeline.domain.routing.costs import Allocation, CostTables, shipment_weight
from oms_pipeline.domain.routing.model import Instance


def initial_stock(instance: Instance) -> list[dict[str, int]]:
    """A mutable copy of each location's inventory."""
    return [dict(loc.inventory) for loc in instance.locations]


def initial_capacity(instance: Instance) -> list[float]:
    """Shipments each location may still make (inf when uncapped)."""
    return [float("inf") if loc.max_orders is None else float(loc.max_orders) for loc in instance.locations]


def greedy_service(tables: CostTables, order: int, location: int, weight_kg: float) -> int:
    """Cheapest freight among services meeting the promise; if none does, cheapest with lateness counted."""
    freight = tables.freight_fixed[order, location, :] + tables.per_kg * weight_kg
    on_time = tables.late_days[order, location, :] == 0
    if on_time.any():
        return int(np.argmin(np.where(on_time, freight, np.inf)))
    return int(np.argmin(tables.fixed[order, location, :] + tables.per_kg * weight_kg))


def _demand(instance: Instance, order: int) -> dict[str, int]:
    need: dict[str, int] = {}
    for line in instance.orders[order].lines:
        need[line.sku] = need.get(line.sku, 0) + line.qty
    return need


def _route_order(instance: Instance, tables: CostTables, o: int, stock: list[dict[str, int]],
                 capacity: list[float]) -> dict[int, dict[int, int]]:
    """Greedy picks of one order, {location: {line: units}}; consumes ``stock`` and ``capacity``."""
    order = instance.orders[o]
    nearest = [int(x) for x in np.argsort(tables.km[o], kind="stable")]
    need = _demand(instance, o)
    picks: dict[int, dict[int, int]] = {}

    def take(loc: int, i: int, qty: int) -> None:
        if loc not in picks:
            picks[loc] = {}
            capacity[loc] -= 1  # one more shipment from loc
        picks[loc][i] = picks[loc].get(i, 0) + qty
        stock[loc][order.lines[i].sku] -= qty

    def usable(loc: int) -> bool:
        return loc in picks or capacity[loc] >= 1

    whole = next((loc for loc in nearest if capacity[loc] >= 1
                  and all(stock[loc].get(sku, 0) >= q for sku, q in need.items())), None)
    if whole is not None:
        for i, line in enumerate(order.lines):
            take(whole, i, line.qty)
    elif not order.ship_complete:
        for i, line in enumerate(order.lines):
            left = line.qty
            # The nearest location holding the whole line first, then spill nearest-first.
            full = next((loc for loc in nearest if usable(loc) and stock[loc].get(line.sku, 0) >= left), None)
            for loc in ([full] if full is not None else []) + [x for x in nearest if x != full]:
                qty = min(left, stock[loc].get(line.sku, 0))
                if qty > 0 and usable(loc):
                    take(loc, i, qty)
                    left -= qty
                if left == 0:
                    break
    return picks


def greedy_allocation(instance: Instance, tables: CostTables) -> Allocation:
    """Route the batch greedily; respects inventory, location capacity and ship-complete."""
    stock = initial_stock(instance)
    capacity = initial_capacity(instance)
    allocation: Allocation = {}
    for o in range(len(instance.orders)):
        for loc, units in _route_order(instance, tables, o, stock, capacity).items():
            allocation[(o, loc)] = (greedy_service(tables, o, loc, shipment_weight(instance, o, units)), units)
    return allocation
