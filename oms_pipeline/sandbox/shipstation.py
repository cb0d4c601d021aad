"""A 3PL's order API in ShipStation's shape, emulated for the sandbox server.

- ``POST /orders/createorder``: create or update an order. ShipStation upserts on ``orderKey``: sending
  the same key again updates that order (same ``orderId``), it never makes a second one. Answers the
  order with ``orderId``, ``orderKey``, ``createDate`` and ``modifyDate``.
- ``GET /shipments``: the 3PL's shipments, filtered by ``shipDateStart``/``shipDateEnd`` (dates,
  inclusive), ``createDateStart``/``createDateEnd`` (times) and ``orderNumber``, paged by ``page``
  (from 1) and ``pageSize`` (at most 500); body ``{"shipments", "total", "page", "pages"}``. As in
  ShipStation, ``shipmentItems`` is null unless ``includeShipmentItems=true`` is asked for.

The emulated 3PL ships every ``awaiting_shipment`` order ``ship_after`` (a day by default) after it
was handed off, on the store's clock (:meth:`SandboxStore.now`), so a demo whose store clock moves
sees shipments appear. A shipment carries the order's items, its weight and a cost from the sandbox
network's rate card of the requested service (base + per kg; the 3PL's own contract has no distance
term). Dates are the 3PL's local time without an offset, as ShipStation sends them. Like ShipStation's
store connection, shipping an order records the store fulfillment with the label's tracking number
(:meth:`SandboxStore.fulfill_shipped`).

Authentication is HTTP Basic with the API key and secret. Each key may make ``rate_limit`` requests
per ``window_s`` seconds (40 a minute, as ShipStation allows); every answer carries
``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (seconds until the
window resets), and a request over the limit is answered 429.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from oms_pipeline.domain.routing.model import Service
from oms_pipeline.sandbox.generator import tracking_number
from oms_pipeline.sandbox.store import SandboxStore

DEFAULT_SHIPSTATION_KEY = "ss_sandbox_key"
DEFAULT_SHIPSTATION_SECRET = "ss_sandbox_secret"
RATE_LIMIT = 40  # requests per window per API key
RATE_WINDOW_S = 60.0
MAX_PAGE_SIZE = 500
ORDER_STATUSES = frozenset({"awaiting_payment", "awaiting_shipment", "pending_fulfillment", "shipped",
                            "on_hold", "cancelled"})
_GRAMS = {"grams": 1.0, "ounces": 28.349523125, "pounds": 453.59237}
_CENT = Decimal("0.01")
_CARRIER = {"ground": "ups", "2day": "ups", "express": "fedex"}


class _Invalid(ValueError):
    """A request ShipStation answers 400."""


class RateWindow:
    """A fixed-window request counter per API key on a monotonic clock. Thread-safe."""

    def __init__(self, limit: int = RATE_LIMIT, window_s: float = RATE_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request of ``key`` if the window has room: (allowed, rate-limit headers)."""
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.window_s:
                start, used = now, 0
            allowed = used < self.limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
            reset = max(0, math.ceil(start + self.window_s - now))
        return allowed, {"X-Rate-Limit-Limit": str(self.limit), "X-Rate-Limit-Remaining": str(self.limit - used),
                         "X-Rate-Limit-Reset": str(reset)}


class ShipStationAPI:
    """Orders handed off to the 3PL and the shipments it made of them. Thread-safe."""

    def __init__(self, store: SandboxStore, services: Sequence[Service] = (), *,
                 api_key: str = DEFAULT_SHIPSTATION_KEY, api_secret: str = DEFAULT_SHIPSTATION_SECRET,
                 rate_limit: int = RATE_LIMIT, window_s: float = RATE_WINDOW_S,
                 ship_after: timedelta = timedelta(days=1), rate_clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.services = {s.id: s for s in services}
        self.api_key = api_key
        self.api_secret = api_secret
        self.ship_after = ship_after
        self.limits = RateWindow(rate_limit, window_s, rate_clock)
        self._orders: dict[str, dict[str, Any]] = {}  # by orderKey
        self._handed_off: dict[str, datetime] = {}  # orderKey -> store time of the first createorder
        self._shipments: list[dict[str, Any]] = []
        self._shipped: set[str] = set()
        self._next_id = 100_000
        self._lock = threading.Lock()
        self.requests = 0  # for tests: answered requests (including 429s)

    # -- gate -------------------------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header is Basic ``key:secret`` of this account."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.api_key and password == self.api_secret

    def admit(self) -> tuple[bool, dict[str, str]]:
        """Count a request against the key's window: (allowed, rate-limit headers)."""
        with self._lock:
            self.requests += 1
        return self.limits.take(self.api_key)

    # -- orders -----------------------------------------------------------------------------------

    def create_order(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for ``POST /orders/createorder``: upsert on ``orderKey``."""
        try:
            payload = json.loads(body or b"null")
            order = self._validated(payload)
        except (ValueError, _Invalid) as exc:
            return 400, {"Message": "The request is invalid.", "ExceptionMessage": str(exc)}
        now = self.store.now()
        stamp = _local(now)
        with self._lock:
            key = order.get("orderKey") or f"ss-{self._next_id}"
            existing = self._orders.get(key)
            if existing is None:
                self._next_id += 1
                order_id, created = self._next_id, stamp
                self._handed_off[key] = now
            else:
                order_id, created = existing["orderId"], existing["createDate"]
            stored = {**order, "orderKey": key, "orderId": order_id, "createDate": created, "modifyDate": stamp}
            if key in self._shipped:  # an update cannot unship what the 3PL already sent
                stored["orderStatus"] = "shipped"
            self._orders[key] = stored
            return 200, json.loads(json.dumps(stored))

    def order_count(self) -> int:
        """How many distinct orders the 3PL holds (for tests and the demo)."""
        with self._lock:
            return len(self._orders)

    def get_order(self, order_key: str) -> dict[str, Any] | None:
        """A copy of the order stored under ``order_key`` (for tests and the demo)."""
        with self._lock:
            order = self._orders.get(order_key)
            return json.loads(json.dumps(order)) if order is not None else None

    @staticmethod
    def _validated(payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise _Invalid("the body must be an order object")
        for field in ("orderNumber", "orderDate", "orderStatus"):
            if not payload.get(field):
                raise _Invalid(f"{field} is required")
        if payload["orderStatus"] not in ORDER_STATUSES:
            raise _Invalid(f"orderStatus {payload['orderStatus']!r} is not one of {sorted(ORDER_STATUSES)}")
        if not isinstance(payload.get("shipTo"), dict):
            raise _Invalid("shipTo is required")
        items = payload.get("items") or []
        if not isinstance(items, list):
            raise _Invalid("items must be a list")
        for item in items:
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                raise _Invalid("each item needs a positive integer quantity")
        return payload

    # -- shipments --------------------------------------------------------------------------------

    def ship_due(self) -> int:
        """Ship every awaiting order handed off at least ``ship_after`` ago (store clock); how many."""
        now = self.store.now()
        made = []
        with self._lock:
            for key, order in self._orders.items():
                handed = self._handed_off[key]
                if key in self._shipped or order["orderStatus"] != "awaiting_shipment" \
                        or handed + self.ship_after > now:
                    continue
                shipment = self._shipment(order, handed + self.ship_after)
                self._shipments.append(shipment)
                self._shipped.add(key)
                order["orderStatus"] = "shipped"
                made.append(shipment)
        # The 3PL's store connection marks the store order fulfilled with the label's tracking number
        # (outside the 3PL's lock: the store takes its own).
        for shipment in made:
            self.store.fulfill_shipped(shipment["orderKey"], shipment["shipmentItems"], shipment["trackingNumber"],
                                       shipment["carrierCode"], _moment(shipment["createDate"]))
        return len(made)

    def shipments(self) -> list[dict[str, Any]]:
        """Copies of every shipment made so far, oldest first (for tests and the sandbox's carrier)."""
        with self._lock:
            return json.loads(json.dumps(self._shipments))

    def _shipment(self, order: dict[str, Any], at: datetime) -> dict[str, Any]:
        self._next_id += 1
        shipment_id = self._next_id
        items = [{"orderItemId": shipment_id * 100 + n, "lineItemKey": item.get("lineItemKey"),
                  "sku": item.get("sku"), "name": item.get("name"), "quantity": item["quantity"]}
                 for n, item in enumerate(order.get("items") or [])]
        grams = _grams(order.get("weight"))
        service_id = str(order.get("requestedShippingService") or "ground")
        service = self.services.get(service_id)
        cost = Decimal(0) if service is None else \
            Decimal(repr(service.base + service.per_kg * grams / 1000)).quantize(_CENT, rounding=ROUND_HALF_UP)
        carrier = order.get("carrierCode") or _CARRIER.get(service_id, "ups")
        return {
            "shipmentId": shipment_id, "orderId": order["orderId"], "orderKey": order["orderKey"],
            "orderNumber": order["orderNumber"], "createDate": _local(at), "shipDate": at.date().isoformat(),
            "shipmentCost": float(cost), "insuranceCost": 0.0,
            "trackingNumber": tracking_number(shipment_id, int(order["orderId"])), "isReturnLabel": False,
            "carrierCode": carrier, "serviceCode": order.get("serviceCode") or f"{carrier}_{service_id}",
            "packageCode": "package", "confirmation": "none", "warehouseId": _warehouse(order), "voided": False,
            "voidDate": None, "weight": {"value": round(grams, 2), "units": "grams", "WeightUnits": 2},
            "shipmentItems": items,
        }

    def list_shipments(self, query: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """(status, JSON body) for ``GET /shipments``."""
        try:
            ship_start = _date(query.get("shipDateStart"), "shipDateStart")
            ship_end = _date(query.get("shipDateEnd"), "shipDateEnd")
            create_start = _time(query.get("createDateStart"), "createDateStart")
            create_end = _time(query.get("createDateEnd"), "createDateEnd")
            page = _positive(query.get("page"), "page", 1)
            page_size = min(_positive(query.get("pageSize"), "pageSize", 100), MAX_PAGE_SIZE)
        except _Invalid as exc:
            return 400, {"Message": "The request is invalid.", "ExceptionMessage": str(exc)}
        number = query.get("orderNumber")
        self.ship_due()
        with self._lock:
            chosen = [
                s for s in self._shipments
                if (ship_start is None or date.fromisoformat(s["shipDate"]) >= ship_start)
                and (ship_end is None or date.fromisoformat(s["shipDate"]) <= ship_end)
                and (create_start is None or datetime.fromisoformat(s["createDate"]) >= create_start)
                and (create_end is None or datetime.fromisoformat(s["createDate"]) <= create_end)
                and (number is None or s["orderNumber"] == number)
            ]
            chosen.sort(key=lambda s: s["shipmentId"])
            window = json.loads(json.dumps(chosen[(page - 1) * page_size:page * page_size]))
        if str(query.get("includeShipmentItems", "")).lower() != "true":  # ShipStation's default
            for shipment in window:
                shipment["shipmentItems"] = None
        pages = math.ceil(len(chosen) / page_size) if chosen else 0
        return 200, {"shipments": window, "total": len(chosen), "page": page, "pages": pages}


def _local(moment: datetime) -> str:
    """ShipStation's timestamp form: local time, seven fractional digits, no offset (UTC here)."""
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + ".0000000"


def _moment(local: str) -> datetime:
    """A time written by :func:`_local` back as an aware UTC datetime."""
    return datetime.fromisoformat(local[:19]).replace(tzinfo=UTC)


def _grams(weight: Any) -> float:
    if not isinstance(weight, Mapping):
        return 0.0
    try:
        return float(weight.get("value") or 0) * _GRAMS.get(str(weight.get("units") or "grams"), 1.0)
    except (TypeError, ValueError):
        return 0.0


def _warehouse(order: Mapping[str, Any]) -> int | None:
    options = order.get("advancedOptions")
    return options.get("warehouseId") if isinstance(options, Mapping) else None


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _Invalid(f"{name}: not a date: {value!r}") from None


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        raise _Invalid(f"{name}: not a time: {value!r}") from None
    return moment.replace(tzinfo=None)


def _positive(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise _Invalid(f"{name}: not a number: {value!r}") from None
    if number < 1:
        raise _Invalid(f"{name} must be at least 1")
    return number
