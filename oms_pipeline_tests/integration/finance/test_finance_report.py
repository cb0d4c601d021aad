"""The finance report rendered from real marts (seeded data through the dbt models), then read back."""

from __future__ import annotations

import base64
import csv
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from oms_pipeline.reporting.finance import (
    TOTAL_LABELS,
    VARIANCE_TYPES,
    VARIANCES_CSV_HEADER,
    build_finance_report,
    write_finance_report,
)
from oms_pipeline.reporting.marts import finance_report_from_marts
from oms_pipeline_tests.support.reconciled import ORDERS


class ReportReader(HTMLParser):
    """Collects the report's machine-readable rows: totals by key, variance rows by type, images."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[str, str] = {}
        self.by_type: dict[str, dict[str, str]] = {}
        self.images: dict[str, str] = {}
        self.top_rows: list[list[str]] = []
        self._table: str | None = None
        self._row: tuple[str, str] | None = None
        self._cell: str | None = None
        self._top: list[str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._table = attributes.get("id")
        elif tag == "tr" and self._table == "totals" and attributes.get("data-key"):
            self._row = ("totals", attributes["data-key"] or "")
        elif tag == "tr" and self._table == "by-type" and attributes.get("data-type"):
            self._row = ("by-type", attributes["data-type"] or "")
            self.by_type[self._row[1]] = {}
        elif tag == "tr" and self._table == "top-open":
            self._top = []
        elif tag == "td":
            self._cell, self._text = (attributes.get("class") or ""), ""
        elif tag == "img":
            self.images[attributes.get("id") or ""] = attributes.get("src") or ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            text = self._text.strip()
            if self._row and self._row[0] == "totals":
                self.totals[self._row[1]] = text
            elif self._row and self._row[0] == "by-type":
                self.by_type[self._row[1]][self._cell.replace("num", "").strip()] = text
            elif self._top is not None:
                self._top.append(text)
            self._cell = None
        elif tag == "tr":
            if self._top:
                self.top_rows.append(self._top)
            self._row, self._top = None, None
        elif tag == "table":
            self._table = None


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _cents(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2))).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def written(reconciled, tmp_path_factory):
    report = finance_report_from_marts(reconciled.marts, reconciled.data.as_of)
    files = write_finance_report(report, tmp_path_factory.mktemp("report"))
    reader = ReportReader()
    reader.feed(files.html.read_text(encoding="utf-8"))
    return report, files, reader


def test_html_totals_match_the_marts(reconciled, written):
    _, _, page = written
    marts = reconciled.marts
    shipping = marts.shipping_cost
    lines = marts.order_lines
    expected = {
        "orders": Decimal(len(shipping)),
        "revenue": _cents((pd.to_numeric(lines["unit_price"]).fillna(0) * lines["expected_qty"]).sum()),
        "shipping_charged": _cents(pd.to_numeric(shipping["customer_paid"]).sum()),
        "carrier_billed": _cents(pd.to_numeric(shipping["carrier_billed"]).sum()),
        "label_cost": _cents(pd.to_numeric(shipping["label_cost"]).sum()),
        "shipping_margin": _cents(pd.to_numeric(shipping["shipping_margin"]).sum()),
        "variances": Decimal(len(marts.variances)),
        "variance_amount": _cents(pd.to_numeric(marts.variances["amount"]).sum()),
    }
    # A single snapshot: nothing to have been resolved since an earlier one.
    assert set(page.totals) == set(TOTAL_LABELS) - {"resolved_variances", "resolved_amount"}
    for key, value in expected.items():
        assert _number(page.totals[key]) == value, key
    # Margin is what customers paid for shipping minus what the carrier billed.
    assert expected["shipping_margin"] == expected["shipping_charged"] - expected["carrier_billed"]
    assert expected["orders"] == ORDERS


def test_html_amounts_by_type_match_the_marts_and_the_planted_truth(reconciled, written):
    _, _, page = written
    variances = reconciled.marts.variances
    counts = variances.groupby("variance_type").size()
    amounts = pd.to_numeric(variances["amount"]).groupby(variances["variance_type"]).sum()
    planted: dict[str, Decimal] = defaultdict(Decimal)
    for truth in reconciled.data.truth:
        planted[truth.variance_type] += truth.amount
    assert set(VARIANCE_TYPES) <= set(page.by_type)
    for variance_type in VARIANCE_TYPES:
        row = page.by_type[variance_type]
        assert int(row["count"]) == int(counts.get(variance_type, 0)), variance_type
        assert _number(row["amount"]) == _cents(amounts.get(variance_type, 0.0)), variance_type
        # Every planted problem is a variance of its type, with its amount: the report shows the planted sum.
        assert _number(row["amount"]) == planted[variance_type], variance_type
        assert int(row["count"]) > 0, variance_type
    assert _number(page.by_type["total"]["amount"]) == _cents(pd.to_numeric(variances["amount"]).sum())


def test_html_is_self_contained_with_plots_and_top_variances(written):
    report, _, page = written
    assert set(page.images) == {"variance_trend", "margin_trend"}
    for src in page.images.values():
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(page.top_rows) == min(20, report.totals["variances"])
    top_amounts = [_number(row[2]) for row in page.top_rows]
    assert top_amounts == sorted(top_amounts, reverse=True)
    assert top_amounts[0] == _cents(report.variances["amount"].max())


def test_pdf_and_csv_export(reconciled, written):
    report, files, _ = written
    content = files.pdf.read_bytes()
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    assert content.count(b"/Type /Page\n") + content.count(b"/Type /Page/") + content.count(b"/Type /Page ") >= 2
    with files.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == VARIANCES_CSV_HEADER
    assert len(rows) - 1 == len(reconciled.marts.variances)
    assert sorted(row[0] for row in rows[1:]) == sorted(reconciled.marts.variances["variance_key"])
    for name, path in files.plots.items():
        assert path.read_bytes()[:4] == b"\x89PNG", name


def test_a_past_day_shows_only_what_was_known_then(reconciled):
    marts = reconciled.marts
    day = reconciled.data.as_of - timedelta(days=12)
    report = build_finance_report(marts.order_lines, marts.shipping_cost, marts.variances, day,
                                  order_dates=marts.order_dates, trend_days=7)
    seen = pd.to_datetime(marts.variances["first_seen"]).dt.date
    created = pd.to_datetime(marts.order_dates["created_at"], utc=True).dt.date
    assert report.totals["variances"] == int((seen <= day).sum()) < len(marts.variances)
    assert report.totals["orders"] == int((created <= day).sum()) < len(marts.shipping_cost)
    assert report.totals["new_variances"] == int((seen == day).sum())
    assert list(report.daily_variances.index) == [day - timedelta(days=n) for n in range(6, -1, -1)]
    assert report.daily_margin is not None and report.daily_margin.index[-1] == day


def test_without_order_dates_there_is_no_margin_trend(reconciled, tmp_path: Path):
    marts = reconciled.marts
    report = build_finance_report(marts.order_lines, marts.shipping_cost, marts.variances, reconciled.data.as_of)
    files = write_finance_report(report, tmp_path)
    assert set(files.plots) == {"variance_trend"}
    assert report.totals["orders"] == len(marts.shipping_cost)
    assert "daily shipping-margin trend is not drawn" in files.html.read_text(encoding="utf-8")


def test_pdf_text_holds_the_totals_and_types(written):
    pdfium = pytest.importorskip("pypdfium2")  # a reader, only to check the PDF's text
    report, files, page = written
    document = pdfium.PdfDocument(str(files.pdf))
    try:
        text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    assert f"Finance report: reconciliation, {report.as_of}" in text
    assert f"Shipping margin (charged - billed) {page.totals['shipping_margin']}" in text
    for variance_type in VARIANCE_TYPES:
        row = page.by_type[variance_type]
        assert f"{variance_type} {row['count']} {row['new']} {row['amount']}" in text
    assert "Top open variances" in text
