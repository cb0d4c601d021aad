"""Seeded reconciliation data: store orders, the 3PL's shipments and the carrier's invoices, mostly
consistent, with planted discrepancies of every variance type and the truth list of them.

Orders are the sandbox's Shopify REST orders (:class:`OrderGenerator`), given a sale transaction,
a fulfillment and, when shipped, a ShipStation shipment and carrier charges. Problems are planted on
about ``problem_rate`` of the orders, one per order, plus charges and shipments that belong to no
order. Each planted problem records the variance the reconciliation models must report, with the
amount they define (see ``dbt_project/models/marts/finance/reconciliation_variances.sql``).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from oms_pipeline.sandbox.generator import OrderGenerator

INVOICE_HEADER = ("invoice_number", "invoice_date", "tracking_number", "service", "billed_weight_kg",
                  "charge_type", "amount", "currency")
ORDER_PROBLEMS = ("unshipped_paid_order", "fulfilled_without_shipment", "quantity_mismatch",
                  "charge_without_shipment", "duplicate_charge", "weight_overbilled", "unexpected_surcharge",
                  "refund_not_reflected")
# Variances that belong to no order: a label for an unknown order key, a charge for an unknown label.
ORPHAN_PROBLEMS = ("shipment_without_order", "charge_without_shipment")
PROMISE_DAYS = 5
CENT = Decimal("0.01")
KG_PER_OUNCE = Decimal("0.028349523125")


@dataclass(frozen=True)
class PlantedVariance:
    """A discrepancy planted on purpose: the order (None when there is none), its type and amount."""

    order_id: str | None
    variance_type: str
    amount: Decimal
    note: str


@dataclass
class ReconciliationData:
    """Store orders (REST objects), a ShipStation ``GET /shipments`` body, invoice CSV rows, the truth."""

    as_of: date
    orders: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    invoice_rows: list[dict[str, str]] = field(default_factory=list)
    truth: list[PlantedVariance] = field(default_factory=list)
    clean_order_ids: list[str] = field(default_factory=list)

    @property
    def shipments_body(self) -> dict[str, Any]:
        """The shipments as one ``GET /shipments`` response page."""
        return {"shipments": self.shipments, "total": len(self.shipments), "page": 1, "pages": 1}

    def write(self, directory: Path, *, orders: bool = True) -> tuple[Path, Path, Path]:
        """Write ORDERS.jsonl (unless ``orders`` is false), SHIPMENTS.json and INVOICES.csv into
        ``directory``; return the three paths."""
        directory.mkdir(parents=True, exist_ok=True)
        orders_path, shipments = directory / "ORDERS.jsonl", directory / "SHIPMENTS.json"
        invoices = directory / "INVOICES.csv"
        if orders:
            with orders_path.open("w") as out:
                for order in self.orders:
                    out.write(json.dumps(order, separators=(",", ":")) + "\n")
        shipments.write_text(json.dumps(self.shipments_body))
        with invoices.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=INVOICE_HEADER)
            writer.writeheader()
            writer.writerows(self.invoice_rows)
        return orders_path, shipments, invoices


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class _Builder:
    """Builds one data set; every choice comes from one seeded ``random.Random``."""

    def __init__(self, seed: int, as_of: date, days: int, problem_rate: float):
        self.rng = random.Random(seed)
        self.orders = OrderGenerator(seed=seed, malformed_rate=0.0)
        self.data = ReconciliationData(as_of=as_of)
        self.as_of, self.days, self.problem_rate = as_of, days, problem_rate
        self.seq = 0
        self.sink: Callable[[dict[str, Any]], None] | None = None  # set: orders stream out, not kept

    def _id(self) -> int:
        self.seq += 1
        return 90_000_000 + self.seq

    # -- carrier tariff: base by billed weight, fuel on base, residential flat ---------------------

    @staticmethod
    def _base(kg: Decimal) -> Decimal:
        return _cents(Decimal("4.50") + Decimal("2.10") * kg)

    def _charge(self, invoice_day: date, tracking: str, kind: str, amount: Decimal,
                billed_kg: Decimal | None = None) -> dict[str, str]:
        row = {"invoice_number": f"INV-{invoice_day:%Y%m%d}", "invoice_date": invoice_day.isoformat(),
               "tracking_number": tracking, "service": "ground", "billed_weight_kg": "" if billed_kg is None
               else str(billed_kg), "charge_type": kind, "amount": str(amount), "currency": "USD"}
        self.data.invoice_rows.append(row)
        return row

    # -- one order -------------------------------------------------------------------------------

    def order(self, problem: str | None) -> bool:
        """Make one order with ``problem`` planted (None: clean); False when it could not be planted."""
        rng = self.rng
        # Orders past their promise can be shipped or planted unshipped; recent ones may wait.
        late = problem == "unshipped_paid_order"
        age = rng.randrange(PROMISE_DAYS + 2, self.days) if late else rng.randrange(self.days)
        created = datetime.combine(self.as_of - timedelta(days=age), time(rng.randrange(24), rng.randrange(60)),
                                   tzinfo=UTC)
        order, _ = self.orders.new_order(created)
        order_id = str(order["id"])
        order["financial_status"] = "paid"
        total = Decimal(order["total_price"])
        order["transactions"] = [{"id": self._id(), "kind": "sale", "status": "success", "amount": str(total),
                                  "currency": order["currency"], "gateway": "shopify_payments",
                                  "processed_at": order["created_at"]}]
        order["fulfillments"], order["refunds"] = [], []
        shippable = [line for line in order["line_items"] if line["requires_shipping"]]
        if not shippable and problem is not None:
            problem = None  # nothing to ship: a gift-card order stays clean
        recent = age < PROMISE_DAYS - 1
        if problem is None and shippable and recent and rng.random() < 0.3:
            return self._finish(order, problem, order_id)  # not due yet: no shipment is fine
        if problem == "unshipped_paid_order" or not shippable:
            if problem:
                self._plant(order_id, problem, total, "paid, never shipped")
            return self._finish(order, problem, order_id)
        shipped = {line["sku"]: line["quantity"] for line in shippable}
        # Clean orders sometimes cancel a unit before shipping, refunded and reflected.
        if problem is None and rng.random() < 0.08:
            line = rng.choice(shippable)
            self._refund(order, line, 1, "cancel", reflected=True)
            shipped[line["sku"]] -= 1
            order["financial_status"] = "partially_refunded"
        if problem == "refund_not_reflected":
            line = rng.choice(shippable)
            amount = self._refund(order, line, 1, "return", reflected=False)
            self._plant(order_id, problem, amount, f"refund of {line['sku']} never paid out")
        fulfilled_day = created + timedelta(days=rng.randrange(1, 3), hours=rng.randrange(1, 8))
        order["fulfillments"].append({
            "id": self._id(), "order_id": order["id"], "status": "success",
            "created_at": fulfilled_day.isoformat(), "tracking_company": "UPS", "tracking_number": None,
            "line_items": [{"id": line["id"], "sku": line["sku"], "quantity": line["quantity"]} for line in shippable],
        })
        if problem == "fulfilled_without_shipment":
            value = sum((Decimal(line["price"]) * line["quantity"] for line in shippable), Decimal(0))
            self._plant(order_id, problem, value, "store fulfilled, 3PL never shipped")
            return self._finish(order, problem, order_id)
        if problem == "quantity_mismatch":
            line = rng.choice(shippable)
            shipped[line["sku"]] += -1 if shipped[line["sku"]] > 1 else 1
            self._plant(order_id, problem, Decimal(line["price"]), f"sku {line['sku']} off by one")
        grams = {line["sku"]: max(line["grams"], 50) for line in shippable}
        self._ship(order, order_id, fulfilled_day.date(), shipped, grams, problem)
        return self._finish(order, problem, order_id)

    def _finish(self, order: dict[str, Any], problem: str | None, order_id: str) -> bool:
        if self.sink is not None:
            self.sink(order)
        else:
            self.data.orders.append(order)
        if problem is None:
            self.data.clean_order_ids.append(order_id)
        return problem is not None

    def _plant(self, order_id: str | None, kind: str, amount: Decimal, note: str) -> None:
        self.data.truth.append(PlantedVariance(order_id, kind, amount, note))

    def _refund(self, order: dict[str, Any], line: dict[str, Any], quantity: int, restock: str,
                reflected: bool) -> Decimal:
        subtotal = Decimal(line["price"]) * quantity
        refund_id = self._id()
        refund = {"id": refund_id, "order_id": order["id"], "created_at": order["created_at"], "note": restock,
                  "refund_line_items": [{"id": self._id(), "line_item_id": line["id"], "quantity": quantity,
                                         "restock_type": restock, "subtotal": str(subtotal), "total_tax": "0.00",
                                         "line_item": {"id": line["id"], "sku": line["sku"]}}],
                  "order_adjustments": [], "transactions": []}
        if reflected:
            refund["transactions"].append({"id": self._id(), "kind": "refund", "status": "success",
                                           "amount": str(subtotal), "currency": order["currency"],
                                           "gateway": "shopify_payments", "processed_at": order["created_at"]})
        order["refunds"].append(refund)
        return subtotal

    def _label(self, order_key: str, order_number: str, ship_day: date, items: dict[str, int],
               grams: dict[str, int], cost: Decimal, voided: bool = False) -> tuple[dict[str, Any], Decimal]:
        rng = self.rng
        shipment_id = self._id()
        tracking = f"1Z{shipment_id:010d}{rng.randrange(10**6):06d}"
        total_grams = max(100, sum(grams.get(sku, 100) * qty for sku, qty in items.items()))
        if rng.random() < 0.5:
            weight = {"value": total_grams, "units": "grams", "WeightUnits": 2}
            kg = (Decimal(total_grams) / 1000).quantize(Decimal("0.0001"))
        else:
            ounces = (Decimal(total_grams) / 1000 / KG_PER_OUNCE).quantize(CENT)
            weight = {"value": float(ounces), "units": "ounces", "WeightUnits": 1}
            kg = (ounces * KG_PER_OUNCE).quantize(Decimal("0.0001"))
        shipment = {
            "shipmentId": shipment_id, "orderId": shipment_id + 7, "orderKey": order_key,
            "orderNumber": order_number, "createDate": f"{ship_day.isoformat()}T09:15:00.0000000",
            "shipDate": ship_day.isoformat(), "shipmentCost": float(cost), "insuranceCost": 0.0,
            "trackingNumber": tracking, "isReturnLabel": False, "carrierCode": "ups", "serviceCode": "ups_ground",
            "packageCode": "package", "confirmation": "none", "warehouseId": 11, "voided": voided,
            "voidDate": f"{ship_day.isoformat()}T11:00:00.0000000" if voided else None,
            "weight": weight,
            "shipmentItems": [{"orderItemId": self._id(), "sku": sku, "quantity": qty}
                              for sku, qty in items.items() if qty > 0],
        }
        self.data.shipments.append(shipment)
        return shipment, kg

    def _ship(self, order: dict[str, Any], order_id: str, ship_day: date, shipped: dict[str, int],
              grams: dict[str, int], problem: str | None) -> None:
        rng = self.rng
        number = order["name"].lstrip("#")
        if problem == "charge_without_shipment":
            # A first label voided at the 3PL, which the carrier bills anyway.
            voided, voided_kg = self._label(order_id, number, ship_day, shipped, grams, Decimal(0), voided=True)
            billed = voided_kg.quantize(CENT, rounding=ROUND_HALF_UP)
            amount = self._base(billed)
            self._charge(ship_day + timedelta(days=2), voided["trackingNumber"], "base", amount, billed)
            self._plant(order_id, problem, amount, "voided label billed")
        residential = rng.random() < 0.5
        planned_surcharge = problem is None and rng.random() < 0.1
        # The label is quoted at the shipped weight; charges follow the billed weight.
        shipment, kg = self._label(order_id, number, ship_day, shipped, grams, Decimal(0))
        quoted_kg = kg.quantize(CENT, rounding=ROUND_HALF_UP)
        billed_kg = quoted_kg
        if problem == "weight_overbilled":
            billed_kg = _cents(kg * Decimal("1.35") + Decimal("0.2"))
        base, quoted_base = self._base(billed_kg), self._base(quoted_kg)
        cost = quoted_base + _cents(quoted_base * Decimal("0.12")) + (Decimal("3.95") if residential else 0)
        invoice_day = ship_day + timedelta(days=2)
        tracking = shipment["trackingNumber"]
        base_row = self._charge(invoice_day, tracking, "base", base, billed_kg)
        self._charge(invoice_day, tracking, "fuel", _cents(base * Decimal("0.12")))
        if residential:
            self._charge(invoice_day, tracking, "residential", Decimal("3.95"))
        if planned_surcharge:
            self._charge(invoice_day, tracking, "delivery_area", Decimal("4.25"))
            cost += Decimal("4.25")  # quoted: inside the label cost, so not unexpected
        shipment["shipmentCost"] = float(cost)
        if problem == "weight_overbilled":
            amount = _cents(base * (billed_kg - kg) / billed_kg)
            self._plant(order_id, problem, amount, f"billed {billed_kg} kg for {kg} kg")
        elif problem == "duplicate_charge":
            next_day = invoice_day + timedelta(days=1)
            self.data.invoice_rows.append({**base_row, "invoice_number": f"INV-{next_day:%Y%m%d}",
                                           "invoice_date": next_day.isoformat()})
            self._plant(order_id, problem, base, "base charge billed twice")
        elif problem == "unexpected_surcharge":
            amount = Decimal(rng.choice(("12.50", "17.00", "6.75")))
            self._charge(invoice_day, tracking, rng.choice(("address_correction", "additional_handling")), amount)
            self._plant(order_id, problem, amount, "surcharge not quoted")

    # -- problems that belong to no order -----------------------------------------------------------

    def orphans(self, count: int) -> None:
        rng = self.rng
        for n in range(count):
            ship_day = self.as_of - timedelta(days=rng.randrange(2, self.days))
            if n % 2 == 0:
                key = f"unknown-{self._id()}"
                shipment, kg = self._label(key, key, ship_day, {"MUG-BLK": 1}, {"MUG-BLK": 400}, Decimal(0))
                billed = kg.quantize(CENT, rounding=ROUND_HALF_UP)
                base = self._base(billed)
                cost = base + _cents(base * Decimal("0.12"))
                shipment["shipmentCost"] = float(cost)
                self._charge(ship_day + timedelta(days=2), shipment["trackingNumber"], "base", base, billed)
                self._charge(ship_day + timedelta(days=2), shipment["trackingNumber"], "fuel",
                             _cents(base * Decimal("0.12")))
                self._plant(None, "shipment_without_order", cost, f"label for unknown order key {key}")
            else:
                amount = self._base(Decimal("1.25"))
                tracking = f"1ZUNKNOWN{self._id():010d}"
                self._charge(ship_day + timedelta(days=2), tracking, "base", amount, Decimal("1.25"))
                self._plant(None, "charge_without_shipment", amount, f"charge for unknown label {tracking}")


def _run(builder: _Builder, orders: int) -> ReconciliationData:
    planted = 0
    for index in range(orders):
        due = planted < len(ORDER_PROBLEMS) and orders - index <= len(ORDER_PROBLEMS) - planted
        rate = builder.problem_rate
        problem = ORDER_PROBLEMS[planted % len(ORDER_PROBLEMS)] if due or builder.rng.random() < rate else None
        planted += builder.order(problem)
    builder.orphans(max(2, orders // 100))
    builder.data.invoice_rows.sort(key=lambda row: (row["invoice_date"], row["invoice_number"]))
    return builder.data


def generate_reconciliation_data(orders: int, *, seed: int = 0, as_of: date = date(2025, 4, 1), days: int = 30,
                                 problem_rate: float = 0.1) -> ReconciliationData:
    """``orders`` store orders over the ``days`` before ``as_of`` with their shipments and carrier charges.

    About ``problem_rate`` of the orders carry one planted problem, the types taken in turn so every
    type appears once there are ``len(ORDER_PROBLEMS)`` problem orders; a few orphan shipments and
    charges (no order) are added per 100 orders (at least one of each). ``truth`` lists them all.
    """
    return _run(_Builder(seed, as_of, days, problem_rate), orders)


def write_reconciliation_files(
    orders: int, directory: Path, *, seed: int = 0, as_of: date = date(2025, 4, 1), days: int = 30,
    problem_rate: float = 0.1,
) -> tuple[ReconciliationData, tuple[Path, ...]]:
    """Like :func:`generate_reconciliation_data`, but each order is written to ORDERS.jsonl as it is
    made (big benches never hold every order); the returned data has no ``orders``. Same seed, same files."""
    directory.mkdir(parents=True, exist_ok=True)
    builder = _Builder(seed, as_of, days, problem_rate)
    orders_path = directory / "ORDERS.jsonl"
    with orders_path.open("w") as out:
        builder.sink = lambda order: out.write(json.dumps(order, separators=(",", ":")) + "\n")
        data = _run(builder, orders)
    paths = data.write(directory, orders=False)
    return data, (orders_path, *paths[1:])
