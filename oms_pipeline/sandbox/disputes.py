"""REST Admin API (2025-01): ``shopify_payments/disputes.json``, Shopify Payments disputes.

As Shopify serves them: newest ``initiated_at`` first, filters ``since_id``, ``last_id``, ``status``
and ``initiated_at`` (a date), ``limit`` up to 250 (default 50), further pages only through the
``Link`` header's ``page_info`` (which carries the filters and the position). Disputes appear when
the cardholder's bank opens them, days to weeks after the order, and change status until finalized.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from oms_pipeline.sandbox.paging import CursorError, decode_cursor, encode_cursor
from oms_pipeline.sandbox.rest_api import DEFAULT_LIMIT, MAX_LIMIT, PAGINATION_DOCS, Answer, BadRequest
from oms_pipeline.sandbox.store import SandboxStore

FILTERS = ("since_id", "last_id", "status", "initiated_at")
STATUSES = ("needs_response", "under_review", "charge_refunded", "accepted", "won", "lost")


def _position(dispute: Mapping[str, Any]) -> tuple[str, int]:
    return datetime.fromisoformat(dispute["initiated_at"]).isoformat(), int(dispute["id"])


def _predicates(filters: Mapping[str, str]) -> list:
    checks = []
    for name in ("since_id", "last_id"):
        if name in filters:
            if not str(filters[name]).isdigit():
                raise BadRequest(name, "expected Integer to be a id")
            bound = int(filters[name])
            checks.append((lambda d, b=bound: d["id"] > b) if name == "since_id" else (lambda d, b=bound: d["id"] < b))
    if "status" in filters:
        if filters["status"] not in STATUSES:
            raise BadRequest("status", f"must be one of {', '.join(STATUSES)}")
        checks.append(lambda d, s=filters["status"]: d["status"] == s)
    if "initiated_at" in filters:
        try:
            day = date.fromisoformat(str(filters["initiated_at"])[:10])
        except ValueError as exc:
            raise BadRequest("initiated_at", "must be an ISO 8601 date") from exc
        checks.append(lambda d, x=day: datetime.fromisoformat(d["initiated_at"]).date() == x)
    return checks


class DisputesAPI:
    """``GET shopify_payments/disputes.json`` over a :class:`SandboxStore`'s disputes."""

    def __init__(self, store: SandboxStore):
        self.store = store

    def disputes(self, params: Mapping[str, str], url: str) -> Answer:
        """One page of disputes and its ``Link`` header; ``url`` is this endpoint's own URL."""
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
            if not 1 <= limit <= MAX_LIMIT:
                raise BadRequest("limit", f"must be between 1 and {MAX_LIMIT}")
            if "page_info" in params:
                extra = next((p for p in params if p not in ("page_info", "limit")), None)
                if extra:
                    raise BadRequest(extra, f"{extra} cannot be passed when page_info is present. "
                                            f"See {PAGINATION_DOCS} for more information.")
                try:
                    state = decode_cursor(params["page_info"])
                except CursorError as exc:
                    raise BadRequest("page_info", "Invalid value.") from exc
                filters, after = state.get("filters", {}), (state["last_value"], int(state["last_id"]))
            else:
                filters, after = {k: params[k] for k in FILTERS if k in params}, None
            checks = _predicates(filters)
        except (BadRequest, ValueError, KeyError, TypeError) as exc:
            param = exc.param if isinstance(exc, BadRequest) else "limit"
            message = exc.message if isinstance(exc, BadRequest) else "Invalid value."
            return 400, {"errors": {param: message}}, {}
        shown = [d for d in self.store.disputes() if all(check(d) for check in checks)]
        if after is not None:  # newest first: the next page holds what sorts below the last one shown
            shown = [d for d in shown if _position(d) < after]
        page, more = shown[:limit], len(shown) > limit
        headers = {}
        if more:
            last = _position(page[-1])
            page_info = encode_cursor({"filters": filters, "last_id": last[1], "last_value": last[0]})
            headers["Link"] = f'<{url}?{urlencode({"limit": limit, "page_info": page_info})}>; rel="next"'
        return 200, {"disputes": page}, headers
