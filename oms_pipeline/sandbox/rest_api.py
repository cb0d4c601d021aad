"""REST Admin API (2025-01): ``orders.json``, ``orders/<id>.json``, ``orders/count.json`` and
``orders/<id>/transactions.json``.

Order objects carry no order-level ``transactions`` (as on Shopify): those are their own resource.

Cursor pagination as Shopify does it: the first request carries the filters, every further page
is reached through the ``Link`` header's ``page_info`` (which encodes the filters and the
position), and a request with ``page_info`` may only add ``limit`` and ``fields``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from oms_pipeline.sandbox.generator import rest_transactions, served_order
from oms_pipeline.sandbox.limits import CallBucket
from oms_pipeline.sandbox.paging import (
    SORT_VALUES,
    CursorError,
    OrderIndex,
    cursor_key,
    decode_cursor,
    encode_cursor,
    parse_time_value,
    sort_value_text,
)
from oms_pipeline.sandbox.records import OrderRecord
from oms_pipeline.sandbox.store import SandboxStore

DEFAULT_LIMIT = 50
MAX_LIMIT = 250
PAGINATION_DOCS = "https://shopify.dev/api/usage/pagination-rest"
FILTERS = ("status", "ids", "since_id", "financial_status", "created_at_min", "created_at_max", "updated_at_min",
           "updated_at_max", "processed_at_min", "processed_at_max", "order")
TIME_FILTERS = {"created_at": lambda r: r.created, "updated_at": lambda r: r.updated,
                "processed_at": lambda r: datetime.fromisoformat(r.order["processed_at"])}
ORDER_FIELDS = {"created_at": "CREATED_AT", "updated_at": "UPDATED_AT", "processed_at": "PROCESSED_AT", "id": "ID"}
STATUSES = {
    "open": lambda r: r.order["closed_at"] is None and r.order["cancelled_at"] is None,
    "closed": lambda r: r.order["closed_at"] is not None,
    "cancelled": lambda r: r.order["cancelled_at"] is not None,
    "any": lambda r: True,
}

Answer = tuple[int, Any, dict[str, str]]


class BadRequest(Exception):
    """A 400 answer: ``{"errors": {param: message}}``."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param, self.message = param, message


def _filters(params: Mapping[str, str]) -> list[Callable[[OrderRecord], bool]]:
    """Predicates for the filter params Shopify's ``orders.json`` takes (status defaults to open)."""
    status = params.get("status", "open")
    if status not in STATUSES:
        raise BadRequest("status", "is invalid")
    predicates = [STATUSES[status]]
    for name, moment_of in TIME_FILTERS.items():
        for bound in ("min", "max"):
            value = params.get(f"{name}_{bound}")
            if not value:
                continue
            try:
                start, end = parse_time_value(value)
            except ValueError as exc:
                raise BadRequest(f"{name}_{bound}", "is invalid") from exc
            predicates.append((lambda r, m=moment_of, s=start: m(r) >= s) if bound == "min"
                              else (lambda r, m=moment_of, e=end: m(r) <= e))
    if params.get("ids"):
        try:
            wanted = {int(i) for i in params["ids"].split(",") if i.strip()}
        except ValueError as exc:
            raise BadRequest("ids", "is invalid") from exc
        predicates.append(lambda r: r.key in wanted)
    if params.get("since_id"):
        try:
            since = int(params["since_id"])
        except ValueError as exc:
            raise BadRequest("since_id", "is invalid") from exc
        predicates.append(lambda r: r.key > since)
    if params.get("financial_status") and params["financial_status"] != "any":
        wanted_status = params["financial_status"]
        predicates.append(lambda r: r.order["financial_status"] == wanted_status)
    return predicates


def _ordering(text: str) -> tuple[str, bool]:
    """``"updated_at asc"`` -> (sort key, reverse)."""
    field, _, direction = text.strip().partition(" ")
    if field not in ORDER_FIELDS or direction.strip().lower() not in ("", "asc", "desc"):
        raise BadRequest("order", "is invalid")
    return ORDER_FIELDS[field], direction.strip().lower() == "desc"


def _limit(params: Mapping[str, str]) -> int:
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise BadRequest("limit", "is invalid") from exc
    if limit > MAX_LIMIT:
        raise BadRequest("limit", f"must be less than or equal to {MAX_LIMIT}")
    if limit < 1:
        raise BadRequest("limit", "must be greater than or equal to 1")
    return limit


def _select(order: dict[str, Any], fields: str | None) -> dict[str, Any]:
    order = served_order(order)
    if not fields:
        return order
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    return {k: order[k] for k in wanted if k in order}


class RestAPI:
    """Answers REST Admin API order requests for one store, with Shopify's call-limit bucket."""

    def __init__(self, store: SandboxStore, bucket_size: int = 40, leak_per_s: float = 2.0):
        self.store = store
        self.bucket_size = bucket_size
        self.leak_per_s = leak_per_s
        self.index = OrderIndex(store)
        self._buckets: dict[str, CallBucket] = {}

    def bucket(self, token: str) -> CallBucket:
        """The call bucket of ``token``."""
        if token not in self._buckets:
            self._buckets[token] = CallBucket(self.bucket_size, self.leak_per_s)
        return self._buckets[token]

    def orders(self, params: Mapping[str, str], url: str) -> Answer:
        """``GET orders.json``: one page and its ``Link`` header; ``url`` is this endpoint's own URL."""
        try:
            limit = _limit(params)
            if "page_info" in params:
                extra = next((p for p in params if p not in ("page_info", "limit", "fields")), None)
                if extra:
                    raise BadRequest(extra, f"{extra} cannot be passed when page_info is present. "
                                            f"See {PAGINATION_DOCS} for more information.")
                state = self._page_info(params["page_info"])
            else:
                state = {"filters": {k: params[k] for k in FILTERS if k in params}}
            filters = state["filters"]
            sort, reverse = _ordering(filters.get("order", "created_at desc"))
            predicates = _filters(filters)
            bound = None
            if "last_id" in state:
                try:
                    bound = cursor_key(sort, state)
                except CursorError as exc:
                    raise BadRequest("page_info", "Invalid value.") from exc
        except BadRequest as exc:
            return 400, {"errors": {exc.param: exc.message}}, {}
        backwards = state.get("direction") == "prev"
        with self.store.lock:
            bounds = {"last": limit, "before": bound} if backwards else {"first": limit, "after": bound}
            page = self.index.page(sort, lambda r: all(p(r) for p in predicates), reverse=reverse, **bounds)
            body = {"orders": [_select(r.rest(), params.get("fields")) for r in page.records]}
            links = []
            if page.records and page.has_previous:
                links.append((self._link(url, limit, params, filters, sort, page.records[0], "prev"), "previous"))
            if page.records and page.has_next:
                links.append((self._link(url, limit, params, filters, sort, page.records[-1], "next"), "next"))
        headers = {"Link": ", ".join(f'<{u}>; rel="{rel}"' for u, rel in links)} if links else {}
        return 200, body, headers

    def order(self, order_id: str, params: Mapping[str, str]) -> Answer:
        """``GET orders/<id>.json``."""
        record = self.store.get(int(order_id)) if order_id.isdigit() else None
        if record is None:
            return 404, {"errors": "Not Found"}, {}
        with self.store.lock:
            return 200, {"order": _select(record.rest(), params.get("fields"))}, {}

    def transactions(self, order_id: str) -> Answer:
        """``GET orders/<id>/transactions.json``: the order's transactions in the REST ``Transaction`` shape."""
        record = self.store.get(int(order_id)) if order_id.isdigit() else None
        if record is None:
            return 404, {"errors": "Not Found"}, {}
        with self.store.lock:
            return 200, {"transactions": rest_transactions(record.order)}, {}

    def count(self, params: Mapping[str, str]) -> Answer:
        """``GET orders/count.json``: how many orders match the filters."""
        try:
            predicates = _filters({k: params[k] for k in FILTERS if k in params})
        except BadRequest as exc:
            return 400, {"errors": {exc.param: exc.message}}, {}
        with self.store.lock:
            return 200, {"count": sum(1 for r in self.store.records() if all(p(r) for p in predicates))}, {}

    @staticmethod
    def _page_info(text: str) -> dict[str, Any]:
        try:
            state = decode_cursor(text)
        except CursorError as exc:
            raise BadRequest("page_info", "Invalid value.") from exc
        if not isinstance(state.get("filters"), dict) or state.get("direction") not in ("next", "prev"):
            raise BadRequest("page_info", "Invalid value.")
        return state

    @staticmethod
    def _link(url: str, limit: int, params: Mapping[str, str], filters: dict[str, str], sort: str,
              record: OrderRecord, direction: str) -> str:
        page_info = encode_cursor({"filters": filters, "direction": direction, "last_id": record.key,
                                   "last_value": sort_value_text(SORT_VALUES[sort](record))})
        query = {"limit": limit, **({"fields": params["fields"]} if params.get("fields") else {}),
                 "page_info": page_info}
        return f"{url}?{urlencode(query)}"
