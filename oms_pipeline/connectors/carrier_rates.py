"""Carrier rate quotes from an EasyPost-shaped API, with a rates cache that expires.

``POST /v2/shipments`` with the from/to addresses and the parcel answers the shipment with its
``rates``: ``carrier``, ``service``, ``rate`` (a decimal string), ``currency``, ``delivery_days`` /
``est_delivery_days`` and the rate ``id``. Auth is EasyPost's: basic auth with the API key as the
username and no password. Requests go through ``connectors/http.py`` (explicit timeouts; 429, 5xx,
timeouts and dropped connections retried with backoff, ``Retry-After`` honoured).

Quotes are cached by (origin, destination, weight bucket) for ``ttl_s`` seconds: carriers price in
weight brackets and rates change rarely within minutes, while a batch asks for the same lanes again
and again. A parcel is quoted at its bucket's upper weight, so one cached quote is never below the
price of any parcel in its bucket. The clock is injectable so that expiry is tested without waiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from oms_pipeline.connectors.http import build_client, raise_for_transient, retrying
from oms_pipeline.domain.routing.rates import CarrierQuote

OUNCES_PER_KG = 35.27396195


class CarrierRatesError(RuntimeError):
    """The carrier API refused the request in a way retrying will not fix (auth, validation)."""

    def __init__(self, message: str, *, status: int, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Address:
    """A ship-from or ship-to address (EasyPost's fields; coordinates when there is no street address)."""

    street1: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = "US"
    name: str = ""
    latitude: float | None = None
    longitude: float | None = None

    def payload(self) -> dict[str, Any]:
        """The address as the API takes it (empty fields left out)."""
        fields = {"name": self.name, "street1": self.street1, "city": self.city, "state": self.state,
                  "zip": self.zip, "country": self.country, "latitude": self.latitude, "longitude": self.longitude}
        return {k: v for k, v in fields.items() if v not in ("", None)}

    def cache_key(self) -> tuple:
        """Where the address is, for the rates cache: coordinates to ~100 m, else country and ZIP code."""
        if self.latitude is not None and self.longitude is not None:
            return ("geo", round(self.latitude, 3), round(self.longitude, 3))
        return ("zip", self.country.upper(), self.zip.strip())


class RateCache:
    """Quotes per (origin, destination, weight bucket), each kept for ``ttl_s`` seconds. Thread-safe."""

    def __init__(self, ttl_s: float = 900.0, *, bucket_kg: float = 0.5, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 50_000):
        if ttl_s <= 0 or bucket_kg <= 0:
            raise ValueError("ttl_s and bucket_kg must be positive")
        self.ttl_s = ttl_s
        self.bucket_kg = bucket_kg
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[float, tuple[CarrierQuote, ...]]] = {}
        self.hits = 0
        self.misses = 0

    def bucket(self, weight_kg: float) -> int:
        """The weight bucket of a parcel: bucket ``n`` holds weights in ((n - 1) * bucket_kg, n * bucket_kg]."""
        if weight_kg <= 0:
            raise ValueError(f"parcel weight must be positive, got {weight_kg}")
        # Rounding first keeps a weight that is a whole number of buckets in its own bucket despite float error.
        return max(1, math.ceil(round(weight_kg / self.bucket_kg, 9)))

    def quoted_weight_kg(self, weight_kg: float) -> float:
        """The weight a parcel is quoted at: its bucket's upper bound."""
        return self.bucket(weight_kg) * self.bucket_kg

    def key(self, origin: Address, destination: Address, weight_kg: float) -> tuple:
        """The cache key of a lane and weight."""
        return origin.cache_key(), destination.cache_key(), self.bucket(weight_kg)

    def get(self, key: tuple) -> tuple[CarrierQuote, ...] | None:
        """The cached quotes of ``key`` if still fresh (an expired entry is dropped)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() < entry[0]:
                self.hits += 1
                return entry[1]
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return None

    def put(self, key: tuple, quotes: tuple[CarrierQuote, ...]) -> None:
        """Keep ``quotes`` for ``key`` until ``ttl_s`` from now."""
        now = self._clock()
        with self._lock:
            if len(self._entries) >= self._max_entries:
                # Full: drop what has expired, and if that is not enough, the entries closest to expiring.
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
                while len(self._entries) >= self._max_entries:
                    del self._entries[min(self._entries, key=lambda k: self._entries[k][0])]
            self._entries[key] = (now + self.ttl_s, quotes)


class CarrierRatesClient:
    """Rate quotes for parcels from one carrier-rates account (EasyPost shape)."""

    def __init__(self, base_url: str, api_key: str, *, cache: RateCache | None = None, timeout_s: float = 10.0,
                 max_attempts: int = 5, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self._http = build_client(base_url.rstrip("/"), headers={"Accept": "application/json"},
                                  timeout_s=timeout_s, transport=transport)
        self._auth = httpx.BasicAuth(api_key, "")
        self.cache = cache if cache is not None else RateCache()
        self._max_attempts = max_attempts
        self._sleep = sleep

    def __enter__(self) -> CarrierRatesClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def rates(self, origin: Address, destination: Address, weight_kg: float) -> tuple[CarrierQuote, ...]:
        """Quotes for a parcel of ``weight_kg`` (quoted at its cache bucket's upper weight), cached per lane.

        Raises ``CarrierRatesError`` when the API refuses the request, ``TransientHTTPError`` (or an httpx
        transport error) when retries run out, ``ValueError`` for an answer that is not a rates list.
        """
        key = self.cache.key(origin, destination, weight_kg)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        ounces = round(self.cache.quoted_weight_kg(weight_kg) * OUNCES_PER_KG, 2)
        body = {"shipment": {"from_address": origin.payload(), "to_address": destination.payload(),
                             "parcel": {"weight": ounces}}}
        for attempt in retrying(self._max_attempts, sleep=self._sleep):
            with attempt:
                response = self._http.post("/v2/shipments", json=body, auth=self._auth)
                raise_for_transient(response)
                if response.status_code not in (200, 201):
                    raise _api_error(response)
                quotes = parse_rates(response.json())
                self.cache.put(key, quotes)
                return quotes
        raise AssertionError("unreachable: retrying re-raises")


    def check_key(self) -> None:
        """Raise ``CarrierRatesError`` unless the API accepts the key (``GET /v2/shipments``, one row:
        an authenticated read that buys and quotes nothing)."""
        for attempt in retrying(self._max_attempts, sleep=self._sleep):
            with attempt:
                response = self._http.get("/v2/shipments", params={"page_size": 1}, auth=self._auth)
                raise_for_transient(response)
                if response.status_code != 200:
                    raise _api_error(response)
                return
        raise AssertionError("unreachable: retrying re-raises")


def parse_rates(shipment: Any) -> tuple[CarrierQuote, ...]:
    """The ``rates`` of an EasyPost shipment object as quotes (``rate`` parsed as an exact decimal)."""
    rates = shipment.get("rates") if isinstance(shipment, dict) else None
    if not isinstance(rates, list):
        raise ValueError("the carrier answer has no 'rates' list")
    quotes = []
    for index, rate in enumerate(rates):
        try:
            amount = Decimal(str(rate["rate"]))
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
            days = rate.get("delivery_days")
            if days is None:
                days = rate.get("est_delivery_days")
            quotes.append(CarrierQuote(carrier=str(rate["carrier"]), service=str(rate["service"]), rate=amount,
                                       currency=str(rate.get("currency") or "USD"),
                                       delivery_days=None if days is None else int(days),
                                       quote_id=str(rate.get("id") or "")))
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise ValueError(f"rates[{index}] is not a valid rate: {rate!r}") from exc
    return tuple(quotes)


def _api_error(response: httpx.Response) -> CarrierRatesError:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return CarrierRatesError(f"carrier rates API answered {response.status_code}: {code or ''} "
                             f"{message or response.text[:200]}", status=response.status_code,
                             code=code if isinstance(code, str) else None)
