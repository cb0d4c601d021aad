"""The ShipStation connector against the sandbox 3PL over real HTTP: upsert on orderKey, shipments made
on the store clock, date filters and paging, and pacing by the rate-limit headers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from oms_pipeline.connectors.shipstation import ShipStationClient, ShipStationError
from oms_pipeline.domain.reconciliation import parse_shipments
from oms_pipeline.sandbox.network import sandbox_network
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.shipstation import DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET, ShipStationAPI
from oms_pipeline.sandbox.store import SandboxStore

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class StoreClock:
    """The store's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


class Monotonic:
    """A monotonic clock shared by the server's rate window and the client; sleeping advances it."""

    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def order(n: int, *, sku: str = "MUG-BL-STO", quantity: int = 2, status: str = "awaiting_shipment") -> dict:
    return {"orderNumber": f"#{1000 + n}", "orderKey": f"{5000 + n}", "orderDate": "2026-03-02T08:00:00",
            "orderStatus": status, "shipTo": {"name": "A Customer", "street1": "1 Main St", "city": "Austin",
                                              "postalCode": "78701", "country": "US"},
            "items": [{"lineItemKey": f"L{n}", "sku": sku, "name": "Mug", "quantity": quantity}],
            "weight": {"value": 800, "units": "grams"}, "requestedShippingService": "ground"}


@pytest.fixture()
def rig():
    store_clock, mono = StoreClock(), Monotonic()
    store = SandboxStore(seed=3, orders=1, rate_per_min=0.0, clock=store_clock)
    with SandboxServer(store, seed=3) as server:
        api = ShipStationAPI(store, sandbox_network().services, rate_limit=5, window_s=60.0, rate_clock=mono)
        server.__dict__["_shipstation"] = api
        client = ShipStationClient(server.url, DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET,
                                   sleep=mono.sleep, clock=mono)
        with client:
            yield server, api, client, store_clock, mono


def test_createorder_upserts_on_order_key(rig):
    _server, api, client, store_clock, _mono = rig
    first = client.create_order(order(1))
    store_clock.at += timedelta(hours=1)
    second = client.create_order({**order(1), "items": [{"sku": "MUG-BL-STO", "name": "Mug", "quantity": 3}]})
    assert second["orderId"] == first["orderId"]
    assert second["createDate"] == first["createDate"] and second["modifyDate"] != first["modifyDate"]
    assert api.order_count() == 1
    assert second["items"][0]["quantity"] == 3
    client.create_order(order(2))
    assert api.order_count() == 2


def test_orders_ship_a_day_later_on_the_store_clock(rig):
    _server, _api, client, store_clock, _mono = rig
    client.create_order(order(1))
    client.create_order(order(2, status="on_hold"))
    assert list(client.iter_shipments()) == []
    store_clock.at += timedelta(days=1)
    shipments = list(client.iter_shipments())
    assert [s["orderKey"] for s in shipments] == ["5001"]  # the held order is not shipped
    shipment = shipments[0]
    assert shipment["shipDate"] == "2026-03-03" and shipment["voided"] is False
    assert shipment["shipmentItems"] == [{"orderItemId": shipment["shipmentId"] * 100, "lineItemKey": "L1",
                                          "sku": "MUG-BL-STO", "name": "Mug", "quantity": 2}]
    assert shipment["weight"]["units"] == "grams" and shipment["weight"]["value"] == 800
    assert shipment["shipmentCost"] == pytest.approx(5.80 + 0.55 * 0.8, abs=0.01)
    # The reconciliation parser reads what the 3PL serves.
    parsed = parse_shipments({"shipments": shipments}, "shop", datetime.now(UTC))
    assert not parsed.errors and parsed.rows["tpl_shipments"][0]["order_key"] == "5001"
    # Sending the shipped order again updates it, never ships it twice.
    client.create_order(order(1))
    store_clock.at += timedelta(days=2)
    assert len(list(client.iter_shipments())) == 1


def test_filters_and_paging(rig):
    _server, _api, client, store_clock, _mono = rig
    for n in range(1, 4):
        client.create_order(order(n))
    store_clock.at += timedelta(days=1, hours=1)
    for n in range(4, 8):
        client.create_order(order(n))
    store_clock.at += timedelta(days=1)
    everything = list(client.iter_shipments(page_size=2))
    assert len(everything) == 7 and len({s["shipmentId"] for s in everything}) == 7
    first_day = list(client.iter_shipments(ship_date_start=date(2026, 3, 3), ship_date_end=date(2026, 3, 3),
                                           page_size=2))
    assert sorted(s["orderKey"] for s in first_day) == ["5001", "5002", "5003"]
    later = list(client.iter_shipments(create_date_start=datetime(2026, 3, 4, 0, 0)))
    assert sorted(s["orderKey"] for s in later) == ["5004", "5005", "5006", "5007"]
    assert [s["orderKey"] for s in client.iter_shipments(order_number="#1005")] == ["5005"]
    body = client.shipments_body(ship_date_start=date(2026, 3, 4))
    assert body["total"] == 4 and len(body["shipments"]) == 4


def test_rate_limit_is_paced_without_errors(rig):
    _server, api, client, _store_clock, mono = rig
    for n in range(1, 13):  # 12 requests through a window of 5 a minute
        client.create_order(order(n))
    assert api.order_count() == 12
    assert api.requests == 12  # paced on the headers: never a 429
    assert len(mono.sleeps) == 2 and all(0 < s <= 60 for s in mono.sleeps)
    assert client.waited_s == pytest.approx(sum(mono.sleeps))


def test_a_429_is_honoured(rig):
    _server, api, client, _store_clock, mono = rig
    other = ShipStationClient(_server.url, DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET,
                              sleep=mono.sleep, clock=mono)
    with other:
        for n in range(1, 6):  # another client of the same key uses the whole window
            other.create_order(order(n))
    client.create_order(order(6))  # answered 429 once, then sent after the reset
    assert api.order_count() == 6
    assert api.requests == 7 and len(mono.sleeps) == 1 and mono.sleeps[0] >= 59


def test_bad_credentials_and_bad_bodies_are_refused(rig):
    server, _api, client, _store_clock, _mono = rig
    with ShipStationClient(server.url, DEFAULT_SHIPSTATION_KEY, "wrong", max_attempts=1) as bad:
        with pytest.raises(ShipStationError) as refused:
            bad.create_order(order(1))
    assert refused.value.status == 401
    with pytest.raises(ShipStationError) as invalid:
        client.create_order({**order(1), "orderStatus": "lost"})
    assert invalid.value.status == 400
