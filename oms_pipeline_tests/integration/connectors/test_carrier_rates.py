"""The carrier-rates connector against the sandbox over real HTTP: EasyPost-shaped quotes, auth,
validation errors, retries through injected faults, and the rates cache with its expiry."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from oms_pipeline.connectors.carrier_rates import (
    Address,
    CarrierRatesClient,
    CarrierRatesError,
    RateCache,
    parse_rates,
)
from oms_pipeline.connectors.http import TransientHTTPError
from oms_pipeline.domain.routing import great_circle_km
from oms_pipeline.domain.routing.rates import rate_shop
from oms_pipeline.sandbox.carriers import DEFAULT_CARRIER_API_KEY
from oms_pipeline.sandbox.network import sandbox_network
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline_tests.support.carrier_rates import AUSTIN, EDISON, FakeClock


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), seed=1) as server:
        yield server


def test_quotes_follow_the_network_rate_cards(sandbox):
    with CarrierRatesClient(sandbox.url, DEFAULT_CARRIER_API_KEY) as carrier:
        quotes = carrier.rates(EDISON, AUSTIN, 1.2)
    services = {s.id: s for s in sandbox_network().services}
    assert sorted(q.service for q in quotes) == sorted(services)
    km = great_circle_km(40.52, -74.41, 30.2711, -97.7437)  # Austin 78701 in the sandbox's places
    kg = 1.5  # 1.2 kg is quoted at its 0.5 kg bucket's upper weight
    for quote in quotes:
        service = services[quote.service]
        expected = service.base + service.per_kg * kg + service.per_1000km * km / 1000
        assert isinstance(quote.rate, Decimal) and quote.rate == quote.rate.quantize(Decimal("0.01"))
        assert abs(float(quote.rate) - expected) <= 0.011
        assert quote.delivery_days == service.base_days + math.ceil(km / service.km_per_day)
        assert quote.currency == "USD" and quote.quote_id.startswith("rate_") and quote.carrier
    choice = rate_shop(quotes, promise_days=3, location_id="DC-EAST")
    assert choice.on_time and choice.reason.startswith("DC-EAST ")


def test_wire_format_is_easypost_shaped(sandbox):
    import httpx

    body = {"shipment": {"from_address": {"latitude": 40.52, "longitude": -74.41},
                         "to_address": {"zip": "78701", "country": "US"}, "parcel": {"weight": 16.0}}}
    answer = httpx.post(f"{sandbox.url}/v2/shipments", json=body, auth=(DEFAULT_CARRIER_API_KEY, ""))
    assert answer.status_code == 201
    shipment = answer.json()
    assert shipment["object"] == "Shipment" and shipment["id"].startswith("shp_")
    for rate in shipment["rates"]:
        assert isinstance(rate["rate"], str) and Decimal(rate["rate"]) > 0
        assert rate["object"] == "Rate" and rate["shipment_id"] == shipment["id"]
        assert rate["delivery_days"] == rate["est_delivery_days"]
    assert len(parse_rates(shipment)) == len(shipment["rates"])


def test_wrong_key_and_bad_parcel_are_refused(sandbox):
    with CarrierRatesClient(sandbox.url, "EZTKwrong") as carrier:
        with pytest.raises(CarrierRatesError) as refused:
            carrier.rates(EDISON, AUSTIN, 1.0)
    assert refused.value.status == 401 and refused.value.code == "APIKEY.INACTIVE"
    with CarrierRatesClient(sandbox.url, DEFAULT_CARRIER_API_KEY) as carrier:
        with pytest.raises(CarrierRatesError) as refused:
            carrier.rates(EDISON, Address(zip="00000", country="US"), 1.0)
    assert refused.value.status == 422 and refused.value.code == "SHIPMENT.INVALID_PARAMS"
    assert "00000" in str(refused.value)


def test_cache_serves_a_lane_until_it_expires(sandbox):
    clock = FakeClock()
    cache = RateCache(ttl_s=600, bucket_kg=0.5, clock=clock)
    with CarrierRatesClient(sandbox.url, DEFAULT_CARRIER_API_KEY, cache=cache) as carrier:
        before = sandbox.carriers.shipments_created
        first = carrier.rates(EDISON, AUSTIN, 0.8)
        same_bucket = carrier.rates(EDISON, AUSTIN, 0.95)  # (0.5, 1.0] kg: same bucket, same quotes
        assert same_bucket == first
        assert sandbox.carriers.shipments_created == before + 1
        carrier.rates(EDISON, AUSTIN, 1.01)  # the next bucket is a new request
        assert sandbox.carriers.shipments_created == before + 2
        clock.now += 599
        assert carrier.rates(EDISON, AUSTIN, 0.8) == first
        assert sandbox.carriers.shipments_created == before + 2
        clock.now += 2  # past the TTL: asked again, new rate ids
        again = carrier.rates(EDISON, AUSTIN, 0.8)
        assert sandbox.carriers.shipments_created == before + 3
        assert [q.rate for q in again] == [q.rate for q in first]
        assert {q.quote_id for q in again}.isdisjoint({q.quote_id for q in first})
    assert cache.hits == 2 and cache.misses == 3


def test_retries_through_faults():
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=0.4, timeout_fault_s=1.0,
                       seed=3) as sandbox:
        with CarrierRatesClient(sandbox.url, DEFAULT_CARRIER_API_KEY, timeout_s=0.5, max_attempts=15,
                                sleep=lambda _s: None) as carrier:
            for i in range(8):
                assert carrier.rates(EDISON, AUSTIN, 0.5 * (i + 1))
        assert sandbox.store.stats["faults"] > 0
        assert sandbox.carriers.shipments_created == 8


def test_exhausted_retries_raise_transient_error():
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=1.0, timeout_fault_s=0.05,
                       seed=3) as sandbox:
        with CarrierRatesClient(sandbox.url, DEFAULT_CARRIER_API_KEY, max_attempts=2,
                                sleep=lambda _s: None) as carrier:
            with pytest.raises(TransientHTTPError):
                carrier.rates(EDISON, AUSTIN, 1.0)
