"""The batch fulfillment optimizer: one MILP over the whole batch, solved by HiGHS (``scipy.optimize.milp``).

Model (exact for the stated problem, not a heuristic):

- ``y[p, s]`` binary: pair p = (order, location) ships by service s; ``sum_s y[p, s] <= 1`` (at most one
  shipment per pair, one service);
- ``x[p, i, s]`` integer units of order line i in that shipment, ``x[p, i, s] <= cap[p, i] * y[p, s]``.
  Splitting units by service makes the weight freight ``per_kg[s] * weight`` exact and linear although
  the weight depends on which lines go; it is also the strong (disaggregated) facility-location form,
  whose LP bound is far tighter than one big-M on the total weight (30% root gap -> well under 1%);
- ``u[o, i]`` unfulfilled units, ``sum_{p,s} x[p, i, s] + u[o, i] = qty``.

Objective: fixed(o, l, s) * y (base + distance + lateness penalty) + (pick + per_kg[s] * kg) * x
+ penalty * u: exactly the plan's total cost, so HiGHS's gap and dual bound are the true ones.

Size reductions that keep the optimum: a pair exists only if the location stocks something of the order
(for ship-complete orders: everything) and may ship at all; a service is kept at a pair only if it is on
the lower envelope of ``fixed + per_kg * W`` over the weights that pair can ship (else another service
is never worse).

Warm start: scipy's HiGHS interface takes no initial solution, so none is given. The greedy plan is
used instead as the fallback when the solver returns nothing, and as an incumbent check: if a
time-limited solve ends above the greedy cost, the greedy plan is returned.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from oms_pipeline.domain.routing.costs import Allocation, CostTables, allocation_cost, best_service, cost_tables
from oms_pipeline.domain.routing.explain import build_plan
from oms_pipeline.domain.routing.greedy import greedy_allocation
from oms_pipeline.domain.routing.model import Instance, Plan, SolverInfo

log = logging.getLogger(__name__)


@dataclass
class _Pair:
    order: int
    location: int
    services: list[int]
    caps: dict[int, int]  # line -> most units this pair may ship
    y: list[int] = field(default_factory=list)
    x: dict[int, list[int]] = field(default_factory=dict)  # line -> one column per service


def _envelope(fixed: np.ndarray, per_kg: np.ndarray, w_max: np.ndarray) -> np.ndarray:
    """Mask [P, S] of services that are the cheapest somewhere on [0, w_max[p]] (the lower envelope)."""
    n_pairs, n_svc = fixed.shape
    if n_svc == 1:
        return np.ones((n_pairs, 1), dtype=bool)
    points = [np.zeros(n_pairs), w_max]
    for a in range(n_svc):
        for b in range(a + 1, n_svc):
            if per_kg[a] != per_kg[b]:
                cross = (fixed[:, a] - fixed[:, b]) / (per_kg[b] - per_kg[a])
                points.append(np.clip(cross, 0.0, w_max))
    grid = np.sort(np.stack(points, axis=1), axis=1)
    grid = np.concatenate([grid, (grid[:, 1:] + grid[:, :-1]) / 2], axis=1)
    cost = fixed[:, None, :] + per_kg[None, None, :] * grid[:, :, None]
    winner = np.argmin(cost, axis=2)
    return (winner[:, :, None] == np.arange(n_svc)[None, None, :]).any(axis=1)


def _pairs(instance: Instance, tables: CostTables) -> list[_Pair]:
    pairs: list[_Pair] = []
    for o, order in enumerate(instance.orders):
        need: dict[str, int] = {}
        for line in order.lines:
            need[line.sku] = need.get(line.sku, 0) + line.qty
        for loc, location in enumerate(instance.locations):
            if location.max_orders == 0:
                continue
            stock = location.inventory
            if order.ship_complete:
                if any(stock.get(k, 0) < q for k, q in need.items()):
                    continue
                caps = {i: line.qty for i, line in enumerate(order.lines)}
            else:
                caps = {i: min(line.qty, stock.get(line.sku, 0)) for i, line in enumerate(order.lines)}
                caps = {i: c for i, c in caps.items() if c > 0}
                if not caps:
                    continue
            pairs.append(_Pair(o, loc, [], caps))
    if pairs:
        idx_o = np.array([p.order for p in pairs])
        idx_l = np.array([p.location for p in pairs])
        w_max = np.array([sum(instance.orders[p.order].lines[i].unit_weight_kg * c for i, c in p.caps.items())
                          for p in pairs])
        keep = _envelope(tables.fixed[idx_o, idx_l, :], tables.per_kg, w_max)
        for p, mask in zip(pairs, keep, strict=True):
            p.services = [int(s) for s in np.flatnonzero(mask)]
    return pairs


class _Builder:
    """Columns and sparse rows of the MILP."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.integer: list[int] = []
        self.upper: list[float] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.row_lb: list[float] = []
        self.row_ub: list[float] = []

    def var(self, cost: float, upper: float, integer: bool) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: list[tuple[int, float]], lb: float, ub: float) -> None:
        r = len(self.row_lb)
        for col, val in terms:
            self.rows.append(r)
            self.cols.append(col)
            self.vals.append(val)
        self.row_lb.append(lb)
        self.row_ub.append(ub)


def _build(instance: Instance, tables: CostTables, pairs: list[_Pair]) -> tuple[_Builder, dict[tuple[int, int], int]]:
    m = _Builder()
    orders = instance.orders
    by_line: dict[tuple[int, int], list[int]] = {}
    by_stock: dict[tuple[int, str], list[tuple[int, int]]] = {}
    by_location: dict[int, list[int]] = {}
    by_order: dict[int, list[int]] = {}
    for p in pairs:
        lines = orders[p.order].lines
        p.y = [m.var(float(tables.fixed[p.order, p.location, s]), 1.0, True) for s in p.services]
        if len(p.y) > 1:
            m.row([(y, 1.0) for y in p.y], -np.inf, 1.0)
        complete = orders[p.order].ship_complete
        for i, cap in p.caps.items():
            weight = lines[i].unit_weight_kg
            cols = []
            for s, y in zip(p.services, p.y, strict=True):
                col = m.var(float(tables.pick[p.location] + tables.per_kg[s] * weight), float(cap), True)
                cols.append(col)
                # Units only on the open shipment's service; ship-complete: every unit of every line or none.
                m.row([(col, 1.0), (y, -float(cap))], 0.0 if complete else -np.inf, 0.0)
            p.x[i] = cols
            by_line.setdefault((p.order, i), []).extend(cols)
            by_stock.setdefault((p.location, lines[i].sku), []).extend((c, cap) for c in cols)
        by_location.setdefault(p.location, []).extend(p.y)
        by_order.setdefault(p.order, []).extend(p.y)
    unfulfilled: dict[tuple[int, int], int] = {}
    for o, order in enumerate(orders):
        for i, line in enumerate(order.lines):
            u = m.var(tables.unfulfilled_penalty_per_unit, float(line.qty), False)
            unfulfilled[(o, i)] = u
            m.row([(x, 1.0) for x in by_line.get((o, i), [])] + [(u, 1.0)], float(line.qty), float(line.qty))
        if order.ship_complete and len(by_order.get(o, [])) > 1:
            m.row([(y, 1.0) for y in by_order[o]], -np.inf, 1.0)
    for (loc, sku), cols in by_stock.items():
        have = instance.locations[loc].inventory.get(sku, 0)
        if sum(cap for _, cap in cols) > have:
            m.row([(x, 1.0) for x, _ in cols], -np.inf, float(have))
    for loc, ys in by_location.items():
        limit = instance.locations[loc].max_orders
        if limit is not None and len(ys) > limit:
            m.row([(y, 1.0) for y in ys], -np.inf, float(limit))
    return m, unfulfilled


def _extract(instance: Instance, tables: CostTables, pairs: list[_Pair], x: np.ndarray) -> Allocation:
    allocation: Allocation = {}
    for p in pairs:
        ys = [x[y] for y in p.y]
        if max(ys) < 0.5:
            continue
        units = {i: int(round(sum(x[c] for c in cols))) for i, cols in p.x.items()}
        units = {i: q for i, q in units.items() if q > 0}
        if not units:
            continue
        weight = sum(instance.orders[p.order].lines[i].unit_weight_kg * q for i, q in units.items())
        # The solver's service is optimal up to tolerances; re-picking the best for the exact weight is never worse.
        allocation[(p.order, p.location)] = (best_service(tables, p.order, p.location, weight), units)
    return allocation


def plan_fulfillment(instance: Instance, time_limit_s: float = 10.0, mip_rel_gap: float = 1e-3) -> Plan:
    """Route a batch at least cost: the MILP optimum (or best found within ``time_limit_s``), never worse than greedy.

    ``plan.solver`` carries status (``optimal``, ``time_limit``, ``greedy_fallback``), the gap to the proven
    lower bound, that bound (``lower_bound``, not serialized) and the seconds spent.
    """
    started = time.perf_counter()
    tables = cost_tables(instance)
    greedy = greedy_allocation(instance, tables)
    greedy_cost = allocation_cost(instance, tables, greedy)
    pairs = _pairs(instance, tables)
    model, _ = _build(instance, tables, pairs)
    matrix = coo_matrix((model.vals, (model.rows, model.cols)), shape=(len(model.row_lb), len(model.cost))).tocsr()
    remaining = max(0.05, time_limit_s - (time.perf_counter() - started))
    constraints = [LinearConstraint(matrix, model.row_lb, model.row_ub)] if model.row_lb else []
    res = milp(c=np.array(model.cost), integrality=np.array(model.integer),
               bounds=Bounds(np.zeros(len(model.cost)), np.array(model.upper)), constraints=constraints,
               options={"time_limit": remaining, "mip_rel_gap": mip_rel_gap, "disp": False})
    bound = getattr(res, "mip_dual_bound", None)
    bound = float(bound) if bound is not None and math.isfinite(bound) else None
    if res.x is None:
        log.warning("routing: HiGHS returned no feasible plan (%s); falling back to the greedy plan", res.message)
        allocation, status, cost = greedy, "greedy_fallback", greedy_cost
    else:
        allocation = _extract(instance, tables, pairs, res.x)
        cost = allocation_cost(instance, tables, allocation)
        status = "optimal" if res.status == 0 else "time_limit"
        if cost > greedy_cost + 1e-9:
            log.warning("routing: solver's best plan (%.2f) is above greedy (%.2f) at the time limit; "
                        "returning the greedy plan", cost, greedy_cost)
            allocation, status, cost = greedy, "greedy_fallback", greedy_cost
    if bound is not None:
        bound = min(bound, cost)
    gap = (cost - bound) / cost if bound is not None and cost > 0 else (0.0 if bound is not None else None)
    seconds = time.perf_counter() - started
    info = SolverInfo(status=status, gap=None if gap is None else round(gap, 6), seconds=round(seconds, 4),
                      lower_bound=bound)
    return build_plan(instance, tables, allocation, info)


def plan_greedy(instance: Instance) -> Plan:
    """The baseline greedy plan as PLAN.json (status ``greedy``, no bound)."""
    started = time.perf_counter()
    tables = cost_tables(instance)
    allocation = greedy_allocation(instance, tables)
    info = SolverInfo(status="greedy", gap=None, seconds=round(time.perf_counter() - started, 4))
    return build_plan(instance, tables, allocation, info)


def plan_single_order(instance: Instance, order_id: str) -> Plan:
    """Exact plan of one order arriving alone (webhook path), against the instance's stock and capacity.

    The single-order MILP has a handful of variables, so HiGHS proves optimality in milliseconds.
    """
    order = next((o for o in instance.orders if o.id == order_id), None)
    if order is None:
        raise KeyError(f"order {order_id!r} is not in the instance")
    return plan_fulfillment(instance.model_copy(update={"orders": [order]}), time_limit_s=5.0, mip_rel_gap=0.0)
