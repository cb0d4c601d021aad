"""The daily finance report over the three reconciliation marts.

Input: the marts as pandas DataFrames (``reconciliation_order_lines``, ``reconciliation_shipping_cost``,
``reconciliation_variances``), optionally each order's ``created_at`` (the shipping-cost mart has no
date), and the as-of day. Output: a :class:`FinanceReport` (totals, variances by type, daily trends,
the top open variances) that renders to a self-contained HTML page (plots inline as base64 PNG), a
PDF (fpdf2) and a CSV export of the variances. No I/O but the files :func:`write_finance_report`
writes; reading the marts from a warehouse is :mod:`oms_pipeline.reporting.marts`.

Definitions (amounts in the shop currency, rounded to cents for display only):

- ``revenue``: merchandise ordered net of cancelled units (``unit_price * expected_qty``);
- ``shipping_charged``: what customers paid for shipping; ``carrier_billed``: every carrier charge
  on the orders' labels (duplicates included: that is the bill); ``label_cost``: the 3PL's quoted
  label cost; ``planned_cost``: the routing plan's expected cost, where a plan exists;
- ``shipping_margin``: ``shipping_charged - carrier_billed``;
- a variance's status is ``new`` when first seen on or after the report day, else ``open`` (as in
  the mart); a report for a day before the marts' own as-of day leaves out what came later.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

VARIANCE_TYPES = ("unshipped_paid_order", "fulfilled_without_shipment", "quantity_mismatch",
                  "shipment_without_order", "charge_without_shipment", "duplicate_charge", "weight_overbilled",
                  "unexpected_surcharge", "refund_not_reflected")
VARIANCES_CSV_HEADER = ("variance_key", "shop_domain", "order_id", "variance_type", "amount", "detail",
                        "first_seen", "status")
# Totals in display order, with their labels (HTML, PDF and the Dagster metadata use the same keys).
TOTAL_LABELS: dict[str, str] = {
    "orders": "Orders",
    "revenue": "Revenue (merchandise, net of cancellations)",
    "shipping_charged": "Shipping charged to customers",
    "carrier_billed": "Carrier billed",
    "label_cost": "3PL label cost (quoted)",
    "planned_cost": "Planned shipping cost",
    "shipping_margin": "Shipping margin (charged - billed)",
    "variances": "Variances",
    "variance_amount": "Variance amount",
    "new_variances": "New variances (first seen on the day)",
    "resolved_variances": "Resolved since the previous snapshot",
    "resolved_amount": "Resolved amount",
}
COUNT_TOTALS = frozenset({"orders", "variances", "new_variances", "planned_orders", "resolved_variances"})


def _shown_totals(report: FinanceReport) -> list[tuple[str, str]]:
    """(key, label) of the totals the report has (resolved ones only when there was an earlier snapshot)."""
    return [(key, label) for key, label in TOTAL_LABELS.items() if key in report.totals]
HTML_NAME, PDF_NAME, CSV_NAME = "finance_report.html", "finance_report.pdf", "variances.csv"


@dataclass(frozen=True)
class FinanceReport:
    """Everything the report shows, computed from the marts for one as-of day."""

    as_of: date
    marts_as_of: date | None  # the as-of day the marts were built with (their ``as_of`` column)
    currencies: tuple[str, ...]
    totals: dict[str, float | int]
    by_type: pd.DataFrame  # variance_type, count, amount, new (one row per known type, zeros kept)
    daily_variances: pd.DataFrame  # index: day in the trend window; columns: variance types; amounts
    daily_margin: pd.DataFrame | None  # index: order day; shipping_charged, carrier_billed, shipping_margin
    top_open: pd.DataFrame  # the largest variances, with their order, type, amount, detail, first seen
    variances: pd.DataFrame = field(repr=False)  # every variance counted, for the CSV export


@dataclass(frozen=True)
class FinanceReportFiles:
    """Where :func:`write_finance_report` put the report."""

    directory: Path
    html: Path
    pdf: Path
    csv: Path
    plots: dict[str, Path]


def _money(series: pd.Series) -> pd.Series:
    # PostgreSQL hands numerics back as Decimal (object dtype), DuckDB as float: one float view for sums.
    return pd.to_numeric(series, errors="coerce").astype(float).fillna(0.0)


def _days(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce", utc=True).dt.date


def _cents(value: float) -> float:
    return round(float(value), 2) + 0.0  # + 0.0: no "-0.00"


def _orders_on_or_before(frame: pd.DataFrame, created: pd.DataFrame | None, as_of: date | None) -> pd.DataFrame:
    """The rows of orders created on or before ``as_of`` (all rows without a cutoff or order dates)."""
    if created is None or as_of is None or frame.empty:
        return frame
    keep = created.loc[created["created_day"] <= as_of, ["order_id"]].drop_duplicates()
    return frame.merge(keep, on="order_id", how="inner")


def build_finance_report(order_lines: pd.DataFrame, shipping_cost: pd.DataFrame, variances: pd.DataFrame,
                         as_of: date, *, order_dates: pd.DataFrame | None = None, top_n: int = 20,
                         trend_days: int = 30, previous_variances: pd.DataFrame | None = None) -> FinanceReport:
    """The finance report of the marts as of ``as_of``.

    Args:
        order_lines, shipping_cost, variances: the three reconciliation marts (their dbt columns).
        as_of: the report day (a daily partition). When it is before the day the marts were built
            as of (their ``as_of`` column), orders created after it (when ``order_dates`` is given)
            and variances first seen after it are left out, so a past day's report built from
            today's marts shows what was known by then; otherwise the marts are shown whole.
        order_dates: ``order_id`` and ``created_at`` per order; gives the daily shipping-margin trend.
            Without it there is no margin trend and no order is left out by date.
        top_n: how many of the largest variances the top table holds.
        trend_days: the trend window, ending on ``as_of``.
        previous_variances: the variance snapshot of an earlier as-of day; those of its variances
            that are gone now count as resolved (``resolved_variances``, ``resolved_amount``).
    """
    built = _days(variances["as_of"]).dropna() if "as_of" in variances and not variances.empty else None
    marts_as_of = built.max() if built is not None and not built.empty else None
    # Before the day the marts were built as of, rows dated after the report day were not known yet.
    cutoff = as_of if marts_as_of is not None and as_of < marts_as_of else None
    created = None
    if order_dates is not None:
        created = order_dates.assign(created_day=_days(order_dates["created_at"]))[["order_id", "created_day"]]
        created = created.dropna(subset=["created_day"])
    lines = _orders_on_or_before(order_lines, created, cutoff)
    shipping = _orders_on_or_before(shipping_cost, created, cutoff)

    found = variances.copy()
    found["amount"] = _money(found["amount"])
    found["first_seen"] = _days(found["first_seen"])
    if cutoff is not None:
        found = found.loc[found["first_seen"].isna() | (found["first_seen"] <= cutoff)].copy()
    # As the mart says: first seen on (or after) the report day is new, before it still open.
    found["status"] = np.where(found["first_seen"].notna() & (found["first_seen"] >= as_of), "new", "open")
    found = found.sort_values(["amount", "variance_type", "variance_key"], ascending=[False, True, True],
                              kind="mergesort").reset_index(drop=True)

    planned = pd.to_numeric(shipping.get("planned_cost"), errors="coerce") if not shipping.empty else None
    totals: dict[str, float | int] = {
        "orders": int(shipping["order_id"].nunique()) if not shipping.empty else 0,
        "revenue": _cents((_money(lines["unit_price"]) * _money(lines["expected_qty"])).sum()),
        "shipping_charged": _cents(_money(shipping["customer_paid"]).sum()),
        "carrier_billed": _cents(_money(shipping["carrier_billed"]).sum()),
        "label_cost": _cents(_money(shipping["label_cost"]).sum()),
        "planned_cost": _cents(planned.fillna(0).sum()) if planned is not None else 0.0,
        "planned_orders": int(planned.notna().sum()) if planned is not None else 0,
        "shipping_margin": _cents(_money(shipping["shipping_margin"]).sum()),
        "variances": len(found),
        "variance_amount": _cents(found["amount"].sum()),
        "new_variances": int((found["status"] == "new").sum()),
    }
    if previous_variances is not None:
        gone = previous_variances.loc[~previous_variances["variance_key"].isin(found["variance_key"])]
        totals["resolved_variances"] = len(gone)
        totals["resolved_amount"] = _cents(_money(gone["amount"]).sum())

    grouped = found.groupby("variance_type").agg(count=("amount", "size"), amount=("amount", "sum"),
                                                 new=("status", lambda s: int((s == "new").sum())))
    types = list(VARIANCE_TYPES) + sorted(set(grouped.index) - set(VARIANCE_TYPES))
    by_type = grouped.reindex(types, fill_value=0).rename_axis("variance_type").reset_index()
    by_type["count"] = by_type["count"].astype(int)
    by_type["new"] = by_type["new"].astype(int)
    by_type["amount"] = by_type["amount"].astype(float).round(2)

    window = [as_of - timedelta(days=n) for n in range(trend_days - 1, -1, -1)]
    in_window = found.loc[found["first_seen"].isin(window)]
    daily_variances = (in_window.pivot_table(index="first_seen", columns="variance_type", values="amount",
                                             aggfunc="sum", fill_value=0.0)
                       .reindex(index=window, columns=types, fill_value=0.0).fillna(0.0))
    daily_variances.index.name = "day"

    daily_margin = None
    if created is not None:
        per_order = shipping.merge(created, on="order_id", how="inner")
        per_order = per_order.loc[per_order["created_day"].isin(window)]
        daily_margin = (per_order.assign(shipping_charged=_money(per_order["customer_paid"]),
                                         carrier_billed=_money(per_order["carrier_billed"]),
                                         shipping_margin=_money(per_order["shipping_margin"]))
                        .groupby("created_day")[["shipping_charged", "carrier_billed", "shipping_margin"]].sum()
                        .reindex(window, fill_value=0.0))
        daily_margin.index.name = "day"

    currencies = tuple(sorted({str(c) for frame in (lines, shipping) if "currency" in frame
                               for c in frame["currency"].dropna().unique()}))
    top_open = found.head(top_n)[["order_id", "variance_type", "amount", "first_seen", "status", "detail"]]
    return FinanceReport(as_of=as_of, marts_as_of=marts_as_of, currencies=currencies, totals=totals, by_type=by_type,
                         daily_variances=daily_variances, daily_margin=daily_margin,
                         top_open=top_open.reset_index(drop=True), variances=found)


# -- plots ----------------------------------------------------------------------------------------------


def _png(figure: Figure) -> bytes:
    # Agg canvas on a bare Figure: no pyplot global state, safe in threads and long-lived processes.
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _day_labels(days: pd.Index) -> list[str]:
    return [f"{day:%m-%d}" for day in days]


def render_plots(report: FinanceReport) -> dict[str, bytes]:
    """The trend plots as PNG bytes: ``variance_trend`` (daily variance amount by type, stacked) and,
    with order dates, ``margin_trend`` (daily shipping charged, carrier billed and margin)."""
    plots: dict[str, bytes] = {}
    daily = report.daily_variances
    figure = Figure(figsize=(10, 3.6))
    axes = figure.add_subplot()
    x = np.arange(len(daily.index))
    bottom = np.zeros(len(daily.index))
    shown = [t for t in daily.columns if daily[t].sum() > 0]
    for variance_type in shown:
        values = daily[variance_type].to_numpy(dtype=float)
        axes.bar(x, values, bottom=bottom, label=variance_type, width=0.8)
        bottom += values
    if not shown:
        axes.text(0.5, 0.5, "no variances first seen in the window", ha="center", va="center",
                  transform=axes.transAxes)
    axes.set_xticks(x[:: max(1, len(x) // 10)], _day_labels(daily.index)[:: max(1, len(x) // 10)])
    axes.set_title(f"Variance amount by first-seen day and type (to {report.as_of})")
    axes.set_ylabel("amount")
    if shown:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    plots["variance_trend"] = _png(figure)

    if report.daily_margin is not None:
        margin = report.daily_margin
        figure = Figure(figsize=(10, 3.6))
        axes = figure.add_subplot()
        x = np.arange(len(margin.index))
        values = margin["shipping_margin"].to_numpy(dtype=float)
        axes.bar(x, values, color=np.where(values >= 0, "tab:green", "tab:red"), label="shipping margin")
        axes.plot(x, margin["shipping_charged"].to_numpy(dtype=float), marker=".", label="charged to customers")
        axes.plot(x, margin["carrier_billed"].to_numpy(dtype=float), marker=".", label="carrier billed")
        axes.axhline(0, color="black", linewidth=0.6)
        axes.set_xticks(x[:: max(1, len(x) // 10)], _day_labels(margin.index)[:: max(1, len(x) // 10)])
        axes.set_title(f"Daily shipping margin by order day (to {report.as_of})")
        axes.set_ylabel("amount")
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        figure.tight_layout()
        plots["margin_trend"] = _png(figure)
    return plots


# -- HTML -----------------------------------------------------------------------------------------------


def format_amount(value: float) -> str:
    """Money as shown in the report: thousands separators, two decimals (``-1,234.50``)."""
    return f"{float(value):,.2f}"


def format_total(key: str, value: float | int) -> str:
    """A total as shown in the report: counts as integers, money as :func:`format_amount`."""
    return f"{int(value):,}" if key in COUNT_TOTALS else format_amount(value)


def _scope(report: FinanceReport) -> str:
    built = f"Reconciliation marts built as of {report.marts_as_of or 'unknown'}"
    if report.marts_as_of is not None and report.as_of < report.marts_as_of:
        return f"{built}; orders created and variances first seen after {report.as_of} are left out."
    return f"{built}."


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1b1b1b;max-width:1100px}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .6rem;font-size:.9rem}
th{background:#f3f3f3;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666;font-size:.85rem}img{max-width:100%;border:1px solid #eee}
"""


def _cell(value: Any, numeric: bool = False, cls: str | None = None) -> str:
    classes = " ".join(c for c in ("num" if numeric else None, cls) if c)
    attribute = f' class="{classes}"' if classes else ""
    return f"<td{attribute}>{html.escape('' if value is None or value is pd.NA else str(value))}</td>"


def render_html(report: FinanceReport, plots: dict[str, bytes]) -> str:
    """The report as one self-contained HTML page (CSS inline, plots as ``data:`` PNG images).

    Tables carry ids (``totals``, ``by-type``, ``top-open``) and rows ``data-key`` / ``data-type``
    attributes so the page can be read back by a program."""
    currency = ", ".join(report.currencies) or "n/a"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Finance report {report.as_of}</title><style>{_CSS}</style></head><body>",
        f"<h1>Finance report: store, 3PL and carrier reconciliation, {report.as_of}</h1>",
        f'<p class="muted">Amounts in {html.escape(currency)}. {html.escape(_scope(report))} '
        "Shipping margin = shipping charged to customers - carrier billed.</p>",
        "<h2>Totals</h2>", '<table id="totals"><tbody>',
    ]
    for key, label in _shown_totals(report):
        value = report.totals[key]
        extra = f" ({report.totals['planned_orders']} orders planned)" if key == "planned_cost" else ""
        parts.append(f'<tr data-key="{key}"><th>{html.escape(label + extra)}</th>'
                     f"{_cell(format_total(key, value), numeric=True, cls='value')}</tr>")
    parts += ["</tbody></table>", "<h2>Variances by type</h2>",
              '<table id="by-type"><thead><tr><th>Type</th><th>Count</th><th>New</th><th>Amount</th></tr></thead>'
              "<tbody>"]
    for row in report.by_type.itertuples(index=False):
        parts.append(f'<tr data-type="{html.escape(row.variance_type)}">{_cell(row.variance_type)}'
                     f"{_cell(row.count, True, 'count')}{_cell(row.new, True, 'new')}"
                     f"{_cell(format_amount(row.amount), True, 'amount')}</tr>")
    parts.append(f'<tr data-type="total"><th>Total</th>{_cell(report.totals["variances"], True, "count")}'
                 f"{_cell(report.totals['new_variances'], True, 'new')}"
                 f"{_cell(format_amount(report.totals['variance_amount']), True, 'amount')}</tr>")
    parts += ["</tbody></table>", "<h2>Trends</h2>"]
    for name, png in plots.items():
        encoded = base64.b64encode(png).decode("ascii")
        parts.append(f'<p><img id="{name}" alt="{name}" src="data:image/png;base64,{encoded}"></p>')
    if report.daily_margin is None:
        parts.append('<p class="muted">No order dates: the daily shipping-margin trend is not drawn.</p>')
    parts += [f"<h2>Top open variances ({len(report.top_open)} of {report.totals['variances']})</h2>",
              '<table id="top-open"><thead><tr><th>Order</th><th>Type</th><th>Amount</th><th>First seen</th>'
              "<th>Status</th><th>Detail</th></tr></thead><tbody>"]
    for row in report.top_open.itertuples(index=False):
        order = row.order_id if isinstance(row.order_id, str) and row.order_id else "(none)"
        parts.append(f"<tr>{_cell(order)}{_cell(row.variance_type)}{_cell(format_amount(row.amount), True)}"
                     f"{_cell(row.first_seen if pd.notna(row.first_seen) else '')}{_cell(row.status)}"
                     f"{_cell(row.detail)}</tr>")
    parts += ["</tbody></table>", f'<p class="muted">Every variance: {CSV_NAME} beside this page.</p>',
              "</body></html>"]
    return "\n".join(parts)


# -- PDF ------------------------------------------------------------------------------------------------


def _latin1(text: Any) -> str:
    # The PDF core fonts are Latin-1: anything else prints as "?" rather than failing the report.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def render_pdf(report: FinanceReport, plots: dict[str, bytes]) -> bytes:
    """The report as an A4 PDF: totals, variances by type, the plots and the top open variances."""
    from fpdf import FPDF  # imported here: only the report needs it

    pdf = FPDF(orientation="portrait", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(f"Finance report {report.as_of}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _latin1(f"Finance report: reconciliation, {report.as_of}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin1(f"Amounts in {', '.join(report.currencies) or 'n/a'}. {_scope(report)}"),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    def heading(text: str) -> None:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)

    heading("Totals")
    with pdf.table(col_widths=(110, 50), width=160, align="LEFT", text_align=("LEFT", "RIGHT"),
                   first_row_as_headings=False) as table:
        for key, label in _shown_totals(report):
            row = table.row()
            row.cell(_latin1(label))
            row.cell(format_total(key, report.totals[key]))
    pdf.ln(3)
    heading("Variances by type")
    with pdf.table(col_widths=(70, 25, 25, 40), width=160, align="LEFT",
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")) as table:
        header = table.row()
        for title in ("Type", "Count", "New", "Amount"):
            header.cell(title)
        for item in report.by_type.itertuples(index=False):
            row = table.row()
            for value in (item.variance_type, str(item.count), str(item.new), format_amount(item.amount)):
                row.cell(_latin1(value))
        row = table.row()
        for value in ("Total", str(report.totals["variances"]), str(report.totals["new_variances"]),
                      format_amount(report.totals["variance_amount"])):
            row.cell(value)
    for png in plots.values():
        pdf.ln(3)
        pdf.image(io.BytesIO(png), w=180)
    pdf.add_page()
    heading(f"Top open variances ({len(report.top_open)} of {report.totals['variances']})")
    with pdf.table(col_widths=(28, 38, 18, 20, 12, 74), text_align=("LEFT", "LEFT", "RIGHT", "LEFT", "LEFT",
                                                                    "LEFT")) as table:
        header = table.row()
        for title in ("Order", "Type", "Amount", "First seen", "Status", "Detail"):
            header.cell(title)
        for item in report.top_open.itertuples(index=False):
            row = table.row()
            order = item.order_id if isinstance(item.order_id, str) and item.order_id else "(none)"
            first = str(item.first_seen) if pd.notna(item.first_seen) else ""
            detail = str(item.detail)
            for value in (order, item.variance_type, format_amount(item.amount), first, item.status,
                          detail if len(detail) <= 90 else detail[:87] + "..."):
                row.cell(_latin1(value))
    return bytes(pdf.output())


# -- files ----------------------------------------------------------------------------------------------


def write_variances_csv(report: FinanceReport, path: Path) -> int:
    """The CSV export: every variance counted by the report, largest first; returns the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(VARIANCES_CSV_HEADER)
        for row in report.variances.itertuples(index=False):
            values = row._asdict()
            writer.writerow([
                "" if values.get(column) is None or pd.isna(values.get(column)) else
                (f"{values[column]:.2f}" if column == "amount" else values[column])
                for column in VARIANCES_CSV_HEADER])
    return len(report.variances)


def write_finance_report(report: FinanceReport, directory: Path) -> FinanceReportFiles:
    """Write the HTML page, the PDF, the variances CSV and the plot PNGs into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    plots = render_plots(report)
    plot_paths: dict[str, Path] = {}
    for name, png in plots.items():
        plot_paths[name] = directory / f"{name}.png"
        plot_paths[name].write_bytes(png)
    html_path, pdf_path, csv_path = directory / HTML_NAME, directory / PDF_NAME, directory / CSV_NAME
    html_path.write_text(render_html(report, plots), encoding="utf-8")
    pdf_path.write_bytes(render_pdf(report, plots))
    write_variances_csv(report, csv_path)
    return FinanceReportFiles(directory=directory, html=html_path, pdf=pdf_path, csv=csv_path, plots=plot_paths)


def summary_markdown(report: FinanceReport) -> str:
    """Totals and variances by type as a Markdown table (Dagster metadata)."""
    lines = [f"**Finance report {report.as_of}** ({', '.join(report.currencies) or 'n/a'})", "",
             "| Total | Value |", "|---|---:|"]
    lines += [f"| {label} | {format_total(key, report.totals[key])} |" for key, label in _shown_totals(report)]
    lines += ["", "| Variance type | Count | New | Amount |", "|---|---:|---:|---:|"]
    lines += [f"| {row.variance_type} | {row.count} | {row.new} | {format_amount(row.amount)} |"
              for row in report.by_type.itertuples(index=False) if row.count]
    return "\n".join(lines)
