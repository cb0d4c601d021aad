"""The finance report read from marts built on PostgreSQL (numerics come back as Decimal there)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from decimal import Decimal

import pytest
import sqlalchemy as sa

from oms_pipeline.defs.dbt.resources import make_dbt_resource
from oms_pipeline.reporting.finance import VARIANCE_TYPES, write_finance_report
from oms_pipeline.reporting.marts import finance_report_from_marts, read_finance_marts
from oms_pipeline.sandbox.reconciliation_data import generate_reconciliation_data
from oms_pipeline.services.reconcile_files import (
    FILE_SCOPE,
    RECONCILIATION_MARTS,
    load_invoices,
    load_orders,
    load_shipments,
)
from oms_pipeline.storage.warehouse import Warehouse


@pytest.mark.postgres
def test_finance_report_on_postgresql_marts(postgres_schema_url: str, tmp_path, restore_dbt_env):
    data = generate_reconciliation_data(80, seed=21)
    orders, shipments, invoices = data.write(tmp_path / "inputs")
    wh = Warehouse(postgres_schema_url)
    wh.migrate()
    load_orders(wh, orders)
    load_shipments(wh, shipments)
    load_invoices(wh, invoices)
    wh.dispose()
    output_schema = f"oms_fin_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(postgres_schema_url, poolclass=sa.NullPool)
    try:
        dbt = make_dbt_resource(postgres_schema_url, "postgres", schema=output_schema)
        args = ["build", "--select", " ".join(f"+{m}" for m in RECONCILIATION_MARTS),
                "--vars", json.dumps({"as_of": data.as_of.isoformat(), **FILE_SCOPE})]
        invocation = dbt.cli(args, raise_on_error=False).wait()
        assert invocation.is_successful(), invocation.get_error()
        marts = read_finance_marts(engine, output_schema)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {output_schema} cascade")
        engine.dispose()
    assert marts.marts_as_of == data.as_of
    report = finance_report_from_marts(marts, data.as_of)
    files = write_finance_report(report, tmp_path / "report")
    planted: dict[str, Decimal] = defaultdict(Decimal)
    for truth in data.truth:
        planted[truth.variance_type] += truth.amount
    by_type = report.by_type.set_index("variance_type")
    for variance_type in VARIANCE_TYPES:
        assert Decimal(str(by_type.loc[variance_type, "amount"])) == planted[variance_type], variance_type
    assert report.totals["orders"] == 80
    assert report.totals["shipping_margin"] == pytest.approx(
        report.totals["shipping_charged"] - report.totals["carrier_billed"], abs=0.005)
    assert files.pdf.read_bytes().startswith(b"%PDF-")
    assert set(files.plots) == {"variance_trend", "margin_trend"}
