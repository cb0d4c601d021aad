"""A carrier-rates API in EasyPost's shape, emulated for the sandbox server.

``POST /v2/shipments`` with ``{"shipment": {"from_address", "to_address", "parcel"}}`` (basic auth: the
API key as the username, no password) answers ``201`` with the shipment and its ``rates``: one per
service of the sandbox network, each ``{"id", "object": "Rate", "carrier", "service", "rate",
"currency", "delivery_days", "est_delivery_days", ...}`` with ``rate`` a decimal string ("8.12").

Prices follow the network's rate cards exactly as routing does (``base + per_kg * kg + per_1000km *
km / 1000``, rounded half-up to cents) and delivery days are ``base_days + ceil(km / km_per_day)``
(carrier transit only: the location's handling days are the shipper's). The parcel ``weight`` is in
ounces, as EasyPost's is. A real carrier geocodes the ZIP code; the sandbox knows the ZIP codes of its
store's places and also takes ``latitude``/``longitude`` on an address (how the network's locations,
which have no street address, are given). Errors use EasyPost's ``{"error": {"code", "message",
"errors"}}``: ``APIKEY.REQUIRED``/``APIKEY.INACTIVE`` (401) and ``SHIPMENT.INVALID_PARAMS`` (422).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import random
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from oms_pipeline.domain.routing.geo import great_circle_km
from oms_pipeline.domain.routing.model import Service
from oms_pipeline.sandbox.generator import PLACES, Place

SHIPMENTS_PATH = "/v2/shipments"
DEFAULT_CARRIER_API_KEY = "EZTKsandbox0carrier0rates0key"
OUNCES_PER_KG = 35.27396195
# Which carrier sells each network service (unknown services are sold by the sandbox's own carrier).
CARRIER_OF_SERVICE = {"ground": "UPS", "2day": "UPS", "express": "FedEx", "overnight": "FedEx", "economy": "USPS"}
_CENT = Decimal("0.01")


class _Invalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class CarrierRatesAPI:
    """Rates for parcels between two points, from a set of service rate cards. Thread-safe."""

    def __init__(self, services: Sequence[Service], *, api_key: str = DEFAULT_CARRIER_API_KEY, seed: int = 0,
                 places: Sequence[Place] = PLACES, currency: str = "USD"):
        self.services = list(services)
        self.api_key = api_key
        self.currency = currency
        self._zips = {(p.country_code, p.zip): (p.latitude, p.longitude) for p in places}
        self._rng = random.Random(f"carriers-{seed}")
        self._lock = threading.Lock()
        self.shipments_created = 0  # for tests: how many rate requests were answered

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries this API key as the basic-auth username."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            username = base64.b64decode(header[6:], validate=True).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            return False
        return username == self.api_key

    def unauthorized(self, header: str | None) -> dict[str, Any]:
        """EasyPost's 401 body for a missing or wrong key."""
        if not header:
            return _error("APIKEY.REQUIRED", "API key required.")
        return _error("APIKEY.INACTIVE", "This api key is no longer active. Please use a different api key or "
                                         "reactivate this key.")

    def create_shipment(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for ``POST /v2/shipments``."""
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return 400, _error("BAD_REQUEST", "The request body is not valid JSON.")
        shipment = payload.get("shipment") if isinstance(payload, dict) else None
        if not isinstance(shipment, dict):
            return 422, _error("SHIPMENT.INVALID_PARAMS", "Missing 'shipment'.",
                               [{"field": "shipment", "message": "cannot be blank"}])
        try:
            origin = self._point(shipment.get("from_address"), "from_address")
            destination = self._point(shipment.get("to_address"), "to_address")
            ounces = _weight(shipment.get("parcel"))
        except _Invalid as exc:
            return 422, _error("SHIPMENT.INVALID_PARAMS", str(exc), [{"field": exc.field, "message": str(exc)}])
        km = great_circle_km(origin[0], origin[1], destination[0], destination[1])
        kg = ounces / OUNCES_PER_KG
        with self._lock:
            self.shipments_created += 1
            shipment_id = f"shp_{self._rng.getrandbits(128):032x}"
            rate_ids = [f"rate_{self._rng.getrandbits(128):032x}" for _ in self.services]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rates = []
        for service, rate_id in zip(self.services, rate_ids, strict=True):
            price = Decimal(repr(service.base + service.per_kg * kg + service.per_1000km * km / 1000.0))
            price = price.quantize(_CENT, rounding=ROUND_HALF_UP)
            days = service.base_days + math.ceil(km / service.km_per_day)
            rates.append({
                "id": rate_id, "object": "Rate", "mode": "test", "created_at": now, "updated_at": now,
                "shipment_id": shipment_id, "carrier": CARRIER_OF_SERVICE.get(service.id, "SandboxPost"),
                "carrier_account_id": f"ca_sandbox_{service.id}", "service": service.id,
                "rate": str(price), "currency": self.currency, "retail_rate": None, "list_rate": None,
                "delivery_days": days, "est_delivery_days": days, "delivery_date": None,
                "delivery_date_guaranteed": False,
            })
        answer = {
            "id": shipment_id, "object": "Shipment", "mode": "test", "created_at": now,
            "from_address": shipment["from_address"], "to_address": shipment["to_address"],
            "parcel": shipment["parcel"], "rates": rates, "messages": [],
        }
        return 201, answer

    def _point(self, address: Any, field: str) -> tuple[float, float]:
        """(lat, lon) of an address: its own coordinates, else its country and ZIP code."""
        if not isinstance(address, Mapping):
            raise _Invalid(field, f"{field} is required")
        lat, lon = address.get("latitude"), address.get("longitude")
        if lat is not None or lon is not None:
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)) \
                    or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise _Invalid(field, f"{field} has invalid latitude/longitude")
            return float(lat), float(lon)
        key = (str(address.get("country") or "US").upper(), str(address.get("zip") or ""))
        if key not in self._zips:
            raise _Invalid(f"{field}.zip", f"{field}: unknown postal code {key[1]!r} in {key[0]}")
        return self._zips[key]


def _weight(parcel: Any) -> float:
    if not isinstance(parcel, Mapping):
        raise _Invalid("parcel", "parcel is required")
    weight = parcel.get("weight")
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not weight > 0:
        raise _Invalid("parcel.weight", "parcel.weight must be a positive number of ounces")
    return float(weight)


def _error(code: str, message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "errors": errors or []}}
