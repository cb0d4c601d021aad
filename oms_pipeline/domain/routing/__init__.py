"""Fulfillment routing: pure domain code, no I/O.

``plan_fulfillment`` optimizes a whole batch with a MILP (HiGHS); ``plan_greedy`` is the
nearest-location baseline; ``plan_single_order`` routes one order exactly; ``plan_batch`` runs both
planners on a batch and reports its figures; ``rate_shop`` picks the carrier service of one planned
shipment from live quotes (seeded realistic batches for benches and tests: ``sandbox/routing_instances.py``). Formats:
``Instance`` (INSTANCE.json) and ``Plan`` (PLAN.json).
"""

from oms_pipeline.domain.routing.batch import on_time_share, plan_batch, plan_figures, split_rate
from oms_pipeline.domain.routing.geo import EARTH_RADIUS_KM, great_circle_km
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
from oms_pipeline.domain.routing.rates import CarrierQuote, RateChoice, rate_shop

__all__ = [
    "EARTH_RADIUS_KM", "CarrierQuote", "Instance", "Location", "Order", "OrderLine", "Plan", "PlanLine", "RateChoice",
    "Service", "Shipment", "SolverInfo", "Unfulfilled", "describe_validation_error",
    "great_circle_km", "on_time_share", "parse_instance", "plan_batch", "plan_figures", "plan_fulfillment",
    "plan_greedy", "plan_single_order", "rate_shop", "split_rate",
]
