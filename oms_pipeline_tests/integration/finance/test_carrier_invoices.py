"""Daily carrier invoice files from the sandbox: one CSV per day, the planted problems kept."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from oms_pipeline.domain.reconciliation import check_invoice_header, parse_invoice_rows
from oms_pipeline.sandbox.carrier_invoices import generate_daily_invoice_files, invoice_file_name
from oms_pipeline.sandbox.reconciliation_data import INVOICE_HEADER, KG_PER_OUNCE

CHARGE_TYPES = {"base", "fuel", "residential", "address_correction", "delivery_area", "additional_handling",
                "adjustment"}


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _shipped_kg(shipment: dict) -> Decimal:
    weight = shipment["weight"]
    if weight["units"] == "grams":
        return Decimal(str(weight["value"])) / 1000
    return Decimal(str(weight["value"])) * KG_PER_OUNCE


def test_one_file_per_invoice_day_with_every_charge(tmp_path: Path):
    data, files = generate_daily_invoice_files(160, tmp_path, seed=5)
    days = sorted({row["invoice_date"] for row in data.invoice_rows})
    assert list(files) == days and len(days) > 10
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(invoice_file_name(day) for day in days)
    landed: list[dict[str, str]] = []
    for day, path in files.items():
        header, rows = _read(path)
        assert tuple(header) == INVOICE_HEADER
        assert rows and {row["invoice_date"] for row in rows} == {day}
        assert {row["charge_type"] for row in rows} <= CHARGE_TYPES
        # The pipeline's own invoice parser takes each file without an error.
        check_invoice_header(header)
        parsed = parse_invoice_rows(iter(rows), datetime.now(UTC), source_file=path.name)
        assert parsed.errors == [] and len(parsed.rows["carrier_invoice_lines"]) == len(rows)
        landed.extend(rows)
    assert Counter(tuple(r.items()) for r in landed) == Counter(tuple(r.items()) for r in data.invoice_rows)


def test_planted_problems_are_in_the_daily_files(tmp_path: Path):
    data, files = generate_daily_invoice_files(160, tmp_path, seed=5)
    rows = [(path.name, row) for path in files.values() for row in _read(path)[1]]
    planted = Counter(v.variance_type for v in data.truth)
    assert {"weight_overbilled", "unexpected_surcharge", "duplicate_charge", "charge_without_shipment"} <= set(planted)

    # Duplicate charges: the same label's base charge again, on the next day's invoice (another file).
    base = Counter((row["tracking_number"], row["amount"]) for _, row in rows if row["charge_type"] == "base")
    duplicated = [key for key, count in base.items() if count > 1]
    assert len(duplicated) >= planted["duplicate_charge"]
    for tracking, amount in duplicated:
        where = {name for name, row in rows if row["tracking_number"] == tracking and row["amount"] == amount
                 and row["charge_type"] == "base"}
        assert len(where) == 2

    # Surcharges nobody quoted.
    surcharges = [row for _, row in rows if row["charge_type"] in ("address_correction", "additional_handling")]
    assert len(surcharges) == planted["unexpected_surcharge"]

    # Weight over-billing: billed weight above 110% of the label's shipped weight.
    live = {s["trackingNumber"]: s for s in data.shipments if not s["voided"]}
    over = [row for _, row in rows if row["charge_type"] == "base" and row["tracking_number"] in live
            and Decimal(row["billed_weight_kg"]) > _shipped_kg(live[row["tracking_number"]]) * Decimal("1.1")]
    assert len({row["tracking_number"] for row in over}) == planted["weight_overbilled"]

    # Charges for voided labels and for labels the 3PL never made.
    voided = {s["trackingNumber"] for s in data.shipments if s["voided"]}
    known = {s["trackingNumber"] for s in data.shipments}
    on_voided = [row for _, row in rows if row["tracking_number"] in voided]
    unknown = [row for _, row in rows if row["tracking_number"] not in known]
    assert on_voided and unknown
    assert len(on_voided) + len(unknown) == planted["charge_without_shipment"]


def test_same_seed_same_files(tmp_path: Path):
    _, first = generate_daily_invoice_files(60, tmp_path / "a", seed=9)
    _, second = generate_daily_invoice_files(60, tmp_path / "b", seed=9)
    assert list(first) == list(second)
    assert all(first[day].read_bytes() == second[day].read_bytes() for day in first)
