"""Daily carrier invoice files, as a carrier drops them: one CSV per invoice day.

The charges come from the seeded reconciliation data (:mod:`oms_pipeline.sandbox.reconciliation_data`),
so the planted problems travel with them: weight over-billing (billed weight above the shipped one),
surcharges nobody quoted (``address_correction``, ``additional_handling``), duplicate charges (the
same base charge again on the next day's invoice, so in the next day's file), and charges for voided
labels or labels the 3PL never made (``1ZUNKNOWN...``). Each file has the documented header
``invoice_number,invoice_date,tracking_number,service,billed_weight_kg,charge_type,amount,currency``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from oms_pipeline.sandbox.reconciliation_data import (
    INVOICE_HEADER,
    ReconciliationData,
    generate_reconciliation_data,
)

FILE_PREFIX = "carrier_invoice_"


def invoice_file_name(day: date | str) -> str:
    """The file name of one invoice day: ``carrier_invoice_YYYY-MM-DD.csv``."""
    return f"{FILE_PREFIX}{day if isinstance(day, str) else day.isoformat()}.csv"


def write_daily_invoice_files(rows: Iterable[dict[str, str]], directory: Path) -> dict[str, Path]:
    """Write ``rows`` (invoice CSV rows) into one file per ``invoice_date``; returns day -> path.

    Rows keep their order within a day; files are rewritten whole, so the same rows give the same
    files. A day with no charge gets no file (carriers do not send empty invoices)."""
    by_day: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_day.setdefault(row["invoice_date"], []).append(row)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for day in sorted(by_day):
        path = directory / invoice_file_name(day)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=INVOICE_HEADER, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(by_day[day])
        written[day] = path
    return written


def generate_daily_invoice_files(orders: int, directory: Path, *, seed: int = 0, as_of: date = date(2025, 4, 1),
                                 days: int = 30, problem_rate: float = 0.1,
                                 ) -> tuple[ReconciliationData, dict[str, Path]]:
    """Generate the seeded reconciliation data and write its carrier charges as daily invoice files.

    Returns the data (orders, shipments and the planted truth, to check a reconciliation against) and
    the files by invoice day. Same seed, same files."""
    data = generate_reconciliation_data(orders, seed=seed, as_of=as_of, days=days, problem_rate=problem_rate)
    return data, write_daily_invoice_files(data.invoice_rows, directory)
