"""Read the reconciliation marts from a warehouse and write the finance report from them.

The adapter half of the finance report: :mod:`oms_pipeline.reporting.finance` computes and renders,
this module runs the queries (DuckDB or PostgreSQL, the dbt schema ``analytics`` by default) and the
file-based entry that ``oms reconcile --report-dir`` uses.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.reporting.finance import (
    FinanceReport,
    FinanceReportFiles,
    build_finance_report,
    write_finance_report,
)

DEFAULT_DBT_SCHEMA = "analytics"
FINANCE_MARTS = ("reconciliation_order_lines", "reconciliation_shipping_cost", "reconciliation_variances")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FinanceMarts:
    """The three marts, and each order's creation time (from the dbt staging view of orders)."""

    order_lines: pd.DataFrame
    shipping_cost: pd.DataFrame
    variances: pd.DataFrame
    order_dates: pd.DataFrame
    marts_as_of: date | None  # the ``as_of`` var the variances mart was built with


def read_finance_marts(engine: Engine, schema: str = DEFAULT_DBT_SCHEMA) -> FinanceMarts:
    """The marts as DataFrames, read from ``schema`` (where dbt builds them)."""
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"not a plain schema name: {schema!r}")  # it goes into SQL text
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for mart in FINANCE_MARTS:
            frames[mart] = pd.read_sql_query(sa.text(f"select * from {schema}.{mart}"), conn)
        order_dates = pd.read_sql_query(
            sa.text(f"select shop_domain, order_id, created_at from {schema}.stg_warehouse__orders"), conn)
    variances = frames["reconciliation_variances"]
    built = pd.to_datetime(variances["as_of"], errors="coerce").dropna() if "as_of" in variances else None
    marts_as_of = built.max().date() if built is not None and not built.empty else None
    return FinanceMarts(order_lines=frames["reconciliation_order_lines"],
                        shipping_cost=frames["reconciliation_shipping_cost"], variances=variances,
                        order_dates=order_dates, marts_as_of=marts_as_of)


def finance_report_from_marts(marts: FinanceMarts, as_of: date, **options: Any) -> FinanceReport:
    """:func:`~oms_pipeline.reporting.finance.build_finance_report` over marts read from a warehouse."""
    return build_finance_report(marts.order_lines, marts.shipping_cost, marts.variances, as_of,
                                order_dates=marts.order_dates, **options)


def write_report_from_warehouse(warehouse_url: str, as_of: date, out_dir: Path,
                                schema: str = DEFAULT_DBT_SCHEMA) -> tuple[FinanceReport, FinanceReportFiles]:
    """Read the marts from ``warehouse_url`` and write the report files into ``out_dir``."""
    engine = sa.create_engine(warehouse_url)
    try:
        marts = read_finance_marts(engine, schema)
    finally:
        engine.dispose()  # DuckDB: let go of the file for the next writer
    report = finance_report_from_marts(marts, as_of)
    return report, write_finance_report(report, Path(out_dir))


def reconcile_with_report(orders_jsonl: Path, shipments_json: Path, invoices_csv: Path, as_of: date,
                          out_csv: Path, report_dir: Path, *, work_dir: Path | None = None,
                          promise_days: int | None = None) -> dict[str, Any]:
    """:func:`~oms_pipeline.offline.reconcile.reconcile_files`, then the finance report of the same marts.

    The scratch warehouse (``reconcile.duckdb``) lives in ``work_dir`` when given, else in a
    temporary directory kept until the report is written. The summary gains ``report`` (paths of
    the HTML, PDF and CSV) and ``report_totals``.
    """
    from oms_pipeline.offline.reconcile import DBT_SCHEMA, reconcile_files

    with tempfile.TemporaryDirectory(prefix="oms-reconcile-report-") as scratch:
        base = Path(work_dir) if work_dir else Path(scratch)
        summary = reconcile_files(orders_jsonl, shipments_json, invoices_csv, as_of, out_csv,
                                  work_dir=base, promise_days=promise_days)
        report, files = write_report_from_warehouse(f"duckdb:///{base / 'reconcile.duckdb'}", as_of,
                                                    Path(report_dir), DBT_SCHEMA)
    return {**summary, "report": {"html": str(files.html), "pdf": str(files.pdf), "csv": str(files.csv)},
            "report_totals": report.totals}
