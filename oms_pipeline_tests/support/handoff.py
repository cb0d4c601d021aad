"""Four decided orders and their planned lines, for the 3PL handoff's tests: 1 released with a 3PL line and
a DC line, 2 ready with 3PL lines, 3 on hold, 4 released from the store's own DC only."""

from __future__ import annotations

from oms_pipeline_tests.support.orders import make_order

SHOP = "shop.myshopify.com"


def decision(order_id: str, state: str = "released", fingerprint: str = "fp1") -> dict:
    """A decision row as the order flow stores it."""
    return {"order_id": order_id, "trace_id": f"t{order_id}", "state": state, "order_fingerprint": fingerprint,
            "confidence": 0.95, "rules_version": "r1", "fraud_model_version": "m1", "notes_engine": "local-1"}


def line(order_id: str, location: str, sku: str, quantity: int, service: str = "ground") -> dict:
    """A planned shipment line."""
    return {"order_id": order_id, "trace_id": f"t{order_id}", "location_id": location, "service_id": service,
            "sku": sku, "quantity": quantity}


ORDERS = {oid: make_order([("MUG-BLK", 2, "19.50"), ("TEA-GRN", 1, "7.25")], order_id=oid)
          for oid in ("1", "2", "3", "4")}
DECISIONS = [decision("1"), decision("2", "ready"), decision("3", "on_hold"), decision("4")]
SHIPMENTS = [line("1", "3PL-EU", "MUG-BLK", 2), line("1", "DC-EAST", "TEA-GRN", 1),
             line("2", "3PL-EU", "MUG-BLK", 2, "express"), line("2", "3PL-EU", "TEA-GRN", 1, "express"),
             line("3", "3PL-EU", "MUG-BLK", 2),  # on hold: not released, not handed off
             line("4", "DC-WEST", "MUG-BLK", 2)]  # the store's own DC: nothing for the 3PL


TPL = frozenset({"3PL-EU"})  # the network's locations of kind 3pl
