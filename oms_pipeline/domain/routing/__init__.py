"""Fulfillment routing (issue 7): pure domain code, no I/O.

``plan_fulfillment`` optimizes a whole batch with a MILP (HiGHS); ``plan_greedy`` is the
nearest-location baseline; ``plan_single_order`` routes one order exactly; ``generate_instance``
makes seeded realistic batches. Formats: ``Instance`` (INSTANCE.json) and ``Plan`` (PLAN.json).
"""

from oms_pipeline.domain.routing.geo import EARTH_RADIUS_KM, great_circle_km
from oms_pipeline.domain.routing.instances import generate_instance
from oms_pipeline.domain.routing.model import (
    Instance,
    Location,
    Order,
    OrderLine,
    Plan,
    PlanLine,
    Service,
    Shipment,
    SolverInfo,
    Unfulfilled,
    describe_validation_error,
    parse_instance,
)
from oms_pipeline.domain.routing.optimizer import plan_fulfillment, plan_greedy, plan_single_order

__all__ = [
    "EARTH_RADIUS_KM", "Instance", "Location", "Order", "OrderLine", "Plan", "PlanLine", "Service", "Shipment",
    "SolverInfo", "Unfulfilled", "describe_validation_error", "generate_instance", "great_circle_km",
    "parse_instance", "plan_fulfillment", "plan_greedy", "plan_single_order",
]
