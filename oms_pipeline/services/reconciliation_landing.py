"""Landing of the three reconciliation inputs from their live sources (the assets call these).

Each function reads one source since its cursor, parses with :mod:`oms_pipeline.domain.reconciliation`
(bad records are reported and skipped, never fatal), lands with
:func:`~oms_pipeline.storage.reconciliation.land_reconciliation_inputs` (newest copy of an order or
shipment wins) and moves the cursor.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from oms_pipeline.connectors.http import TransientHTTPError
from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.connectors.shopify import ORDERS_PER_TRANSACTIONS_PAGE, ShopifyAPIError, ShopifyClient
from oms_pipeline.domain.reconciliation import (
    InputError,
    ParsedInputs,
    check_invoice_header,
    parse_invoice_rows,
    parse_shipments,
    parse_store_order,
)
from oms_pipeline.storage.reconciliation import land_reconciliation_inputs
from oms_pipeline.storage.warehouse import Warehouse

log = logging.getLogger(__name__)

SETTLEMENTS_STREAM = "settlements"
SHIPMENTS_STREAM = "tpl_shipments"
MAX_LISTED_ERRORS = 50  # errors listed in metadata; the count is always whole
LANDED, REJECTED = "landed", "rejected"
# ShipStation filters ship dates by day: go back a day so a late label of the last day is read again.
SHIPMENT_OVERLAP = timedelta(days=1)


@dataclass
class Landing:
    """What one landing run did: records read, rows per table, refused records, the cursor moved to."""

    read: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cursor: str | None = None
    files: list[str] = field(default_factory=list)
    bad_files: list[str] = field(default_factory=list)

    def add(self, parsed: ParsedInputs, warehouse: Warehouse) -> None:
        """Land ``parsed`` and count its rows and errors."""
        landed = land_reconciliation_inputs(warehouse.engine, parsed)
        for table, count in landed.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        self.errors.extend(str(e) for e in parsed.errors)

    def metadata(self) -> dict[str, Any]:
        """Plain values for asset metadata."""
        return {"read": self.read, "rows": dict(sorted(self.rows.items())), "errors": len(self.errors),
                "error_list": self.errors[:MAX_LISTED_ERRORS], "cursor": self.cursor}


def land_store_settlements(warehouse: Warehouse, client: ShopifyClient, shop_domain: str,
                           overlap: timedelta = timedelta(minutes=2), batch: int = 500) -> Landing:
    """Fulfillments, refunds, transactions and shipping lines of every store order changed since the
    ``settlements`` high-water mark (less ``overlap``), replaced per order; the mark moves to the newest
    ``updated_at`` read.

    Two sources, as Shopify serves them: REST ``orders.json`` for fulfillments, refunds (with their own
    transactions) and shipping lines; GraphQL (:meth:`ShopifyClient.order_transactions`, one ``nodes``
    query per page of orders read) for the order's payment transactions, which REST order objects do
    not carry. They are put on the order under ``transactions`` before parsing. An order whose
    transactions cannot be read still lands (without them) and is reported by id; the mark then stops
    at that order's ``updated_at`` so the next run reads it again.
    """
    mark = warehouse.high_water_mark(shop_domain, SETTLEMENTS_STREAM)
    since = datetime.fromisoformat(mark) - overlap if mark else None
    run = Landing(cursor=mark)
    now = datetime.now(UTC)
    newest = datetime.fromisoformat(mark) if mark else None
    retry_from: datetime | None = None  # the oldest change whose transactions were not read
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal retry_from
        parsed = ParsedInputs()
        unread = _attach_transactions(client, pending, run)
        for order in pending:
            parsed.merge(parse_store_order(order, shop_domain, now))
            stamp = _aware(order.get("updated_at")) if isinstance(order, dict) else None
            if id(order) in unread and stamp is not None and (retry_from is None or stamp < retry_from):
                retry_from = stamp
        run.add(parsed, warehouse)
        pending.clear()

    for order in client.iter_settlement_orders(since):
        run.read += 1
        stamp = _aware(order.get("updated_at")) if isinstance(order, dict) else None
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
        pending.append(order)
        if len(pending) >= batch:
            flush()
    flush()
    if retry_from is not None and newest is not None:
        newest = min(newest, retry_from)
    if newest is not None and (mark is None or newest > datetime.fromisoformat(mark)):
        run.cursor = newest.isoformat()
        warehouse.set_high_water_mark(shop_domain, run.cursor, SETTLEMENTS_STREAM)
    return run


def _attach_transactions(client: ShopifyClient, orders: list[Any], run: Landing) -> set[int]:
    """Put each order's payment transactions (GraphQL, one query per page) under ``transactions``;
    returns the ``id()`` of the orders whose transactions could not be read (each reported by id).

    Orders without a usable id are left alone: the parser refuses them whole anyway.
    """
    by_number: dict[int, list[dict[str, Any]]] = {}  # an order changed while paging is listed twice
    for order in orders:
        if isinstance(order, dict) and isinstance(order.get("id"), int) and order["id"] > 0:
            by_number.setdefault(order["id"], []).append(order)
    numbers = list(by_number)
    unread: set[int] = set()
    for start in range(0, len(numbers), ORDERS_PER_TRANSACTIONS_PAGE):
        page = numbers[start:start + ORDERS_PER_TRANSACTIONS_PAGE]
        try:
            found = client.order_transactions(page)
        except (ShopifyAPIError, TransientHTTPError, httpx.HTTPError) as exc:
            log.warning("transactions of %d orders not read: %s", len(page), exc)
            found, reason = {}, f"{type(exc).__name__}: {str(exc)[:200]}"
        else:
            reason = "the store did not answer for this order"
        for number in page:
            copies = by_number[number]
            if number in found:
                for order in copies:
                    order["transactions"] = found[number]
            else:
                unread.update(id(order) for order in copies)
                run.errors.append(str(InputError("orders", f"order {number}", "transactions",
                                                 f"not read, landed without them ({reason})")))
    return unread


def land_tpl_shipments(warehouse: Warehouse, client: ShipStationClient, shop_domain: str) -> Landing:
    """The 3PL's shipments shipped since the ``tpl_shipments`` mark (a ship date, less a day), with
    their items, replaced per shipment; the mark moves to the latest ship date read."""
    mark = warehouse.high_water_mark(shop_domain, SHIPMENTS_STREAM)
    start = date.fromisoformat(mark) - SHIPMENT_OVERLAP if mark else None
    run = Landing(cursor=mark)
    shipments = list(client.iter_shipments(ship_date_start=start))
    run.read = len(shipments)
    run.add(parse_shipments({"shipments": shipments}, shop_domain, datetime.now(UTC)), warehouse)
    days = [str(s.get("shipDate"))[:10] for s in shipments if isinstance(s, dict) and s.get("shipDate")]
    latest = max((d for d in days if _is_date(d)), default=None)
    if latest and (mark is None or latest > mark):
        run.cursor = latest
        warehouse.set_high_water_mark(shop_domain, latest, SHIPMENTS_STREAM)
    return run


def land_carrier_invoices(warehouse: Warehouse, inbox: Path) -> Landing:
    """Every ``*.csv`` in ``inbox``, oldest name first: landed (lines already landed are skipped) and
    moved to ``inbox/landed/``. A file that cannot be read or lacks the documented header is moved to
    ``inbox/rejected/`` and reported; a bad row is reported and skipped, the rest of its file lands."""
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    run = Landing()
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() == ".csv"):
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                check_invoice_header(reader.fieldnames)
                parsed = parse_invoice_rows(reader, datetime.now(UTC), source_file=path.name)
        except (ValueError, csv.Error) as exc:  # UnicodeDecodeError is a ValueError
            run.bad_files.append(f"{path.name}: {exc}")
            _move(path, inbox / REJECTED)
            continue
        run.read += 1
        parsed.errors = [InputError(e.source, f"{path.name}: {e.ref}", e.field, e.message) for e in parsed.errors]
        run.add(parsed, warehouse)
        run.files.append(path.name)
        _move(path, inbox / LANDED)
    return run


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.replace(path, folder / path.name)  # a file of the same name landed before is replaced


def _aware(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True

