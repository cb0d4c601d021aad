"""The 3PL handoff: which orders and lines go to the 3PL, the createorder body, and the gateway sending it
to the sandbox ShipStation once (audited, idempotent), in each rollout mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.domain.writeback.actions import ActionKind, RolloutMode, Workflow
from oms_pipeline.domain.writeback.handoff import handoff_actions
from oms_pipeline.gateway.executors import StoreExecutor
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.shipstation import DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.decisions.helpers import make_order

SHOP = "shop.myshopify.com"


def decision(order_id: str, state: str = "released", fingerprint: str = "fp1") -> dict:
    return {"order_id": order_id, "trace_id": f"t{order_id}", "state": state, "order_fingerprint": fingerprint,
            "confidence": 0.95, "rules_version": "r1", "fraud_model_version": "m1", "notes_engine": "local-1"}


def line(order_id: str, location: str, sku: str, quantity: int, service: str = "ground") -> dict:
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


class StoreClock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture()
def rig(tmp_path):
    clock = StoreClock()
    store = SandboxStore(seed=4, orders=1, rate_per_min=0.0, clock=clock)
    wh = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    wh.migrate()
    with SandboxServer(store, seed=4) as server, \
            ShipStationClient(server.url, DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET) as client:
        yield server, wh, StoreExecutor(None, tpl=client), clock
    wh.dispose()


def test_gateway_hands_off_once_in_auto_mode(rig):
    server, wh, executor, clock = rig
    actions = handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, tpl_locations=TPL)
    gateway = WritebackGateway(wh.writeback, executor, {Workflow.FULFILLMENT_HANDOFF: RolloutMode.AUTO})
    first = gateway.run(actions, "run-1", batch_orders=4)
    assert first.written == 2 and server.shipstation.order_count() == 2
    again = handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, tpl_locations=TPL)
    second = gateway.run(again, "run-2", batch_orders=4)
    assert second.written == 0 and second.outcomes["duplicate"] == 2
    assert server.shipstation.order_count() == 2
    # A new version of order 1 updates the same 3PL order (upsert on orderKey), never a second one.
    newer = handoff_actions([decision("1", fingerprint="fp2")], SHIPMENTS, ORDERS, SHOP, tpl_locations=TPL)
    third = gateway.run(newer, "run-3", batch_orders=1)
    assert third.written == 1 and server.shipstation.order_count() == 2
    # The 3PL ships them a day later; the shipments name the store order ids.
    clock.at += timedelta(days=1)
    status, body = server.shipstation.list_shipments({"includeShipmentItems": "true"})
    assert status == 200 and sorted(s["orderKey"] for s in body["shipments"]) == ["1", "2"]
    assert all(s["shipmentItems"] for s in body["shipments"])
    assert all(s["shipmentItems"] is None for s in server.shipstation.list_shipments({})[1]["shipments"])


def test_shadow_mode_sends_nothing_and_missing_3pl_is_reported(rig):
    server, wh, executor, _clock = rig
    actions = handoff_actions(DECISIONS, SHIPMENTS, ORDERS, SHOP, tpl_locations=TPL)
    shadow = WritebackGateway(wh.writeback, executor, {}).run(actions, "run-s", batch_orders=4)
    assert shadow.outcomes["shadow"] == 2 and server.shipstation.order_count() == 0
    unconfigured = WritebackGateway(wh.writeback, StoreExecutor(None), {
        Workflow.FULFILLMENT_HANDOFF: RolloutMode.AUTO}).run(actions, "run-n", batch_orders=4)
    assert unconfigured.outcomes["not_configured"] == 2
