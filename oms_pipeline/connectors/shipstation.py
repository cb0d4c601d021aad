"""ShipStation client: hand orders to the 3PL (``POST /orders/createorder``) and read its shipments.

ShipStation allows 40 requests a minute per API key and says where a key stands on every answer
(``X-Rate-Limit-Remaining``, ``X-Rate-Limit-Reset`` in seconds). The client paces itself on those
headers: when the window is used up it waits for the reset before the next request, so a long
shipment listing never runs into 429. A 429 that comes anyway (another client on the same key) is
retried after the reset it names, through the shared retry policy of :mod:`connectors.http`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import httpx

from oms_pipeline.connectors.http import TransientHTTPError, build_client, raise_for_transient, retrying


class ShipStationError(RuntimeError):
    """ShipStation refused a request (not worth retrying: a bad body or bad credentials)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _header_float(response: httpx.Response, name: str) -> float | None:
    try:
        return float(response.headers[name])
    except (KeyError, ValueError):
        return None


class ShipStationClient:
    """One ShipStation account (API key and secret). Thread-safe; use as a context manager."""

    def __init__(self, base_url: str, api_key: str, api_secret: str, *, timeout_s: float = 30.0,
                 max_attempts: int = 6, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self._http = build_client(base_url.rstrip("/"), headers={"Accept": "application/json"}, timeout_s=timeout_s,
                                  transport=transport)
        self._auth = httpx.BasicAuth(api_key, api_secret)
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: float | None = None
        self._reset_at = 0.0
        self.waited_s = 0.0  # time spent waiting for the rate window (for metadata and tests)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ShipStationClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API --------------------------------------------------------------------------------------

    def create_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create or update (same ``orderKey``) one order; the order as ShipStation stored it."""
        return self._request("POST", "/orders/createorder", json=payload)

    def iter_shipments(self, *, ship_date_start: date | None = None, ship_date_end: date | None = None,
                       create_date_start: datetime | None = None, create_date_end: datetime | None = None,
                       order_number: str | None = None, page_size: int = 100,
                       include_items: bool = True) -> Iterator[dict[str, Any]]:
        """Every shipment matching the filters, page after page (with its items unless told otherwise)."""
        params: dict[str, Any] = {"pageSize": page_size, "includeShipmentItems": str(include_items).lower()}
        for name, value in (("shipDateStart", ship_date_start), ("shipDateEnd", ship_date_end),
                            ("createDateStart", create_date_start), ("createDateEnd", create_date_end),
                            ("orderNumber", order_number)):
            if value is not None:
                params[name] = value.isoformat() if isinstance(value, date | datetime) else value
        page = 1
        while True:
            body = self._request("GET", "/shipments", params={**params, "page": page})
            yield from body.get("shipments") or []
            if page >= int(body.get("pages") or 0):
                return
            page += 1

    def shipment_total(self) -> int:
        """How many shipments the account holds (one page of one: a cheap authenticated read)."""
        return int(self._request("GET", "/shipments", params={"pageSize": 1, "page": 1}).get("total") or 0)

    def shipments_body(self, **filters: Any) -> dict[str, Any]:
        """All matching shipments as one ``GET /shipments`` body (what ``oms reconcile`` reads)."""
        shipments = list(self.iter_shipments(**filters))
        return {"shipments": shipments, "total": len(shipments), "page": 1, "pages": 1 if shipments else 0}

    # -- transport --------------------------------------------------------------------------------

    def _pace(self) -> None:
        """Wait for the window's reset when the last answer said none is left."""
        with self._lock:
            wait = self._reset_at - self._clock() if self._remaining is not None and self._remaining <= 0 else 0.0
            if wait > 0:
                self.waited_s += wait
                self._remaining = None  # the window will have reset: the next answer says where we are
        if wait > 0:
            self._sleep(wait)

    def _note_limits(self, response: httpx.Response) -> float | None:
        """Remember the window the answer reports; the seconds to its reset."""
        remaining = _header_float(response, "X-Rate-Limit-Remaining")
        reset = _header_float(response, "X-Rate-Limit-Reset")
        with self._lock:
            if remaining is not None:
                self._remaining = remaining
            if reset is not None:
                self._reset_at = self._clock() + reset
        return reset

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        def wait(seconds: float) -> None:
            self.waited_s += seconds
            self._sleep(seconds)

        for attempt in retrying(self.max_attempts, sleep=wait):
            with attempt:
                self._pace()
                response = self._http.request(method, path, auth=self._auth, **kwargs)
                reset = self._note_limits(response)
                if response.status_code == 429:
                    # Wait out the window it names (at least a second: the reset is rounded).
                    raise TransientHTTPError(f"{method} {path} answered 429", status=429,
                                             retry_after=max(1.0, reset if reset is not None else 1.0))
                raise_for_transient(response)
                if response.status_code >= 400:
                    raise ShipStationError(f"{method} {path} answered {response.status_code}: "
                                           f"{response.text[:300]}", response.status_code)
                return response.json()
        raise AssertionError("unreachable")  # retrying() reraises the last error
