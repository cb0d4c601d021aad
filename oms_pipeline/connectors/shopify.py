"""Shopify Admin API client (version 2025-01): incremental order fetch over GraphQL or REST.

REST order objects carry no order-level ``transactions``: :meth:`ShopifyClient.order_transactions`
reads them for a page of orders in one GraphQL ``nodes`` query and returns them in the REST
``Transaction`` shape, so parsers of REST orders are unchanged.

Pacing follows Shopify's rate limits rather than discovering them by failure: on GraphQL the
leaky-bucket state in ``extensions.cost.throttleStatus`` tells how long to wait before the next
query can be afforded; on REST, ``X-Shopify-Shop-Api-Call-Limit`` tells how full the bucket is.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any, TypeVar

import httpx
from graphql import parse as graphql_parse

from oms_pipeline.connectors.http import TransientHTTPError, build_client, raise_for_transient, retrying
from oms_pipeline.domain.ingestion import OrderEvent, PollWindow
from oms_pipeline.domain.shopify.query_cost import admin_subset_schema, requested_query_cost

log = logging.getLogger(__name__)

T = TypeVar("T")

# Page sizes chosen so OrdersPage's requested cost stays under Shopify's 1,000-point limit
# (checked against Shopify's schema in the tests).
ORDERS_PER_PAGE = 7
LINE_ITEMS_PER_PAGE = 10
MORE_LINE_ITEMS_PER_PAGE = 50
# OrderTransactions: Order.transactions is a list capped by ``first`` and ``nodes`` a list of ids.
# Shopify's documented rules say nothing of plain lists (the local calculator prices one like one
# object, a few points a page), so the page is sized for the dearest reading: every id and every listed
# transaction charged (a transaction as selected costs 4: itself, amountSet, shopMoney, parent),
# 30 x (1 + 8 x 4) = 990 <= 1,000. An order that fills its 8 is read again over REST, whole.
TRANSACTIONS_PER_ORDER = 8
ORDERS_PER_TRANSACTIONS_PAGE = 30
REST_PAGE_LIMIT = 250
REST_BUCKET_SIZE = 40
REST_LEAK_PER_S = 2.0
# Order fields reconciliation reads (``orders.json?fields=``).
# Order-level ``transactions`` are not on REST orders: :meth:`ShopifyClient.order_transactions` reads them.
SETTLEMENT_FIELDS = ("id,created_at,updated_at,total_price,currency,financial_status,fulfillment_status,"
                     "shipping_lines,line_items,fulfillments,refunds")
ORDER_GID = "gid://shopify/Order/"


def load_document(name: str) -> str:
    """A GraphQL document shipped in ``connectors/graphql/``."""
    return resources.files("oms_pipeline.connectors").joinpath("graphql", name).read_text()


class ShopifyAPIError(RuntimeError):
    """An answer from Shopify that retrying will not fix (bad query, auth, user errors)."""


@dataclass
class ThrottleState:
    """Shopify's GraphQL leaky bucket, as last reported, and when."""

    maximum: float = 1000.0
    available: float = 1000.0
    restore_rate: float = 50.0
    at: float = 0.0

    def available_at(self, now: float) -> float:
        """Points estimated available at ``now``."""
        return min(self.maximum, self.available + self.restore_rate * max(0.0, now - self.at))

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds to wait until ``cost`` points are affordable."""
        missing = min(cost, self.maximum) - self.available_at(now)
        return max(0.0, missing / self.restore_rate) if missing > 0 else 0.0


@dataclass
class FetchStats:
    """What one fetch cost: requests, retries, waits and points."""

    requests: int = 0
    retries: int = 0
    throttled_answers: int = 0
    paced_wait_s: float = 0.0
    points_spent: float = 0.0
    pages: int = 0
    orders: int = 0
    extra_line_item_pages: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class ShopifyClient:
    """One shop's Admin API client. Use as a context manager or call ``close()``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        shop_domain: str,
        *,
        api_version: str = "2025-01",
        timeout_s: float = 20.0,
        max_attempts: int = 6,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.shop_domain = shop_domain
        self.api_version = api_version
        self._http = build_client(
            base_url,
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json",
                     "Accept": "application/json"},
            timeout_s=timeout_s,
            transport=transport,
        )
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._throttle: ThrottleState | None = None
        self._pace_lock = threading.Lock()
        self._last_cost: dict[str, float] = {}
        self._rest_used: float = 0.0
        self._rest_at: float = 0.0
        self.stats = FetchStats()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    # -- GraphQL ---------------------------------------------------------------------------

    def graphql(self, document: str, variables: dict[str, Any], operation: str) -> dict[str, Any]:
        """Run one GraphQL operation with pacing and retries; return its ``data``."""
        path = f"/admin/api/{self.api_version}/graphql.json"
        body = {"query": document, "variables": variables, "operationName": operation}
        return self._call(
            pace=lambda: self._pace(operation, document, variables),
            send=lambda: self._http.post(path, json=body),
            read=lambda response: self._read_graphql(operation, response),
        )

    def access_scopes(self) -> list[str]:
        """The access scopes the merchant granted this app (``currentAppInstallation``), sorted."""
        data = self.graphql(load_document("app_access_scopes.graphql"), {}, "AppAccessScopes")
        return sorted(scope["handle"] for scope in data["currentAppInstallation"]["accessScopes"])

    def _read_graphql(self, operation: str, response: httpx.Response) -> dict[str, Any]:
        raise_for_transient(response)
        if response.status_code == 401:
            raise ShopifyAPIError(f"{self.shop_domain}: access token refused (401)")
        if response.status_code != 200:
            raise ShopifyAPIError(f"{self.shop_domain}: GraphQL answered {response.status_code}")
        payload = response.json()
        self._note_cost(operation, payload.get("extensions", {}).get("cost"))
        errors = payload.get("errors") or []
        if any(_error_code(e) == "THROTTLED" for e in errors):
            self.stats.throttled_answers += 1
            wait = self._throttle.wait_for(self._last_cost.get(operation, 0), self._clock()) \
                if self._throttle else 1.0
            raise TransientHTTPError("GraphQL THROTTLED", status=200, retry_after=wait)
        if errors:
            raise ShopifyAPIError(f"{self.shop_domain}: GraphQL errors: {json.dumps(errors)[:500]}")
        return payload["data"]

    def _pace(self, operation: str, document: str, variables: dict[str, Any]) -> None:
        # Wait until the bucket can afford this query's requested cost (priced locally with
        # Shopify's rules the first time), so we never send a query the store would refuse. Several
        # threads may share this client (the writeback gateway sends orders in parallel): each one
        # reserves its points under the lock, so they queue for the bucket instead of racing for it.
        with self._pace_lock:
            if operation not in self._last_cost:
                self._last_cost[operation] = float(
                    requested_query_cost(admin_subset_schema(), graphql_parse(document), variables, operation))
            if self._throttle is None:
                return
            cost = self._last_cost[operation]
            wait = self._throttle.wait_for(cost, self._clock())
            if wait > 0:
                self.stats.paced_wait_s += wait
                self._sleep(wait)
            now = self._clock()
            bucket = self._throttle
            self._throttle = ThrottleState(maximum=bucket.maximum, available=bucket.available_at(now) - cost,
                                           restore_rate=bucket.restore_rate, at=now)

    def _note_cost(self, operation: str, cost: dict[str, Any] | None) -> None:
        # The store measured its bucket somewhere between our send and its answer: dating the
        # reading on arrival can only underestimate what has refilled since.
        if not cost:
            return
        status = cost.get("throttleStatus") or {}
        if status:
            self._throttle = ThrottleState(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                at=self._clock(),
            )
        if cost.get("requestedQueryCost") is not None:
            self._last_cost[operation] = float(cost["requestedQueryCost"])
        if cost.get("actualQueryCost") is not None:
            self.stats.points_spent += float(cost["actualQueryCost"])

    def iter_order_events_graphql(self, window: PollWindow) -> Iterator[OrderEvent]:
        """Every order version changed in ``window``, oldest change first, as GraphQL ``Order`` nodes.

        Shopify's cursors encode the sort key, so an order updated while we page moves to the end of
        the sort and is read there (or by the next window): nothing is skipped.
        """
        document = load_document("orders_page.graphql")
        after: str | None = None
        while True:
            data = self.graphql(
                document,
                {"first": ORDERS_PER_PAGE, "after": after, "query": window.shopify_search(),
                 "lineItems": LINE_ITEMS_PER_PAGE},
                "OrdersPage",
            )
            connection = data["orders"]
            self.stats.pages += 1
            for node in connection["nodes"]:
                self._complete_line_items(node)
                self.stats.orders += 1
                yield OrderEvent.from_payload("graphql", node)
            page = connection["pageInfo"]
            if not page["hasNextPage"]:
                return
            after = page["endCursor"]

    def _complete_line_items(self, node: dict[str, Any]) -> None:
        # An order with more lines than the first page holds: read the rest, so the version we
        # land is whole.
        lines = node.get("lineItems")
        if not isinstance(lines, dict) or not (lines.get("pageInfo") or {}).get("hasNextPage"):
            return
        if not isinstance(node.get("id"), str):
            return  # cannot be asked for by id; it lands as it came and is quarantined for the missing id
        document = load_document("order_line_items.graphql")
        after = lines["pageInfo"]["endCursor"]
        while True:
            data = self.graphql(document, {"id": node["id"], "first": MORE_LINE_ITEMS_PER_PAGE, "after": after},
                                "OrderLineItems")
            self.stats.extra_line_item_pages += 1
            more = data["order"]["lineItems"]
            lines["nodes"].extend(more["nodes"])
            if not more["pageInfo"]["hasNextPage"]:
                lines["pageInfo"] = more["pageInfo"]
                return
            after = more["pageInfo"]["endCursor"]

    def order_transactions(self, order_ids: Iterable[int | str]) -> dict[int, list[dict[str, Any]]]:
        """The payment transactions of ``order_ids`` (numeric ids or Order GIDs), oldest first, by numeric
        order id, in the REST ``Transaction`` shape (kind/status lowercase, amount a string, numeric ids).

        One ``OrderTransactions`` query per :data:`ORDERS_PER_TRANSACTIONS_PAGE` ids; an order that
        fills :data:`TRANSACTIONS_PER_ORDER` may have more and is read again over REST. An order the
        store does not know (deleted, or not an order) is absent from the answer. Errors propagate:
        callers that must not lose a page pass one page at a time.
        """
        document = load_document("order_transactions.graphql")
        ids = [_order_number(i) for i in order_ids]
        found: dict[int, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), ORDERS_PER_TRANSACTIONS_PAGE):
            page = ids[start:start + ORDERS_PER_TRANSACTIONS_PAGE]
            data = self.graphql(document, {"ids": [f"{ORDER_GID}{i}" for i in page],
                                           "first": TRANSACTIONS_PER_ORDER}, "OrderTransactions")
            self.stats.pages += 1
            for number, node in zip(page, data["nodes"], strict=False):
                if not isinstance(node, dict) or not isinstance(node.get("transactions"), list):
                    continue
                listed = node["transactions"]
                if len(listed) >= TRANSACTIONS_PER_ORDER:
                    found[number] = list(self.iter_order_transactions_rest(number))
                else:
                    found[number] = [rest_transaction(t, number) for t in listed if isinstance(t, dict)]
        return found

    def iter_order_transactions_rest(self, order_id: int | str) -> Iterator[dict[str, Any]]:
        """One order's transactions from REST ``orders/<id>/transactions.json`` (one call; not paged)."""
        url = f"/admin/api/{self.api_version}/orders/{_order_number(order_id)}/transactions.json"
        response = self._rest_get(url, None)
        self.stats.pages += 1
        yield from response.json()["transactions"]

    def latest_change(self, after: str | None) -> str | None:
        """The newest order ``updatedAt`` strictly after ``after`` (ISO), or None if nothing changed."""
        query = f"updated_at:>'{after}'" if after else None
        data = self.graphql(load_document("latest_order_change.graphql"), {"query": query}, "LatestOrderChange")
        nodes = data["orders"]["nodes"]
        return nodes[0]["updatedAt"] if nodes else None

    # -- REST ------------------------------------------------------------------------------

    def iter_order_events_rest(self, window: PollWindow) -> Iterator[OrderEvent]:
        """Every order version changed in ``window`` via REST ``orders.json``, following ``Link`` pages."""
        first: dict[str, Any] = {"status": "any", "limit": REST_PAGE_LIMIT}
        if window.start:
            first["updated_at_min"] = window.start.isoformat()
        if window.end:
            first["updated_at_max"] = window.end.isoformat()
        for order in self._rest_pages(f"/admin/api/{self.api_version}/orders.json", first, "orders"):
            self.stats.orders += 1
            yield OrderEvent.from_payload("rest", order)

    def _rest_pages(self, url: str, params: dict[str, Any], key: str) -> Iterator[dict[str, Any]]:
        """The ``key`` elements of every page of a REST list, following ``Link`` ``rel="next"`` pages."""
        next_params: dict[str, Any] | None = params
        while True:
            response = self._rest_get(url, next_params)
            self.stats.pages += 1
            yield from response.json()[key]
            next_url = next_link(response.headers.get("Link"))
            if not next_url:
                return
            # The next page's URL carries page_info and limit only; Shopify refuses other params.
            url, next_params = next_url, None

    def iter_disputes(self) -> Iterator[dict[str, Any]]:
        """Every Shopify Payments dispute of the shop (REST ``shopify_payments/disputes.json``), newest first.

        Disputes are few and change status until finalized, so they are read whole each time.
        Needs the ``shopify_payments_disputes`` (or ``shopify_payments``) access scope.
        """
        yield from self._rest_pages(f"/admin/api/{self.api_version}/shopify_payments/disputes.json",
                                    {"limit": REST_PAGE_LIMIT}, "disputes")

    def iter_settlement_orders(self, updated_at_min: datetime | None = None) -> Iterator[dict[str, Any]]:
        """REST order objects changed since ``updated_at_min`` (all when None), oldest change first, with
        only what reconciliation reads: totals, ``shipping_lines``, ``line_items``, ``fulfillments`` and
        ``refunds`` (order-level transactions are not on REST orders: see :meth:`order_transactions`)."""
        params: dict[str, Any] = {"status": "any", "limit": REST_PAGE_LIMIT, "order": "updated_at asc",
                                  "fields": SETTLEMENT_FIELDS}
        if updated_at_min is not None:
            params["updated_at_min"] = updated_at_min.isoformat()
        yield from self._rest_pages(f"/admin/api/{self.api_version}/orders.json", params, "orders")

    def _rest_get(self, url: str, params: dict[str, Any] | None) -> httpx.Response:
        def read(response: httpx.Response) -> httpx.Response:
            self._note_call_limit(response.headers.get("X-Shopify-Shop-Api-Call-Limit"))
            raise_for_transient(response)
            if response.status_code != 200:
                raise ShopifyAPIError(
                    f"{self.shop_domain}: GET {url} answered {response.status_code}: {response.text[:300]}"
                )
            return response

        return self._call(pace=self._pace_rest, send=lambda: self._http.get(url, params=params), read=read)

    def _note_call_limit(self, header: str | None) -> None:
        if header and "/" in header:
            used, _, _size = header.partition("/")
            self._rest_used, self._rest_at = float(used), self._clock()

    def _pace_rest(self) -> None:
        # Keep one slot of headroom in the 40-call bucket that drains 2 calls/s.
        used_now = max(0.0, self._rest_used - REST_LEAK_PER_S * (self._clock() - self._rest_at))
        if used_now >= REST_BUCKET_SIZE - 1:
            wait = (used_now - (REST_BUCKET_SIZE - 2)) / REST_LEAK_PER_S
            self.stats.paced_wait_s += wait
            self._sleep(wait)

    # -- common ----------------------------------------------------------------------------

    def iter_order_events(self, window: PollWindow, api: str = "graphql") -> Iterator[OrderEvent]:
        """Order versions changed in ``window`` through the chosen API."""
        if api == "rest":
            return self.iter_order_events_rest(window)
        return self.iter_order_events_graphql(window)

    def _call(self, *, pace: Callable[[], None], send: Callable[[], httpx.Response],
              read: Callable[[httpx.Response], T]) -> T:
        """Pace, send and read one request under the shared retry policy (both APIs go through here)."""
        for attempt in retrying(self._max_attempts, sleep=self._sleep, on_retry=self._count_retry):
            with attempt:
                pace()
                self.stats.requests += 1
                response = send()
                self._count_status(response.status_code)
                return read(response)
        raise AssertionError("unreachable: retrying re-raises")

    def _count_retry(self, _state: Any) -> None:
        self.stats.retries += 1

    def _count_status(self, status: int) -> None:
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1


_LINK = re.compile(r'<([^>]+)>;\s*rel="?([a-z]+)"?')


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a Shopify ``Link`` header."""
    for url, rel in _LINK.findall(header or ""):
        if rel == "next":
            return url
    return None


def _order_number(order_id: int | str) -> int:
    text = str(order_id).removeprefix(ORDER_GID)
    if not text.isdigit():
        raise ValueError(f"not an order id: {order_id!r}")
    return int(text)


def _legacy_id(gid: Any) -> Any:
    """``gid://shopify/Kind/123`` -> 123; anything else verbatim (the parser reports it)."""
    if isinstance(gid, str) and gid.startswith("gid://shopify/"):
        tail = gid.rsplit("/", 1)[-1]
        if tail.isdigit():
            return int(tail)
    return gid


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def rest_transaction(node: dict[str, Any], order_id: int) -> dict[str, Any]:
    """A GraphQL ``OrderTransaction`` node as REST ``orders/<id>/transactions.json`` lists it.

    Amounts are in shop money, as REST's ``amount``/``currency`` are; odd values pass through verbatim
    for the parser to report.
    """
    money = (node.get("amountSet") or {}).get("shopMoney") or {}
    parent = node.get("parentTransaction")
    return {
        "id": _legacy_id(node.get("id")), "order_id": order_id, "kind": _lower(node.get("kind")),
        "status": _lower(node.get("status")), "amount": money.get("amount"), "currency": money.get("currencyCode"),
        "gateway": node.get("gateway"), "created_at": node.get("createdAt"), "processed_at": node.get("processedAt"),
        "parent_id": _legacy_id(parent.get("id")) if isinstance(parent, dict) else None, "test": node.get("test"),
        "admin_graphql_api_id": node.get("id"),
    }


def _error_code(error: Any) -> str | None:
    return (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
