"""plan_batch: both planners on one batch and the figures a fulfillment_plans asset reports."""

from __future__ import annotations

import pytest

from oms_pipeline.domain.routing import Instance, plan_batch
from oms_pipeline.sandbox.routing_instances import generate_instance

GROUND = {"id": "ground", "base": 5.0, "per_kg": 0.5, "per_1000km": 1.0, "base_days": 1, "km_per_day": 800.0}


def _instance(locations, orders) -> Instance:
    locs = [{"id": lid, "lat": lat, "lon": lon, "pick_cost_per_unit": 0.5, "handling_days": 0, "max_orders": None,
             "inventory": inv} for lid, lat, lon, inv in locations]
    ords = [{"id": oid, "lat": lat, "lon": lon, "promise_days": promise, "ship_complete": False,
             "lines": [{"sku": s, "qty": q, "unit_weight_kg": 1.0} for s, q in lines]}
            for oid, lat, lon, promise, lines in orders]
    return Instance.model_validate({"locations": locs, "services": [GROUND], "orders": ords,
                                    "unfulfilled_penalty_per_unit": 100.0, "late_penalty_per_day": 1.0})


def test_figures_of_a_hand_checkable_batch():
    # "split" needs X from A and Y from B (two parcels); "late" is promised in 0 days (ground takes >= 1).
    inst = _instance([("A", 40.0, -75.0, {"X": 1}), ("B", 40.5, -75.5, {"Y": 1, "Z": 1})],
                     [("split", 40.2, -75.2, 10, [("X", 1), ("Y", 1)]), ("late", 40.5, -75.5, 0, [("Z", 1)])])
    plan, greedy, figures = plan_batch(inst, time_limit_s=5)
    assert figures["split_rate"] == 0.5  # one of the two shipped orders ships in two parcels
    assert figures["on_time_share"] == pytest.approx(2 / 3, abs=1e-4)  # 2 of 3 shipments within the promise
    assert figures["total_cost"] == round(plan.total_cost, 2)
    assert figures["greedy_cost"] == round(greedy.total_cost, 2)
    assert figures["cost_saved"] == 0.0  # nothing to trade off: greedy is optimal here
    assert figures["solver_gap"] == 0.0 and figures["solver_status"] == "optimal"
    assert figures["seconds"] >= 0 and set(figures) >= {"total_cost", "greedy_cost", "cost_saved", "split_rate",
                                                        "on_time_share", "solver_gap", "seconds"}


def test_cost_saved_against_greedy_on_contention():
    # One unit of X: greedy gives it to the first order (far away); the optimizer to the near one.
    inst = _instance([("A", 40.0, -75.0, {"X": 1})],
                     [("far", 34.0, -118.0, 10, [("X", 1)]), ("near", 40.1, -75.1, 10, [("X", 1)])])
    plan, greedy, figures = plan_batch(inst, time_limit_s=5)
    assert [s.order_id for s in greedy.shipments] == ["far"] and [s.order_id for s in plan.shipments] == ["near"]
    expected = greedy.shipments[0].cost - plan.shipments[0].cost  # same penalty for the unit left unshipped
    assert figures["cost_saved"] == pytest.approx(expected, abs=0.011) and figures["cost_saved"] > 0
    assert figures["split_rate"] == 0.0 and figures["on_time_share"] == 1.0


def test_empty_batch_and_generated_batch_never_lose_to_greedy():
    empty = generate_instance(0, 2, 1, seed=3)
    plan, greedy, figures = plan_batch(empty, time_limit_s=1)
    assert plan.shipments == [] and figures["total_cost"] == 0.0 and figures["split_rate"] == 0.0
    assert figures["on_time_share"] == 1.0
    plan, greedy, figures = plan_batch(generate_instance(60, 4, 2, seed=5), time_limit_s=3)
    assert figures["cost_saved"] >= 0 and 0 <= figures["split_rate"] <= 1 and 0 <= figures["on_time_share"] <= 1
    assert figures["lower_bound"] is None or figures["lower_bound"] <= figures["total_cost"] + 0.01
