"""The emulated carrier-rates API on its own: auth, validation answers and the prices it quotes."""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal

from oms_pipeline.domain.routing import Service, great_circle_km
from oms_pipeline.sandbox.carriers import OUNCES_PER_KG, CarrierRatesAPI

GROUND = Service(id="ground", base=5.80, per_kg=0.55, per_1000km=1.20, base_days=1, km_per_day=800.0)
CUSTOM = Service(id="bike", base=1.0, per_kg=0.0, per_1000km=0.0, base_days=0, km_per_day=100.0)


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _shipment(weight_oz: float = 16.0, to: dict | None = None) -> bytes:
    return json.dumps({"shipment": {"from_address": {"latitude": 40.52, "longitude": -74.41},
                                    "to_address": to or {"zip": "78701", "country": "US"},
                                    "parcel": {"weight": weight_oz}}}).encode()


def test_basic_auth_takes_the_key_as_username():
    api = CarrierRatesAPI([GROUND], api_key="EZTKkey")
    assert api.authorized(_basic("EZTKkey"))
    assert api.authorized(_basic("EZTKkey", "ignored"))
    assert not api.authorized(_basic("other"))
    assert not api.authorized("Bearer EZTKkey") and not api.authorized("Basic !!!") and not api.authorized(None)
    assert api.unauthorized(None)["error"]["code"] == "APIKEY.REQUIRED"
    assert api.unauthorized(_basic("other"))["error"]["code"] == "APIKEY.INACTIVE"


def test_prices_and_days_follow_the_rate_card():
    api = CarrierRatesAPI([GROUND, CUSTOM])
    status, shipment = api.create_shipment(_shipment(weight_oz=2 * OUNCES_PER_KG))
    assert status == 201 and api.shipments_created == 1
    km = great_circle_km(40.52, -74.41, 30.2711, -97.7437)
    ground, bike = shipment["rates"]
    expected = Decimal(repr(5.80 + 0.55 * 2 + 1.20 * km / 1000)).quantize(Decimal("0.01"))
    assert ground["rate"] == str(expected) and ground["carrier"] == "UPS" and ground["service"] == "ground"
    assert ground["delivery_days"] == 1 + math.ceil(km / 800.0)
    assert bike["rate"] == "1.00" and bike["carrier"] == "SandboxPost"  # a service no carrier map names
    assert bike["delivery_days"] == math.ceil(km / 100.0)


def test_explicit_coordinates_win_over_the_zip_code():
    api = CarrierRatesAPI([GROUND])
    _, near = api.create_shipment(_shipment(to={"latitude": 40.52, "longitude": -74.41, "zip": "78701"}))
    assert near["rates"][0]["delivery_days"] == 1  # 0 km: base days only


def test_invalid_requests_name_the_field():
    api = CarrierRatesAPI([GROUND])
    assert api.create_shipment(b"{not json")[0] == 400
    status, body = api.create_shipment(b'{"parcel": {}}')
    assert status == 422 and body["error"]["errors"][0]["field"] == "shipment"
    status, body = api.create_shipment(_shipment(weight_oz=0))
    assert status == 422 and body["error"]["errors"][0]["field"] == "parcel.weight"
    status, body = api.create_shipment(_shipment(to={"zip": "99999", "country": "US"}))
    assert status == 422 and body["error"]["errors"][0]["field"] == "to_address.zip"
    status, body = api.create_shipment(_shipment(to={"latitude": 95.0, "longitude": 0.0}))
    assert status == 422 and body["error"]["code"] == "SHIPMENT.INVALID_PARAMS"
    assert api.shipments_created == 0
