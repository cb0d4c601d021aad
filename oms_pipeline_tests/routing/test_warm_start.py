"""The greedy plan, as model columns, is a feasible incumbent that HiGHS accepts (the warm start)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from oms_pipeline.domain.routing import generate_instance, plan_fulfillment, plan_greedy
from oms_pipeline.domain.routing import optimizer as opt
from oms_pipeline.domain.routing.costs import allocation_cost, cost_tables
from oms_pipeline.domain.routing.greedy import greedy_allocation

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
