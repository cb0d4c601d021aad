"""The greedy plan, as model columns, is a feasible incumbent that HiGHS accepts (the warm start)."""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oms_pipeline.domain.routing import optimizer as opt
from oms_pipeline.domain.routing import plan_fulfillment, plan_greedy
from oms_pipeline.domain.routing.costs import allocation_cost, cost_tables
from oms_pipeline.domain.routing.greedy import greedy_allocation
from oms_pipeline.sandbox.routing_instances import generate_instance

instances = st.builds(lambda n, loc, svc, seed: generate_instance(n, loc, svc, seed),
                      st.integers(1, 40), st.integers(1, 5), st.integers(1, 3), st.integers(0, 10_000))


@settings(max_examples=30, deadline=None)
@given(instances)
def test_greedy_columns_are_a_feasible_incumbent(inst):
    tables = cost_tables(inst)
    greedy = greedy_allocation(inst, tables)
    pairs = opt._pairs(inst, tables)
    builder, unfulfilled = opt._build(inst, tables, pairs)
    m = opt._arrays(builder)
    start = opt._columns(inst, tables, pairs, unfulfilled, len(m.cost), greedy)
    assert opt._feasible(m, start)
    objective = float(m.cost @ start)
    # Same shipments, each on the cheapest kept service for its weight: never above greedy's true cost.
    assert objective <= allocation_cost(inst, tables, greedy) + 1e-6
    # Its true cost once extracted is the model objective (the model's objective is exact).
    assert abs(allocation_cost(inst, tables, opt._extract(inst, tables, pairs, start)) - objective) < 1e-6
    # HiGHS accepts it as its incumbent: with no branching allowed it still reports a plan at least that good.
    h = opt._solver(m)
    h.setOptionValue("mip_max_nodes", 0)
    opt._run(h, 5.0, 0.0, start)
    sol = opt._incumbent(h)
    assert sol is not None and float(np.dot(m.cost, sol)) <= objective + 1e-6


def test_large_batch_uses_parallel_warm_start_and_stays_feasible():
    inst = generate_instance(600, 5, 3, seed=2)
    plan = plan_fulfillment(inst, time_limit_s=4.0)
    greedy = plan_greedy(inst)
    assert plan.total_cost <= greedy.total_cost + 1e-6
    assert plan.solver.lower_bound is not None and plan.solver.lower_bound <= plan.total_cost + 1e-6
    assert plan.solver.status in {"optimal", "time_limit"}  # the solver's plan, not the greedy fallback


def _model(inst):
    tables = cost_tables(inst)
    pairs = opt._pairs(inst, tables)
    builder, unfulfilled = opt._build(inst, tables, pairs)
    m = opt._arrays(builder)
    start = opt._columns(inst, tables, pairs, unfulfilled, len(m.cost), greedy_allocation(inst, tables))
    return tables, pairs, unfulfilled, m, start


def test_lp_dive_returns_an_integral_feasible_plan_above_the_lp_bound():
    inst = generate_instance(150, 5, 3, seed=4)
    _tables, pairs, _u, m, _start = _model(inst)
    lp_h = opt._solver(m, integer=False)
    opt._run(lp_h, 10.0, 0.0, None)
    lp_value = lp_h.getInfo().objective_function_value
    x = opt._dive(lp_h, m, pairs, deadline=float("inf"))
    assert x is not None and opt._feasible(m, x)
    assert float(m.cost @ x) >= lp_value - 1e-6


def test_fix_and_optimize_only_improves_and_stays_feasible():
    inst = generate_instance(200, 5, 3, seed=6)
    tables, pairs, unfulfilled, m, start = _model(inst)
    owner = opt._owners(pairs, unfulfilled, len(m.cost))
    assert (owner >= 0).all()
    hoods = opt._Neighbourhoods(inst, 30, seed=1)
    for _ in range(5):
        chosen = hoods.draw()
        assert 0 < len(chosen) <= 30 and len(set(chosen.tolist())) == len(chosen)
    tidy = functools.partial(opt._tidy, inst, tables, pairs, unfulfilled)
    x = opt._fix_and_optimize(m, owner, hoods, start.copy(), deadline=float("inf"), max_steps=6, tidy=tidy)
    assert opt._feasible(m, x)
    assert float(m.cost @ x) < float(m.cost @ start)  # greedy leaves money on a 200-order batch
    # Each kept plan is tidy, so the model objective is its true cost (a sub-MIP cut short by its time limit
    # may return open shipments with no units, or units on a dearer service: the extraction drops that slack).
    assert abs(allocation_cost(inst, tables, opt._extract(inst, tables, pairs, x)) - float(m.cost @ x)) < 1e-6


def test_tidy_closes_empty_shipments_and_repicks_the_cheapest_service():
    inst = generate_instance(60, 4, 3, seed=3)
    tables, pairs, unfulfilled, m, start = _model(inst)
    slack = start.copy()
    empty = next(p for p in pairs
                 if max(start[y] for y in p.y) < 0.5 and not inst.orders[p.order].ship_complete)
    slack[empty.y[0]] = 1.0  # a shipment opened with nothing in it: feasible, pays its base for nothing
    moved = next(p for p in pairs if len(p.services) > 1 and max(start[y] for y in p.y) > 0.5)
    k = next(j for j, y in enumerate(moved.y) if start[y] > 0.5)
    other = (k + 1) % len(moved.y)
    slack[moved.y[k]], slack[moved.y[other]] = 0.0, 1.0  # the same units on another of its services
    for cols in moved.x.values():
        slack[cols[other]], slack[cols[k]] = slack[cols[k]], 0.0
    assert opt._feasible(m, slack) and float(m.cost @ slack) > float(m.cost @ start) + 1e-6
    tidy = opt._tidy(inst, tables, pairs, unfulfilled, slack)
    assert opt._feasible(m, tidy)
    assert float(m.cost @ tidy) == float(m.cost @ start)
    assert np.array_equal(tidy, start)
