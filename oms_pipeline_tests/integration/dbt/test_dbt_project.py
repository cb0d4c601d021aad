"""The dbt project on its own: the manifest parses without a database, the dbt environment comes from the
warehouse URL, the unit tests of the variance rules pass, and it builds on PostgreSQL with a mart that adds
up the orders it was given."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from oms_pipeline.defs.dbt import (
    DBT_PROJECT_DIR,
    dbt_env_for_url,
    ensure_dbt_manifest,
    make_dbt_resource,
)
from oms_pipeline.reporting.finance import VARIANCE_TYPES
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.dbt_warehouse import EXPECTED_MART
from oms_pipeline_tests.support.dbt_warehouse import load_warehouse as _load_warehouse
from oms_pipeline_tests.support.dbt_warehouse import mart_rows as _mart_rows
from oms_pipeline_tests.support.dbt_warehouse import normalise as _normalise

pytestmark = pytest.mark.usefixtures("restore_dbt_env")


def test_manifest_parses_without_a_database(tmp_path: Path, monkeypatch):
    # A path that does not exist: dbt parse must not try to open it.
    monkeypatch.setenv("OMS_DBT_DUCKDB_PATH", str(tmp_path / "missing" / "warehouse.duckdb"))
    manifest = ensure_dbt_manifest("duckdb")
    assert manifest == DBT_PROJECT_DIR / "target" / "manifest.json"
    assert manifest.exists()
    assert not (tmp_path / "missing").exists()


def test_env_derived_from_warehouse_urls(tmp_path: Path):
    duck = dbt_env_for_url(f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert duck == {
        "OMS_DBT_TARGET": "duckdb",
        "OMS_DBT_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
        "OMS_DBT_SOURCE_SCHEMA": "main",
    }
    pg = dbt_env_for_url(
        "postgresql+psycopg2://oms:s3cret@db.internal:6543/oms?options=-csearch_path%3Dlanding,public",
        schema="analytics_x",
    )
    assert pg == {
        "OMS_DBT_TARGET": "postgres",
        "OMS_DBT_PG_HOST": "db.internal",
        "OMS_DBT_PG_PORT": "6543",
        "OMS_DBT_PG_USER": "oms",
        "OMS_DBT_PG_PASSWORD": "s3cret",
        "OMS_DBT_PG_DBNAME": "oms",
        "OMS_DBT_SOURCE_SCHEMA": "landing",
        "OMS_DBT_PG_SCHEMA": "analytics_x",
    }
    with pytest.raises(ValueError, match="does not match"):
        dbt_env_for_url("duckdb:////tmp/w.duckdb", "postgres")
    with pytest.raises(ValueError, match="in-memory"):
        dbt_env_for_url("duckdb:///:memory:")


def test_unit_tests_of_the_variance_rules_pass(tmp_path: Path):
    # A unit test reads its inputs' column types from the warehouse: build what the tested models read, empty.
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    warehouse = Warehouse(url)
    warehouse.migrate()
    warehouse.dispose()  # DuckDB: dbt must be the only process holding the file
    dbt = make_dbt_resource(url)
    inputs = dbt.cli(["run", "--select", "+test_type:unit", "--empty"], raise_on_error=False).wait()
    assert inputs.is_successful(), inputs.get_error()
    invocation = dbt.cli(["test", "--select", "test_type:unit"], raise_on_error=False).wait()
    assert invocation.is_successful(), invocation.get_error()
    results = [r for r in invocation.get_artifact("run_results.json")["results"]
               if r["unique_id"].startswith("unit_test.")]
    assert {r["status"] for r in results} == {"pass"}
    # One per variance type of reconciliation_variances, named after it: one that goes missing fails here.
    names = [r["unique_id"].rsplit(".", 1)[-1] for r in results]
    assert len(names) == len(VARIANCE_TYPES) == 9
    assert {t for t in VARIANCE_TYPES for name in names if name.startswith(f"{t}_")} == set(VARIANCE_TYPES)


@pytest.mark.postgres
def test_dbt_build_on_postgresql(postgres_schema_url: str):
    # Landing tables in the fixture's schema (search_path); dbt output in a schema of its own.
    _load_warehouse(postgres_schema_url)
    output_schema = f"oms_dbt_{uuid.uuid4().hex[:10]}"
    try:
        dbt = make_dbt_resource(postgres_schema_url, "postgres", schema=output_schema)
        invocation = dbt.cli(["build"], raise_on_error=False).wait()
        assert invocation.is_successful(), invocation.get_error()
        assert _normalise(_mart_rows(postgres_schema_url, output_schema)) == _normalise(EXPECTED_MART)
    finally:
        engine = sa.create_engine(postgres_schema_url, poolclass=sa.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'drop schema if exists "{output_schema}" cascade')
        engine.dispose()
