"""End to end on Dagster: the ingestion job in-process against the sandbox, the sensor's cursor and
run keys, and a run on a PostgreSQL-backed Dagster instance."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, SensorResult, SkipReason, build_sensor_context, instance_for_test

from oms_pipeline.cli.jobs import run_ingestion
from oms_pipeline.definitions import build_definitions
from oms_pipeline.domain.orders import parse_time
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.postgres import POSTGRES_URL

pytestmark = pytest.mark.e2e


def _settings(sandbox: SandboxServer, warehouse_url: str, tmp_path: Path) -> OmsSettings:
    return OmsSettings(data_dir=tmp_path, warehouse_url=warehouse_url, shopify_url=sandbox.url,
                       shop_domain=sandbox.shop_domain, shopify_token=sandbox.token, shopify_timeout_s=0.5)


def test_ingestion_job_lands_valid_orders_and_quarantines_bad_ones(tmp_path, duckdb_url):
    store = SandboxStore(seed=21, orders=150, rate_per_min=0.0, malformed_rate=0.08)
    with SandboxServer(store, faults=0.1, timeout_fault_s=1.0, restore_rate=20_000.0, seed=2) as sandbox, \
            instance_for_test() as instance:
        settings = _settings(sandbox, duckdb_url, tmp_path)
        first = run_ingestion(settings, instance)
        assert first["success"], first
        malformed = store.malformed()
        valid_ids = set(store.current_versions()) - {oid for oid in malformed if oid}
        wh = Warehouse(duckdb_url)
        with wh.engine.connect() as conn:
            stored = set(conn.execute(sa.select(schema.orders.c.order_id)).scalars())
            quarantined = conn.execute(sa.select(schema.quarantined_orders)).all()
        assert stored == valid_ids
        assert len(quarantined) == len(malformed) > 0
        assert all(q.reason and q.payload for q in quarantined)
        assert first["checks"] == {"orders_pass_expectations": True}
        assert first["events_landed"] == len(store.current_versions()) + sum(1 for oid in malformed if not oid)

        # A second poll re-reads only the overlap: nothing new lands, nothing is rewritten.
        second = run_ingestion(settings, instance)
        assert second["success"] and second["events_landed"] == 0 and second["orders_written"] == 0

        # Store changes are picked up by the next poll.
        store.advance(15)
        third = run_ingestion(settings, instance)
        assert third["success"] and third["events_landed"] >= 15
        with wh.engine.connect() as conn:
            rows = dict(conn.execute(sa.select(schema.orders.c.order_id, schema.orders.c.updated_at)).tuples().all())
        for oid, stamp in store.current_versions().items():
            if oid in rows:
                assert rows[oid] == parse_time(stamp), f"order {oid} is not at its latest version"
        wh.dispose()


def test_sensor_advances_cursor_and_run_key_prevents_a_duplicate(tmp_path, duckdb_url):
    store = SandboxStore(seed=8, orders=30, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=1) as sandbox, instance_for_test() as instance:
        defs = build_definitions(_settings(sandbox, duckdb_url, tmp_path))
        sensor = defs.resolve_sensor_def("store_order_changes")
        shopify = defs.get_repository_def().get_top_level_resources()["shopify"]

        def tick(cursor):
            return sensor(build_sensor_context(instance=instance, cursor=cursor, resources={"shopify": shopify}))

        first = tick(None)
        assert isinstance(first, SensorResult)
        (request,) = first.run_requests
        assert first.cursor and request.run_key == f"{sandbox.shop_domain}|orders|{first.cursor}"
        # The same tick again (its cursor update lost) asks for the same run key: Dagster launches it once.
        repeat = tick(None)
        assert repeat.run_requests[0].run_key == request.run_key
        # Nothing changed since the cursor: the sensor skips.
        assert isinstance(tick(first.cursor), SkipReason)
        # A change moves the cursor forward and gives a new run key for the new window.
        store.advance(3)
        later = tick(first.cursor)
        assert later.cursor > first.cursor and later.run_requests[0].run_key != request.run_key
        config = later.run_requests[0].run_config["ops"]["raw_order_events"]["config"]
        assert config["updated_at_min"] == first.cursor and config["updated_at_max"] == later.cursor


@pytest.mark.postgres
def test_job_runs_on_a_postgres_backed_dagster_instance(tmp_path, postgres_schema_url):
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("select 1 from pg_database where datname = 'oms_dagster_test'")).first():
            conn.exec_driver_sql("create database oms_dagster_test")
    admin.dispose()
    pg = sa.engine.make_url(POSTGRES_URL).set(database="oms_dagster_test")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: " + pg.render_as_string(hide_password=False) + "\n")
    store = SandboxStore(seed=3, orders=25, rate_per_min=0.0, malformed_rate=0.1)
    with SandboxServer(store, restore_rate=20_000.0, seed=1) as sandbox:
        instance = DagsterInstance.from_config(str(home))
        try:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            summary = run_ingestion(_settings(sandbox, postgres_schema_url, tmp_path), instance)
            assert summary["success"], summary
            run = instance.get_run_by_id(summary["run_id"])
            assert run is not None and run.is_success
            assert summary["orders_written"] + summary["quarantined"] == summary["events_landed"] > 0
        finally:
            instance.dispose()
