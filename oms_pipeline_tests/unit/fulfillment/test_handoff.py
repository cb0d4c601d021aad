"""The 3PL handoff: which orders and lines go to the 3PL, and the createorder body."""

from __future__ import annotations

from oms_pipeline.domain.writeback.actions import ActionKind, Workflow
from oms_pipeline.domain.writeback.handoff import handoff_actions
from oms_pipeline_tests.support.handoff import DECISIONS, ORDERS, SHIPMENTS, SHOP, TPL, decision


def test_what_goes_to_the_3pl_is_decided_by_location_kind_not_name():
    # The same plan, but the network says DC-WEST is the 3PL's and 3PL-EU is the merchant's own DC.
    actions = handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, tpl_locations={"DC-WEST"})
    assert [a.order_id for a in actions] == ["4"]
    assert handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, tpl_locations=()) == []


def test_the_3pl_rule_and_the_createorder_body():
    actions = handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, unit_weight_kg={"MUG-BLK": 0.4, "TEA-GRN": 0.1},
                              gift_messages={"2": "Enjoy!"}, tpl_locations=TPL)
    assert [a.order_id for a in actions] == ["1", "2"]
    first, second = actions
    assert first.workflow is Workflow.FULFILLMENT_HANDOFF and first.kind is ActionKind.HANDOFF_TO_3PL
    body = first.payload
    assert body["orderKey"] == "1" and body["orderStatus"] == "awaiting_shipment"
    assert body["orderNumber"] == ORDERS["1"].name.lstrip("#")
    assert [(i["sku"], i["quantity"], i["unitPrice"]) for i in body["items"]] == [("MUG-BLK", 2, 19.5)]
    assert body["weight"] == {"value": 800.0, "units": "grams"} and body["gift"] is False
    assert body["shipTo"] == {"name": ORDERS["1"].name, "state": None, "country": "US"}  # no PII: filled at send
    assert "customerEmail" not in body and body["requestedShippingService"] == "ground"
    assert [i["sku"] for i in second.payload["items"]] == ["MUG-BLK", "TEA-GRN"]
    assert second.payload["giftMessage"] == "Enjoy!" and second.payload["requestedShippingService"] == "express"
    # Built again (a later run, same decision): the same keys. A new order version: a new key.
    again = handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, unit_weight_kg={"MUG-BLK": 0.4, "TEA-GRN": 0.1},
                            gift_messages={"2": "Enjoy!"}, tpl_locations=TPL)
    assert [a.idempotency_key for a in again] == [a.idempotency_key for a in actions]
    newer = handoff_actions([decision("1", fingerprint="fp2")], SHIPMENTS, ORDERS, SHOP,
                            unit_weight_kg={"MUG-BLK": 0.4, "TEA-GRN": 0.1}, tpl_locations=TPL)
    assert newer[0].idempotency_key != first.idempotency_key
    # An order whose payload could not be read again is skipped, not guessed.
    assert handoff_actions(DECISIONS, SHIPMENTS, {}, SHOP, tpl_locations=TPL) == []
