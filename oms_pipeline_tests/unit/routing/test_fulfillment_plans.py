"""The plan text written to the store lists each shipment and backorder."""

from __future__ import annotations


def test_plan_text_lists_each_shipment_and_backorder():
    from oms_pipeline.domain.routing.model import Plan, PlanLine, Shipment, SolverInfo, Unfulfilled
    from oms_pipeline.services.planning import plan_texts

    plan = Plan(shipments=[Shipment(order_id="1", location_id="DC-EAST", service_id="ground",
                                    lines=[PlanLine(sku="A", qty=2)], cost=8.12, transit_days=3,
                                    reason="DC-EAST ground $8.12, 3 days; next best DC-WEST 2day $11.40 (+$3.28)")],
                unfulfilled=[Unfulfilled(order_id="1", sku="B", qty=1)], total_cost=38.12,
                solver=SolverInfo(status="optimal", gap=0.0, seconds=0.01))
    assert plan_texts(plan, {}) == {"1": "2 units: DC-EAST ground $8.12, 3 days; next best DC-WEST 2day $11.40 "
                                         "(+$3.28)\nbackorder 1 x B"}
