"""One dbt build of the reconciliation marts over seeded data, shared by the finance tests (the root conftest's
session fixture ``reconciled`` builds it once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from oms_pipeline.reporting.marts import FinanceMarts, read_finance_marts
from oms_pipeline.sandbox.reconciliation_data import ReconciliationData, write_reconciliation_files
from oms_pipeline.services.reconcile_files import DBT_SCHEMA, reconcile_with_report

ORDERS = 240
SEED = 11


@dataclass(frozen=True)
class Reconciled:
    """The seeded inputs, the warehouse the marts were built in, and the marts read back."""

    data: ReconciliationData
    inputs: tuple[Path, Path, Path]
    warehouse_url: str
    marts: FinanceMarts
    variances_csv: Path
    summary: dict[str, Any]  # what reconcile_with_report returned


def reconcile_seeded(base: Path) -> Reconciled:
    """Seeded orders/shipments/invoices with planted problems in ``base``, reconciled by the dbt models."""
    data, paths = write_reconciliation_files(ORDERS, base / "inputs", seed=SEED)
    out = base / "VARIANCES.csv"
    # The file-based entry of `oms reconcile --report-dir`: VARIANCES.csv, then the report of the same marts.
    summary = reconcile_with_report(*paths, data.as_of, out, base / "report", work_dir=base / "work")
    url = f"duckdb:///{base / 'work' / 'reconcile.duckdb'}"
    engine = sa.create_engine(url)
    try:
        marts = read_finance_marts(engine, DBT_SCHEMA)
    finally:
        engine.dispose()
    return Reconciled(data=data, inputs=tuple(paths), warehouse_url=url, marts=marts, variances_csv=out,
                      summary=summary)
