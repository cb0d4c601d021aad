"""The 3PL handoff through the gateway to the sandbox ShipStation: sent once (audited, idempotent), in each
rollout mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.domain.writeback.actions import RolloutMode, Workflow
from oms_pipeline.domain.writeback.handoff import handoff_actions
from oms_pipeline.gateway.executors import StoreExecutor
from oms_pipeline.gateway.gateway import WritebackGateway
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.shipstation import DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.handoff import DECISIONS, ORDERS, SHIPMENTS, SHOP, TPL, decision


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
