"""Reconciliation inputs as warehouse rows: store order objects, 3PL shipments, carrier invoice lines.

Pure: every function takes decoded data and returns row dicts (one list per landing table, keyed
by table name) plus :class:`InputError` records. A bad record is reported with the order or line it
belongs to and the field at fault, and skipped; the rest of the batch goes on.

Shapes read:
- Shopify REST order objects: ``fulfillments[].line_items``, ``refunds[].refund_line_items``,
  ``refunds[].order_adjustments``, ``refunds[].transactions``, ``transactions`` (when present)
  and ``shipping_lines``.
- ShipStation ``GET /shipments`` response bodies (``shipments`` array; ``orderKey`` is the store
  order id the shipment was handed off for).
- Carrier invoice CSV rows with header :data:`INVOICE_HEADER`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

INVOICE_HEADER = ("invoice_number", "invoice_date", "tracking_number", "service", "billed_weight_kg",
                  "charge_type", "amount", "currency")
CHARGE_TYPES = frozenset({"base", "fuel", "residential", "address_correction", "delivery_area",
                          "additional_handling", "adjustment"})
# ShipStation weight units -> kilograms.
KG_PER_UNIT = {"pounds": Decimal("0.45359237"), "ounces": Decimal("0.028349523125"), "grams": Decimal("0.001"),
               "kilograms": Decimal(1)}
KG = Decimal("0.0001")


@dataclass(frozen=True)
class InputError:
    """One refused record: which input, which order/shipment/line, which field, and why."""

    source: str  # orders | shipments | invoices
    ref: str  # e.g. "order 5001" or "invoice INV-1 line 3"
    field: str  # path of the field at fault, e.g. "fulfillments[0].line_items[1].quantity"
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.ref}: {self.field}: {self.message}"


@dataclass
class ParsedInputs:
    """Rows for each landing table (keyed by table name) and the records that were refused."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: list[InputError] = field(default_factory=list)

    def add(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        """Append rows for ``table``."""
        self.rows.setdefault(table, []).extend(rows)

    def merge(self, other: ParsedInputs) -> None:
        """Take in another batch's rows and errors."""
        for table, rows in other.rows.items():
            self.add(table, rows)
        self.errors.extend(other.errors)


class _Bad(ValueError):
    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# -- field readers (raise _Bad naming the field) -------------------------------------------------

def _is_object(value: Any) -> bool:
    # Decoded JSON objects are dicts: the exact-type test spares the slow Mapping ABC check.
    return type(value) is dict or isinstance(value, Mapping)


def _get(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    if not _is_object(obj):
        raise _Bad(path, "expected an object")
    value = obj.get(key)
    if value is None and required:
        raise _Bad(f"{path}.{key}".lstrip("."), "missing")
    return value


def _id(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
    value = _get(obj, key, path, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise _Bad(f"{path}.{key}".lstrip("."), f"not an id: {value!r}")
    return str(value).strip()


def _text(obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = _get(obj, key, path, required=required)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise _Bad(f"{path}.{key}".lstrip("."), f"not text: {value!r}")
    return str(value)


def _money(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _Bad(where, f"not an amount: {value!r}")
    if isinstance(value, Mapping):  # a MoneyBag / price set: the shop money
        value = (value.get("shop_money") or {}).get("amount") if "shop_money" in value else value.get("amount")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise _Bad(where, f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise _Bad(where, f"not an amount: {value!r}")
    return amount


def _quantity(obj: Mapping[str, Any], key: str, path: str) -> int:
    value = _get(obj, key, path)
    where = f"{path}.{key}".lstrip(".")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _Bad(where, f"not a whole number: {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise _Bad(where, f"not a whole number: {value!r}") from None
    if number < 0:
        raise _Bad(where, f"negative: {number}")
    return number


def _timestamp(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> datetime | None:
    value = _get(obj, key, path, required=required)
    if value is None:
        return None
    where = f"{path}.{key}".lstrip(".")
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _Bad(where, f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise _Bad(where, f"no UTC offset: {value!r}")
    return moment


def _list(obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key) if _is_object(obj) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{path}.{key}".lstrip("."), "expected a list")
    return value


# -- store side ------------------------------------------------------------------------------------

def parse_store_order(payload: Any, shop_domain: str, landed_at: datetime) -> ParsedInputs:
    """Fulfillments, refunds, transactions and shipping lines of one Shopify REST order object.

    A bad fulfillment, refund, transaction or shipping line is refused on its own (the error names
    the order and the field); an order without a usable ``id`` or ``currency`` is refused whole.
    """
    out = ParsedInputs()
    raw_id = payload.get("id") if _is_object(payload) else None
    ref = f"order {raw_id}" if raw_id is not None else "order ?"
    try:
        order_id = _id(payload, "id", "")
        currency = _text(payload, "currency", "", required=True)
    except _Bad as bad:
        out.errors.append(InputError("orders", ref, bad.path, bad.message))
        return out
    assert order_id is not None and currency is not None
    key = {"shop_domain": shop_domain, "order_id": order_id}

    def each(list_key: str, parse) -> None:
        try:
            items = _list(payload, list_key, "")
        except _Bad as bad:
            out.errors.append(InputError("orders", ref, bad.path, bad.message))
            return
        for i, item in enumerate(items):
            try:
                if not _is_object(item):
                    raise _Bad(f"{list_key}[{i}]", "expected an object")
                parse(item, f"{list_key}[{i}]")
            except _Bad as bad:
                out.errors.append(InputError("orders", ref, bad.path, bad.message))

    def fulfillment(item: Any, path: str) -> None:
        fid = _id(item, "id", path)
        lines = []
        for j, line in enumerate(_list(item, "line_items", path)):
            lpath = f"{path}.line_items[{j}]"
            lines.append({**key, "fulfillment_id": fid, "line_id": _id(line, "id", lpath),
                          "sku": _text(line, "sku", lpath), "quantity": _quantity(line, "quantity", lpath)})
        out.add("store_fulfillments", [{
            **key, "fulfillment_id": fid, "status": _text(item, "status", path, required=True),
            "created_at": _timestamp(item, "created_at", path),
            "tracking_company": _text(item, "tracking_company", path),
            "tracking_number": _text(item, "tracking_number", path), "landed_at": landed_at}])
        out.add("store_fulfillment_lines", lines)

    def transaction(item: Any, path: str, refund_id: str | None = None) -> dict[str, Any]:
        return {**key, "transaction_id": _id(item, "id", path),
                "refund_id": refund_id if refund_id is not None else _id(item, "refund_id", path, required=False),
                "kind": _text(item, "kind", path, required=True), "status": _text(item, "status", path, required=True),
                "amount": _money(_get(item, "amount", path), f"{path}.amount"),
                "currency": _text(item, "currency", path) or currency, "gateway": _text(item, "gateway", path),
                "processed_at": _timestamp(item, "processed_at", path, required=False)
                or _timestamp(item, "created_at", path, required=False)}

    transactions: dict[str, dict[str, Any]] = {}

    def refund(item: Any, path: str) -> None:
        rid = _id(item, "id", path)
        lines, lines_amount = [], Decimal(0)
        for j, line in enumerate(_list(item, "refund_line_items", path)):
            lpath = f"{path}.refund_line_items[{j}]"
            if not _is_object(line):
                raise _Bad(lpath, "expected an object")
            line_item = line.get("line_item") if _is_object(line) else None
            subtotal = _money(line.get("subtotal_set") or _get(line, "subtotal", lpath), f"{lpath}.subtotal")
            tax = _money(line.get("total_tax_set") or line.get("total_tax") or 0, f"{lpath}.total_tax")
            lines_amount += subtotal + tax
            lines.append({**key, "refund_id": rid, "refund_line_id": _id(line, "id", lpath),
                          "line_id": _id(line, "line_item_id", lpath),
                          "sku": _text(line_item, "sku", f"{lpath}.line_item") if line_item else None,
                          "quantity": _quantity(line, "quantity", lpath),
                          "restock_type": _text(line, "restock_type", lpath), "subtotal": subtotal,
                          "total_tax": tax})
        shipping = Decimal(0)
        for j, adjustment in enumerate(_list(item, "order_adjustments", path)):
            apath = f"{path}.order_adjustments[{j}]"
            if _text(adjustment, "kind", apath) == "shipping_refund":
                # Shopify states a shipping refund as a negative adjustment; tax separately.
                shipping -= _money(_get(adjustment, "amount", apath), f"{apath}.amount")
                shipping -= _money(adjustment.get("tax_amount") or 0, f"{apath}.tax_amount")
        refund_transactions = [transaction(t, f"{path}.transactions[{j}]", rid)
                               for j, t in enumerate(_list(item, "transactions", path))]
        out.add("store_refunds", [{**key, "refund_id": rid, "created_at": _timestamp(item, "created_at", path),
                                   "note": _text(item, "note", path), "lines_amount": lines_amount,
                                   "shipping_amount": shipping, "currency": currency, "landed_at": landed_at}])
        out.add("store_refund_lines", lines)
        for row in refund_transactions:
            transactions[row["transaction_id"]] = row

    def order_transaction(item: Any, path: str) -> None:
        row = transaction(item, path)
        # The refund's own copy (with its refund_id) wins over the order-level listing.
        transactions.setdefault(row["transaction_id"], row)

    def shipping_line(item: Any, path: str) -> None:
        price = _money(item.get("price_set") or _get(item, "price", path), f"{path}.price")
        discounted = item.get("discounted_price_set") or item.get("discounted_price")
        out.add("store_shipping_lines", [{
            **key, "shipping_line_id": _id(item, "id", path), "code": _text(item, "code", path),
            "title": _text(item, "title", path), "price": price,
            "discounted_price": price if discounted is None else _money(discounted, f"{path}.discounted_price"),
            "currency": currency}])

    each("fulfillments", fulfillment)
    each("refunds", refund)
    each("transactions", order_transaction)
    each("shipping_lines", shipping_line)
    out.add("store_transactions", transactions.values())
    return out


# -- 3PL side -------------------------------------------------------------------------------------

def parse_shipments(body: Any, shop_domain: str, landed_at: datetime) -> ParsedInputs:
    """Shipments and their items from a ShipStation ``GET /shipments`` response body.

    ``body`` is the decoded JSON: an object with a ``shipments`` array (a bare array is accepted).
    """
    out = ParsedInputs()
    items = body.get("shipments") if _is_object(body) else body
    if not isinstance(items, list):
        out.errors.append(InputError("shipments", "body", "shipments", "expected a list of shipments"))
        return out
    for i, shipment in enumerate(items):
        raw_id = shipment.get("shipmentId") if _is_object(shipment) else None
        ref = f"shipment {raw_id}" if raw_id is not None else f"shipments[{i}]"
        try:
            if not _is_object(shipment):
                raise _Bad("", "expected a shipment object")
            sid = _id(shipment, "shipmentId", "")
            weight = shipment.get("weight")
            value = units = kg = None
            if weight is not None:
                value = _money(_get(weight, "value", "weight"), "weight.value")
                units = _text(weight, "units", "weight", required=True)
                if units not in KG_PER_UNIT:
                    raise _Bad("weight.units", f"unknown unit {units!r}")
                kg = (value * KG_PER_UNIT[units]).quantize(KG)
            ship_date = shipment.get("shipDate")
            try:
                shipped_on = date.fromisoformat(str(ship_date)[:10]) if ship_date else None
            except ValueError:
                raise _Bad("shipDate", f"not a date: {ship_date!r}") from None
            cost = shipment.get("shipmentCost")
            voided = shipment.get("voided", False)
            if not isinstance(voided, bool):
                raise _Bad("voided", f"not true/false: {voided!r}")
            created = shipment.get("createDate")
            rows_items = []
            for j, item in enumerate(_list(shipment, "shipmentItems", "")):
                ipath = f"shipmentItems[{j}]"
                rows_items.append({"shop_domain": shop_domain, "shipment_id": sid, "item_no": j,
                                   "sku": _text(item, "sku", ipath), "quantity": _quantity(item, "quantity", ipath)})
            row = {
                "shop_domain": shop_domain, "shipment_id": sid, "order_key": _text(shipment, "orderKey", ""),
                "order_number": _text(shipment, "orderNumber", ""),
                "tracking_number": _text(shipment, "trackingNumber", ""),
                "carrier_code": _text(shipment, "carrierCode", ""), "service_code": _text(shipment, "serviceCode", ""),
                "ship_date": shipped_on, "create_date": _created(created), "voided": voided,
                "weight_value": value, "weight_units": units, "weight_kg": kg,
                "shipment_cost": None if cost is None else _money(cost, "shipmentCost"), "landed_at": landed_at,
            }
        except _Bad as bad:
            out.errors.append(InputError("shipments", ref, bad.path, bad.message))
            continue
        out.add("tpl_shipments", [row])
        out.add("tpl_shipment_items", rows_items)
    return out


def _created(value: Any) -> datetime | None:
    """ShipStation's createDate (Pacific time, no offset in its API): kept only when it names an offset."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise _Bad("createDate", f"not an ISO 8601 time: {value!r}") from None
    return moment if moment.tzinfo else None


# -- carrier side ---------------------------------------------------------------------------------

def check_invoice_header(header: Iterable[str] | None) -> None:
    """Raise ``ValueError`` unless the CSV header names every invoice column."""
    missing = [c for c in INVOICE_HEADER if c not in (header or ())]
    if missing:
        raise ValueError(f"invoice CSV header lacks {', '.join(missing)} (expected {','.join(INVOICE_HEADER)})")


def parse_invoice_rows(rows: Iterable[Mapping[str, str]], landed_at: datetime,
                       source_file: str | None = None) -> ParsedInputs:
    """Carrier invoice lines from CSV rows (dicts keyed by :data:`INVOICE_HEADER`).

    ``line_no`` counts rows within each invoice, in file order, so a charge billed twice stays twice.
    Errors name the invoice, the file row (1 = first row after the header) and the column.
    """
    out = ParsedInputs()
    per_invoice: dict[str, int] = {}
    for row_no, row in enumerate(rows, start=1):
        invoice = (row.get("invoice_number") or "").strip()
        ref = f"invoice {invoice or '?'} row {row_no}"
        try:
            if not invoice:
                raise _Bad("invoice_number", "missing")
            raw_date = (row.get("invoice_date") or "").strip()
            try:
                invoice_date = date.fromisoformat(raw_date)
            except ValueError:
                raise _Bad("invoice_date", f"not a date: {raw_date!r}") from None
            tracking = (row.get("tracking_number") or "").strip()
            if not tracking:
                raise _Bad("tracking_number", "missing")
            charge_type = (row.get("charge_type") or "").strip()
            if charge_type not in CHARGE_TYPES:
                raise _Bad("charge_type", f"unknown charge type {charge_type!r}")
            weight = (row.get("billed_weight_kg") or "").strip()
            billed_kg = _money(weight, "billed_weight_kg") if weight else None
            if billed_kg is not None and billed_kg < 0:
                raise _Bad("billed_weight_kg", f"negative: {weight}")
            currency = (row.get("currency") or "").strip().upper()
            if len(currency) != 3 or not currency.isalpha():
                raise _Bad("currency", f"not an ISO 4217 code: {row.get('currency')!r}")
            amount = _money(row.get("amount"), "amount")
        except _Bad as bad:
            out.errors.append(InputError("invoices", ref, bad.path, bad.message))
            continue
        per_invoice[invoice] = per_invoice.get(invoice, 0) + 1
        out.add("carrier_invoice_lines", [{
            "invoice_number": invoice, "line_no": per_invoice[invoice], "invoice_date": invoice_date,
            "tracking_number": tracking, "service": (row.get("service") or "").strip() or None,
            "billed_weight_kg": billed_kg, "charge_type": charge_type, "amount": amount, "currency": currency,
            "source_file": source_file, "landed_at": landed_at}])
    return out
