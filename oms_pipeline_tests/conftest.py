"""Fixtures shared by the trees (unit/, integration/, e2e/): payload samples, temporary warehouses, PostgreSQL
availability, the seeded fraud history and model, and the reconciled finance marts.

Helpers that tests import (not fixtures) are in ``oms_pipeline_tests.support``; a fixture that one module
alone uses stays in that module.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

# The support modules' own asserts (the sandbox GraphQL helper, the plan feasibility check) report like a test's.
pytest.register_assert_rewrite("oms_pipeline_tests.support")

import sqlalchemy as sa  # noqa: E402

from oms_pipeline_tests.support.paths import FIXTURES  # noqa: E402
from oms_pipeline_tests.support.postgres import POSTGRES_URL, postgres_available  # noqa: E402

if TYPE_CHECKING:
    from pathlib import Path

    from oms_pipeline.domain.fraud import FraudModel
    from oms_pipeline.sandbox.fraud_history import FraudHistory
    from oms_pipeline_tests.support.reconciled import Reconciled

HISTORY_ORDERS = 20_000


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


# One seeded labelled history and one trained model, shared by the fraud tests of every tree (they are not
# cheap: built once a session).


@pytest.fixture(scope="session")
def history() -> FraudHistory:
    """20k seeded orders over 120 days with disputes and review outcomes."""
    from oms_pipeline.sandbox.fraud_history import build_fraud_history

    return build_fraud_history(HISTORY_ORDERS, seed=11)


@pytest.fixture(scope="session")
def matured_labels(history: FraudHistory) -> dict[int, int]:
    """Labels as known 45 days after the last order."""
    from oms_pipeline.domain.fraud import labels_as_of
    from oms_pipeline.domain.fraud.features import parse_timestamp

    last = datetime.fromtimestamp(parse_timestamp(history.orders[-1]["created_at"])[0], UTC)
    return labels_as_of(history.orders, history.disputes, history.review_outcomes, last + timedelta(days=45))


@pytest.fixture(scope="session")
def model(history: FraudHistory, matured_labels: dict[int, int]) -> FraudModel:
    """A model trained on the shared history (fixed version and time, so runs are comparable)."""
    from oms_pipeline.domain.fraud import train_fraud_model

    return train_fraud_model(history.orders, matured_labels, capacity=0.02, version="fraud-test",
                             trained_at=datetime(2025, 6, 1, tzinfo=UTC), max_iter=150)


@pytest.fixture(scope="session")
def reconciled(tmp_path_factory: pytest.TempPathFactory) -> Reconciled:
    """Seeded orders/shipments/invoices with planted problems, reconciled by the dbt models (once), for the
    finance tests in integration/ and e2e/."""
    from oms_pipeline_tests.support.reconciled import reconcile_seeded

    return reconcile_seeded(tmp_path_factory.mktemp("finance"))
