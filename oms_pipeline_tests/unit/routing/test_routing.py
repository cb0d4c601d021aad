"""Fulfillment routing: hand-checkable instances, feasibility properties and formats."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from oms_pipeline.domain.routing import (
    Instance,
    great_circle_km,
    parse_instance,
    plan_fulfillment,
    plan_greedy,
    plan_single_order,
)
from oms_pipeline.sandbox.routing_instances import generate_instance
from oms_pipeline_tests.support.routing import check_feasible

GROUND = {"id": "ground", "base": 5.0, "per_kg": 0.5, "per_1000km": 1.0, "base_days": 1, "km_per_day": 800.0}
FAST = {"id": "2day", "base": 9.0, "per_kg": 1.0, "per_1000km": 1.5, "base_days": 1, "km_per_day": 2500.0}


def _loc(lid, lat, lon, inventory, max_orders=None):
    return {"id": lid, "lat": lat, "lon": lon, "pick_cost_per_unit": 0.5, "handling_days": 0,
            "max_orders": max_orders, "inventory": inventory}


def _order(oid, lat, lon, lines, promise=10, ship_complete=False):
    return {"id": oid, "lat": lat, "lon": lon, "promise_days": promise, "ship_complete": ship_complete,
            "lines": [{"sku": s, "qty": q, "unit_weight_kg": 1.0} for s, q in lines]}


def _instance(locations, orders, services=(GROUND,), late=0.0, unfulfilled=100.0) -> Instance:
    return Instance.model_validate({"locations": locations, "services": list(services), "orders": orders,
                                    "unfulfilled_penalty_per_unit": unfulfilled, "late_penalty_per_day": late})


def test_great_circle_uses_6371_km():
    assert abs(great_circle_km(0, 0, 0, 180) - 3.141592653589793 * 6371.0) < 1e-6


def test_contention_last_unit_goes_where_it_saves_most():
    # One unit left at DC-A; order far away from DC-B must get it (B has none); near order waits.
    inst = _instance([_loc("DC-A", 40.0, -75.0, {"X": 1}), _loc("DC-B", 34.0, -118.0, {"X": 1})],
                     [_order("near-B", 34.1, -118.1, [("X", 1)]), _order("near-A", 40.1, -75.1, [("X", 1)])])
    plan = plan_fulfillment(inst, time_limit_s=5)
    route = {s.order_id: s.location_id for s in plan.shipments}
    assert route == {"near-B": "DC-B", "near-A": "DC-A"}
    short = _instance([_loc("DC-A", 40.0, -75.0, {"X": 1})],
                      [_order("o1", 34.0, -118.0, [("X", 1)]), _order("o2", 40.1, -75.1, [("X", 1)])])
    plan = plan_fulfillment(short, time_limit_s=5)
    assert [s.order_id for s in plan.shipments] == ["o2"]  # the cheap-to-serve order gets the last unit
    assert [(u.order_id, u.qty) for u in plan.unfulfilled] == [("o1", 1)]
    check_feasible(short, plan)


def test_ship_complete_never_splits():
    locs = [_loc("DC-A", 40.0, -75.0, {"X": 1}), _loc("DC-B", 34.0, -118.0, {"Y": 1})]
    orders = [_order("o", 40.0, -75.0, [("X", 1), ("Y", 1)], ship_complete=True)]
    plan = plan_fulfillment(_instance(locs, orders), time_limit_s=5)
    assert plan.shipments == [] and sum(u.qty for u in plan.unfulfilled) == 2
    split = plan_fulfillment(_instance(locs, [{**orders[0], "ship_complete": False}]), time_limit_s=5)
    assert len(split.shipments) == 2 and "split" in split.shipments[0].reason


def test_capacity_caps_shipments_per_location():
    locs = [_loc("3PL", 40.0, -75.0, {"X": 5}, max_orders=1), _loc("DC-FAR", 34.0, -118.0, {"X": 5})]
    orders = [_order(f"o{k}", 40.0, -75.0, [("X", 1)]) for k in range(3)]
    inst = _instance(locs, orders)
    for plan in (plan_fulfillment(inst, time_limit_s=5), plan_greedy(inst)):
        check_feasible(inst, plan)
        assert sum(s.location_id == "3PL" for s in plan.shipments) == 1
        assert len(plan.shipments) == 3


def test_lateness_trade_off_pays_for_the_faster_service():
    # ~3,900 km: ground takes 1 + 5 = 6 days, 2day 1 + 2 = 3 days; promise 3 days.
    locs = [_loc("DC-EAST", 40.52, -74.41, {"X": 1})]
    orders = [_order("o", 34.05, -118.24, [("X", 1)], promise=3)]
    cheap_late = plan_fulfillment(_instance(locs, orders, (GROUND, FAST), late=0.5), time_limit_s=5)
    assert cheap_late.shipments[0].service_id == "ground"
    paid = plan_fulfillment(_instance(locs, orders, (GROUND, FAST), late=5.0), time_limit_s=5)
    s = paid.shipments[0]
    assert s.service_id == "2day" and s.transit_days == 3
    assert abs(paid.total_cost - s.cost) < 1e-6  # on time: no penalty
    assert "next best DC-EAST ground" in s.reason


def test_costs_follow_the_documented_formula():
    locs = [_loc("DC-A", 0.0, 0.0, {"X": 3})]
    inst = _instance(locs, [_order("o", 0.0, 1.0, [("X", 2)], promise=1)], late=2.0)
    plan = plan_fulfillment(inst, time_limit_s=5)
    km = great_circle_km(0, 0, 0, 1)
    cost = 5.0 + 0.5 * 2.0 + 1.0 * km / 1000 + 0.5 * 2
    s = plan.shipments[0]
    assert abs(s.cost - cost) < 1e-6 and s.transit_days == 1 + 1  # base 1 + ceil(111/800)
    assert abs(plan.total_cost - (cost + 2.0)) < 1e-6  # one day late


small_instances = st.builds(
    lambda n, loc, svc, seed: generate_instance(n, loc, svc, seed),
    st.integers(1, 12), st.integers(1, 4), st.integers(1, 3), st.integers(0, 10_000))


@settings(max_examples=30, deadline=None)
@given(small_instances)
def test_every_plan_is_feasible_and_optimizer_never_beats_by_losing(inst):
    greedy = plan_greedy(inst)
    best = plan_fulfillment(inst, time_limit_s=5)
    check_feasible(inst, greedy)
    check_feasible(inst, best)
    assert best.total_cost <= greedy.total_cost + 1e-6
    assert best.solver.lower_bound is None or best.solver.lower_bound <= best.total_cost + 1e-6


def test_single_order_is_exact():
    inst = generate_instance(20, 5, 3, seed=4)
    plan = plan_single_order(inst, inst.orders[3].id)
    assert plan.solver.status == "optimal" and plan.solver.gap is not None and plan.solver.gap <= 1e-9
    assert {s.order_id for s in plan.shipments} <= {inst.orders[3].id}


def test_formats_round_trip_and_name_the_bad_field():
    inst = generate_instance(5, 3, 2, seed=2)
    assert parse_instance(inst.model_dump_json()) == inst
    plan = json.loads(plan_fulfillment(inst, time_limit_s=5).model_dump_json())
    assert set(plan) == {"shipments", "unfulfilled", "total_cost", "solver"}
    assert set(plan["solver"]) == {"status", "gap", "seconds"}
    for s in plan["shipments"]:
        assert set(s) == {"order_id", "location_id", "service_id", "lines", "cost", "transit_days", "reason"}
