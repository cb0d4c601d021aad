"""Read the reconciliation marts from a warehouse and write the finance report from them.

The adapter half of the finance report: :mod:`oms_pipeline.reporting.finance` computes and renders,
this module runs the queries (DuckDB or PostgreSQL, the dbt schema ``analytics`` by default) and the
file-based entry that ``oms reconcile --report-dir`` uses.
"""

from __future__ import annotations

import re
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
    """The three marts (the variances as one day's snapshot), and each order's creation time (from the
    dbt staging view of orders)."""

    order_lines: pd.DataFrame
    shipping_cost: pd.DataFrame
    variances: pd.DataFrame
    order_dates: pd.DataFrame
    marts_as_of: date | None  # the day of the variance snapshot read (the ``as_of`` it was built with)
    previous_variances: pd.DataFrame | None = None  # the snapshot before it, when there is one


def _snapshot_days(conn: sa.Connection, schema: str) -> list[date]:
    days = pd.read_sql_query(sa.text(f"select distinct as_of from {schema}.reconciliation_variances"), conn)
    return sorted(pd.to_datetime(days["as_of"]).dt.date)


def read_finance_marts(engine: Engine, schema: str = DEFAULT_DBT_SCHEMA, as_of: date | None = None) -> FinanceMarts:
    """The marts as DataFrames, read from ``schema`` (where dbt builds them).

    The variances mart keeps one snapshot per as-of day: this reads the one of ``as_of`` (or, when that
    day was not built, the latest before it; the latest of all without ``as_of``) and the one before it.
    """
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"not a plain schema name: {schema!r}")  # it goes into SQL text
    frames: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for mart in FINANCE_MARTS[:2]:
            frames[mart] = pd.read_sql_query(sa.text(f"select * from {schema}.{mart}"), conn)
        days = _snapshot_days(conn, schema)
        candidates = [d for d in days if as_of is None or d <= as_of]
        chosen = candidates[-1] if candidates else None
        before = candidates[-2] if len(candidates) > 1 else None

        def snapshot(day: date | None) -> pd.DataFrame:
            query = f"select * from {schema}.reconciliation_variances where as_of = :day"
            if day is None:  # an empty frame with the mart's columns
                query = f"select * from {schema}.reconciliation_variances where 1 = 0"
            return pd.read_sql_query(sa.text(query), conn, params={"day": day} if day else None)

        variances = snapshot(chosen)
        previous = snapshot(before) if before is not None else None
        order_dates = pd.read_sql_query(
            sa.text(f"select shop_domain, order_id, created_at from {schema}.stg_warehouse__orders"), conn)
    return FinanceMarts(order_lines=frames["reconciliation_order_lines"],
                        shipping_cost=frames["reconciliation_shipping_cost"], variances=variances,
                        order_dates=order_dates, marts_as_of=chosen, previous_variances=previous)


def finance_report_from_marts(marts: FinanceMarts, as_of: date, **options: Any) -> FinanceReport:
    """:func:`~oms_pipeline.reporting.finance.build_finance_report` over marts read from a warehouse."""
    return build_finance_report(marts.order_lines, marts.shipping_cost, marts.variances, as_of,
                                order_dates=marts.order_dates, previous_variances=marts.previous_variances,
                                **options)


def write_report_from_warehouse(warehouse_url: str, as_of: date, out_dir: Path,
                                schema: str = DEFAULT_DBT_SCHEMA) -> tuple[FinanceReport, FinanceReportFiles]:
    """Read the marts from ``warehouse_url`` and write the report files into ``out_dir``."""
    engine = sa.create_engine(warehouse_url)
    try:
        marts = read_finance_marts(engine, schema, as_of)
    finally:
        engine.dispose()  # DuckDB: let go of the file for the next writer
    report = finance_report_from_marts(marts, as_of)
    return report, write_finance_report(report, Path(out_dir))


