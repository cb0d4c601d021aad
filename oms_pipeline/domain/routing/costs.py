"""Shipment cost and transit days, exactly as INSTANCE.json's semantics say, tabulated for a batch.

A shipment of order o from location l by service s costs
``base + per_kg * weight_kg + per_1000km * km / 1000 + pick_cost_per_unit * units``; its transit days
are ``handling_days + base_days + ceil(km / km_per_day)``; each day past ``promise_days`` adds
``late_penalty_per_day``. Everything but the weight and units terms is fixed per (o, l, s), which is
what makes the optimizer's model small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oms_pipeline.domain.routing.geo import distance_matrix_km
from oms_pipeline.domain.routing.model import Instance

# An allocation: (order index, location index) -> (service index, {line index: units}).
Allocation = dict[tuple[int, int], tuple[int, dict[int, int]]]


@dataclass(frozen=True)
class CostTables:
    """Per-batch cost tables, indexed [order, location, service]."""

    km: np.ndarray  # [O, L] great-circle km
    days: np.ndarray  # [O, L, S] transit days
    late_days: np.ndarray  # [O, L, S] days past the promise (>= 0)
    freight_fixed: np.ndarray  # [O, L, S] base + per_1000km * km / 1000
    fixed: np.ndarray  # [O, L, S] freight_fixed + lateness penalty: the weight-independent part
    per_kg: np.ndarray  # [S]
    pick: np.ndarray  # [L]
    late_penalty_per_day: float
    unfulfilled_penalty_per_unit: float


def cost_tables(instance: Instance) -> CostTables:
    """Tabulate distances, transit days and the fixed cost parts of every (order, location, service)."""
    locs, svcs, orders = instance.locations, instance.services, instance.orders
    dest = np.array([[o.lat, o.lon] for o in orders], dtype=float).reshape(-1, 2)
    origin = np.array([[x.lat, x.lon] for x in locs], dtype=float)
    km = distance_matrix_km(dest, origin) if orders else np.zeros((0, len(locs)))
    handling = np.array([x.handling_days for x in locs], dtype=float)
    base_days = np.array([s.base_days for s in svcs], dtype=float)
    km_per_day = np.array([s.km_per_day for s in svcs], dtype=float)
    days = handling[None, :, None] + base_days[None, None, :] + np.ceil(km[:, :, None] / km_per_day[None, None, :])
    promise = np.array([o.promise_days for o in orders], dtype=float)
    late = np.maximum(0.0, days - promise[:, None, None])
    base = np.array([s.base for s in svcs], dtype=float)
    per_1000 = np.array([s.per_1000km for s in svcs], dtype=float)
    freight_fixed = base[None, None, :] + per_1000[None, None, :] * km[:, :, None] / 1000.0
    return CostTables(
        km=km,
        days=days.astype(int),
        late_days=late.astype(int),
        freight_fixed=freight_fixed,
        fixed=freight_fixed + instance.late_penalty_per_day * late,
        per_kg=np.array([s.per_kg for s in svcs], dtype=float),
        pick=np.array([x.pick_cost_per_unit for x in locs], dtype=float),
        late_penalty_per_day=instance.late_penalty_per_day,
        unfulfilled_penalty_per_unit=instance.unfulfilled_penalty_per_unit,
    )


def shipment_weight(instance: Instance, order: int, units: dict[int, int]) -> float:
    """Kilograms of the given line units of one order."""
    lines = instance.orders[order].lines
    return sum(lines[i].unit_weight_kg * q for i, q in units.items())


def shipment_cost(tables: CostTables, order: int, location: int, service: int, units: int, weight_kg: float) -> float:
    """Freight + pick cost of one shipment (without the lateness penalty)."""
    return float(tables.freight_fixed[order, location, service] + tables.per_kg[service] * weight_kg
                 + tables.pick[location] * units)


def shipment_total(tables: CostTables, order: int, location: int, service: int, units: int, weight_kg: float) -> float:
    """Freight + pick + lateness penalty of one shipment: what the optimizer minimizes per shipment."""
    return float(tables.fixed[order, location, service] + tables.per_kg[service] * weight_kg
                 + tables.pick[location] * units)


def best_service(tables: CostTables, order: int, location: int, weight_kg: float) -> int:
    """The service minimizing freight + lateness penalty for a shipment of this weight."""
    return int(np.argmin(tables.fixed[order, location, :] + tables.per_kg * weight_kg))


def allocation_cost(instance: Instance, tables: CostTables, allocation: Allocation) -> float:
    """Total cost of an allocation: shipments (with lateness) plus unfulfilled units' penalty."""
    total = 0.0
    shipped = 0
    for (o, loc), (s, units) in allocation.items():
        n = sum(units.values())
        if n:
            total += shipment_total(tables, o, loc, s, n, shipment_weight(instance, o, units))
            shipped += n
    ordered = sum(line.qty for order in instance.orders for line in order.lines)
    return total + tables.unfulfilled_penalty_per_unit * (ordered - shipped)
