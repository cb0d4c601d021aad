"""The sandbox carrier's bill for the labels the sandbox 3PL really shipped.

:func:`write_shipped_label_invoices` writes the day's invoice CSV (documented header, through
:func:`~oms_pipeline.sandbox.carrier_invoices.write_daily_invoice_files`) for the shipments the
emulated 3PL made on a ship day, so the pipeline's ``carrier_invoices`` asset has real files to land
that match real 3PL labels. Each label is billed its quoted cost (``shipmentCost``) as a ``base``
charge at its shipped weight; a few labels carry planted problems, chosen by position so the same
shipments give the same bill:

- every ``problem_every``-th label (from the 2nd): billed weight 35 % + 0.2 kg over the shipped one;
- from the 3rd: an ``address_correction`` surcharge nobody quoted;
- from the 4th: the base charge billed twice;
- and one charge for a label the 3PL never made (``1ZUNKNOWN...``).

The planted truth comes back with the files, with the amount the reconciliation should report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from oms_pipeline.sandbox.carrier_invoices import write_daily_invoice_files

CENT = Decimal("0.01")
KG = Decimal("0.0001")  # the precision shipment weights land with
SURCHARGE = Decimal("17.00")
UNKNOWN_LABEL_CHARGE = Decimal("9.99")
_GRAMS_PER_UNIT = {"grams": Decimal(1), "ounces": Decimal("28.349523125"), "pounds": Decimal("453.59237"),
                   "kilograms": Decimal(1000)}


@dataclass(frozen=True)
class PlantedCharge:
    """A problem planted in the bill: the label, the 3PL order key (None for an unknown label), the
    variance type reconciliation should report and its amount."""

    tracking_number: str
    order_key: str | None
    variance_type: str
    amount: Decimal


def _kg(weight: Any) -> Decimal:
    if not isinstance(weight, Mapping) or weight.get("value") is None:
        return Decimal(0)
    grams = Decimal(str(weight["value"])) * _GRAMS_PER_UNIT.get(str(weight.get("units") or "grams"), Decimal(1))
    return (grams / 1000).quantize(KG)


def shipped_label_invoice_rows(shipments: Iterable[Mapping[str, Any]], ship_day: date, *, problem_every: int = 5,
                               ) -> tuple[list[dict[str, str]], list[PlantedCharge]]:
    """Invoice rows (dated the day after ``ship_day``) for the live labels shipped on ``ship_day``,
    and the problems planted among them."""
    invoice_day = ship_day + timedelta(days=1)
    number = f"INV-SBX-{invoice_day:%Y%m%d}"
    rows: list[dict[str, str]] = []
    planted: list[PlantedCharge] = []

    def charge(tracking: str, service: str, kind: str, amount: Decimal, billed_kg: Decimal | None) -> dict[str, str]:
        row = {"invoice_number": number, "invoice_date": invoice_day.isoformat(), "tracking_number": tracking,
               "service": service, "billed_weight_kg": "" if billed_kg is None else str(billed_kg),
               "charge_type": kind, "amount": str(amount), "currency": "USD"}
        rows.append(row)
        return row

    labels = sorted((s for s in shipments if not s.get("voided") and s.get("trackingNumber")
                     and str(s.get("shipDate") or "")[:10] == ship_day.isoformat()),
                    key=lambda s: int(s["shipmentId"]))
    for index, shipment in enumerate(labels):
        tracking, key = str(shipment["trackingNumber"]), str(shipment.get("orderKey"))
        service = str(shipment.get("serviceCode") or "ground")
        cost = Decimal(str(shipment.get("shipmentCost") or 0)).quantize(CENT, rounding=ROUND_HALF_UP)
        shipped_kg = _kg(shipment.get("weight"))
        slot = index % problem_every
        billed_kg = shipped_kg.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        if slot == 1 and shipped_kg > 0 and cost > 0:
            billed_kg = (shipped_kg * Decimal("1.35") + Decimal("0.2")).quantize(Decimal("0.001"))
            # What the marts report: the share of the base charge paid for weight never shipped.
            amount = (cost * (billed_kg - shipped_kg) / billed_kg).quantize(CENT, rounding=ROUND_HALF_UP)
            planted.append(PlantedCharge(tracking, key, "weight_overbilled", amount))
        base_row = charge(tracking, service, "base", cost, billed_kg)
        if slot == 2:
            charge(tracking, service, "address_correction", SURCHARGE, None)
            planted.append(PlantedCharge(tracking, key, "unexpected_surcharge", SURCHARGE))
        elif slot == 3 and cost > 0:
            rows.append(dict(base_row))
            planted.append(PlantedCharge(tracking, key, "duplicate_charge", cost))
    if labels:
        unknown = f"1ZUNKNOWN{invoice_day:%Y%m%d}"
        charge(unknown, "ground", "base", UNKNOWN_LABEL_CHARGE, Decimal("1.250"))
        planted.append(PlantedCharge(unknown, None, "charge_without_shipment", UNKNOWN_LABEL_CHARGE))
    return rows, planted


def write_shipped_label_invoices(shipments: Iterable[Mapping[str, Any]], ship_day: date, directory: Path, *,
                                 problem_every: int = 5) -> tuple[dict[str, Path], list[PlantedCharge]]:
    """Write the invoice CSV for the labels shipped on ``ship_day`` into ``directory`` (one file per
    invoice day, ``carrier_invoice_YYYY-MM-DD.csv``); returns the files by day and the planted problems.

    ``shipments`` are ShipStation shipment objects, e.g. ``SandboxServer.shipstation.shipments()``."""
    rows, planted = shipped_label_invoice_rows(shipments, ship_day, problem_every=problem_every)
    return write_daily_invoice_files(rows, Path(directory)), planted
