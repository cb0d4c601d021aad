"""Shared fixtures: payload samples, temporary warehouses, PostgreSQL availability."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("OMS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


def load_fixture(name: str) -> dict:
    """A JSON payload sample from ``fixtures/`` (a fresh copy each time)."""
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


@pytest.fixture(scope="session", autouse=True)
def sandbox_network_file(tmp_path_factory):
    """``OMS_NETWORK_FILE`` names the sandbox's network for every test (there is no default network);
    a test that gives settings a network of its own overrides it."""
    from oms_pipeline.sandbox.network import write_sandbox_network

    path = write_sandbox_network(tmp_path_factory.mktemp("network") / "network.json")
    saved = os.environ.get("OMS_NETWORK_FILE")
    os.environ["OMS_NETWORK_FILE"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("OMS_NETWORK_FILE", None)
    else:
        os.environ["OMS_NETWORK_FILE"] = saved


@pytest.fixture(autouse=True)
def _environment_restored():
    """Each test leaves ``os.environ`` as it found it: resources built from settings given in code export
    their secrets as ``OMS_*`` variables (for Dagster's ``EnvVar``), and one test's must not leak into the
    next."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def restore_dbt_env():
    """make_dbt_resource writes OMS_DBT_* into os.environ: put them back as they were afterwards."""
    with _dbt_env_saved():
        yield


@pytest.fixture(scope="module")
def restore_dbt_env_module():
    """:func:`restore_dbt_env` for a module's shared fixtures."""
    with _dbt_env_saved():
        yield


@contextlib.contextmanager
def _dbt_env_saved():
    from oms_pipeline.storage.dbt_env import DBT_ENV_VARS

    saved = {name: os.environ.get(name) for name in DBT_ENV_VARS}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def rest_order() -> dict:
    """A realistic Shopify REST order element (multi-currency, discounts, international)."""
    return load_fixture("rest_order.json")


@pytest.fixture
def graphql_order() -> dict:
    """The same order as a GraphQL Admin ``Order`` node."""
    return load_fixture("graphql_order.json")


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A fresh DuckDB warehouse file."""
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with sa.create_engine(POSTGRES_URL).connect() as conn:
            conn.exec_driver_sql("select 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture
def postgres_schema_url():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards.

    Under CI (``CI`` set) an unreachable server fails the test; locally it skips with the reason.
    """
    problem = postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL required under CI but unreachable at {POSTGRES_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {problem}")
    schema = f"oms_test_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"create schema {schema}")
    url = sa.engine.make_url(POSTGRES_URL).set(query={"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"drop schema {schema} cascade")
    engine.dispose()
