"""The reconciliation marts as daily partitions: each as-of day sees only what was known by its end, keeps
its own variance snapshot, and the live scope counts only the orders handed to the 3PL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from dagster import materialize

from oms_pipeline.defs.dbt.assets import (
    build_reconciliation_dbt_models,
    reconciliation_day_partitions,
    warehouse_dbt_models,
)
from oms_pipeline.defs.dbt.resources import make_dbt_resource
from oms_pipeline.defs.reconciliation.resources import ReconciliationResource
from oms_pipeline.reporting.marts import finance_report_from_marts, read_finance_marts
from oms_pipeline.resources import WarehouseResource
from oms_pipeline.sandbox.reconciliation_data import write_reconciliation_files
from oms_pipeline.services.reconcile_files import OFFLINE_SHOP, load_invoices, load_orders, load_shipments
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse

SEED = 5
ORDERS = 160


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory, restore_dbt_env_module):
    """Planted reconciliation inputs in a warehouse, two of the fulfilled-without-shipment orders handed to
    the 3PL through the gateway; the reconciliation models built for a backfill of two days, then for a
    third day on its own."""
    base = tmp_path_factory.mktemp("partitions")
    data, (orders, shipments, invoices) = write_reconciliation_files(ORDERS, base / "inputs", seed=SEED)
    url = f"duckdb:///{base / 'warehouse.duckdb'}"
    wh = Warehouse(url)
    wh.migrate()
    load_orders(wh, orders)
    load_shipments(wh, shipments)
    load_invoices(wh, invoices)
    unshipped = [t.order_id for t in data.truth if t.variance_type == "fulfilled_without_shipment"]
    handed_off = unshipped[:2]
    # Handed off before any as-of day built below (orders are placed in the 30 days before data.as_of).
    at = datetime.combine(data.as_of - timedelta(days=30), datetime.min.time(), UTC)
    with wh.engine.begin() as conn:
        conn.execute(sa.insert(schema.writeback_ledger), [
            {"idempotency_key": f"handoff-{order_id}", "shop_domain": OFFLINE_SHOP, "order_id": order_id,
             "workflow": "fulfillment_handoff", "action": "handoff_to_3pl", "payload_sha256": "0" * 64,
             "status": "done", "attempts": 1, "external_ref": f"ss-{order_id}", "detail": None,
             "created_at": at, "completed_at": at}
            for order_id in handed_off])
    wh.dispose()
    resources = {"dbt": make_dbt_resource(url), "warehouse": WarehouseResource(url=url),
                 "reconciliation": ReconciliationResource(carrier_invoice_dir=str(base / "inbox"))}
    assert materialize([warehouse_dbt_models], resources=resources).success
    days = [data.as_of - timedelta(days=12), data.as_of - timedelta(days=11), data.as_of + timedelta(days=7)]
    models = build_reconciliation_dbt_models(reconciliation_day_partitions("2025-01-01"))
    backfill = materialize([models], resources=resources, tags={
        "dagster/asset_partition_range_start": days[0].isoformat(),
        "dagster/asset_partition_range_end": days[1].isoformat()})
    assert backfill.success
    single = materialize([models], resources=resources, partition_key=days[2].isoformat())
    assert single.success
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        variances = pd.read_sql_query(sa.text("select * from analytics.reconciliation_variances"), conn)
    variances["as_of"] = pd.to_datetime(variances["as_of"]).dt.date
    variances["first_seen"] = pd.to_datetime(variances["first_seen"]).dt.date
    return {"data": data, "url": url, "engine": engine, "days": days, "variances": variances,
            "handed_off": handed_off, "unshipped": unshipped, "backfill": backfill}


def test_each_day_keeps_its_own_snapshot(partitioned):
    variances, days = partitioned["variances"], partitioned["days"]
    assert set(variances["as_of"]) == set(days)
    counts = variances.groupby("as_of").size()
    # Later days know more invoices, shipments and overdue orders.
    assert counts[days[0]] < counts[days[2]]
    # One materialization per model covers the backfill's two days.
    events = partitioned["backfill"].get_asset_materialization_events()
    assert {e.asset_key.to_user_string() for e in events} >= {"reconciliation_variances"}


def test_a_day_sees_nothing_dated_after_it(partitioned):
    variances = partitioned["variances"]
    dated = variances.dropna(subset=["first_seen"])
    assert not dated.empty
    assert (dated["first_seen"] <= dated["as_of"]).all()
    # And the status says whether it first held on that very day.
    new = variances["first_seen"] == variances["as_of"]
    assert (variances.loc[new, "status"] == "new").all()
    assert (variances.loc[variances["first_seen"] < variances["as_of"], "status"] == "open").all()


def test_only_orders_handed_to_the_3pl_are_missing_3pl_shipments(partitioned):
    last = partitioned["variances"].query("as_of == @partitioned['days'][2]")
    flagged = set(last.loc[last["variance_type"] == "fulfilled_without_shipment", "order_id"])
    # The others were fulfilled by the store's own locations as far as the pipeline knows.
    assert flagged == set(partitioned["handed_off"])
    assert len(partitioned["unshipped"]) > len(flagged)


def test_rebuilding_a_day_replaces_only_that_day(partitioned):
    resources = {"dbt": make_dbt_resource(partitioned["url"]), "warehouse": WarehouseResource(url=partitioned["url"]),
                 "reconciliation": ReconciliationResource(carrier_invoice_dir="unused", promise_days=5)}
    models = build_reconciliation_dbt_models(reconciliation_day_partitions("2025-01-01"))
    day = partitioned["days"][0]
    assert materialize([models], resources=resources, partition_key=day.isoformat()).success
    with partitioned["engine"].connect() as conn:
        again = pd.read_sql_query(sa.text("select as_of, variance_key, amount from analytics.reconciliation_variances"),
                                  conn)
    again["as_of"] = pd.to_datetime(again["as_of"]).dt.date
    before = partitioned["variances"]
    for as_of in partitioned["days"]:
        assert sorted(again.loc[again["as_of"] == as_of, "variance_key"]) == \
            sorted(before.loc[before["as_of"] == as_of, "variance_key"]), as_of


def test_the_report_reads_the_day_and_counts_what_was_resolved(partitioned):
    days = partitioned["days"]
    marts = read_finance_marts(partitioned["engine"], "analytics", days[1])
    assert marts.marts_as_of == days[1]
    assert set(pd.to_datetime(marts.variances["as_of"]).dt.date) == {days[1]}
    assert set(pd.to_datetime(marts.previous_variances["as_of"]).dt.date) == {days[0]}
    report = finance_report_from_marts(marts, days[1])
    gone = set(marts.previous_variances["variance_key"]) - set(marts.variances["variance_key"])
    assert report.totals["resolved_variances"] == len(gone)
    # A day between snapshots reads the latest one before it.
    between = read_finance_marts(partitioned["engine"], "analytics", days[1] + timedelta(days=3))
    assert between.marts_as_of == days[1]
    assert read_finance_marts(partitioned["engine"], "analytics", date(2024, 1, 1)).variances.empty
