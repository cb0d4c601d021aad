"""Sorting, filtering and cursor pagination over the store's orders, shared by GraphQL and REST.

Cursors are opaque base64 JSON holding the sort value and id of the last order served
(``{"last_id": ..., "last_value": ...}``, as Shopify's are). A page is "what sorts after the
cursor", so an order changed while a client pages through moves to its new place in the sort
(the end, for ``updated_at``) instead of shifting everything else: nothing unchanged is skipped
or served twice.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from oms_pipeline.sandbox.generator import SHOP_TZ
from oms_pipeline.sandbox.records import OrderRecord
from oms_pipeline.sandbox.store import SandboxStore

SortValue = Any
SortKey = tuple[SortValue, int]


def _total_price(record: OrderRecord) -> Decimal:
    return Decimal(record.order["total_price"])


def _processed(record: OrderRecord) -> datetime:
    return datetime.fromisoformat(record.order["processed_at"])


# Sort value of an order for each supported sort key (GraphQL OrderSortKeys; REST uses the lower-case names).
SORT_VALUES: dict[str, Callable[[OrderRecord], SortValue]] = {
    "ID": lambda r: r.key,
    "CREATED_AT": lambda r: r.created,
    "UPDATED_AT": lambda r: r.updated,
    "PROCESSED_AT": _processed,
    "ORDER_NUMBER": lambda r: r.order["order_number"],
    "TOTAL_PRICE": _total_price,
}


class CursorError(ValueError):
    """A cursor (or REST page_info) that this store did not make."""


def encode_cursor(payload: dict[str, Any]) -> str:
    """Opaque cursor text for ``payload``."""
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The payload of a cursor made by :func:`encode_cursor`; raises ``CursorError`` otherwise."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise CursorError(f"invalid cursor {cursor!r}") from exc
    if not isinstance(payload, dict) or "last_id" not in payload:
        raise CursorError(f"invalid cursor {cursor!r}")
    return payload


def sort_value_text(value: SortValue) -> Any:
    """A sort value as JSON (datetimes as UTC text, Decimals as strings)."""
    if isinstance(value, datetime):
        return value.astimezone(SHOP_TZ).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def order_cursor(sort: str, record: OrderRecord) -> str:
    """The cursor of ``record`` in a ``sort`` ordering."""
    return encode_cursor({"last_id": record.key, "last_value": sort_value_text(SORT_VALUES[sort](record))})


def cursor_key(sort: str, payload: dict[str, Any]) -> SortKey:
    """(sort value, id) that a cursor payload points at, for ``sort``."""
    raw = payload.get("last_value")
    try:
        if sort in ("CREATED_AT", "UPDATED_AT", "PROCESSED_AT"):
            value: SortValue = datetime.fromisoformat(raw)
        elif sort == "TOTAL_PRICE":
            value = Decimal(raw)
        else:
            value = int(raw)
        return value, int(payload["last_id"])
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise CursorError("cursor does not match the sort key") from exc


@dataclass
class Page:
    """One page of a sorted, filtered list of orders."""

    records: list[OrderRecord]
    has_next: bool
    has_previous: bool


class OrderIndex:
    """The store's orders sorted by each sort key, re-sorted only after the store has changed.

    Paging then costs a bisect and a walk over about one page, not a sort of every order.
    Use it while holding the store's lock.
    """

    def __init__(self, store: SandboxStore):
        self.store = store
        self._sorted: dict[str, tuple[int, list[SortKey], list[OrderRecord]]] = {}

    def sorted(self, sort: str) -> tuple[list[SortKey], list[OrderRecord]]:
        """(sort keys, records) in ascending (sort value, id) order."""
        cached = self._sorted.get(sort)
        if cached is None or cached[0] != self.store.version:
            value_of = SORT_VALUES[sort]
            keyed = sorted(((value_of(r), r.key), r) for r in self.store.records())  # keys are unique
            cached = (self.store.version, [k for k, _ in keyed], [r for _, r in keyed])
            self._sorted[sort] = cached
        return cached[1], cached[2]

    def page(self, sort: str, matches: Callable[[OrderRecord], bool], *, reverse: bool = False,
             first: int | None = None, after: SortKey | None = None, last: int | None = None,
             before: SortKey | None = None) -> Page:
        """The ``first`` matching orders after ``after`` (or the ``last`` before ``before``) in ``sort`` order."""
        keys, records = self.sorted(sort)
        n = len(keys)
        if reverse:
            start = bisect.bisect_left(keys, after) - 1 if after is not None else n - 1
            stop = bisect.bisect_right(keys, before) - 1 if before is not None else -1
            step = -1
        else:
            start = bisect.bisect_right(keys, after) if after is not None else 0
            stop = bisect.bisect_left(keys, before) if before is not None else n
            step = 1

        def take(indices: range, limit: int | None) -> list[OrderRecord]:
            found = []
            for i in indices:
                if matches(records[i]):
                    found.append(records[i])
                    if limit is not None and len(found) > limit:
                        break
            return found

        earlier = range(start - step, -1 if step > 0 else n, -step)  # before the window, nearest first
        later = range(stop, n if step > 0 else -1, step)  # after the window, nearest first
        if last is not None and first is None:
            chosen = take(range(stop - step, start - step, -step), last)
            has_previous = len(chosen) > last
            chosen = chosen[:last][::-1]
            has_next = before is not None and bool(take(later, 0))
        else:
            chosen = take(range(start, stop, step), first)
            has_next = first is not None and len(chosen) > first
            chosen = chosen[:first] if first is not None else chosen
            has_previous = after is not None and bool(take(earlier, 0))
        return Page(records=chosen, has_next=has_next, has_previous=has_previous)


# -- Shopify search syntax --------------------------------------------------------------------

_TERM = re.compile(r"""(?P<neg>-)?(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>'[^']*'|"[^"]*"|\S+)""")
_TIME_FIELDS = {"updated_at": "updated", "created_at": "created", "processed_at": "processed_at"}


@dataclass
class SearchQuery:
    """A parsed ``query`` argument: the time bounds it sets and the terms it could not use."""

    predicates: list[Callable[[OrderRecord], bool]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def matches(self, record: OrderRecord) -> bool:
        """Whether ``record`` satisfies every term."""
        return all(p(record) for p in self.predicates)


def parse_time_value(text: str) -> tuple[datetime, datetime]:
    """A search or REST time value as the [start, end] instant range it names.

    A full timestamp names one second; a date names that day in the shop's time zone. A value
    without an offset is read in the shop's time zone, as Shopify does.
    """
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), SHOP_TZ)
            return start, start + timedelta(days=1) - timedelta(microseconds=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError as exc:
        raise ValueError(f"invalid date {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHOP_TZ)
    return moment, moment


def _time_of(record: OrderRecord, attribute: str) -> datetime:
    if attribute == "processed_at":
        return _processed(record)
    return getattr(record, attribute)


def _time_predicate(attribute: str, op: str, start: datetime, end: datetime) -> Callable[[OrderRecord], bool]:
    def predicate(record: OrderRecord) -> bool:
        moment = _time_of(record, attribute)
        if op == ">":
            return moment > end
        if op == ">=":
            return moment >= start
        if op == "<":
            return moment < start
        if op == "<=":
            return moment <= end
        return start <= moment <= end
    return predicate


def parse_search(query: str | None) -> SearchQuery:
    """Shopify search syntax, as far as the sandbox implements it.

    ``updated_at``, ``created_at`` and ``processed_at`` with ``:``, ``:>``, ``:>=``, ``:<``, ``:<=``
    and quoted or bare values, joined by ``AND`` or spaces. Any other term is ignored with a
    warning, as Shopify does for fields it cannot search.
    """
    result = SearchQuery()
    if not query:
        return result
    rest = query
    for match in _TERM.finditer(query):
        rest = rest.replace(match.group(0), " ", 1)
        name, op, value = match.group("field"), match.group("op") or ":", match.group("value").strip("'\"")
        if name not in _TIME_FIELDS or match.group("neg"):
            result.warnings.append({"field": name, "message": "Invalid search field for this query."})
            continue
        try:
            start, end = parse_time_value(value)
        except ValueError:
            result.warnings.append({"field": name, "message": f"Invalid date value '{value}'."})
            continue
        result.predicates.append(_time_predicate(_TIME_FIELDS[name], op, start, end))
    for word in rest.split():
        if word not in ("AND", "and"):
            result.warnings.append({"field": "default", "message": f"Unsupported search term '{word}'."})
    return result
