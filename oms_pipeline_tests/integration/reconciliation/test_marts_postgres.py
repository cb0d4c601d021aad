"""The reconciliation marts build on PostgreSQL and find the planted discrepancies there too."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from oms_pipeline.defs.dbt.resources import make_dbt_resource
from oms_pipeline.sandbox.reconciliation_data import generate_reconciliation_data
from oms_pipeline.services.reconcile_files import (
    FILE_SCOPE,
    RECONCILIATION_MARTS,
    load_invoices,
    load_orders,
    load_shipments,
)
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse

pytestmark = pytest.mark.usefixtures("restore_dbt_env")


def _decision(order_id: str, trace_id: str, decided_at: datetime) -> dict:
    return {"shop_domain": "offline.myshopify.com", "order_id": order_id, "order_fingerprint": "f", "order_name": "#1",
            "order_updated_at": decided_at, "outcome": "auto", "state": "planned", "reasons": "[]",
            "hold_reasons": "[]", "rules_version": "r1", "fraud_score": 0.0, "fraud_reasons": "[]",
            "fraud_model_version": "m1", "note_tags": "[]", "notes_engine": "local", "confidence": 1.0,
            "planned_units": 1, "ordered_units": 1, "ordered_by_sku": "{}", "trace_id": trace_id,
            "decided_at": decided_at, "run_id": "t"}


def _planned(order_id: str, trace_id: str, sku: str, cost: float) -> dict:
    return {"shop_domain": "offline.myshopify.com", "order_id": order_id, "trace_id": trace_id, "location_id": "L1",
            "service_id": "ground", "sku": sku, "quantity": 1, "stock_at_location": 5, "shipment_cost": cost,
            "transit_days": 2, "reason": "nearest", "run_id": "t"}


@pytest.mark.postgres
def test_reconciliation_marts_on_postgresql(postgres_schema_url: str, tmp_path):
    data = generate_reconciliation_data(120, seed=4)
    orders, shipments, invoices = data.write(tmp_path)
    wh = Warehouse(postgres_schema_url)
    wh.migrate()
    assert load_orders(wh, orders)[0] == 120
    load_shipments(wh, shipments)
    load_invoices(wh, invoices)
    # Two decisions on one order: only the latest plan's cost counts, once per shipment.
    planned_order = data.clean_order_ids[0]
    day = datetime(2025, 3, 20, tzinfo=UTC)
    with wh.engine.begin() as conn:
        conn.execute(sa.insert(schema.order_decisions), [_decision(planned_order, "old", day),
                                                         _decision(planned_order, "new", day + timedelta(hours=1))])
        conn.execute(sa.insert(schema.planned_shipments), [_planned(planned_order, "old", "A", 99.0),
                                                           _planned(planned_order, "new", "A", 8.125),
                                                           _planned(planned_order, "new", "B", 8.125)])
    wh.dispose()
    output_schema = f"oms_recon_{uuid.uuid4().hex[:10]}"
    try:
        dbt = make_dbt_resource(postgres_schema_url, "postgres", schema=output_schema)
        args = ["build", "--select", " ".join(f"+{m}" for m in RECONCILIATION_MARTS),
                "--vars", json.dumps({"as_of": data.as_of.isoformat(), **FILE_SCOPE})]
        invocation = dbt.cli(args, raise_on_error=False).wait()
        assert invocation.is_successful(), invocation.get_error()
        engine = sa.create_engine(postgres_schema_url, poolclass=sa.NullPool)
        with engine.connect() as conn:
            found = Counter((order_id, kind, Decimal(amount)) for order_id, kind, amount in conn.execute(sa.text(
                f"select order_id, variance_type, amount from {output_schema}.reconciliation_variances")))
            planned = conn.execute(sa.text(
                f"select planned_cost from {output_schema}.reconciliation_shipping_cost where order_id = :o"),
                {"o": planned_order}).scalar_one()
            lines = conn.execute(sa.text(f"select count(*) from {output_schema}.reconciliation_order_lines")).scalar()
        engine.dispose()
        assert found == Counter((v.order_id, v.variance_type, v.amount) for v in data.truth)
        assert Decimal(planned) == Decimal("8.13")
        assert lines > 120
        # The next day's build (incremental, delete+insert on as_of) adds its snapshot and keeps this one.
        next_day = data.as_of + timedelta(days=1)
        args[-1] = json.dumps({"as_of": next_day.isoformat(), **FILE_SCOPE})
        invocation = dbt.cli(args, raise_on_error=False).wait()
        assert invocation.is_successful(), invocation.get_error()
        with engine.connect() as conn:
            per_day = dict(conn.execute(sa.text(
                f"select as_of, count(*) from {output_schema}.reconciliation_variances group by as_of")).all())
        engine.dispose()
        assert per_day[data.as_of] == len(data.truth)
        assert set(per_day) == {data.as_of, next_day} and per_day[next_day] >= per_day[data.as_of]
    finally:
        engine = sa.create_engine(postgres_schema_url, poolclass=sa.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'drop schema if exists "{output_schema}" cascade')
        engine.dispose()
