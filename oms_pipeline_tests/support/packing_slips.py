"""An order to Köln and its planned shipments (two locations), for the packing slip tests."""

from __future__ import annotations

from oms_pipeline.domain.orders import Address
from oms_pipeline_tests.support.orders import make_order

PLANNED = [
    {"location_id": "DC-EAST", "service_id": "ground", "sku": "MUG-BLK", "quantity": 2},
    {"location_id": "3PL-EU", "service_id": "express", "sku": "TEA-GRN", "quantity": 1},
    {"location_id": "DC-EAST", "service_id": "ground", "sku": "TEA-GRN", "quantity": 1},
]


def slip_order():
    """Order 4242: two lines, shipped to a name and street with non-ASCII letters."""
    ship_to = Address(first_name="Jörg", last_name="Weiß", address1="Hauptstraße 5", city="Köln", zip="50667",
                      country_code="DE")
    return make_order([("MUG-BLK", 2, "19.50"), ("TEA-GRN", 2, "7.25")], order_id="4242", shipping=ship_to)
